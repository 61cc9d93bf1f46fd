import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { DISK_FORMATS, type RestoreDraft } from './restore-model.js';
import { NetworkChoice } from './NetworkChoice.js';

/** Step 4: the destination (and the new name, disk format or replace confirmation; the network of a whole VM). */
export function WhereStep({ d, set }: { d: RestoreDraft; set(p: Partial<RestoreDraft>): void }) {
  const label = useGuestLabel()(d.guestId, d.guest);
  if (d.what === 'replace') {
    return (
      <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2, maxWidth: 560 }}>
        <Alert severity="warning">
          Replacing puts the guest <b>{label}</b> back to this restore point, with its own name and network addresses. Its current files are moved aside (a folder named “… .before-restore-…” beside
          it), so this can be undone; delete them once the restored guest works. Shut the guest down first: TwinSnap never powers it off itself.
        </Alert>
        <TextField label={`Type the guest's name (${d.guest}) to confirm`} value={d.confirmName} onChange={(e) => set({ confirmName: e.target.value })} autoComplete="off" />
        <NetworkChoice d={d} set={set} />
      </Box>
    );
  }
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2, maxWidth: 560 }}>
      <TextField
        label="Destination folder"
        value={d.to}
        onChange={(e) => set({ to: e.target.value })}
        helperText="A folder on the computer running TwinSnap; it is created if missing and must be empty."
      />
      {d.what === 'new-vm' && (
        <TextField
          label="Name of the new VM"
          value={d.newName}
          onChange={(e) => set({ newName: e.target.value })}
          helperText="Registered with the hypervisor under this name, with new network addresses."
        />
      )}
      {d.what === 'new-vm' && <NetworkChoice d={d} set={set} />}
      {d.what === 'disks' && (
        <TextField select label="Disk format" value={d.format} onChange={(e) => set({ format: e.target.value as RestoreDraft['format'] })}>
          {DISK_FORMATS.map((f) => (
            <MenuItem key={f} value={f}>
              {f === 'original' ? 'as backed up (original format)' : f.toUpperCase()}
            </MenuItem>
          ))}
        </TextField>
      )}
    </Box>
  );
}
