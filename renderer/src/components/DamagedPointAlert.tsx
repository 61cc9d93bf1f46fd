import { useState } from 'react';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';
import { useGuestLabel } from '../hooks/use-guest-label.js';
import { formatDateTime } from '../lib/format.js';
import { useApp } from '../stores/hooks.js';

/**
 * A damaged restore point (its last verify failed), said where the point is shown: which guest
 * and time, what it means, and what to do — forget it, take a new backup now.
 */
export function DamagedPointAlert({ s, onForget }: { s: SnapshotSummary; onForget?(): void }) {
  const backupNow = useApp((st) => st.backupNow);
  const navigate = useApp((st) => st.navigate);
  const [starting, setStarting] = useState(false);
  const guest = useGuestLabel()(s.guestId, s.guest);
  const start = async () => {
    setStarting(true);
    try {
      if ((await backupNow([s.guestId])).length) navigate('jobs');
    } finally {
      setStarting(false);
    }
  };
  return (
    <Alert severity="error" sx={{ mb: 2 }} data-testid="damaged-point">
      <AlertTitle>
        Damaged restore point: {guest} at {formatDateTime(s.time)}
      </AlertTitle>
      The check on {formatDateTime(s.verify?.at)} found data of this point that no longer matches its checksums, so restoring from it may fail or give wrong data. Forget it, and take a new backup now.
      <Box sx={{ display: 'flex', gap: 1, mt: 1, flexWrap: 'wrap' }}>
        {onForget && (
          <Button size="small" color="error" variant="outlined" onClick={onForget}>
            Forget it…
          </Button>
        )}
        <Button size="small" variant="contained" disabled={starting} onClick={() => void start()} startIcon={starting ? <CircularProgress size={14} color="inherit" aria-hidden /> : undefined}>
          {starting ? 'Starting…' : `Back up ${guest} now`}
        </Button>
      </Box>
    </Alert>
  );
}
