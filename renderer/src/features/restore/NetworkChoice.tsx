import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormLabel from '@mui/material/FormLabel';
import MenuItem from '@mui/material/MenuItem';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import TextField from '@mui/material/TextField';
import type { EngineResponses } from '../../../../shared/ipc/contract.js';
import { useEngine } from '../../stores/hooks.js';
import { friendlyError } from '../../app/error-messages.js';
import { networkChoice, type RestoreDraft } from './restore-model.js';

/**
 * The where-step's "Network" choice of a whole-VM restore: leave the adapters disconnected (the
 * default of a new VM: beside the running original it would share its IP address, computer name
 * and domain membership), keep the original's networks (replace), or connect them to one of the
 * networks the host of the restore point offers (restore.networks).
 */
export function NetworkChoice({ d, set }: { d: RestoreDraft; set(p: Partial<RestoreDraft>): void }) {
  const engine = useEngine();
  const [listed, setListed] = useState<EngineResponses['restore.networks'] | { error: string } | undefined>();
  useEffect(() => {
    if (!d.snapshotId) return;
    let live = true;
    setListed(undefined);
    engine['restore.networks']({ snapshotId: d.snapshotId, ...(d.source === 'offsite' ? { source: 'offsite' as const } : {}) }).then(
      (r) => live && setListed(r),
      (e: unknown) => live && setListed({ error: `The networks of the host could not be read: ${friendlyError(e).detail}` }),
    );
    return () => {
      live = false;
    };
  }, [engine, d.snapshotId, d.source]);
  const networks = listed && 'networks' in listed ? listed.networks : [];
  const problem = listed && ('error' in listed ? listed.error : listed.problem);
  const choice = networkChoice(d);
  return (
    <FormControl>
      <FormLabel id="restore-network-label">Network</FormLabel>
      <RadioGroup aria-labelledby="restore-network-label" value={choice} onChange={(e) => set({ network: e.target.value as RestoreDraft['network'] })}>
        <FormControlLabel value="disconnected" control={<Radio />} label="Leave disconnected (recommended while the original runs)" />
        {d.what === 'replace' && <FormControlLabel value="original" control={<Radio />} label="The original's networks" />}
        <FormControlLabel value="connect" control={<Radio />} label="Connect to:" disabled={networks.length === 0} />
      </RadioGroup>
      <TextField
        select
        label="Host network"
        value={d.networkName ?? ''}
        disabled={networks.length === 0}
        onChange={(e) => set({ network: 'connect', networkName: e.target.value })}
        sx={{ ml: 4, maxWidth: 420 }}
        helperText={listed === undefined ? 'Reading the networks of the host…' : 'Every network adapter of the restored VM is connected to it when the VM starts.'}
      >
        {networks.map((n) => (
          <MenuItem key={n.name} value={n.name}>
            {n.name} ({n.detail ?? n.kind})
          </MenuItem>
        ))}
      </TextField>
      {problem && (
        <Alert severity="info" sx={{ mt: 1 }}>
          {problem}
        </Alert>
      )}
    </FormControl>
  );
}
