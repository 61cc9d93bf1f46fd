import { useState, type FormEvent } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormLabel from '@mui/material/FormLabel';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { isAbsoluteHostPath, type ExistingFilePolicy, type FileRestoreResult } from '../../../../shared/domain/files.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatBytes } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The choices for a file that already exists, as the engine applies them (keep both is the default). */
export const EXISTING_CHOICES: { value: ExistingFilePolicy; label: string; help: string }[] = [
  { value: 'keep-both', label: 'Keep both', help: 'the restored copy gets a new name, e.g. “report (restored 2026-12-07 1530).docx”' },
  { value: 'skip', label: 'Skip', help: 'keep the existing file; that item is not restored' },
  { value: 'overwrite', label: 'Overwrite', help: 'replace the existing file with the restored one' },
];

/** The summary lines of a finished restore: one per outcome that happened. */
export function restoreSummary(r: FileRestoreResult): { severity: 'success' | 'warning' | 'error'; lines: string[] } {
  const lines = [`Restored ${plural(r.restored, 'file')} (${formatBytes(r.bytes)}) to ${r.to}.`];
  if (r.keptBoth)
    lines.push(
      `${plural(r.keptBoth, 'file')} already existed: the restored ${r.keptBoth === 1 ? 'copy was' : 'copies were'} saved beside ${r.keptBoth === 1 ? 'it' : 'them'} under a “(restored …)” name.`,
    );
  if (r.overwritten) lines.push(`${plural(r.overwritten, 'existing file')} ${r.overwritten === 1 ? 'was' : 'were'} overwritten.`);
  if (r.skippedExisting)
    lines.push(`${plural(r.skippedExisting, 'file')} already existed and ${r.skippedExisting === 1 ? 'was' : 'were'} left as ${r.skippedExisting === 1 ? 'it was' : 'they were'} (not restored).`);
  if (r.skipped.length) lines.push(`Not restored (not a regular file): ${r.skipped.map((s) => `${s.path} (${s.reason})`).join('; ')}.`);
  if (r.failed.length) lines.push(`${plural(r.failed.length, 'item')} failed: ${r.failed.map((s) => `${s.path} (${s.reason})`).join('; ')}.`);
  return { severity: r.failed.length ? 'error' : r.skipped.length ? 'warning' : 'success', lines };
}

/** "Restore to folder…": files.restore of the selected paths into a folder on the computer running TwinSnap. */
export function RestoreFilesDialog({ open, snapshotId, paths, onClose }: { open: boolean; snapshotId: string; paths: string[]; onClose(): void }) {
  const engine = useEngine();
  const [to, setTo] = useState('');
  const [existing, setExisting] = useState<ExistingFilePolicy>('keep-both');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<FileRestoreResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const target = to.trim();
  const relative = target !== '' && !isAbsoluteHostPath(target);
  const ready = target !== '' && !relative && !busy;
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await engine['files.restore']({ snapshotId, paths, to: target, existing }));
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
  const summary = result && restoreSummary(result);
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
            if (!result && ready) void run();
          },
        },
      }}
    >
      <DialogTitle id="restore-files-title">
        Restore {paths.length} item{paths.length === 1 ? '' : 's'} to a folder
      </DialogTitle>
      <DialogContent>
        {!summary ? (
          <>
            <Typography variant="body2" sx={{ mb: 2 }}>
              Each selected file or folder (with everything in it) is copied by its name into this folder on the computer running TwinSnap, keeping modification times. Nothing is written outside the
              folder; symbolic links and special files are not restored.
            </Typography>
            <TextField
              autoFocus
              fullWidth
              label="Destination folder"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              placeholder="e.g. C:\Restore or /home/admin/restore"
              error={relative}
              helperText={relative ? 'Enter a full path, starting with / or a drive letter such as C:\\ (a relative path would depend on where TwinSnap runs).' : ' '}
            />
            <FormControl sx={{ mt: 1 }}>
              <FormLabel id="restore-existing-label">If a file already exists there</FormLabel>
              <RadioGroup aria-labelledby="restore-existing-label" value={existing} onChange={(e) => setExisting(e.target.value as ExistingFilePolicy)}>
                {EXISTING_CHOICES.map((c) => (
                  <FormControlLabel
                    key={c.value}
                    value={c.value}
                    control={<Radio />}
                    label={
                      <span>
                        <strong>{c.label}</strong>
                        {c.value === 'keep-both' ? ' (default)' : ''} — {c.help}
                      </span>
                    }
                  />
                ))}
              </RadioGroup>
            </FormControl>
          </>
        ) : (
          <Alert severity={summary.severity} data-testid="files-restored">
            {summary.lines.map((l) => (
              <Box key={l} component="p" sx={{ m: 0, wordBreak: 'break-word' }}>
                {l}
              </Box>
            ))}
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
          <Button type="submit" variant="contained" disabled={!ready}>
            Restore
          </Button>
        )}
      </DialogActions>
    </Dialog>
  );
}
