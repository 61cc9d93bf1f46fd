import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import FolderOpenIcon from '@mui/icons-material/FolderOpen';
import RestoreIcon from '@mui/icons-material/SettingsBackupRestore';
import VerifiedIcon from '@mui/icons-material/Verified';
import DeleteIcon from '@mui/icons-material/DeleteOutlined';
import TuneIcon from '@mui/icons-material/Tune';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatBytes, formatDateTime, formatDuration } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { ForgetSnapshotDialog } from './ForgetSnapshotDialog.js';
import type { CalendarMark } from './calendar-layout.js';
import { DamagedPointAlert } from '../../components/DamagedPointAlert.js';
import { damagedText, isDamaged } from '../../lib/damaged.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';

const CONSISTENCY: Record<SnapshotSummary['consistency'], string> = {
  'clean-twin': 'Application-consistent (clean twin shutdown)',
  crash: 'Crash-consistent (fallback: the twin could not shut down cleanly)',
  cold: 'Cold (the guest was off)',
};

/** "yes, protected until …" / "yes (not locked)" / "not offsite yet". */
export function offsiteText(o: CalendarMark['offsite'] | null): string {
  if (!o) return 'not offsite yet';
  if (o.locked && o.protectedUntil) return `yes, protected until ${formatDateTime(o.protectedUntil)}`;
  return o.protectedUntil ? `yes, its lock ended ${formatDateTime(o.protectedUntil)}` : 'yes (not locked)';
}

/** Facts and actions of one restore point. */
export function SnapshotDetails({
  s,
  offsite,
  onRetention,
  onForgotten,
}: {
  s: SnapshotSummary;
  /** Its offsite copy (null: not offsite yet; undefined: no offsite copy is set up). */
  offsite?: CalendarMark['offsite'] | null;
  onRetention(): void;
  onForgotten?(id: string): void;
}) {
  const engine = useEngine();
  const navigate = useApp((st) => st.navigate);
  const refresh = useApp((st) => st.refreshSnapshots);
  const label = useGuestLabel();
  const [verifying, setVerifying] = useState(false);
  const [verifyMsg, setVerifyMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirmForget, setConfirmForget] = useState(false);
  const rows: [string, string][] = [
    ['Time', formatDateTime(s.time)],
    ['Consistency', CONSISTENCY[s.consistency]],
    ['Production pause', s.pauseMs !== undefined ? formatDuration(s.pauseMs) : '—'],
    ['Size', `${formatBytes(s.logicalBytes)} logical${s.newBytes !== undefined ? `, ${formatBytes(s.newBytes)} new` : ''}`],
    ['Disks', s.disks.map((d) => `${d.name} (${formatBytes(d.size)})`).join(', ') || '—'],
    ['Verify', s.verify ? `${s.verify.ok ? 'passed' : 'FAILED — damaged'} ${formatDateTime(s.verify.at)}${s.verify.bootMs ? `, booted in ${formatDuration(s.verify.bootMs)}` : ''}` : 'not verified'],
    ...(offsite !== undefined ? [['Offsite copy', offsiteText(offsite)] as [string, string]] : []),
    ['Id', s.id],
  ];
  const verify = async () => {
    setVerifying(true);
    setVerifyMsg(null);
    try {
      const r = await engine['snapshots.verify']({ snapshotId: s.id });
      setVerifyMsg(r.ok ? { ok: true, text: 'All data of this restore point is readable and matches its checksums.' } : { ok: false, text: damagedText(r.damagedPoints, r.damaged, label) });
      void refresh();
    } catch (e) {
      const f = friendlyError(e);
      setVerifyMsg({ ok: false, text: f.notAvailable ? 'Verify is not available yet in this build.' : `${f.title}. ${f.action}` });
    } finally {
      setVerifying(false);
    }
  };
  return (
    <Box data-testid="snapshot-details" data-damaged={isDamaged(s) ? 'true' : undefined}>
      {isDamaged(s) && <DamagedPointAlert s={s} onForget={() => setConfirmForget(true)} />}
      <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 0.5, m: 0, mb: 2 }}>
        {rows.map(([k, v]) => (
          <Box key={k} sx={{ display: 'contents' }}>
            <Typography component="dt" variant="body2" color="text.secondary">
              {k}
            </Typography>
            <Typography component="dd" variant="body2" sx={{ m: 0, wordBreak: 'break-word' }}>
              {v}
            </Typography>
          </Box>
        ))}
      </Box>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <Button variant="contained" startIcon={<FolderOpenIcon />} onClick={() => navigate('restore', { snapshot: s.id, guest: s.guestId, what: 'files' })}>
          Browse files
        </Button>
        <Button variant="outlined" startIcon={<RestoreIcon />} onClick={() => navigate('restore', { snapshot: s.id, guest: s.guestId })}>
          Restore…
        </Button>
        <Button variant="outlined" startIcon={verifying ? <CircularProgress size={16} /> : <VerifiedIcon />} disabled={verifying} onClick={() => void verify()}>
          Verify
        </Button>
        <Button color="error" startIcon={<DeleteIcon />} onClick={() => setConfirmForget(true)}>
          Forget…
        </Button>
        <Button startIcon={<TuneIcon />} onClick={onRetention} title="Which restore points the guest's retention rules keep (previewed before anything is deleted)">
          Retention rules…
        </Button>
      </Box>
      {verifyMsg && (
        <Alert severity={verifyMsg.ok ? 'success' : 'warning'} sx={{ mt: 2 }} role="status">
          {verifyMsg.text}
        </Alert>
      )}
      <ForgetSnapshotDialog
        snapshot={confirmForget ? s : null}
        onClose={() => setConfirmForget(false)}
        onForgotten={(id) => {
          setConfirmForget(false);
          onForgotten?.(id);
        }}
      />
    </Box>
  );
}
