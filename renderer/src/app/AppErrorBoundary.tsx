import { Component, type ErrorInfo, type ReactNode } from 'react';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';

/** Props of AppErrorBoundary. */
export interface AppErrorBoundaryProps {
  children: ReactNode;
  /** Shown in the fallback's title (e.g. the page name). */
  where?: string;
}

interface State {
  error: Error | null;
}

/** Catches render errors of a subtree and shows what happened with a way out, instead of a blank window. */
export class AppErrorBoundary extends Component<AppErrorBoundaryProps, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('render error', error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <Box sx={{ p: 3 }} role="alert">
        <Alert
          severity="error"
          action={
            <Button color="inherit" size="small" onClick={() => this.setState({ error: null })}>
              Try again
            </Button>
          }
        >
          <AlertTitle>{this.props.where ? `${this.props.where} could not be shown` : 'Something went wrong'}</AlertTitle>
          {this.state.error.message}. Try again; if it keeps happening, reload the window.
        </Alert>
      </Box>
    );
  }
}
