import Alert from '@mui/material/Alert';
import Snackbar from '@mui/material/Snackbar';
import { useApp } from '../stores/hooks.js';

/** Shows the oldest pending notice as a snackbar. */
export function Notices() {
  const notice = useApp((s) => s.notices[0]);
  const dismiss = useApp((s) => s.dismissNotice);
  if (!notice) return null;
  return (
    <Snackbar
      key={notice.id}
      open
      autoHideDuration={notice.severity === 'error' ? 12000 : 5000}
      onClose={(_e, reason) => {
        if (reason !== 'clickaway') dismiss(notice.id);
      }}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
    >
      <Alert severity={notice.severity} onClose={() => dismiss(notice.id)} variant="filled" data-testid="notice" title={notice.detail}>
        {notice.message}
      </Alert>
    </Snackbar>
  );
}
