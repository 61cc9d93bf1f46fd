import { createTheme, type Theme } from '@mui/material/styles';

/** Resolves the user's theme preference against the OS preference. */
export function resolveMode(pref: 'light' | 'dark' | 'system', osPrefersDark: boolean): 'light' | 'dark' {
  return pref === 'system' ? (osPrefersDark ? 'dark' : 'light') : pref;
}

/** Colours of restore-point outcomes, shared by the calendar, legends and drawers. */
export const OUTCOME_COLORS = {
  light: { clean: '#2e7d32', crash: '#ed6c02', cold: '#0277bd', failed: '#c62828', forget: '#9e9e9e' },
  dark: { clean: '#81c784', crash: '#ffb74d', cold: '#4fc3f7', failed: '#ef5350', forget: '#757575' },
} as const;

/**
 * The keyboard focus ring: MUI's own is a faint ripple that nearly vanishes on the dark theme, so
 * every focusable control gets a solid outline with strong contrast to the background.
 */
export function focusRing(mode: 'light' | 'dark'): { outline: string; outlineOffset: number } {
  return { outline: `2px solid ${mode === 'dark' ? '#ffffff' : '#1565c0'}`, outlineOffset: 2 };
}

/** The MUI theme of TwinSnap (MUI defaults, compact density for data-heavy pages). */
export function makeTheme(mode: 'light' | 'dark'): Theme {
  return createTheme({
    palette: {
      mode,
      primary: { main: mode === 'dark' ? '#90caf9' : '#1565c0' },
      secondary: { main: mode === 'dark' ? '#ce93d8' : '#7b1fa2' },
    },
    shape: { borderRadius: 8 },
    typography: { h1: { fontSize: '1.6rem', fontWeight: 600 }, h2: { fontSize: '1.2rem', fontWeight: 600 } },
    components: {
      MuiButton: { defaultProps: { disableElevation: true } },
      MuiButtonBase: { styleOverrides: { root: { '&.Mui-focusVisible': focusRing(mode) } } },
      MuiInputBase: { styleOverrides: { root: { '&.Mui-focused': { outline: mode === 'dark' ? '1px solid #ffffff' : undefined } } } },
      MuiTooltip: { defaultProps: { arrow: true } },
    },
  });
}
