import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import type { OffsiteOverview } from '../../../../shared/domain/engine.js';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { ErrorNotice } from '../../components/LoadState.js';
import { formatDateTime } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';
import { Facts } from './Facts.js';

/** The time a snapshot id names (`20261207T193602Z-29d5e5` → 2026-12-07T19:36:02Z). */
const idTime = (id: string) => id.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z.*$/, '$1-$2-$3T$4:$5:$6Z');

/** The facts shown for a configured offsite copy. */
export function offsiteFacts(o: OffsiteOverview): [string, string][] {
  const offsite = o.snapshots.filter((s) => s.offsite);
  const locked = offsite
    .map((s) => s.protectedUntil)
    .filter((u): u is string => u !== undefined)
    .sort();
  return [
    ['Destination', o.destination ?? '—'],
    ['Last copy', o.lastJob ? `${o.lastJob.status}, ${formatDateTime(o.lastJob.at)}` : 'never'],
    ['Newest restore point offsite', o.lastCopied ? formatDateTime(idTime(o.lastCopied)) : 'none'],
    ['Lag', o.lagSnapshots === 0 ? 'none: every restore point is offsite' : `${o.lagSnapshots} restore point(s) not offsite yet`],
    ['Object Lock', o.objectLock ? 'on' : 'off: the copies can be deleted with the bucket keys'],
    ['Protected until', locked.length ? `${formatDateTime(locked[0]!)} (oldest) … ${formatDateTime(locked[locked.length - 1]!)} (newest)` : '—'],
  ];
}

/** Repository page, "Offsite": destination, last copy, lag behind the repository, protected-until. */
export function OffsiteSection() {
  const engine = useEngine();
  const [o, setO] = useState<OffsiteOverview | null>(null);
  const [error, setError] = useState<FriendlyError | null>(null);
  const load = () =>
    engine['offsite.status']({})
      .then((r) => (setO(r), setError(null)))
      .catch((e) => setError(friendlyError(e)));
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [engine]);
  return (
    <Card variant="outlined" sx={{ mb: 2 }} component="section" aria-labelledby="offsite-title">
      <CardContent>
        <Typography variant="h6" component="h2" id="offsite-title" gutterBottom>
          Offsite
        </Typography>
        {error && <ErrorNotice error={error} what="Offsite copy" onRetry={() => void load()} />}
        {o && !o.configured && (
          <Typography data-testid="offsite-none">
            No offsite copy yet. Schedule one to S3-compatible storage with <code>twinsnap offsite schedule --to s3://BUCKET/PREFIX</code>.
          </Typography>
        )}
        {o?.configured && <Facts facts={offsiteFacts(o)} testId="offsite-facts" />}
        {o?.error && (
          <Alert severity="error" sx={{ mt: 1 }}>
            {o.error.message}
          </Alert>
        )}
      </CardContent>
    </Card>
  );
}
