import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import type { JobLogLine } from '../../../../shared/domain/job.js';
import { friendlyError } from '../../app/error-messages.js';
import { useEngine } from '../../stores/hooks.js';

/** A job's log (jobs.log), reloaded when the job changes status. */
export function JobLog({ jobId, version }: { jobId: string; version: string }) {
  const engine = useEngine();
  const [lines, setLines] = useState<JobLogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    engine['jobs.log']({ jobId })
      .then((l) => live && (setLines(l), setError(null)))
      .catch((e) => {
        if (!live) return;
        const f = friendlyError(e);
        setError(f.notAvailable ? 'The job log is not available yet in this build.' : `${f.title}: ${f.detail}`);
      });
    return () => {
      live = false;
    };
  }, [engine, jobId, version]);
  if (error) return <Typography color="text.secondary">{error}</Typography>;
  if (!lines) return <Typography color="text.secondary">Loading the log…</Typography>;
  if (lines.length === 0) return <Typography color="text.secondary">The log is empty.</Typography>;
  return (
    <Box
      component="pre"
      tabIndex={0}
      aria-label="Job log"
      data-testid="job-log"
      sx={{ m: 0, p: 1, maxHeight: 320, overflow: 'auto', bgcolor: 'action.hover', borderRadius: 1, fontSize: 12, whiteSpace: 'pre-wrap' }}
    >
      {lines.map((l, i) => (
        <Box component="span" key={i} sx={{ display: 'block', color: l.level === 'error' ? 'error.main' : l.level === 'warn' ? 'warning.main' : undefined }}>
          {new Date(l.at).toLocaleTimeString(undefined, { hourCycle: 'h23' })} {l.level.toUpperCase().padEnd(5)} {l.step ? `[${l.step}] ` : ''}
          {l.message}
        </Box>
      ))}
    </Box>
  );
}
