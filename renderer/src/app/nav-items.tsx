import type { ReactElement } from 'react';
import CalendarMonthIcon from '@mui/icons-material/CalendarMonth';
import ComputerIcon from '@mui/icons-material/Computer';
import SettingsBackupRestoreIcon from '@mui/icons-material/SettingsBackupRestore';
import WorkHistoryIcon from '@mui/icons-material/WorkHistory';
import StorageIcon from '@mui/icons-material/Storage';
import SettingsIcon from '@mui/icons-material/Settings';
import type { Route } from '../stores/slices/ui-slice.js';

/** One entry of the navigation rail. */
export interface NavItem {
  route: Route;
  label: string;
  icon: ReactElement;
}

/** The navigation rail, top to bottom. */
export const NAV_ITEMS: NavItem[] = [
  { route: 'calendar', label: 'Calendar', icon: <CalendarMonthIcon /> },
  { route: 'guests', label: 'Guests', icon: <ComputerIcon /> },
  { route: 'restore', label: 'Restore', icon: <SettingsBackupRestoreIcon /> },
  { route: 'jobs', label: 'Jobs', icon: <WorkHistoryIcon /> },
  { route: 'repository', label: 'Repository', icon: <StorageIcon /> },
  { route: 'settings', label: 'Settings', icon: <SettingsIcon /> },
];
