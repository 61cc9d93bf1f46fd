import { useEffect, useMemo, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import CardContent from '@mui/material/CardContent';
import FormControlLabel from '@mui/material/FormControlLabel';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import Typography from '@mui/material/Typography';
import { LoadState } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { formatBytes, formatDateTime } from '../../lib/format.js';
import { useApp } from '../../stores/hooks.js';
import { FileBrowser } from '../files/FileBrowser.js';
import { PointPicker } from './PointPicker.js';
import { RestoreProgress } from './RestoreProgress.js';
import { RESTORE_STEPS, blockedAt, networkLabel, startRequest, type RestoreDraft, type RestoreWhat } from './restore-model.js';
import { WhereStep } from './WhereStep.js';
import { useEngine } from '../../stores/hooks.js';
import { guestLabels, labelOf } from '../../lib/guest-labels.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { isGuestId } from '../../../../shared/domain/guest-id.js';
import type { OffsiteOverview } from '../../../../shared/domain/engine.js';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import type { Res } from '../../../../shared/ipc/contract.js';
import { failed, idle, loaded, loading, type Loadable } from '../../stores/loadable.js';
import { OffsiteFiles, OffsiteUnlock, needsOffsitePassword } from './offsite-source.js';

const WHAT: { value: RestoreWhat; title: string; text: string }[] = [
  { value: 'files', title: 'Individual files', text: 'Browse the restore point and copy files or folders out.' },
  { value: 'new-vm', title: 'Whole VM as a new VM', text: 'A copy next to the original, registered with its hypervisor.' },
  { value: 'disks', title: 'Disks only', text: 'Disk image files in VMDK, VHDX, qcow2 or raw.' },
  { value: 'replace', title: 'Replace the original', text: 'Put the guest itself back in time (it must be off); its current files are kept aside. Needs its name typed.' },
];

/** The point-in-time restore wizard (guest → point → what → where → review → progress → result). */
export function RestorePage() {
  const engine = useEngine();
  const local = useApp((s) => s.snapshots);
  const refresh = useApp((s) => s.refreshSnapshots);
  const params = useApp((s) => s.routeParams);
  const notifyError = useApp((s) => s.notifyError);
  const refreshJobs = useApp((s) => s.refreshJobs);
  const [step, setStep] = useState(0);
  const [d, setD] = useState<RestoreDraft>({ to: '', newName: '', format: 'original', confirmName: '' });
  const [jobId, setJobId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const set = (p: Partial<RestoreDraft>) => setD((x) => ({ ...x, ...p }));
  // the offsite copy as a second source: offered when one is set up, its points listed on demand
  const [offsite, setOffsite] = useState<OffsiteOverview | null>(null);
  const [remote, setRemote] = useState<Loadable<SnapshotSummary[]>>(idle());
  const [estimate, setEstimate] = useState<Res<'offsite.estimate'> | null>(null);
  const fromOffsite = d.source === 'offsite';
  const snapshots = fromOffsite ? remote : local;
  const offsiteName = offsite?.destination ?? offsite?.settings?.to ?? 'offsite';
  useEffect(() => {
    engine['offsite.status']({}).then(
      (o) => setOffsite(o.configured ? o : null),
      () => setOffsite(null),
    );
  }, [engine]);
  const loadRemote = () => {
    setRemote((r) => loading(r));
    engine['snapshots.list']({ source: 'offsite' }).then(
      (data) => setRemote(loaded(data)),
      (e: unknown) => setRemote((r) => failed(r, e)),
    );
  };
  const chooseSource = (source: 'local' | 'offsite') => {
    set({ source, guest: undefined, guestId: undefined, snapshotId: undefined, confirmName: '' });
    if (source === 'offsite') loadRemote();
  };
  useEffect(() => {
    setEstimate(null);
    if (!fromOffsite || step !== 4 || !d.snapshotId) return;
    let live = true;
    engine['offsite.estimate']({ snapshotId: d.snapshotId }).then(
      (r) => live && setEstimate(r),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [engine, fromOffsite, step, d.snapshotId]);

  useEffect(() => {
    if (!params.snapshot && !params.guest) return;
    const what = params.what === 'files' ? 'files' : undefined;
    // the route names the guest by id (links from the calendar) or by name (older links)
    const byId = params.guest && isGuestId(params.guest) ? snapshots.data?.find((s) => s.guestId === params.guest) : undefined;
    const name = byId?.guest ?? (params.guest && !isGuestId(params.guest) ? params.guest : undefined);
    const guestId = byId?.guestId ?? (params.guest && isGuestId(params.guest) ? params.guest : undefined);
    setD((x) => ({
      ...x,
      guest: name ?? x.guest,
      guestId: guestId ?? (name ? undefined : x.guestId),
      snapshotId: params.snapshot ?? x.snapshotId,
      what: what ?? x.what,
      newName: name ? `${name}-restored` : x.newName,
    }));
    setStep(params.snapshot ? (what ? 3 : 2) : 1);
    setJobId(null);
    // only a new route sets the draft; the snapshot list merely names the guest of an id
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params.snapshot, params.guest, params.what]);

  const liveGuests = useApp((s) => s.guests.data);
  const guestLabel = useGuestLabel();
  // one choice per guest id; same-named guests are told apart by folder (or id)
  const guests = useMemo(() => {
    const labels = guestLabels(
      liveGuests ?? [],
      (snapshots.data ?? []).map((s) => ({ guestId: s.guestId, name: s.guest })),
    );
    const m = new Map<string, { name: string; label: string; n: number }>();
    for (const s of snapshots.data ?? []) m.set(s.guestId, { name: s.guest, label: labelOf(labels, s.guestId, s.guest), n: (m.get(s.guestId)?.n ?? 0) + 1 });
    return [...m].sort((a, b) => a[1].label.localeCompare(b[1].label));
  }, [snapshots.data, liveGuests]);
  const points = useMemo(() => (snapshots.data ?? []).filter((s) => (d.guestId ? s.guestId === d.guestId : s.guest === d.guest)), [snapshots.data, d.guest, d.guestId]);
  const point = points.find((p) => p.id === d.snapshotId);
  const blocked = blockedAt(step, d);
  const filesMode = d.what === 'files' && step >= 3;

  const start = async () => {
    setStarting(true);
    try {
      const r = await engine['restore.start'](startRequest(d));
      setJobId(r.jobId);
      setStep(5);
      void refreshJobs();
    } catch (e) {
      notifyError(e, 'Starting the restore');
    } finally {
      setStarting(false);
    }
  };

  return (
    <>
      <PageHeader title="Restore" subtitle="Bring back a whole VM, its disks or single files from any restore point" />
      <Stepper activeStep={step} sx={{ mb: 3 }} alternativeLabel>
        {RESTORE_STEPS.map((label, i) => (
          <Step key={label} completed={i < step}>
            <StepLabel>{filesMode && i === 3 ? 'Files' : label}</StepLabel>
          </Step>
        ))}
      </Stepper>
      {step === 0 && offsite && (
        <RadioGroup value={d.source ?? 'local'} onChange={(e) => chooseSource(e.target.value as 'local' | 'offsite')} aria-label="Restore from" sx={{ mb: 2 }} data-testid="restore-source">
          <FormControlLabel value="local" control={<Radio />} label="Local repository" />
          <FormControlLabel value="offsite" control={<Radio />} label={`Offsite copy (${offsiteName})`} />
        </RadioGroup>
      )}
      {fromOffsite && step > 0 && step < 5 && (
        <Alert severity="info" sx={{ mb: 2 }} data-testid="restore-from-offsite">
          Restoring from the offsite copy ({offsiteName}): what is read is downloaded from the bucket (a file: only the pieces it needs; a VM or disks: every piece not cached yet). Providers may
          charge for downloads.
        </Alert>
      )}
      <LoadState
        value={snapshots}
        what={fromOffsite ? 'Restore points of the offsite copy' : 'Restore points'}
        onRetry={() => (fromOffsite ? loadRemote() : void refresh())}
        // an encrypted offsite copy this computer has no (or a wrong) password for: ask for it
        failed={(e) => (fromOffsite && needsOffsitePassword(e) ? <OffsiteUnlock name={offsiteName} error={e} onUnlocked={loadRemote} /> : undefined)}
      >
        {() => (
          <Box data-testid={`restore-step-${step}`}>
            {step === 0 &&
              (guests.length === 0 ? (
                <Alert severity="info">There are no restore points yet. Back up a guest first.</Alert>
              ) : (
                <RadioGroup
                  value={d.guestId ?? ''}
                  onChange={(e) => {
                    const name = guests.find(([id]) => id === e.target.value)?.[1].name ?? '';
                    set({ guestId: e.target.value, guest: name, snapshotId: undefined, newName: `${name}-restored`, confirmName: '', network: undefined, networkName: undefined });
                  }}
                  aria-label="Guest"
                >
                  {guests.map(([id, g]) => (
                    <FormControlLabel key={id} value={id} control={<Radio />} label={`${g.label} (${g.n} restore point${g.n === 1 ? '' : 's'})`} />
                  ))}
                </RadioGroup>
              ))}
            {step === 1 && <PointPicker points={points} value={d.snapshotId} onChange={(id) => set({ snapshotId: id })} />}
            {step === 2 && (
              <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '1fr 1fr' }, gap: 2 }} role="radiogroup" aria-label="What to restore">
                {WHAT.map((w) => (
                  <Card key={w.value} variant="outlined" sx={{ borderColor: d.what === w.value ? 'primary.main' : undefined, borderWidth: d.what === w.value ? 2 : 1 }}>
                    <CardActionArea role="radio" aria-checked={d.what === w.value} onClick={() => set({ what: w.value })}>
                      <CardContent>
                        <Typography variant="h2" component="h2">
                          {w.title}
                        </Typography>
                        <Typography variant="body2" color="text.secondary">
                          {w.text}
                        </Typography>
                      </CardContent>
                    </CardActionArea>
                  </Card>
                ))}
              </Box>
            )}
            {step === 3 && !filesMode && <WhereStep d={d} set={set} />}
            {filesMode &&
              d.snapshotId &&
              (fromOffsite ? (
                <OffsiteFiles>
                  <FileBrowser snapshotId={d.snapshotId} point={point} />
                </OffsiteFiles>
              ) : (
                <FileBrowser snapshotId={d.snapshotId} point={point} />
              ))}
            {step === 4 && point && (
              <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 1 }} data-testid="restore-review">
                {[
                  ...(fromOffsite
                    ? [
                        ['Source', `Offsite copy (${offsiteName})`],
                        [
                          'Download',
                          estimate
                            ? `${formatBytes(estimate.bytes)} in ${estimate.objects} object(s) from the bucket${estimate.cachedBytes ? ` (${formatBytes(estimate.cachedBytes)} already cached here)` : ''}`
                            : 'working it out…',
                        ],
                      ]
                    : []),
                  ['Guest', guestLabel(d.guestId, d.guest)],
                  ['Restore point', `${formatDateTime(point.time)} (${point.consistency})`],
                  ['Size', formatBytes(point.logicalBytes)],
                  ['What', WHAT.find((w) => w.value === d.what)?.title],
                  ...(d.what === 'replace' ? [['Current files', 'moved aside, kept until you delete them']] : [['Destination', d.to]]),
                  ...(d.what === 'new-vm' ? [['New name', d.newName]] : []),
                  ...(d.what === 'disks' ? [['Format', d.format]] : []),
                  ...(d.what === 'new-vm' || d.what === 'replace' ? [['Network', networkLabel(d)]] : []),
                ].map(([k, v]) => (
                  <Box key={k} sx={{ display: 'contents' }}>
                    <Typography component="dt" color="text.secondary">
                      {k}
                    </Typography>
                    <Typography component="dd" sx={{ m: 0 }}>
                      {v}
                    </Typography>
                  </Box>
                ))}
              </Box>
            )}
            {step === 5 && jobId && <RestoreProgress jobId={jobId} d={d} />}
          </Box>
        )}
      </LoadState>
      <Box sx={{ display: 'flex', gap: 1, mt: 3, alignItems: 'center' }}>
        {step > 0 && step < 5 && <Button onClick={() => setStep((s) => s - 1)}>Back</Button>}
        {step < 4 && !filesMode && (
          <Button variant="contained" disabled={!!blocked} onClick={() => setStep((s) => s + 1)}>
            Next
          </Button>
        )}
        {step === 4 && (
          <Button variant="contained" color={d.what === 'replace' ? 'warning' : 'primary'} disabled={starting} onClick={() => void start()}>
            {d.what === 'replace' ? `Replace ${guestLabel(d.guestId, d.guest)}` : 'Start restore'}
          </Button>
        )}
        {step === 5 && (
          <Button
            onClick={() => {
              setStep(0);
              setJobId(null);
            }}
          >
            Restore something else
          </Button>
        )}
        {blocked && step < 4 && !filesMode && (
          <Typography variant="body2" color="text.secondary">
            To continue: {blocked}.
          </Typography>
        )}
      </Box>
    </>
  );
}
