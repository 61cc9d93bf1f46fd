import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import type { ThemeMode } from '../../stores/slices/ui-slice.js';
import { useApp, useEngine } from '../../stores/hooks.js';

/** Light / dark / system theme switch; saved in the engine's settings. */
export function ThemePicker() {
  const mode = useApp((s) => s.themeMode);
  const setMode = useApp((s) => s.setThemeMode);
  const notifyError = useApp((s) => s.notifyError);
  const engine = useEngine();
  return (
    <ToggleButtonGroup
      exclusive
      size="small"
      value={mode}
      aria-label="Theme"
      onChange={(_e, v: ThemeMode | null) => {
        if (!v) return;
        setMode(v);
        engine['settings.set']({ patch: { theme: v } }).catch((e) => notifyError(e, 'Saving the theme'));
      }}
    >
      <ToggleButton value="light">Light</ToggleButton>
      <ToggleButton value="dark">Dark</ToggleButton>
      <ToggleButton value="system">System</ToggleButton>
    </ToggleButtonGroup>
  );
}
