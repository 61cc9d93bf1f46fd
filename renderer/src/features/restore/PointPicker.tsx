import { useState } from 'react';
import Box from '@mui/material/Box';
import FormControlLabel from '@mui/material/FormControlLabel';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { formatDateTime, formatDuration } from '../../lib/format.js';
import { MARK_LABEL, MARK_SYMBOL } from '../calendar/calendar-layout.js';
import { nearestEarlier } from './restore-model.js';
import { DamagedPointAlert } from '../../components/DamagedPointAlert.js';
import { isDamaged } from '../../lib/damaged.js';

const KIND = { 'clean-twin': 'clean', crash: 'crash', cold: 'cold' } as const;

/** Step 2: pick a restore point from the list, or type a date-time to get the nearest earlier one. */
export function PointPicker({ points, value, onChange }: { points: SnapshotSummary[]; value?: string; onChange(id: string): void }) {
  const [typed, setTyped] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const sorted = [...points].sort((a, b) => (a.time < b.time ? 1 : -1));
  const chosen = points.find((p) => p.id === value);
  const pick = (v: string) => {
    setTyped(v);
    if (!v) return setNote(null);
    const n = nearestEarlier(points, new Date(v).toISOString());
    if (!n) return setNote('There is no restore point at or before that time.');
    onChange(n.point.id);
    setNote(n.beforeMs === 0 ? 'Exactly at that time.' : `The nearest earlier point is ${formatDuration(n.beforeMs)} before the time you typed.`);
  };
  if (points.length === 0) return <Typography>This guest has no restore points yet.</Typography>;
  return (
    <Box>
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', mb: 2, flexWrap: 'wrap' }}>
        <TextField type="datetime-local" label="Restore the state as of" value={typed} onChange={(e) => pick(e.target.value)} slotProps={{ inputLabel: { shrink: true } }} size="small" />
        <Typography variant="body2" aria-live="polite" data-testid="nearest-note">
          {note}
        </Typography>
      </Box>
      <RadioGroup value={value ?? ''} onChange={(e) => onChange(e.target.value)} aria-label="Restore points, newest first" sx={{ maxHeight: 360, overflow: 'auto', flexWrap: 'nowrap' }}>
        {sorted.map((p) => (
          <FormControlLabel
            key={p.id}
            value={p.id}
            control={<Radio size="small" />}
            data-damaged={isDamaged(p) ? 'true' : undefined}
            sx={isDamaged(p) ? { color: 'error.main' } : undefined}
            label={`${MARK_SYMBOL[KIND[p.consistency]]} ${formatDateTime(p.time)} — ${MARK_LABEL[KIND[p.consistency]]}${p.verify?.ok ? ', verified' : ''}${isDamaged(p) ? ' — DAMAGED: restoring from it may fail' : ''}`}
          />
        ))}
      </RadioGroup>
      {chosen && isDamaged(chosen) && (
        <Box sx={{ mt: 2 }}>
          <DamagedPointAlert s={chosen} />
        </Box>
      )}
    </Box>
  );
}
