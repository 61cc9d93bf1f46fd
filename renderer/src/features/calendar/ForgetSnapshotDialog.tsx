import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatBytes, formatDateTime } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';

/** Props of ForgetSnapshotDialog. */
export interface ForgetSnapshotDialogProps {
  snapshot: SnapshotSummary | null;
  onClose(): void;
  /** Called after the point was forgotten. */
  onForgotten(id: string): void;
}

/**
 * "Forget this restore point?": confirms, then calls snapshots.forget. Says plainly that this
 * cannot be undone and that the space comes back with the next garbage collection.
 */
export function ForgetSnapshotDialog({ snapshot, onClose, onForgotten }: ForgetSnapshotDialogProps) {
  const engine = useEngine();
  const refresh = useApp((s) => s.refreshSnapshots);
  const notify = useApp((s) => s.notify);
  const label = useGuestLabel();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };
  const forget = async () => {
    if (!snapshot) return;
    setBusy(true);
    setError(null);
    try {
      const r = await engine['snapshots.forget']({ snapshotId: snapshot.id });
      notify(r.forgotten ? `Restore point of ${label(snapshot.guestId, r.guest)} from ${formatDateTime(snapshot.time)} forgotten` : 'That restore point was already gone', 'success');
      void refresh();
      onForgotten(snapshot.id);
    } catch (e) {
      const f = friendlyError(e);
      setError(
        f.notAvailable
          ? 'Forgetting single restore points is not available in this build.'
          : f.code === 'REPO_LOCKED'
            ? 'This restore point is being read right now (a restore, a file download, or another TwinSnap process). Nothing was deleted. Try again in a minute, when that is done.'
            : `${f.title}: ${f.detail}. ${f.action}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={snapshot !== null} onClose={close} aria-labelledby="forget-title" aria-describedby="forget-text" maxWidth="xs" fullWidth>
      <DialogTitle id="forget-title">Forget this restore point?</DialogTitle>
      <DialogContent>
        {snapshot && (
          <DialogContentText id="forget-text">
            The restore point of <strong>{label(snapshot.guestId, snapshot.guest)}</strong> from {formatDateTime(snapshot.time)} ({formatBytes(snapshot.logicalBytes)}) is removed from the repository
            now and cannot be brought back. Data it shares with other restore points stays; the space only it used is freed by the next garbage collection (Repository → Collect garbage, or the nightly
            maintenance).
          </DialogContentText>
        )}
        {error && (
          <Alert severity="error" sx={{ mt: 2 }}>
            {error}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={close} disabled={busy} autoFocus>
          Keep it
        </Button>
        <Button color="error" variant="contained" onClick={() => void forget()} disabled={busy} data-testid="confirm-forget">
          Forget
        </Button>
      </DialogActions>
    </Dialog>
  );
}
