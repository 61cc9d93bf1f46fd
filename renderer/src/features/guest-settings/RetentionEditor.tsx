import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import Slider from '@mui/material/Slider';
import Typography from '@mui/material/Typography';
import type { RetentionPolicy, RetentionPreview } from '../../../../shared/domain/policy.js';
import { friendlyError } from '../../app/error-messages.js';
import { useDebouncedEffect } from '../../hooks/use-debounced-effect.js';
import { formatBytes } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';

type Key = keyof RetentionPolicy;

/** The sliders, top to bottom, as in the UI sketch. */
export const RETENTION_SLIDERS: { key: Key; label: string; max: number; unit: (n: number) => string }[] = [
  { key: 'keepLast', label: 'Always keep the last', max: 30, unit: (n) => `${n} backup${n === 1 ? '' : 's'}` },
  { key: 'keepWithinDays', label: 'Keep every backup for', max: 90, unit: (n) => `${n} day${n === 1 ? '' : 's'}` },
  { key: 'keepDaily', label: 'then one a day for', max: 90, unit: (n) => `${n} day${n === 1 ? '' : 's'}` },
  { key: 'keepWeekly', label: 'then one a week for', max: 52, unit: (n) => `${n} week${n === 1 ? '' : 's'}` },
  { key: 'keepMonthly', label: 'then one a month for', max: 36, unit: (n) => `${n} month${n === 1 ? '' : 's'}` },
  { key: 'keepYearly', label: 'then one a year for', max: 10, unit: (n) => `${n} year${n === 1 ? '' : 's'}` },
];

/** Rules proposed while a guest has none saved (a common small-office GFS scheme). */
export const SUGGESTED: RetentionPolicy = { keepLast: 3, keepWithinDays: 7, keepDaily: 30, keepWeekly: 12, keepMonthly: 12, keepYearly: 3 };

/** A policy without zero tiers (0 = the tier keeps nothing). */
export function cleanPolicy(p: RetentionPolicy): RetentionPolicy {
  const out: RetentionPolicy = {};
  for (const { key } of RETENTION_SLIDERS) if ((p[key] ?? 0) > 0) out[key] = p[key];
  return out;
}

/**
 * Retention sliders of one guest. While a slider moves, the engine's dry run (retention.preview,
 * the same code as `twinsnap forget --dry-run`) is shown on the calendar and summarised here;
 * nothing is deleted before Apply is confirmed.
 */
export function RetentionEditor({ guest, label = guest, onDirty }: { guest: string; label?: string; onDirty?(dirty: boolean): void }) {
  const engine = useEngine();
  const stored = useApp((s) => s.policies[guest]);
  const setPolicy = useApp((s) => s.setPolicy);
  const showPreview = useApp((s) => s.showPreview);
  const notify = useApp((s) => s.notify);
  const notifyError = useApp((s) => s.notifyError);
  const refreshSnapshots = useApp((s) => s.refreshSnapshots);
  const hasStored = stored !== undefined && Object.keys(cleanPolicy(stored)).length > 0;
  const [p, setP] = useState<RetentionPolicy>(() => (hasStored ? stored! : SUGGESTED));
  const [touched, setTouched] = useState(false);
  const [preview, setPreview] = useState<RetentionPreview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const policy = cleanPolicy(p);
  const empty = Object.keys(policy).length === 0;

  useEffect(() => {
    if (hasStored && !touched) setP(stored!);
  }, [stored, hasStored, touched]);
  useEffect(() => () => showPreview(null), [showPreview]);
  // moved sliders not yet saved: the drawer asks before it closes
  useEffect(() => {
    onDirty?.(touched);
  }, [touched, onDirty]);

  useDebouncedEffect(
    (isCurrent) => {
      if (empty) {
        setPreview(null);
        showPreview(null);
        return;
      }
      engine['retention.preview']({ guest, policy })
        .then((r) => {
          if (!isCurrent()) return;
          setPreview(r);
          setProblem(null);
          showPreview(r);
        })
        .catch((e) => {
          if (!isCurrent()) return;
          const f = friendlyError(e);
          setPreview(null);
          showPreview(null);
          setProblem(f.notAvailable ? 'The retention preview is not available yet in this build.' : `${f.title}: ${f.detail}`);
        });
    },
    [guest, JSON.stringify(policy)],
    250,
  );

  const save = async () => {
    setBusy(true);
    try {
      const r = await engine['retention.set']({ guest, policy });
      setPolicy(guest, r.policy);
      setTouched(false);
      notify(`Retention rules of ${label} saved; they are applied after each backup`, 'success');
    } catch (e) {
      notifyError(e, 'Saving the retention rules');
    } finally {
      setBusy(false);
    }
  };
  const apply = async () => {
    setConfirm(false);
    setBusy(true);
    try {
      const r = await engine['retention.apply']({ guest, policy });
      setPolicy(guest, policy);
      setTouched(false);
      notify(`${r.forgetCount} restore point${r.forgetCount === 1 ? '' : 's'} of ${label} forgotten`, 'success');
      void refreshSnapshots();
      showPreview(null);
      setPreview(null);
    } catch (e) {
      notifyError(e, 'Applying retention');
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 1 }} data-testid="retention-editor">
      {!hasStored && (
        <Typography variant="body2" color="text.secondary">
          No retention rules are saved for {label} yet, so it keeps everything. These are suggested rules; nothing changes until you save or apply them.
        </Typography>
      )}
      {RETENTION_SLIDERS.map(({ key, label, max, unit }) => {
        const v = p[key] ?? 0;
        const id = `ret-${key}`;
        return (
          <Box key={key} sx={{ display: 'grid', gridTemplateColumns: '150px 1fr 96px', alignItems: 'center', gap: 2 }}>
            <Typography id={id} variant="body2">
              {label}
            </Typography>
            <Slider
              value={v}
              min={0}
              max={max}
              step={1}
              onChange={(_e, n) => {
                setTouched(true);
                setP((x) => ({ ...x, [key]: n as number }));
              }}
              slotProps={{ input: { 'aria-labelledby': id, 'aria-valuetext': v === 0 ? 'off' : unit(v) } as object }}
              data-testid={`slider-${key}`}
            />
            <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums' }}>
              {v === 0 ? 'off' : unit(v)}
            </Typography>
          </Box>
        );
      })}
      <Box aria-live="polite" data-testid="retention-preview" sx={{ minHeight: 28 }}>
        {empty && <Alert severity="info">With every rule off nothing is ever forgotten.</Alert>}
        {preview && (
          <Typography variant="body2" sx={{ fontWeight: 600 }}>
            Preview: {preview.forgetCount} backup{preview.forgetCount === 1 ? '' : 's'} would be forgotten, freeing {formatBytes(preview.freedBytes)}. Hollow marks on the calendar show which.
          </Typography>
        )}
        {problem && (
          <Typography variant="body2" color="text.secondary">
            {problem}
          </Typography>
        )}
      </Box>
      <Box sx={{ display: 'flex', gap: 1 }}>
        <Button variant="contained" disabled={busy} onClick={() => void save()}>
          Save rules
        </Button>
        <Button variant="outlined" color="warning" disabled={busy || !preview || preview.forgetCount === 0} onClick={() => setConfirm(true)}>
          Apply now…
        </Button>
      </Box>
      <Dialog open={confirm} onClose={() => setConfirm(false)} aria-labelledby="apply-retention-title">
        <DialogTitle id="apply-retention-title">
          Forget {preview?.forgetCount} restore points of {label}?
        </DialogTitle>
        <DialogContent>
          <DialogContentText>
            They can no longer be restored afterwards. About {formatBytes(preview?.freedBytes)} will be freed by the next garbage collection. The rules are saved as well.
          </DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirm(false)} autoFocus>
            Keep them
          </Button>
          <Button color="warning" variant="contained" onClick={() => void apply()}>
            Forget {preview?.forgetCount}
          </Button>
        </DialogActions>
      </Dialog>
    </Box>
  );
}
