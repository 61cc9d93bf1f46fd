import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { EngineClient } from '../../../shared/ipc/contract.js';
import type { AppState, AppStore } from './app-store.js';

/** What the React tree gets: the store and the typed engine client. */
export interface AppServices {
  store: AppStore;
  engine: EngineClient;
}

/** React context carrying AppServices (provided once in App). */
export const ServicesContext = createContext<AppServices | null>(null);

/** The app's services; throws outside the provider. */
export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside ServicesContext');
  return s;
}

/** Selects from the app store (re-renders when the selected value changes by Object.is). */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useServices().store, selector);
}

/** The typed engine client. */
export function useEngine(): EngineClient {
  return useServices().engine;
}
