import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Chip from '@mui/material/Chip';
import FormControlLabel from '@mui/material/FormControlLabel';
import MenuItem from '@mui/material/MenuItem';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import TextField from '@mui/material/TextField';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { friendlyError } from '../../app/error-messages.js';
import { useDebouncedEffect } from '../../hooks/use-debounced-effect.js';
import { formatDateTime } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import type { ScheduleRow } from '../../stores/slices/guests-slice.js';
import { draftOf, parseTimeOfDay, scheduleOf, type ScheduleDraft } from './schedule-model.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Schedule of one guest: times-of-day chips, interval within a window, weekdays; next five runs. */
export function ScheduleEditor({ guest, label = guest, current, onDirty }: { guest: string; label?: string; current: ScheduleRow | undefined; onDirty?(dirty: boolean): void }) {
  const engine = useEngine();
  const notify = useApp((s) => s.notify);
  const notifyError = useApp((s) => s.notifyError);
  const refreshSchedules = useApp((s) => s.refreshSchedules);
  const [d, setD] = useState<ScheduleDraft>(() => draftOf(current?.schedule));
  const [consistency, setConsistency] = useState<'require-clean' | 'allow-crash'>(current?.consistency ?? 'require-clean');
  const [verify, setVerify] = useState(current?.verify ?? false);
  const [newTime, setNewTime] = useState('');
  const [preview, setPreview] = useState<{ runs?: string[]; error?: string }>({});
  const [saving, setSaving] = useState(false);
  const built = scheduleOf(d);
  const up = (p: Partial<ScheduleDraft>) => setD((x) => ({ ...x, ...p }));
  const typed = parseTimeOfDay(newTime);
  const addTime = () => typed && !d.times.includes(typed) && (up({ times: [...d.times, typed].sort() }), setNewTime(''));
  const savedKey = JSON.stringify([scheduleOf(draftOf(current?.schedule)), current?.consistency ?? 'require-clean', current?.verify ?? false]);
  const dirty = JSON.stringify([built, consistency, verify]) !== savedKey;
  useEffect(() => {
    onDirty?.(dirty);
  }, [dirty, onDirty]);

  useDebouncedEffect(
    (isCurrent) => {
      if (!('schedule' in built) || built.schedule.kind === 'off') {
        setPreview({});
        return;
      }
      engine['schedules.preview']({ schedule: built.schedule, count: 5 })
        .then((r) => isCurrent() && setPreview({ runs: r.nextRuns }))
        .catch((e) => {
          if (!isCurrent()) return;
          const f = friendlyError(e);
          setPreview({ error: f.notAvailable ? 'The preview of next runs is not available yet in this build.' : `${f.title}: ${f.detail}` });
        });
    },
    [JSON.stringify(built)],
    250,
  );

  const save = async () => {
    if (!('schedule' in built)) return;
    setSaving(true);
    try {
      await engine['schedules.set']({ guest, schedule: built.schedule, consistency, verify });
      notify(`Schedule of ${label} saved`, 'success');
      void refreshSchedules();
    } catch (e) {
      notifyError(e, 'Saving the schedule');
    } finally {
      setSaving(false);
    }
  };

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2 }} data-testid="schedule-editor">
      <ToggleButtonGroup exclusive size="small" value={d.kind} onChange={(_e, v: ScheduleDraft['kind'] | null) => v && up({ kind: v })} aria-label="Schedule type">
        <ToggleButton value="off">Off</ToggleButton>
        <ToggleButton value="times">Times of day</ToggleButton>
        <ToggleButton value="interval">Every few hours</ToggleButton>
      </ToggleButtonGroup>

      {!current && d.kind === 'off' && (
        <Typography variant="body2" color="text.secondary" data-testid="unscheduled">
          {label} has no schedule yet: it is backed up only when you click Back up now. Choose Times of day or Every few hours to add one.
        </Typography>
      )}
      {d.kind === 'times' && (
        <Box>
          <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mb: 1 }} aria-label="Backup times" role="list">
            {d.times.map((t) => (
              <Chip key={t} role="listitem" label={t} onDelete={() => up({ times: d.times.filter((x) => x !== t) })} slotProps={{ root: { 'aria-label': `${t}, press Delete to remove` } as object }} />
            ))}
            {d.times.length === 0 && <Typography variant="body2">No times yet.</Typography>}
          </Box>
          <Box sx={{ display: 'flex', gap: 1, alignItems: 'center' }}>
            <TextField
              size="small"
              label="Add a time"
              placeholder="HH:MM"
              value={newTime}
              onChange={(e) => setNewTime(e.target.value)}
              onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), addTime())}
              error={newTime.trim() !== '' && !typed}
              helperText="24-hour time, e.g. 03:30 or 23:00"
              slotProps={{ inputLabel: { shrink: true }, htmlInput: { inputMode: 'numeric', maxLength: 5 } }}
            />
            <Button onClick={addTime} disabled={!typed}>
              Add time
            </Button>
          </Box>
        </Box>
      )}

      {d.kind === 'interval' && (
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
          <TextField select size="small" label="Every" value={d.everyHours} onChange={(e) => up({ everyHours: Number(e.target.value) })} sx={{ minWidth: 110 }}>
            {[1, 2, 3, 4, 6, 8, 12].map((h) => (
              <MenuItem key={h} value={h}>
                {h} h
              </MenuItem>
            ))}
          </TextField>
          <TimeField label="From" value={d.from} onChange={(v) => up({ from: v })} />
          <TimeField label="To" value={d.to} onChange={(v) => up({ to: v })} />
        </Box>
      )}

      {d.kind !== 'off' && d.kind !== 'cron' && (
        <ToggleButtonGroup size="small" value={d.weekdays} onChange={(_e, v: number[]) => up({ weekdays: v })} aria-label="Weekdays">
          {[1, 2, 3, 4, 5, 6, 0].map((i) => (
            <ToggleButton key={i} value={i} aria-label={DAYS[i]}>
              {DAYS[i]}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
      )}

      <RadioGroup value={consistency} onChange={(e) => setConsistency(e.target.value as typeof consistency)} aria-label="If the twin cannot shut down cleanly">
        <FormControlLabel value="require-clean" control={<Radio />} label="Fail the backup if it cannot be application-consistent" />
        <FormControlLabel value="allow-crash" control={<Radio />} label="Fall back to a crash-consistent backup (marked ◐)" />
      </RadioGroup>
      <FormControlLabel control={<Checkbox checked={verify} onChange={(e) => setVerify(e.target.checked)} />} label="Boot-test each backup (verify)" />

      {'problem' in built && <Alert severity="warning">To save: {built.problem}.</Alert>}
      <Box aria-live="polite" data-testid="next-runs">
        {preview.runs && (
          <>
            <Typography variant="subtitle2">Next runs</Typography>
            <Box component="ol" sx={{ m: 0, pl: 3 }}>
              {preview.runs.map((r) => (
                <li key={r}>{formatDateTime(r)}</li>
              ))}
            </Box>
          </>
        )}
        {preview.error && (
          <Typography variant="body2" color="text.secondary">
            {preview.error}
          </Typography>
        )}
      </Box>
      <Box>
        <Button variant="contained" disabled={!('schedule' in built) || saving} onClick={() => void save()}>
          Save schedule
        </Button>
      </Box>
    </Box>
  );
}

/** A 24-hour time field (HH:MM): the same format as the chips and the next runs, whatever the browser's locale. */
function TimeField({ label, value, onChange }: { label: string; value: string; onChange(v: string): void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const ok = parseTimeOfDay(text);
  return (
    <TextField
      size="small"
      label={label}
      placeholder="HH:MM"
      value={text}
      error={!ok}
      onChange={(e) => {
        setText(e.target.value);
        const t = parseTimeOfDay(e.target.value);
        if (t) onChange(t);
      }}
      sx={{ width: 110 }}
      slotProps={{ inputLabel: { shrink: true }, htmlInput: { inputMode: 'numeric', maxLength: 5 } }}
    />
  );
}
