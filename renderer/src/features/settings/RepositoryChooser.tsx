import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { RepositoryFolderCheck, Settings } from '../../../../shared/domain/engine.js';
import { friendlyError } from '../../app/error-messages.js';
import { useDebouncedEffect } from '../../hooks/use-debounced-effect.js';
import { formatBytes } from '../../lib/format.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { RecoveryKitDialog } from '../../components/RecoveryKitDialog.js';

/** The check's verdict in words. */
function verdict(c: RepositoryFolderCheck): string {
  switch (c.state) {
    case 'repository':
      if (c.encrypted && c.snapshots === undefined) return `An existing encrypted TwinSnap repository${c.current ? ' — in use now' : ''}: connecting it needs its password or recovery key.`;
      return `An existing ${c.encrypted ? 'encrypted ' : ''}TwinSnap repository with ${c.snapshots ?? 0} restore point${c.snapshots === 1 ? '' : 's'}${c.current ? ' — in use now' : ''}.`;
    case 'empty':
      return 'An empty folder: a new repository can be created here.';
    case 'missing':
      return 'This folder does not exist yet: a new repository can be created here.';
    case 'not-empty':
      return 'This folder holds other files but no repository.';
    default:
      return 'This is a file, not a folder.';
  }
}

/**
 * Where backups are kept: type a folder, the engine checks it (`repository.check`: a repository
 * already, empty or new, writable, free space, not inside a VM's files), then **Create a
 * repository here** or **Connect this repository**. A folder that is neither is never saved.
 */
export function RepositoryChooser({ current, onChanged, compact }: { current: string; onChanged?(s: Settings): void; compact?: boolean }) {
  const engine = useEngine();
  const notify = useApp((s) => s.notify);
  const notifyError = useApp((s) => s.notifyError);
  const refreshStatus = useApp((s) => s.refreshStatus);
  const [path, setPath] = useState(current);
  const [check, setCheck] = useState<RepositoryFolderCheck | undefined>();
  const [checkError, setCheckError] = useState<string | undefined>();
  const [busy, setBusy] = useState<'create' | 'connect' | undefined>();
  const [version, setVersion] = useState(0);
  // a new repository is encrypted by default (README: the trade-off); the password is asked twice
  const [encrypt, setEncrypt] = useState(true);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [remember, setRemember] = useState(true);
  // the recovery kit of a new encrypted repository; the new settings are passed on (which
  // remounts this chooser) only once the kit has been closed
  const [kit, setKit] = useState<{ text: string; settings: Settings } | undefined>();
  useDebouncedEffect(
    (isCurrent) => {
      const p = path.trim();
      if (!p) return setCheck(undefined);
      engine['repository.check']({ path: p }).then(
        (c) => isCurrent() && (setCheck(c), setCheckError(undefined)),
        (e) => isCurrent() && (setCheck(undefined), setCheckError(friendlyError(e).detail)),
      );
    },
    [path, version],
    250,
  );
  const act = async (what: 'create' | 'connect') => {
    setBusy(what);
    try {
      const withPassword = (what === 'create' && encrypt) || (what === 'connect' && check?.encrypted) ? { password, remember } : {};
      const s = await engine[what === 'create' ? 'repository.create' : 'repository.connect']({ path: path.trim(), ...withPassword });
      const recoveryKit = 'recoveryKit' in s && typeof s.recoveryKit === 'string' ? s.recoveryKit : undefined;
      setPassword('');
      setRepeat('');
      notify(what === 'create' ? `Repository created in ${s.repository}; backups go there now` : `Repository ${s.repository} connected; backups go there now`, 'success');
      if (recoveryKit) setKit({ text: recoveryKit, settings: s });
      else {
        onChanged?.(s);
        void refreshStatus();
      }
    } catch (e) {
      notifyError(e, what === 'create' ? 'Creating the repository' : 'Connecting the repository');
    } finally {
      setBusy(undefined);
      setVersion((v) => v + 1);
    }
  };
  const creatable = !!check && (check.state === 'empty' || check.state === 'missing') && check.problems.length === 0;
  const passwordProblem = encrypt && creatable ? (password.length < 8 ? 'at least 8 characters' : password !== repeat ? 'the two passwords differ' : undefined) : undefined;
  const canCreate = creatable && !passwordProblem;
  const canConnect = !!check && check.state === 'repository' && !check.current && check.problems.length === 0 && (!check.encrypted || !!password);
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 1 }} data-testid="repository-chooser" data-state={check?.state ?? ''}>
      <TextField
        label="Repository folder"
        value={path}
        onChange={(e) => setPath(e.target.value)}
        size="small"
        fullWidth
        helperText={compact ? undefined : 'Where backups are kept: a local folder, USB disk or NAS share. Type a folder: TwinSnap checks it.'}
      />
      {check && (
        <Alert severity={check.problems.length ? 'warning' : check.current ? 'success' : 'info'} data-testid="repository-check" aria-live="polite">
          <Typography variant="body2">{verdict(check)}</Typography>
          <Typography variant="body2">
            {check.writable ? 'Writable' : 'Not writable'}
            {check.freeBytes !== undefined ? ` · ${formatBytes(check.freeBytes)} free` : ''}
          </Typography>
          {check.problems.map((p) => (
            <Typography key={p} variant="body2">
              {p[0]!.toUpperCase() + p.slice(1)}.
            </Typography>
          ))}
        </Alert>
      )}
      {checkError && <Alert severity="error">{checkError}</Alert>}
      {creatable && (
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center' }}>
          <FormControlLabel control={<Checkbox checked={encrypt} onChange={(e) => setEncrypt(e.target.checked)} />} label="Encrypt the backups (AES-256-GCM)" />
          {encrypt && (
            <>
              <TextField size="small" type="password" label="Password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" helperText={passwordProblem} />
              <TextField size="small" type="password" label="Repeat the password" value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" />
            </>
          )}
        </Box>
      )}
      {check?.state === 'repository' && check.encrypted && !check.current && (
        <TextField size="small" type="password" label="Password or recovery key" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
      )}
      {((creatable && encrypt) || (check?.state === 'repository' && check.encrypted && !check.current)) && (
        <FormControlLabel
          control={<Checkbox checked={remember} onChange={(e) => setRemember(e.target.checked)} />}
          label="Remember the password for scheduled backups (kept in the system's secret store)"
        />
      )}
      <RecoveryKitDialog
        text={kit?.text}
        onClose={() => {
          if (kit) onChanged?.(kit.settings);
          setKit(undefined);
          void refreshStatus();
        }}
      />
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <Button
          variant="contained"
          disabled={!canCreate || !!busy}
          onClick={() => void act('create')}
          startIcon={busy === 'create' ? <CircularProgress size={16} color="inherit" aria-hidden /> : undefined}
        >
          Create a repository here
        </Button>
        <Button
          variant="outlined"
          disabled={!canConnect || !!busy}
          onClick={() => void act('connect')}
          startIcon={busy === 'connect' ? <CircularProgress size={16} color="inherit" aria-hidden /> : undefined}
        >
          Connect this repository
        </Button>
      </Box>
    </Box>
  );
}
