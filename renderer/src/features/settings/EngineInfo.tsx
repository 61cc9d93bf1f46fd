import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import type { EngineStatus } from '../../../../shared/domain/engine.js';
import { formatDateTime } from '../../lib/format.js';

const SCHEDULER: Record<EngineStatus['schedulerOwner'], string> = {
  this: 'runs in this process',
  other: 'runs in the background service',
  none: 'not running (scheduled backups are paused)',
};

/** Key facts about the engine: version, folders, scheduler. */
export function EngineInfo({ status }: { status: EngineStatus }) {
  const rows: [string, string][] = [
    ['Version', status.version],
    ['State', status.state],
    ['Data folder', status.dataDir],
    ['Repository', status.repository],
    ['Log file', status.logFile],
    ['Scheduler', SCHEDULER[status.schedulerOwner]],
    ['Running since', formatDateTime(status.startedAt)],
  ];
  return (
    <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 0.5, m: 0 }} data-testid="engine-info">
      {rows.map(([k, v]) => (
        <Box key={k} sx={{ display: 'contents' }}>
          <Typography component="dt" variant="body2" color="text.secondary">
            {k}
          </Typography>
          <Typography component="dd" variant="body2" sx={{ m: 0, wordBreak: 'break-all', fontFamily: k.includes('folder') || k === 'Repository' || k === 'Log file' ? 'monospace' : undefined }}>
            {v}
          </Typography>
        </Box>
      ))}
    </Box>
  );
}
