import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import CameraIcon from '@mui/icons-material/Camera';
import { BackupNowButton } from '../components/BackupNowButton.js';
import { EngineStatusChip } from '../components/EngineStatusChip.js';
import { RunningJobsIndicator } from '../components/RunningJobsIndicator.js';

/** The top bar: product name, engine status, running jobs, Back up now. */
export function TopBar() {
  return (
    <AppBar position="static" color="default" elevation={0} sx={{ borderBottom: 1, borderColor: 'divider' }}>
      <Toolbar sx={{ gap: 2 }}>
        <CameraIcon color="primary" aria-hidden />
        <Typography component="div" variant="h6" sx={{ fontWeight: 700 }}>
          TwinSnap
        </Typography>
        <Box sx={{ flex: 1 }} />
        <EngineStatusChip />
        <RunningJobsIndicator />
        <BackupNowButton />
      </Toolbar>
    </AppBar>
  );
}
