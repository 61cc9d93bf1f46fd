import { useEffect, useState } from 'react';
import CircularProgress from '@mui/material/CircularProgress';
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
  /** Every guest ticked when the dialog opens: the confirmation of "Back up all N guests…". */
  preselectAll?: boolean;
  /** The engine is starting the backups: the confirm button waits (disabled, spinner). */
  busy?: boolean;
}

/**
 * "Back up now": a checkbox list of the guests to back up — all ticked when it confirms "Back up
 * all N guests…", none when picking — so a mass backup never starts without the list being seen.
 */
export function PickGuestsDialog({ open, guests, onClose, onConfirm, preselectAll, busy }: PickGuestsDialogProps) {
  const [picked, setPicked] = useState<string[]>([]);
  useEffect(() => {
    if (open) setPicked(preselectAll ? guests.map((g) => g.id) : []);
    // only when it opens: the guest list refreshing meanwhile must not undo the user's ticks
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, preselectAll]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <Dialog open={open} onClose={onClose} aria-labelledby="pick-guests-title" fullWidth maxWidth="xs">
      <DialogTitle id="pick-guests-title">{preselectAll ? `Back up all ${guests.length} guest${guests.length === 1 ? '' : 's'}?` : 'Back up now'}</DialogTitle>
      <DialogContent>
        {guests.length > 0 && (
          <Typography variant="body2" sx={{ mb: 1 }}>
            Each guest ticked below is paused for a moment while its state is captured, then its twin boots beside it and is archived. Production keeps running.
          </Typography>
        )}
        {guests.length === 0 ? (
          <Typography>No guests found. Check Settings → Hypervisors.</Typography>
        ) : (
          <FormGroup>
            {guests.map((g) => (
              <FormControlLabel key={g.id} control={<Checkbox checked={picked.includes(g.id)} onChange={() => toggle(g.id)} />} label={`${g.name} (${hypervisorName(g.hypervisor)}, ${g.state})`} />
            ))}
          </FormGroup>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="contained" disabled={picked.length === 0 || busy} startIcon={busy ? <CircularProgress size={16} color="inherit" aria-hidden /> : undefined} onClick={() => onConfirm(picked)}>
          Back up {picked.length || ''} {picked.length === 1 ? 'guest' : 'guests'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
