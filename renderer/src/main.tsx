import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngineClient } from '../../shared/ipc/client.js';
import { hideTokenFromAddressBar, selectBridge } from './api/bridge.js';
import { App } from './app/App.js';
import { createAppStore } from './stores/app-store.js';
import { connectEngineEvents } from './stores/engine-events.js';
import { loadThemePreference, watchThemePreference } from './stores/theme-preference.js';

const bridge = selectBridge(window);
hideTokenFromAddressBar(window);
const engine = createEngineClient(bridge);
const store = createAppStore({ engine });
loadThemePreference(store, engine);
watchThemePreference(store);
connectEngineEvents(store, bridge);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App services={{ store, engine }} />
  </StrictMode>,
);
