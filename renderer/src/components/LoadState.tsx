import type { ReactNode } from 'react';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import type { FriendlyError } from '../app/error-messages.js';
import type { Loadable } from '../stores/loadable.js';

/** Shows an engine error honestly: "not available yet" as info, anything else with its fix. */
export function ErrorNotice({ error, what, onRetry }: { error: FriendlyError; what: string; onRetry?: () => void }) {
  const retry = onRetry ? (
    <Button color="inherit" size="small" onClick={onRetry}>
      Retry
    </Button>
  ) : undefined;
  if (error.notAvailable) {
    return (
      <Alert severity="info" data-testid="not-available">
        <AlertTitle>{what}: not available yet</AlertTitle>
        This TwinSnap build cannot do this yet ({error.detail}).
      </Alert>
    );
  }
  return (
    <Alert severity="error" action={retry} data-testid="engine-error">
      <AlertTitle>
        {what}: {error.title}
      </AlertTitle>
      {error.action}{' '}
      <Box component="span" sx={{ opacity: 0.8 }}>
        ({error.detail})
      </Box>
    </Alert>
  );
}

/** Props of LoadState. */
export interface LoadStateProps<T> {
  value: Loadable<T>;
  /** What is being loaded, for messages ("Guests"). */
  what: string;
  onRetry?: () => void;
  /** Rendered instead of the error notice when there is no data, if it returns something (e.g. a password prompt for a locked source). */
  failed?: (error: FriendlyError) => ReactNode;
  /** Rendered once data is there (stale data stays visible while reloading). */
  children: (data: T) => ReactNode;
}

/** Renders a Loadable: spinner on first load, the error with its fix, or the data. */
export function LoadState<T>({ value, what, onRetry, failed, children }: LoadStateProps<T>) {
  if (value.data !== undefined) {
    return (
      <>
        {value.error && <ErrorNotice error={value.error} what={what} onRetry={onRetry} />}
        {children(value.data)}
      </>
    );
  }
  if (value.error) return failed?.(value.error) ?? <ErrorNotice error={value.error} what={what} onRetry={onRetry} />;
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, p: 2 }} role="status">
      <CircularProgress size={20} aria-hidden />
      Loading {what.toLowerCase()}…
    </Box>
  );
}
