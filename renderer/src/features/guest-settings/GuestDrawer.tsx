import Box from '@mui/material/Box';
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

/**
 * A guest's settings drawer (schedule, retention, Back up now), opened from the calendar's row
 * headers or the Guests page. The calendar stays visible so retention previews show on it.
 */
export function GuestDrawer({ guest, onClose }: { guest: string | undefined; onClose(): void }) {
  const tab = useApp((s) => (s.routeParams.tab === 'retention' ? 'retention' : 'schedule'));
  const navigate = useApp((s) => s.navigate);
  const g = useApp((s) => s.guests.data?.find((x) => x.name === guest || x.id === guest));
  const schedule = useApp((s) => s.schedules.data?.find((x) => x.guest === guest || (g && x.guest === g.id)));
  const backupNow = useApp((s) => s.backupNow);
  const name = g?.name ?? guest ?? '';
  return (
    <Drawer
      anchor="right"
      open={!!guest}
      onClose={onClose}
      slotProps={{ paper: { sx: { width: { xs: '100%', sm: 520 }, p: 2 }, 'aria-labelledby': 'guest-drawer-title' } as object, backdrop: { invisible: true } }}
    >
      {guest && (
        <>
          <Box sx={{ display: 'flex', alignItems: 'center', mb: 1 }}>
            <Box sx={{ flex: 1 }}>
              <Typography id="guest-drawer-title" variant="h2" component="h2">
                {name}
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
            <IconButton aria-label="Close" onClick={onClose}>
              <CloseIcon />
            </IconButton>
          </Box>
          <Tabs value={tab} onChange={(_e, v: string) => navigate('calendar', { guest, tab: v })} sx={{ mb: 2 }} aria-label="Guest settings">
            <Tab value="schedule" label="Schedule" id="tab-schedule" aria-controls="panel-schedule" />
            <Tab value="retention" label="Retention" id="tab-retention" aria-controls="panel-retention" />
          </Tabs>
          <Box role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === 'schedule' ? <ScheduleEditor key={name} guest={name} current={schedule} /> : <RetentionEditor key={name} guest={name} />}
          </Box>
        </>
      )}
    </Drawer>
  );
}
