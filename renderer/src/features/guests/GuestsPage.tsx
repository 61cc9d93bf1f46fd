import Button from '@mui/material/Button';
import RefreshIcon from '@mui/icons-material/Refresh';
import { LoadState } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { useApp } from '../../stores/hooks.js';
import { GuestTable } from './GuestTable.js';

/** Guests: every guest from every adapter with state, last result, next run; Back up now. */
export function GuestsPage() {
  const guests = useApp((s) => s.guests);
  const refresh = useApp((s) => s.refreshGuests);
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
      <LoadState value={guests} what="Guests" onRetry={() => void refresh(true)}>
        {(list) => <GuestTable guests={list} />}
      </LoadState>
    </>
  );
}
