import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import Typography from '@mui/material/Typography';
import { saveAs } from '../features/files/download.js';

/** Saves a recovery kit as `twinsnap-recovery-kit.txt`. */
export function downloadRecoveryKit(text: string): void {
  saveAs('twinsnap-recovery-kit.txt', [new TextEncoder().encode(text)]);
}

/**
 * The recovery kit of an encrypted repository, shown once (its key is stored nowhere in the
 * clear): download or print it, keep it away from the backups.
 */
export function RecoveryKitDialog({ text, onClose }: { text: string | undefined; onClose(): void }) {
  return (
    <Dialog open={text !== undefined} onClose={onClose} maxWidth="md" fullWidth aria-labelledby="recovery-kit-title">
      <DialogTitle id="recovery-kit-title">Save the recovery kit</DialogTitle>
      <DialogContent>
        <Typography variant="body2" sx={{ mb: 1 }}>
          Without the password or this recovery key nobody can read these backups — not you either. It is shown only now: download or print it and keep it away from the backup disk.
        </Typography>
        <Typography component="pre" data-testid="recovery-kit" sx={{ fontFamily: 'monospace', fontSize: 13, whiteSpace: 'pre-wrap', p: 1, bgcolor: 'action.hover', borderRadius: 1 }}>
          {text}
        </Typography>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => window.print()}>Print</Button>
        <Button variant="contained" onClick={() => text && downloadRecoveryKit(text)}>
          Download recovery kit
        </Button>
        <Button onClick={onClose}>I have saved it</Button>
      </DialogActions>
    </Dialog>
  );
}
