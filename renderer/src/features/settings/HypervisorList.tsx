import Alert from '@mui/material/Alert';
import Chip from '@mui/material/Chip';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import CheckCircleIcon from '@mui/icons-material/CheckCircle';
import ErrorOutlineIcon from '@mui/icons-material/ErrorOutlineOutlined';
import type { HypervisorInfo } from '../../../../shared/domain/guest.js';
import { hypervisorName } from '../../lib/format.js';

/** The hypervisor tools the engine detected, and for each missing one what to do about it. */
export function HypervisorList({ hypervisors }: { hypervisors: HypervisorInfo[] }) {
  const none = !hypervisors.some((h) => h.available);
  return (
    <>
      {none && (
        <Alert severity="warning" sx={{ mb: 1 }} data-testid="no-hypervisor">
          No hypervisor was found on this computer. TwinSnap backs up guests of VMware Workstation Pro (via vmrun) and Hyper-V (via PowerShell). Install one, or set the tool path below, then reopen
          this page.
        </Alert>
      )}
      <List dense aria-label="Detected hypervisors" data-testid="hypervisor-list">
        {hypervisors.map((h) => (
          <ListItem key={h.kind} data-testid={`hypervisor-${h.kind}`}>
            <ListItemIcon>{h.available ? <CheckCircleIcon color="success" aria-hidden /> : <ErrorOutlineIcon color="warning" aria-hidden />}</ListItemIcon>
            <ListItemText
              primary={
                <>
                  {hypervisorName(h.kind)} <Chip size="small" label={h.available ? `found${h.version ? ` · ${h.version}` : ''}` : 'not found'} color={h.available ? 'success' : 'default'} />
                </>
              }
              secondary={h.available ? h.toolPath : (h.problem ?? 'not detected')}
            />
          </ListItem>
        ))}
        {hypervisors.length === 0 && (
          <ListItem>
            <ListItemText primary="The engine reported no hypervisor adapters." />
          </ListItem>
        )}
      </List>
    </>
  );
}
