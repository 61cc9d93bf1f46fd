import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import CircularProgress from '@mui/material/CircularProgress';
import FormControlLabel from '@mui/material/FormControlLabel';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { OffsiteOverview, OffsiteTestResult } from '../../../../shared/domain/engine.js';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { ErrorNotice } from '../../components/LoadState.js';
import { JobProgressLine } from '../../components/JobProgressLine.js';
import { formatDateTime } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { Facts } from './Facts.js';
import { destinationOf, formFrom, formProblem, type OffsiteForm } from './offsite-form.js';

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
    ['Keys', o.settings?.keysStored ? 'keys stored' : 'none stored: taken from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the engine'],
    ['Daily copy', o.dailyAt ? `at ${o.dailyAt}, after the maintenance` : '—'],
    ['Last copy', o.lastJob ? `${o.lastJob.status}, ${formatDateTime(o.lastJob.at)}` : 'never'],
    ['Newest restore point offsite', o.lastCopied ? formatDateTime(idTime(o.lastCopied)) : 'none'],
    ['Lag', o.lagSnapshots === 0 ? 'none: every restore point is offsite' : `${o.lagSnapshots} restore point(s) not offsite yet`],
    ['Object Lock', o.objectLock ? `on${o.settings?.lockDays ? `, ${o.settings.lockDays} days per copy` : ''}` : 'off: the copies can be deleted with the bucket keys'],
    ['Protected until', locked.length ? `${formatDateTime(locked[0]!)} (oldest) … ${formatDateTime(locked[locked.length - 1]!)} (newest)` : '—'],
  ];
}

/** The destination form: where, keys (write-only), Object Lock, daily time; Test connection and Save. */
function DestinationForm({ o, onSaved, onCancel }: { o: OffsiteOverview | null; onSaved(o: OffsiteOverview): void; onCancel?(): void }) {
  const engine = useEngine();
  const [f, setF] = useState<OffsiteForm>(() => formFrom(o));
  const [busy, setBusy] = useState<'test' | 'save' | null>(null);
  const [tested, setTested] = useState<OffsiteTestResult | null>(null);
  const [error, setError] = useState<{ what: string; e: FriendlyError } | null>(null);
  const set = (p: Partial<OffsiteForm>) => (setF((x) => ({ ...x, ...p })), setTested(null));
  const keysStored = o?.settings?.keysStored ?? false;
  const problem = formProblem(f, keysStored);
  const run = async (what: 'test' | 'save') => {
    setBusy(what);
    setError(null);
    setTested(null);
    try {
      if (what === 'test') setTested(await engine['offsite.test']({ destination: destinationOf(f) }));
      else onSaved(await engine['offsite.configure']({ destination: destinationOf(f), dailyAt: f.dailyAt }));
    } catch (e) {
      setError({ what: what === 'test' ? 'Test connection' : 'Saving the destination', e: friendlyError(e) });
    } finally {
      setBusy(null);
    }
  };
  const field = (label: string, key: 'to' | 'endpoint' | 'region' | 'accessKeyId', helper: string, extra: object = {}) => (
    <TextField label={label} value={f[key]} onChange={(e) => set({ [key]: e.target.value })} helperText={helper} size="small" fullWidth {...extra} />
  );
  return (
    <Box component="form" aria-label="Offsite destination" onSubmit={(e) => (e.preventDefault(), !problem && void run('save'))} sx={{ display: 'grid', gap: 2, maxWidth: 640 }}>
      {field('Destination', 'to', 'The bucket and folder, as s3://BUCKET/PREFIX', { placeholder: 's3://office-backups/site-a' })}
      {field('Endpoint URL', 'endpoint', 'Empty for AWS S3; e.g. https://s3.eu-central-003.backblazeb2.com, https://s3.eu-central-1.wasabisys.com, http://minio:9000')}
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'flex-start', flexWrap: 'wrap' }}>
        <Box sx={{ flex: 1, minWidth: 200 }}>{field('Region', 'region', 'Empty: us-east-1')}</Box>
        <FormControlLabel
          control={<Checkbox checked={f.pathStyle} disabled={!f.endpoint.trim()} onChange={(e) => set({ pathStyle: e.target.checked })} />}
          label="Path-style addressing (with an endpoint: MinIO, Ceph)"
        />
      </Box>
      {field('Access key ID', 'accessKeyId', keysStored ? 'Keys are stored; leave both empty to keep them' : 'Of a user that may write the bucket', { autoComplete: 'off' })}
      <TextField
        label="Secret access key"
        type="password"
        value={f.secretAccessKey}
        onChange={(e) => set({ secretAccessKey: e.target.value })}
        helperText="Kept in this computer's secret store (the OS keychain in the desktop app), never in the settings file; never shown again"
        size="small"
        autoComplete="new-password"
        fullWidth
      />
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'flex-start', flexWrap: 'wrap' }}>
        <FormControlLabel
          control={<Checkbox checked={f.objectLock} onChange={(e) => set({ objectLock: e.target.checked })} />}
          label="Object Lock: nobody can delete a copy early, not even with these keys"
        />
        {f.objectLock && (
          <TextField
            label="Days each copy stays locked"
            value={f.lockDays}
            onChange={(e) => set({ lockDays: e.target.value })}
            size="small"
            sx={{ width: 200 }}
            helperText="Cover the longest time retention keeps a point"
            slotProps={{ htmlInput: { inputMode: 'numeric' } }}
          />
        )}
        {f.objectLock && (
          <TextField
            select
            label="Lock mode"
            value={f.lockMode}
            onChange={(e) => set({ lockMode: e.target.value as OffsiteForm['lockMode'] })}
            size="small"
            sx={{ width: 260 }}
            helperText={f.lockMode === 'COMPLIANCE' ? 'Nobody can delete a copy early, not even the account owner' : 'For trials: a user allowed to bypass it can delete early'}
          >
            <MenuItem value="COMPLIANCE">Compliance</MenuItem>
            <MenuItem value="GOVERNANCE">Governance</MenuItem>
          </TextField>
        )}
      </Box>
      <TextField
        label="Daily at"
        type="time"
        value={f.dailyAt}
        onChange={(e) => set({ dailyAt: e.target.value })}
        size="small"
        sx={{ width: 200 }}
        helperText="Runs after the daily maintenance (retention, clean-up, verify), which moves with it"
        slotProps={{ inputLabel: { shrink: true } }}
      />
      {problem && (
        <Typography variant="body2" color="text.secondary" data-testid="offsite-form-problem">
          To continue: {problem}.
        </Typography>
      )}
      {tested && (
        <Alert severity="success" data-testid="offsite-test-ok">
          Connected to {tested.destination}: the keys work{tested.objectLock ? ', Object Lock is on' : ', no Object Lock'}; {tested.snapshotsOffsite} restore point(s) of this repository already there.
        </Alert>
      )}
      {error && <ErrorNotice error={error.e} what={error.what} />}
      <Box sx={{ display: 'flex', gap: 1 }}>
        <Button variant="outlined" disabled={!!problem || !!busy} onClick={() => void run('test')} startIcon={busy === 'test' ? <CircularProgress size={16} /> : undefined}>
          Test connection
        </Button>
        <Button variant="contained" type="submit" disabled={!!problem || !!busy} startIcon={busy === 'save' ? <CircularProgress size={16} /> : undefined}>
          Save
        </Button>
        {onCancel && <Button onClick={onCancel}>Cancel</Button>}
      </Box>
    </Box>
  );
}

/** Repository page, "Offsite": destination, last copy, lag behind the repository, protected-until; set up, Copy now, Remove. */
export function OffsiteSection() {
  const engine = useEngine();
  const navigate = useApp((s) => s.navigate);
  const notifyError = useApp((s) => s.notifyError);
  const refreshJobs = useApp((s) => s.refreshJobs);
  const [o, setO] = useState<OffsiteOverview | null>(null);
  const [error, setError] = useState<FriendlyError | null>(null);
  const [editing, setEditing] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useApp((s) => (jobId ? s.jobs.data?.find((j) => j.id === jobId) : undefined));
  const rate = useApp((s) => (jobId ? s.rates[jobId] : undefined));
  const load = () =>
    engine['offsite.status']({})
      .then((r) => (setO(r), setError(null)))
      .catch((e) => setError(friendlyError(e)));
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [engine]);
  const finished = job && job.status !== 'running' && job.status !== 'queued';
  useEffect(() => {
    if (finished) void load(); // the new points offsite, the lag, protected-until
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finished]);
  const copyNow = async () => {
    try {
      const r = await engine['offsite.copyNow']({});
      setJobId(r.jobId);
      void refreshJobs();
    } catch (e) {
      notifyError(e, 'Copy now');
    }
  };
  const remove = async () => {
    try {
      setO(await engine['offsite.remove']({}));
      setConfirmRemove(false);
    } catch (e) {
      notifyError(e, 'Removing the destination');
    }
  };
  const configured = o?.configured === true;
  return (
    <Card variant="outlined" sx={{ mb: 2 }} component="section" aria-labelledby="offsite-title">
      <CardContent>
        <Typography variant="h6" component="h2" id="offsite-title" gutterBottom>
          Offsite
        </Typography>
        {error && <ErrorNotice error={error} what="Offsite copy" onRetry={() => void load()} />}
        {o && !configured && (
          <Typography data-testid="offsite-none" sx={{ mb: 2 }}>
            No offsite copy yet. Enter an S3-compatible bucket (AWS S3, Backblaze B2, Wasabi, MinIO, Ceph) to copy every restore point there each day, or use{' '}
            <code>twinsnap offsite schedule --to s3://BUCKET/PREFIX</code>.
          </Typography>
        )}
        {o && (!configured || editing) && <DestinationForm o={o} onSaved={(r) => (setO(r), setEditing(false))} onCancel={configured ? () => setEditing(false) : undefined} />}
        {configured && !editing && (
          <>
            <Facts facts={offsiteFacts(o)} testId="offsite-facts" />
            {o.error && (
              <Alert severity="error" sx={{ mt: 1 }}>
                {o.error.message}
              </Alert>
            )}
            {job && (
              <Box sx={{ mt: 2 }} data-testid="offsite-copy-job" data-status={job.status}>
                <Typography variant="body2" sx={{ mb: 0.5 }}>
                  Copy {job.status === 'running' || job.status === 'queued' ? 'running' : job.status}
                  {job.error ? `: ${job.error.message}` : ''}
                </Typography>
                <JobProgressLine job={job} rate={rate} />
              </Box>
            )}
            {confirmRemove ? (
              <Alert
                severity="warning"
                sx={{ mt: 2 }}
                action={
                  <>
                    <Button color="inherit" size="small" onClick={() => void remove()}>
                      Remove
                    </Button>
                    <Button color="inherit" size="small" onClick={() => setConfirmRemove(false)}>
                      Keep
                    </Button>
                  </>
                }
              >
                Stop copying offsite and forget the destination and its keys? The copies already in the bucket stay there (locked ones until their date).
              </Alert>
            ) : (
              <Box sx={{ display: 'flex', gap: 1, mt: 2, flexWrap: 'wrap' }}>
                <Button variant="contained" disabled={job?.status === 'running'} onClick={() => void copyNow()}>
                  Copy now
                </Button>
                {jobId && <Button onClick={() => navigate('jobs', { job: jobId })}>Open the job</Button>}
                <Button onClick={() => setEditing(true)}>Change destination…</Button>
                <Button color="error" onClick={() => setConfirmRemove(true)}>
                  Remove…
                </Button>
              </Box>
            )}
          </>
        )}
      </CardContent>
    </Card>
  );
}
