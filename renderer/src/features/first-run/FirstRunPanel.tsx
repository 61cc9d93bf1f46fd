import { useMemo, useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Step from '@mui/material/Step';
import StepContent from '@mui/material/StepContent';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import Typography from '@mui/material/Typography';
import type { EngineStatus } from '../../../../shared/domain/engine.js';
import type { Guest } from '../../../../shared/domain/guest.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { scheduleText } from '../../lib/schedule-text.js';
import { suggestSchedules } from './suggest-schedules.js';
import { HypervisorList } from '../settings/HypervisorList.js';
import { RepositoryChooser } from '../settings/RepositoryChooser.js';
import { guestLabels, labelOf } from '../../lib/guest-labels.js';

/**
 * First run: what was detected, where backups go, the guests found, and the next step
 * (a first backup / a schedule). Shown on the calendar while there is no restore point yet.
 */
export function FirstRunPanel({ status, guests }: { status: EngineStatus | undefined; guests: Guest[] | undefined }) {
  const navigate = useApp((s) => s.navigate);
  const engine = useEngine();
  const schedules = useApp((s) => s.schedules.data);
  const refreshSchedules = useApp((s) => s.refreshSchedules);
  const notify = useApp((s) => s.notify);
  const notifyError = useApp((s) => s.notifyError);
  const [creating, setCreating] = useState(false);
  const suggestions = useMemo(() => {
    // by id: two guests that share a name get a schedule each
    const scheduled = new Set((schedules ?? []).filter((x) => x.schedule.kind !== 'off').map((x) => x.guestId as string));
    return suggestSchedules(
      (guests ?? []).map((g) => g.id),
      scheduled,
    );
  }, [guests, schedules]);
  const labels = useMemo(() => guestLabels(guests ?? []), [guests]);
  const createAll = async () => {
    setCreating(true);
    try {
      for (const sg of suggestions) await engine['schedules.set']({ guest: sg.guest, schedule: sg.schedule });
      notify(`${suggestions.length} schedule${suggestions.length === 1 ? '' : 's'} created`, 'success');
    } catch (e) {
      notifyError(e, 'Create schedules');
    } finally {
      setCreating(false);
      void refreshSchedules();
    }
  };
  const hvOk = status?.hypervisors.some((h) => h.available) ?? false;
  const hasGuests = (guests?.length ?? 0) > 0;
  const active = !hvOk ? 0 : !hasGuests ? 2 : 3;
  return (
    <Card variant="outlined" component="section" aria-labelledby="first-run-title" sx={{ mb: 2 }} data-testid="first-run">
      <CardContent>
        <Typography id="first-run-title" variant="h2" sx={{ mb: 1 }}>
          Getting started
        </Typography>
        <Stepper orientation="vertical" activeStep={active} nonLinear>
          <Step completed={hvOk} expanded>
            <StepLabel>Hypervisors on this computer</StepLabel>
            <StepContent>{status ? <HypervisorList hypervisors={status.hypervisors} /> : <Typography>Asking the engine…</Typography>}</StepContent>
          </Step>
          <Step completed={!!status} expanded>
            <StepLabel>Where backups are kept</StepLabel>
            <StepContent>
              <Typography variant="body2" sx={{ mb: 1 }}>
                Backups go to <Box component="code">{status?.repository ?? '…'}</Box>. To keep them on a USB disk or a NAS share, type its folder: create a new repository there, or connect one you
                already have.
              </Typography>
              {status && <RepositoryChooser key={status.repository} current={status.repository} compact />}
            </StepContent>
          </Step>
          <Step completed={hasGuests} expanded>
            <StepLabel>Your guests</StepLabel>
            <StepContent>
              <Typography variant="body2">
                {hasGuests
                  ? `${guests!.length} guest${guests!.length > 1 ? 's' : ''} found: ${guests!.map((g) => g.name).join(', ')}.`
                  : 'No guests found yet. They appear as soon as a hypervisor is detected.'}
              </Typography>
            </StepContent>
          </Step>
          <Step expanded>
            <StepLabel>First backup and a schedule</StepLabel>
            <StepContent>
              <Typography variant="body2" sx={{ mb: 1 }}>
                Click <b>Back up now</b> for a first restore point, then give each guest a schedule (a quiet hour each night is a good start) by clicking its name in the calendar.
              </Typography>
              {suggestions.length > 0 && (
                <Box sx={{ mb: 1 }} data-testid="suggested-schedules">
                  <Typography variant="body2" sx={{ mb: 0.5 }}>
                    Suggested: twice a day, each guest 15 minutes after the previous one so their twins do not all boot at once.
                  </Typography>
                  <Box component="ul" sx={{ m: 0, pl: 3 }} aria-label="Suggested schedules">
                    {suggestions.map((sg) => (
                      <li key={sg.guest}>
                        <Typography variant="body2">
                          <b>{labelOf(labels, sg.guest)}</b>: {scheduleText(sg.schedule)}
                        </Typography>
                      </li>
                    ))}
                  </Box>
                </Box>
              )}
              <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
                {suggestions.length > 0 && (
                  <Button variant="contained" disabled={creating} onClick={() => void createAll()}>
                    Create these schedules
                  </Button>
                )}
                <Button variant="outlined" disabled={!hasGuests} onClick={() => navigate('guests')}>
                  Go to guests
                </Button>
              </Box>
            </StepContent>
          </Step>
        </Stepper>
      </CardContent>
    </Card>
  );
}
