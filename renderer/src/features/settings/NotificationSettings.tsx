import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { Settings } from '../../../../shared/domain/engine.js';
import { useApp, useEngine } from '../../stores/hooks.js';

/** Notifications: on success too, e-mail (SMTP) and webhook, each with a test button. */
export function NotificationSettings({ settings, onSaved }: { settings: Settings; onSaved(s: Settings): void }) {
  const engine = useEngine();
  const notify = useApp((s) => s.notify);
  const notifyError = useApp((s) => s.notifyError);
  const n = settings.notifications;
  const [onSuccess, setOnSuccess] = useState(n.onSuccess);
  const [mail, setMail] = useState({ host: '', port: '587', from: '', to: '', user: '', password: '', secure: false });
  const [webhook, setWebhook] = useState('');
  useEffect(() => {
    setOnSuccess(n.onSuccess);
    setWebhook(n.webhookUrl ?? '');
    if (n.email) setMail({ host: n.email.host, port: String(n.email.port), from: n.email.from, to: n.email.to, user: n.email.user ?? '', password: '', secure: n.email.secure });
  }, [n]);
  const save = async () => {
    try {
      const s = await engine['settings.set']({
        patch: {
          notifications: {
            onSuccess,
            email: mail.host
              ? { host: mail.host, port: Number(mail.port), secure: mail.secure, from: mail.from, to: mail.to, user: mail.user || undefined, password: mail.password || undefined }
              : undefined,
            webhookUrl: webhook.trim() || undefined,
          },
        },
      });
      onSaved(s);
      notify('Notification settings saved', 'success');
    } catch (e) {
      notifyError(e, 'Saving notifications');
    }
  };
  const test = async (channel: 'email' | 'webhook') => {
    try {
      const r = await engine['notifications.test']({ channel });
      notify(r.delivered ? `Test ${channel === 'email' ? 'e-mail' : 'webhook'} delivered` : 'The test was not delivered', r.delivered ? 'success' : 'warning');
    } catch (e) {
      notifyError(e, 'Test notification');
    }
  };
  const m = (k: keyof typeof mail, label: string, extra: object = {}) => (
    <TextField size="small" label={label} value={mail[k] as string} onChange={(e) => setMail((x) => ({ ...x, [k]: e.target.value }))} {...extra} />
  );
  return (
    <Box component="form" onSubmit={(e) => (e.preventDefault(), void save())} sx={{ display: 'flex', flexDirection: 'column', gap: 1.5 }} data-testid="notification-settings">
      <Typography variant="body2">Failures and warnings are always reported.</Typography>
      <FormControlLabel control={<Checkbox checked={onSuccess} onChange={(e) => setOnSuccess(e.target.checked)} />} label="Also tell me about successful backups" />
      <Typography variant="subtitle2">E-mail</Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: '1fr 100px', gap: 1 }}>
        {m('host', 'SMTP server')}
        {m('port', 'Port', { type: 'number' })}
        {m('from', 'From')}
        {m('to', 'To')}
        {m('user', 'User')}
        {m('password', 'Password', { type: 'password', autoComplete: 'new-password', placeholder: n.email?.passwordSet ? '(stored — leave empty to keep it)' : '' })}
      </Box>
      <FormControlLabel control={<Checkbox checked={mail.secure} onChange={(e) => setMail((x) => ({ ...x, secure: e.target.checked }))} />} label="TLS from the start (port 465)" />
      <Typography variant="subtitle2">Webhook</Typography>
      <TextField size="small" label="Webhook URL" value={webhook} onChange={(e) => setWebhook(e.target.value)} placeholder="https://…" />
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <Button type="submit" variant="contained">
          Save notifications
        </Button>
        <Button onClick={() => void test('email')} disabled={!n.email}>
          Send test e-mail
        </Button>
        <Button onClick={() => void test('webhook')} disabled={!n.webhookUrl}>
          Test webhook
        </Button>
      </Box>
    </Box>
  );
}
