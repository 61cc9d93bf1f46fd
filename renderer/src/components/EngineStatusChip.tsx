import Chip from '@mui/material/Chip';
import Tooltip from '@mui/material/Tooltip';
import CheckCircleIcon from '@mui/icons-material/CheckCircle';
import CloudOffIcon from '@mui/icons-material/CloudOff';
import HourglassEmptyIcon from '@mui/icons-material/HourglassEmpty';
import WarningAmberIcon from '@mui/icons-material/WarningAmber';
import type { EngineStatus } from '../../../shared/domain/engine.js';
import type { ConnectionState } from '../api/ws-bridge.js';
import type { FriendlyError } from '../app/error-messages.js';
import { useApp } from '../stores/hooks.js';

/** Label, colour and explanation of the engine status chip. */
export function engineChip(
  connection: ConnectionState,
  status: EngineStatus | undefined,
  error: FriendlyError | undefined,
): { label: string; color: 'success' | 'warning' | 'error' | 'default'; tip: string } {
  if (connection === 'closed') return { label: 'Engine unreachable', color: 'error', tip: 'The connection to the engine was lost; reconnecting…' };
  if (!status) {
    if (error) return { label: 'Engine error', color: 'error', tip: `${error.title}: ${error.detail}` };
    return { label: 'Connecting…', color: 'default', tip: 'Connecting to the TwinSnap engine' };
  }
  const tip = `TwinSnap ${status.version} · repository ${status.repository}`;
  if (status.state === 'starting') return { label: 'Engine starting', color: 'default', tip };
  if (status.state === 'degraded') return { label: 'Engine degraded', color: 'warning', tip };
  if (!status.hypervisors.some((h) => h.available)) return { label: 'Engine ready · no hypervisor', color: 'warning', tip: `${tip} · no hypervisor tools found (see Settings)` };
  return { label: 'Engine ready', color: 'success', tip };
}

/** The top bar's engine/repository status chip; opens Settings. */
export function EngineStatusChip() {
  const connection = useApp((s) => s.connection);
  const status = useApp((s) => s.status.data);
  const error = useApp((s) => s.status.error);
  const navigate = useApp((s) => s.navigate);
  const c = engineChip(connection, status, error);
  const icon = c.color === 'success' ? <CheckCircleIcon /> : c.color === 'error' ? <CloudOffIcon /> : c.color === 'warning' ? <WarningAmberIcon /> : <HourglassEmptyIcon />;
  return (
    <Tooltip title={c.tip}>
      <Chip
        data-testid="engine-status"
        icon={icon}
        label={c.label}
        color={c.color}
        variant="outlined"
        onClick={() => navigate('settings')}
        aria-label={`${c.label}. ${c.tip}. Open settings`}
        sx={{ bgcolor: 'background.paper', '& .MuiChip-label': { color: 'text.primary' } }}
      />
    </Tooltip>
  );
}
