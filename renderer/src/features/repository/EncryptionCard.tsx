import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { RepositoryInfo } from '../../../../shared/domain/engine.js';
import { friendlyError } from '../../app/error-messages.js';
import { RecoveryKitDialog } from '../../components/RecoveryKitDialog.js';
import { useApp, useEngine } from '../../stores/hooks.js';

/** "Encrypted (AES-256-GCM, scrypt N=2^17, r=8, p=1)" or "Not encrypted". */
export function encryptionText(i: RepositoryInfo): string {
  if (!i.encrypted) return 'Not encrypted (anyone who can read the backup disk can read the backups)';
  return `Encrypted (${i.cipher}${i.kdf ? `, scrypt N=2^${Math.log2(i.kdf.N)}, r=${i.kdf.r}, p=${i.kdf.p}` : ''})`;
}

type Info = RepositoryInfo & { locked: boolean };

/**
 * The repository's encryption on the Repository page: what it is encrypted with; unlock a locked
 * one (optionally remembering the password for scheduled backups); change the password; make a
 * new recovery kit.
 */
export function EncryptionCard({ onUnlocked }: { onUnlocked?(): void }) {
  const engine = useEngine();
  const notify = useApp((s) => s.notify);
  const [info, setInfo] = useState<Info | null>(null);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [remember, setRemember] = useState(true);
  const [changing, setChanging] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [kit, setKit] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    engine['repository.info']({}).then(setInfo, (e) => setProblem(friendlyError(e).detail));
  }, [engine]);
  if (!info) return problem ? <Alert severity="error">{problem}</Alert> : null;

  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await f();
    } catch (e) {
      const fe = friendlyError(e);
      setProblem(`${fe.title}: ${fe.detail}. ${fe.action}`);
    } finally {
      setBusy(false);
    }
  };
  const unlock = () =>
    act(async () => {
      setInfo(await engine['repository.unlock']({ password, remember }));
      setPassword('');
      notify('Repository unlocked', 'success');
      onUnlocked?.();
    });
  const change = () =>
    act(async () => {
      if (password.length < 8) throw new Error('the new password needs at least 8 characters');
      if (password !== repeat) throw new Error('the two passwords differ');
      setInfo(await engine['repository.changePassword']({ password }));
      setPassword('');
      setRepeat('');
      setChanging(false);
      notify('Password changed; no backup had to be rewritten', 'success');
    });
  const newKit = () => act(async () => setKit((await engine['repository.newRecoveryKit']({})).text));

  return (
    <Card variant="outlined" sx={{ mb: 2 }} data-testid="repo-encryption">
      <CardContent sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}>
        <Typography>
          <b>Encryption:</b> <span data-testid="repo-encryption-text">{encryptionText(info)}</span>
        </Typography>
        {info.encrypted && info.locked && (
          <Box component="form" onSubmit={(e) => (e.preventDefault(), void unlock())} sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }}>
            <Typography variant="body2" sx={{ width: '100%' }}>
              The repository is locked: enter its password or recovery key.
            </Typography>
            <TextField size="small" type="password" label="Password or recovery key" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
            <FormControlLabel control={<Checkbox checked={remember} onChange={(e) => setRemember(e.target.checked)} />} label="Remember it for scheduled backups" />
            <Button type="submit" variant="contained" disabled={!password || busy}>
              Unlock
            </Button>
          </Box>
        )}
        {info.encrypted && !info.locked && (
          <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center' }}>
            {changing ? (
              <Box component="form" onSubmit={(e) => (e.preventDefault(), void change())} sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
                <TextField size="small" type="password" label="New password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
                <TextField size="small" type="password" label="Repeat the new password" value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" />
                <Button type="submit" variant="contained" disabled={!password || busy}>
                  Save the new password
                </Button>
                <Button onClick={() => setChanging(false)}>Cancel</Button>
              </Box>
            ) : (
              <Button variant="outlined" onClick={() => setChanging(true)}>
                Change password
              </Button>
            )}
            <Button variant="outlined" onClick={() => void newKit()} disabled={busy}>
              New recovery kit
            </Button>
            <Typography variant="body2" color="text.secondary">
              {info.keys.length} key{info.keys.length === 1 ? '' : 's'}: {info.keys.map((k) => k.label).join(', ')}
            </Typography>
          </Box>
        )}
        {problem && <Alert severity="error">{problem}</Alert>}
      </CardContent>
      <RecoveryKitDialog text={kit} onClose={() => setKit(undefined)} />
    </Card>
  );
}
