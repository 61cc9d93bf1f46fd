import { useCallback, useRef, useState } from 'react';
import Box from '@mui/material/Box';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import Button from '@mui/material/Button';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import Typography from '@mui/material/Typography';
import BackupIcon from '@mui/icons-material/Backup';
import CloseIcon from '@mui/icons-material/Close';
import { hypervisorName } from '../../lib/format.js';
import { useApp } from '../../stores/hooks.js';
import { RetentionEditor } from './RetentionEditor.js';
import { ScheduleEditor } from './ScheduleEditor.js';
import { guestLabels, labelOf } from '../../lib/guest-labels.js';

/**
 * A guest's settings drawer (schedule, retention, Back up now), opened from the calendar's row
 * headers or the Guests page. The calendar stays visible so retention previews show on it.
 */
export function GuestDrawer({ guest, onClose }: { guest: string | undefined; onClose(): void }) {
  // unsaved schedule or retention changes: closing (a click on the calendar behind, Esc, ✕) or
  // switching tabs asks first instead of dropping them
  const dirty = useRef(false);
  const [ask, setAsk] = useState<null | (() => void)>(null);
  const onDirty = useCallback((d: boolean) => void (dirty.current = d), []);
  const guarded = (then: () => void) => () => (dirty.current ? setAsk(() => then) : then());
  const tab = useApp((s) => (s.routeParams.tab === 'retention' ? 'retention' : 'schedule'));
  const navigate = useApp((s) => s.navigate);
  // the route names the guest by id (or, from an old link, by a name that must be unique)
  const guests = useApp((s) => s.guests.data);
  const snapshots = useApp((s) => s.snapshots.data);
  const byName = guests?.filter((x) => x.name === guest) ?? [];
  const g = guests?.find((x) => x.id === guest) ?? (byName.length === 1 ? byName[0] : undefined);
  const id = g?.id ?? guest ?? '';
  const schedule = useApp((s) => s.schedules.data?.find((x) => x.guestId === id));
  const backupNow = useApp((s) => s.backupNow);
  const label = labelOf(
    guestLabels(
      guests ?? [],
      (snapshots ?? []).map((s) => ({ guestId: s.guestId, name: s.guest })),
    ),
    id,
    schedule?.guest,
  );
  return (
    <Drawer
      anchor="right"
      open={!!guest}
      onClose={guarded(onClose)}
      slotProps={{ paper: { sx: { width: { xs: '100%', sm: 520 }, p: 2 }, 'aria-labelledby': 'guest-drawer-title', 'data-testid': 'guest-drawer' } as object, backdrop: { invisible: true } }}
    >
      {guest && (
        <>
          <Box sx={{ display: 'flex', alignItems: 'center', mb: 1 }}>
            <Box sx={{ flex: 1 }}>
              <Typography id="guest-drawer-title" variant="h2" component="h2">
                {label}
              </Typography>
              <Typography variant="body2" color="text.secondary">
                {g ? `${hypervisorName(g.hypervisor)} · ${g.state}` : 'not found on any hypervisor'}
              </Typography>
            </Box>
            {g && (
              <Button startIcon={<BackupIcon />} onClick={() => void backupNow([g.id])}>
                Back up now
              </Button>
            )}
            <IconButton aria-label="Close" onClick={guarded(onClose)}>
              <CloseIcon />
            </IconButton>
          </Box>
          <Tabs value={tab} onChange={(_e, v: string) => guarded(() => navigate('calendar', { guest, tab: v }))()} sx={{ mb: 2 }} aria-label="Guest settings">
            <Tab value="schedule" label="Schedule" id="tab-schedule" aria-controls="panel-schedule" />
            <Tab value="retention" label="Retention" id="tab-retention" aria-controls="panel-retention" />
          </Tabs>
          <Box role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === 'schedule' ? <ScheduleEditor key={id} guest={id} label={label} current={schedule} onDirty={onDirty} /> : <RetentionEditor key={id} guest={id} label={label} onDirty={onDirty} />}
          </Box>
          <Dialog open={!!ask} onClose={() => setAsk(null)} aria-labelledby="discard-title">
            <DialogTitle id="discard-title">Discard unsaved changes?</DialogTitle>
            <DialogContent>
              <DialogContentText>
                The {tab === 'schedule' ? 'schedule' : 'retention rules'} of {label} changed and {tab === 'schedule' ? 'is' : 'are'} not saved yet.
              </DialogContentText>
            </DialogContent>
            <DialogActions>
              <Button onClick={() => setAsk(null)} autoFocus>
                Keep editing
              </Button>
              <Button
                color="warning"
                onClick={() => {
                  const then = ask;
                  setAsk(null);
                  dirty.current = false;
                  then?.();
                }}
              >
                Discard changes
              </Button>
            </DialogActions>
          </Dialog>
        </>
      )}
    </Drawer>
  );
}
