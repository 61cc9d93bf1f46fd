import { useState } from 'react';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import Typography from '@mui/material/Typography';
import type { Guest } from '../../../shared/domain/guest.js';
import { hypervisorName } from '../lib/format.js';

/** Props of PickGuestsDialog. */
export interface PickGuestsDialogProps {
  open: boolean;
  guests: Guest[];
  onClose(): void;
  onConfirm(guestIds: string[]): void;
}

/** "Back up now → pick guests": a checkbox list of guests. */
export function PickGuestsDialog({ open, guests, onClose, onConfirm }: PickGuestsDialogProps) {
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <Dialog open={open} onClose={onClose} aria-labelledby="pick-guests-title" fullWidth maxWidth="xs">
      <DialogTitle id="pick-guests-title">Back up now</DialogTitle>
      <DialogContent>
        {guests.length === 0 ? (
          <Typography>No guests found. Check Settings → Hypervisors.</Typography>
        ) : (
          <FormGroup>
            {guests.map((g) => (
              <FormControlLabel
                key={g.id}
                control={<Checkbox checked={picked.includes(g.id)} onChange={() => toggle(g.id)} />}
                label={`${g.name} (${hypervisorName(g.hypervisor)}, ${g.state})`}
              />
            ))}
          </FormGroup>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          variant="contained"
          disabled={picked.length === 0}
          onClick={() => {
            onConfirm(picked);
            setPicked([]);
          }}
        >
          Back up {picked.length || ''} {picked.length === 1 ? 'guest' : 'guests'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
