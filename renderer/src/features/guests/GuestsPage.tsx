import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Button from '@mui/material/Button';
import { isDamaged, pointName } from '../../lib/damaged.js';
import Box from '@mui/material/Box';
import RefreshIcon from '@mui/icons-material/Refresh';
import { LoadState } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { useApp } from '../../stores/hooks.js';
import { GuestTable } from './GuestTable.js';

/** Guests: every guest from every adapter with state, last result, next run; Back up now. */
export function GuestsPage() {
  const guests = useApp((s) => s.guests);
  const refresh = useApp((s) => s.refreshGuests);
  const snapshots = useApp((s) => s.snapshots.data);
  const navigate = useApp((s) => s.navigate);
  const damaged = (snapshots ?? []).filter(isDamaged);
  const label = useGuestLabel();
  return (
    <>
      <PageHeader
        title="Guests"
        subtitle="Every virtual machine TwinSnap found on this computer"
        actions={
          <Button startIcon={<RefreshIcon />} onClick={() => void refresh(true)} disabled={guests.loading}>
            Refresh
          </Button>
        }
      />
      {damaged.length > 0 && (
        <Alert severity="error" sx={{ mb: 2 }} data-testid="guests-damaged">
          <AlertTitle>
            {damaged.length} damaged restore point{damaged.length > 1 ? 's' : ''}
          </AlertTitle>
          <Box component="ul" sx={{ m: 0, pl: 2 }}>
            {damaged.map((p) => (
              <li key={p.id}>
                {pointName({ snapshotId: p.id, guest: p.guest, guestId: p.guestId, time: p.time }, label)}{' '}
                <Button size="small" onClick={() => navigate('calendar')}>
                  Show in the calendar
                </Button>
              </li>
            ))}
          </Box>
          A verify found data of {damaged.length > 1 ? 'these points' : 'this point'} that no longer matches its checksums: forget {damaged.length > 1 ? 'them' : 'it'} (in the calendar) and take a new
          backup now.
        </Alert>
      )}
      <LoadState value={guests} what="Guests" onRetry={() => void refresh(true)}>
        {(list) => <GuestTable guests={list} />}
      </LoadState>
    </>
  );
}
