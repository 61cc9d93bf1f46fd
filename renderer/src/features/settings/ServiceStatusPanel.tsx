import { useCallback, useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import type { ServiceStatus } from '../../../../shared/domain/engine.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatDateTime } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';

const ROLE: Record<string, string> = { daemon: 'the background service', app: 'the TwinSnap app', serve: 'a browser session (twinsnap serve)' };

/** One sentence (and a severity) for a scheduler/background-service status. */
export function serviceSentence(s: ServiceStatus): { severity: 'success' | 'info' | 'warning'; text: string } {
  const h = s.holder;
  const who = h ? `${ROLE[h.role] ?? h.role} (process ${h.pid} on ${h.host}, since ${formatDateTime(h.startedAt)})` : '';
  if (s.owner === 'other') return { severity: h?.role === 'daemon' ? 'success' : 'info', text: `Scheduled backups are run by ${who}. They continue when this window is closed${h?.role === 'daemon' ? ' and after a reboot' : ' only while it runs'}.` };
  if (s.owner === 'this')
    return { severity: 'info', text: 'Scheduled backups are run by this process: they stop when it exits. Install the background service so they also run while nobody is logged in.' };
  if (h && !h.alive) return { severity: 'warning', text: `Nobody runs scheduled backups: ${who} held the scheduler but has stopped (a stale lock; it is taken over when the app or the service starts).` };
  return { severity: 'warning', text: 'Nobody runs scheduled backups right now. Start the app or install the background service.' };
}

/** Settings → Background service: who runs the scheduler (service.status), with a refresh. */
export function ServiceStatusPanel() {
  const engine = useEngine();
  const [status, setStatus] = useState<ServiceStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    setError(null);
    engine['service.status']({})
      .then(setStatus)
      .catch((e) => {
        const f = friendlyError(e);
        setError(f.notAvailable ? 'The service status is not available in this build.' : `${f.title}. ${f.action}`);
      });
  }, [engine]);
  useEffect(load, [load]);
  const line = status ? serviceSentence(status) : null;
  return (
    <Box data-testid="service-status" data-owner={status?.owner}>
      {error && <Alert severity="warning">{error}</Alert>}
      {!status && !error && <Typography variant="body2">Asking the engine…</Typography>}
      {line && (
        <Alert severity={line.severity} role="status" action={<Button onClick={load}>Refresh</Button>}>
          {line.text}
        </Alert>
      )}
      {status && status.owner !== 'other' && (
        <Typography variant="body2" sx={{ mt: 1 }}>
          To install it, run <Box component="code">twinsnap service install</Box> as administrator (root on Linux).
        </Typography>
      )}
    </Box>
  );
}
