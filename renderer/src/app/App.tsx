import { useEffect, useMemo, type ReactElement } from 'react';
import Box from '@mui/material/Box';
import CssBaseline from '@mui/material/CssBaseline';
import useMediaQuery from '@mui/material/useMediaQuery';
import { ThemeProvider } from '@mui/material/styles';
import { Notices } from '../components/Notices.js';
import { CalendarPage } from '../features/calendar/CalendarPage.js';
import { GuestsPage } from '../features/guests/GuestsPage.js';
import { JobsPage } from '../features/jobs/JobsPage.js';
import { RepositoryPage } from '../features/repository/RepositoryPage.js';
import { RestorePage } from '../features/restore/RestorePage.js';
import { SettingsPage } from '../features/settings/SettingsPage.js';
import { useHashRoute } from '../hooks/use-hash-route.js';
import { ServicesContext, useApp, type AppServices } from '../stores/hooks.js';
import type { Route } from '../stores/slices/ui-slice.js';
import { AppErrorBoundary } from './AppErrorBoundary.js';
import { NAV_ITEMS } from './nav-items.js';
import { NavRail } from './NavRail.js';
import { makeTheme, resolveMode } from './theme.js';
import { TopBar } from './TopBar.js';

const PAGES: Record<Route, () => ReactElement> = {
  calendar: CalendarPage,
  guests: GuestsPage,
  restore: RestorePage,
  jobs: JobsPage,
  repository: RepositoryPage,
  settings: SettingsPage,
};

function Frame() {
  useHashRoute();
  const route = useApp((s) => s.route);
  const Page = PAGES[route];
  const label = NAV_ITEMS.find((n) => n.route === route)?.label ?? route;
  useEffect(() => {
    document.title = `${label} — TwinSnap`;
  }, [label]);
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', height: '100vh' }} data-testid="app-frame">
      <TopBar />
      <Box sx={{ display: 'flex', flex: 1, minHeight: 0 }}>
        <NavRail />
        <Box component="main" sx={{ flex: 1, minWidth: 0, overflow: 'auto', p: 3 }} aria-label={label}>
          <AppErrorBoundary where={label} key={route}>
            <Page />
          </AppErrorBoundary>
        </Box>
      </Box>
      <Notices />
    </Box>
  );
}

function Themed({ children }: { children: React.ReactNode }) {
  const pref = useApp((s) => s.themeMode);
  const osDark = useMediaQuery('(prefers-color-scheme: dark)');
  const theme = useMemo(() => makeTheme(resolveMode(pref, osDark)), [pref, osDark]);
  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      {children}
    </ThemeProvider>
  );
}

/** The whole renderer: services, theme, frame and pages. */
export function App({ services }: { services: AppServices }) {
  return (
    <ServicesContext.Provider value={services}>
      <Themed>
        <AppErrorBoundary where="TwinSnap">
          <Frame />
        </AppErrorBoundary>
      </Themed>
    </ServicesContext.Provider>
  );
}
