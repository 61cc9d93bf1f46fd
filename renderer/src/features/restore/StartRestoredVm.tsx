import { useState } from 'react';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import PlayArrowIcon from '@mui/icons-material/PlayArrow';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { useEngine } from '../../stores/hooks.js';

const TOOL: Record<'vmware' | 'hyperv', string> = { vmware: 'VMware Workstation', hyperv: 'Hyper-V' };

/** The engine's lowercase message as a sentence. */
function sentence(s: string): string {
  const t = s.trim();
  return t ? `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}` : '';
}

type StartState = { kind: 'idle' } | { kind: 'starting' } | { kind: 'started'; name: string; hypervisor: 'vmware' | 'hyperv' } | { kind: 'failed'; error: FriendlyError };

/**
 * The result page's **Start it now** for a VM restored as a new VM (folder `to`): asks the engine
 * (`restore.startVm`) to power it on with its hypervisor, and says in words what happened.
 */
export function StartRestoredVm({ to, replaced }: { to: string; replaced?: boolean }) {
  const engine = useEngine();
  const [st, setSt] = useState<StartState>({ kind: 'idle' });
  const start = async () => {
    setSt({ kind: 'starting' });
    try {
      const r = await engine['restore.startVm']({ to });
      setSt({ kind: 'started', name: r.name, hypervisor: r.hypervisor });
    } catch (e) {
      setSt({ kind: 'failed', error: friendlyError(e) });
    }
  };
  return (
    <Box sx={{ mb: 2 }} data-testid="start-restored-vm" data-state={st.kind}>
      {st.kind !== 'started' && (
        <Button
          variant="contained"
          onClick={() => void start()}
          disabled={st.kind === 'starting'}
          startIcon={st.kind === 'starting' ? <CircularProgress size={16} color="inherit" aria-hidden /> : <PlayArrowIcon />}
        >
          {st.kind === 'starting' ? 'Starting…' : st.kind === 'failed' ? 'Try again' : 'Start it now'}
        </Button>
      )}
      <Box aria-live="polite" sx={{ mt: 1 }}>
        {st.kind === 'started' && (
          <Alert severity="success">
            {replaced
              ? `${st.name} is running again in ${TOOL[st.hypervisor]}, as it was at the restore point.`
              : `${st.name} is running in ${TOOL[st.hypervisor]}. It has its own identity (new ID and network addresses), so the original can keep running beside it.`}
          </Alert>
        )}
        {st.kind === 'failed' && (
          <Alert severity="error">
            <AlertTitle>The restored VM did not start: {st.error.title}</AlertTitle>
            {sentence(st.error.detail)} {st.error.action}
          </Alert>
        )}
      </Box>
    </Box>
  );
}
