import { useMemo, useState, type ReactNode } from 'react';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import TextField from '@mui/material/TextField';
import type { EngineClient } from '../../../../shared/ipc/contract.js';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { ServicesContext, useEngine, useServices } from '../../stores/hooks.js';

/** The file calls that take a `source`. */
const FILE_METHODS = new Set<string>(['files.list', 'files.find', 'files.read', 'files.restore']);

/** An engine client whose file calls read the offsite copy (`source: 'offsite'`); every other call is the engine's own. */
export function offsiteFilesClient(engine: EngineClient): EngineClient {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const real = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !FILE_METHODS.has(prop) || typeof real !== 'function') return real;
      return (req: object) => (real as (r: object) => Promise<unknown>).call(target, { ...req, source: 'offsite' });
    },
  });
}

/**
 * Children (the file browser, its preview, download and restore dialog) read files from the
 * offsite copy instead of the local repository, unchanged: their engine calls carry `source`.
 */
export function OffsiteFiles({ children }: { children: ReactNode }) {
  const services = useServices();
  const value = useMemo(() => ({ ...services, engine: offsiteFilesClient(services.engine) }), [services]);
  return <ServicesContext.Provider value={value}>{children}</ServicesContext.Provider>;
}

/** The offsite copy could not be opened for want of its password (none known to this install, or a wrong one). */
export const needsOffsitePassword = (e: FriendlyError | undefined): boolean => e?.code === 'REPO_PASSWORD_REQUIRED' || e?.code === 'REPO_PASSWORD_WRONG';

/**
 * The offsite copy of an encrypted repository, with no (or a wrong) password on this install —
 * typically a new install after a disaster, the local repository gone: asks for the password of the
 * repository it was copied from (the copy carries its key files) or its recovery key, optionally
 * remembered, and unlocks the copy (`repository.unlock` with `source: 'offsite'`).
 */
export function OffsiteUnlock({ name, error, onUnlocked }: { name: string; error: FriendlyError; onUnlocked(): void }) {
  const engine = useEngine();
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(true);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<FriendlyError>(error);
  const wrong = problem.code === 'REPO_PASSWORD_WRONG';
  const unlock = async () => {
    setBusy(true);
    try {
      await engine['repository.unlock']({ password, remember, source: 'offsite' });
      onUnlocked();
    } catch (e) {
      setProblem(friendlyError(e));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box component="form" onSubmit={(e) => (e.preventDefault(), void unlock())} sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }} data-testid="offsite-unlock">
      <Alert severity={wrong || !needsOffsitePassword(problem) ? 'error' : 'warning'} sx={{ width: '100%' }}>
        <AlertTitle>{wrong ? 'Wrong password for the offsite copy' : needsOffsitePassword(problem) ? 'The offsite copy is encrypted' : problem.title}</AlertTitle>
        {wrong
          ? `${name} did not open with it. Enter the password again (the one of the repository it was copied from, as it was at the last copy), or the recovery key from the recovery kit.`
          : needsOffsitePassword(problem)
            ? `${name} holds an encrypted repository and this computer has no password for it. Enter the password of the repository it was copied from, or the recovery key from its recovery kit.`
            : `${problem.detail}. ${problem.action}`}
      </Alert>
      <TextField size="small" type="password" label="Password or recovery key" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
      <FormControlLabel control={<Checkbox checked={remember} onChange={(e) => setRemember(e.target.checked)} />} label="Remember it on this computer" />
      <Button type="submit" variant="contained" disabled={!password || busy}>
        Unlock
      </Button>
    </Box>
  );
}
