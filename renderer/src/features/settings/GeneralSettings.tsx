import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import TextField from '@mui/material/TextField';
import type { Settings } from '../../../../shared/domain/engine.js';
import { useApp, useEngine } from '../../stores/hooks.js';

/** The editable parts of Settings: tool paths, VM folders, concurrency (the repository has its own chooser). */
export function GeneralSettings({ settings, onSaved }: { settings: Settings; onSaved(s: Settings): void }) {
  const engine = useEngine();
  const notify = useApp((s) => s.notify);
  const notifyError = useApp((s) => s.notifyError);
  const refreshStatus = useApp((s) => s.refreshStatus);
  const refreshGuests = useApp((s) => s.refreshGuests);
  const [f, setF] = useState({ vmrunPath: '', powershellPath: '', vmFolders: '', maxConcurrentTwins: '1' });
  useEffect(() => {
    setF({
      vmrunPath: settings.vmrunPath ?? '',
      powershellPath: settings.powershellPath ?? '',
      vmFolders: settings.vmFolders.join('\n'),
      maxConcurrentTwins: String(settings.maxConcurrentTwins),
    });
  }, [settings]);
  const n = Number(f.maxConcurrentTwins);
  const concurrencyOk = Number.isInteger(n) && n >= 1 && n <= 16;
  const save = async () => {
    try {
      const s = await engine['settings.set']({
        patch: {
          vmrunPath: f.vmrunPath.trim() || undefined,
          powershellPath: f.powershellPath.trim() || undefined,
          vmFolders: f.vmFolders
            .split('\n')
            .map((x) => x.trim())
            .filter(Boolean),
          maxConcurrentTwins: n,
        },
      });
      onSaved(s);
      notify('Settings saved', 'success');
      void refreshStatus();
      void refreshGuests(true);
    } catch (e) {
      notifyError(e, 'Saving settings');
    }
  };
  const field = (key: keyof typeof f, label: string, helper: string, extra: object = {}) => (
    <TextField label={label} value={f[key]} onChange={(e) => setF((x) => ({ ...x, [key]: e.target.value }))} helperText={helper} size="small" fullWidth {...extra} />
  );
  return (
    <Box component="form" onSubmit={(e) => (e.preventDefault(), void save())} sx={{ display: 'flex', flexDirection: 'column', gap: 2 }} data-testid="general-settings">
      {field('vmrunPath', 'vmrun path', 'Leave empty to detect VMware Workstation automatically.')}
      {field('powershellPath', 'PowerShell path', 'Leave empty to use the system PowerShell (Hyper-V).')}
      {field('vmFolders', 'VM folders (one per line)', 'Extra folders searched for .vmx files besides registered VMs.', { multiline: true, minRows: 2 })}
      {field('maxConcurrentTwins', 'Twins at the same time', 'How many guests may be twinned at once (1–16); each twin needs the guest’s memory.', {
        type: 'number',
        error: !concurrencyOk,
        slotProps: { htmlInput: { min: 1, max: 16 } },
      })}
      <Box>
        <Button type="submit" variant="contained" disabled={!concurrencyOk}>
          Save settings
        </Button>
      </Box>
    </Box>
  );
}
