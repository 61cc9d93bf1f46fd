import { useCallback, useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import type { ServiceStatus } from '../../../../shared/domain/engine.js';
import type { ServiceStatusResponse } from '../../../../shared/ipc/service-status.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatDateTime } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';
import { bootServiceWords } from './boot-service-text.js';

const ROLE: Record<string, string> = { daemon: 'the background service', app: 'the TwinSnap app', serve: 'a browser session (twinsnap serve)' };

/** One sentence (and a severity) for a scheduler/background-service status. */
export function serviceSentence(s: ServiceStatus): { severity: 'success' | 'info' | 'warning'; text: string } {
  const h = s.holder;
  const who = h ? `${ROLE[h.role] ?? h.role} (process ${h.pid} on ${h.host}, since ${formatDateTime(h.startedAt)})` : '';
  if (s.owner === 'other')
    return {
      severity: h?.role === 'daemon' ? 'success' : 'info',
      text: `Scheduled backups are run by ${who}. They continue when this window is closed${h?.role === 'daemon' ? ' and after a reboot' : ' only while it runs'}.`,
    };
  if (s.owner === 'this')
    return { severity: 'info', text: 'Scheduled backups are run by this process: they stop when it exits. Install the background service so they also run while nobody is logged in.' };
  if (h && !h.alive)
    return { severity: 'warning', text: `Nobody runs scheduled backups: ${who} held the scheduler but has stopped (a stale lock; it is taken over when the app or the service starts).` };
  return { severity: 'warning', text: 'Nobody runs scheduled backups right now. Start the app or install the background service.' };
}

/**
 * Settings → Background service: the boot service as systemd / Task Scheduler sees it (installed,
 * starts at boot, running) with the command that fixes it, and who runs the scheduler now
 * (service.status), with a refresh.
 */
export function ServiceStatusPanel() {
  const engine = useEngine();
  const [status, setStatus] = useState<ServiceStatusResponse | null>(null);
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
  const boot = status?.bootService ? bootServiceWords(status.bootService) : null;
  return (
    <Box data-testid="service-status" data-owner={status?.owner} data-installed={status?.bootService ? String(status.bootService.installed) : undefined} sx={{ display: 'grid', gap: 1 }}>
      {error && <Alert severity="warning">{error}</Alert>}
      {!status && !error && <Typography variant="body2">Asking the engine…</Typography>}
      {boot && (
        <Alert severity={boot.severity} role="status" data-testid="boot-service" action={<Button onClick={load}>Refresh</Button>}>
          <Typography variant="body2" component="p" sx={{ fontWeight: 600 }}>
            Background service: {boot.text}
          </Typography>
          {boot.hint && (
            <Typography variant="body2" component="p" sx={{ mt: 0.5 }}>
              {boot.hint} <Box component="code">{boot.command}</Box>
            </Typography>
          )}
        </Alert>
      )}
      {line && (
        <Alert severity={line.severity} role="status" data-testid="scheduler-owner" action={boot ? undefined : <Button onClick={load}>Refresh</Button>}>
          {line.text}
        </Alert>
      )}
      {status && !status.bootService && status.owner !== 'other' && (
        <Typography variant="body2">
          To install it, run <Box component="code">twinsnap service install</Box> as administrator (root on Linux).
        </Typography>
      )}
    </Box>
  );
}
