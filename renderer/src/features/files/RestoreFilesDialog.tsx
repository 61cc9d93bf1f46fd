import { useState, type FormEvent } from 'react';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { FileRestoreResult } from '../../../../shared/domain/files.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatBytes } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';

/** "Restore to folder…": files.restore of the selected paths into a folder on this computer. */
export function RestoreFilesDialog({ open, snapshotId, paths, onClose }: { open: boolean; snapshotId: string; paths: string[]; onClose(): void }) {
  const engine = useEngine();
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<FileRestoreResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await engine['files.restore']({ snapshotId, paths, to: to.trim() }));
    } catch (e) {
      const f = friendlyError(e);
      setError(f.notAvailable ? 'Restoring files is not available yet in this build.' : `${f.title}: ${f.detail}. ${f.action}`);
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setResult(null);
    setError(null);
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      aria-labelledby="restore-files-title"
      fullWidth
      maxWidth="sm"
      slotProps={{
        paper: {
          component: 'form',
          // Enter in the folder field restores (keyboard users need no extra Tab).
          onSubmit: (e: FormEvent) => {
            e.preventDefault();
            if (!result && !busy && to.trim()) void run();
          },
        },
      }}
    >
      <DialogTitle id="restore-files-title">
        Restore {paths.length} item{paths.length === 1 ? '' : 's'} to a folder
      </DialogTitle>
      <DialogContent>
        {!result ? (
          <>
            <Typography variant="body2" sx={{ mb: 2 }}>
              Files are written into this folder on the computer running TwinSnap, keeping their relative paths. Existing files are not overwritten.
            </Typography>
            <TextField autoFocus fullWidth label="Destination folder" value={to} onChange={(e) => setTo(e.target.value)} placeholder="e.g. C:\Restore or /home/admin/restore" />
          </>
        ) : (
          <Alert severity={result.skipped.length ? 'warning' : 'success'} data-testid="files-restored">
            Restored {result.restored} file{result.restored === 1 ? '' : 's'} ({formatBytes(result.bytes)}) to {result.to}.
            {result.skipped.length > 0 && ` Skipped: ${result.skipped.map((s) => `${s.path} (${s.reason})`).join('; ')}`}
          </Alert>
        )}
        {error && (
          <Alert severity="error" sx={{ mt: 2 }}>
            {error}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={close}>{result ? 'Close' : 'Cancel'}</Button>
        {!result && (
          <Button type="submit" variant="contained" disabled={busy || !to.trim()}>
            Restore
          </Button>
        )}
      </DialogActions>
    </Dialog>
  );
}
