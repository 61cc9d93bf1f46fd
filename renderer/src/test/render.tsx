import type { ReactElement } from 'react';
import { afterEach } from 'vitest';
import { cleanup, render } from '@testing-library/react';
import { ThemeProvider } from '@mui/material/styles';
import type { EngineClient } from '../../../shared/ipc/contract.js';
import { makeTheme } from '../app/theme.js';
import { createAppStore, type AppStore } from '../stores/app-store.js';
import { ServicesContext } from '../stores/hooks.js';

// Vitest runs without globals, so Testing Library's automatic cleanup is not registered.
afterEach(cleanup);

/** Renders `ui` with the app's services (a fresh store over `engine`) and the light theme. */
export function renderWithServices(ui: ReactElement, engine: EngineClient, store: AppStore = createAppStore({ engine })) {
  const r = render(
    <ServicesContext.Provider value={{ store, engine }}>
      <ThemeProvider theme={makeTheme('light')}>{ui}</ThemeProvider>
    </ServicesContext.Provider>,
  );
  return { ...r, store };
}
