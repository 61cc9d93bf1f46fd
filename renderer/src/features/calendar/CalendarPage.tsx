import Alert from '@mui/material/Alert';
import { LoadState } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { useApp } from '../../stores/hooks.js';

/** Calendar (home): restore points per guest and day. */
export function CalendarPage() {
  const snapshots = useApp((s) => s.snapshots);
  const refresh = useApp((s) => s.refreshSnapshots);
  return (
    <>
      <PageHeader title="Calendar" subtitle="Every guest’s restore points, day by day" />
      <LoadState value={snapshots} what="Restore points" onRetry={() => void refresh()}>
        {(list) => <Alert severity="info">{list.length} restore points in the repository.</Alert>}
      </LoadState>
    </>
  );
}
