import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import type { DoctorReport } from '../../../../shared/domain/doctor.js';
import type { HypervisorKind } from '../../../../shared/domain/guest.js';
import { friendlyError } from '../../app/error-messages.js';
import { formatDateTime, hypervisorName } from '../../lib/format.js';
import { useEngine } from '../../stores/hooks.js';

const KINDS: HypervisorKind[] = ['vmware', 'hyperv'];

/** One sentence (and a severity) for the last doctor report of a hypervisor. */
export function doctorSentence(kind: HypervisorKind, r: DoctorReport | undefined): { severity: 'success' | 'error' | 'info'; text: string; failed: string[] } {
  const name = hypervisorName(kind);
  if (!r) return { severity: 'info', text: `${name}: doctor has not run on this host yet.`, failed: [] };
  const when = `${formatDateTime(r.finishedAt)} on vm '${r.vm}'`;
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  if (r.ok) return { severity: 'success', text: `${name}: every check held (${r.checks.length}) — ${when}.`, failed };
  return { severity: 'error', text: `${name}: ${failed.length} of ${r.checks.length} checks failed — ${when}. Do not back up production with this hypervisor until they hold.`, failed };
}

/**
 * Settings → Host self-test: the last `twinsnap doctor` result per hypervisor (doctor.last), the
 * failed checks in the hypervisor's own words, and how to run it.
 */
export function DoctorResults() {
  const engine = useEngine();
  const [last, setLast] = useState<Partial<Record<HypervisorKind, DoctorReport>> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    engine['doctor.last']({})
      .then(setLast)
      .catch((e) => {
        const f = friendlyError(e);
        setError(`${f.title}. ${f.action}`);
      });
  }, [engine]);
  return (
    <Box data-testid="doctor-results" sx={{ display: 'grid', gap: 1 }}>
      {error && <Alert severity="warning">{error}</Alert>}
      {!last && !error && <Typography variant="body2">Asking the engine…</Typography>}
      {last &&
        KINDS.map((k) => {
          const s = doctorSentence(k, last[k]);
          return (
            <Alert key={k} severity={s.severity} data-testid={`doctor-${k}`} data-ok={last[k] ? String(last[k]!.ok) : undefined}>
              {s.text}
              {s.failed.length > 0 && (
                <Box component="ul" sx={{ m: 0, pl: 2 }}>
                  {s.failed.map((f) => (
                    <li key={f}>
                      <Typography variant="body2">{f}</Typography>
                    </li>
                  ))}
                </Box>
              )}
            </Alert>
          );
        })}
      <Typography variant="body2">
        Before trusting TwinSnap with production, run <Box component="code">twinsnap doctor --vm NAME</Box> on a throwaway VM of this host: it freezes, twins, boots and shuts down only that VM and
        checks each step.
      </Typography>
    </Box>
  );
}
