import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { Settings } from '../../../../shared/domain/engine.js';
import { useApp, useEngine } from '../../stores/hooks.js';

type Field = 'host' | 'port' | 'from' | 'to' | 'user' | 'password' | 'webhook';
const FIELD_LABEL: Record<Field, string> = {
  host: 'E-mail: SMTP server',
  port: 'E-mail: port',
  from: 'E-mail: From',
  to: 'E-mail: To',
  user: 'E-mail: user',
  password: 'E-mail: password',
  webhook: 'Webhook URL',
};
const ADDRESS = /^[^\s@,]+@[^\s@,]+$/;

/** What is wrong with the entered values, per field (empty when they can be saved). */
export function notificationProblems(mail: { host: string; port: string; from: string; to: string }, webhook: string): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = {};
  if (mail.host.trim() || mail.from.trim() || mail.to.trim()) {
    if (!mail.host.trim()) out.host = 'enter the SMTP server (host name) to send e-mail';
    const port = Number(mail.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) out.port = 'a port number from 1 to 65535 (587 or 465 usually)';
    if (!ADDRESS.test(mail.from.trim())) out.from = 'one e-mail address, like twinsnap@example.com';
    const to = mail.to
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!to.length || !to.every((x) => ADDRESS.test(x))) out.to = 'one or more e-mail addresses, separated by commas';
  }
  if (webhook.trim()) {
    try {
      const u = new URL(webhook.trim());
      if (u.protocol !== 'https:' && u.protocol !== 'http:') out.webhook = 'an http:// or https:// address';
    } catch {
      out.webhook = 'a full address starting with https://';
    }
  }
  return out;
}

/** The form field an engine error is about (its message names the request path). */
function fieldOfError(e: unknown): Field | undefined {
  const m = /notifications\.(?:email\.)?(host|port|from|to|user|password|webhookUrl)\b/.exec(String((e as { message?: string }).message ?? ''));
  if (!m) return undefined;
  return m[1] === 'webhookUrl' ? 'webhook' : (m[1] as Field);
}

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
  const [problems, setProblems] = useState<Partial<Record<Field, string>>>({});
  const save = async () => {
    const found = notificationProblems(mail, webhook);
    setProblems(found);
    const first = Object.entries(found)[0];
    if (first) {
      notify(`${FIELD_LABEL[first[0] as Field]}: ${first[1]}`, 'warning');
      return;
    }
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
      // the engine's answer names the field (e.g. patch.notifications.email.to): say which one
      const field = fieldOfError(e);
      if (field) {
        const msg = String((e as { message?: string }).message ?? '').replace(/^.*?:\s*[\w.]+:\s*/, '');
        setProblems({ [field]: msg });
        notify(`${FIELD_LABEL[field]}: ${msg}`, 'error');
      } else notifyError(e, 'Saving notifications');
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
  const m = (k: Exclude<Field, 'webhook'>, label: string, extra: object = {}) => (
    <TextField size="small" label={label} value={mail[k] as string} onChange={(e) => setMail((x) => ({ ...x, [k]: e.target.value }))} error={!!problems[k]} helperText={problems[k]} {...extra} />
  );
  return (
    <Box component="form" onSubmit={(e) => (e.preventDefault(), void save())} sx={{ display: 'flex', flexDirection: 'column', gap: 1.5 }} data-testid="notification-settings">
      <Typography variant="body2">Failures and warnings are always reported.</Typography>
      <FormControlLabel control={<Checkbox checked={onSuccess} onChange={(e) => setOnSuccess(e.target.checked)} />} label="Also tell me about successful backups" />
      <Typography variant="subtitle2">E-mail</Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: '1fr 100px', gap: 1 }}>
        {m('host', 'SMTP server')}
        {m('port', 'Port', { type: 'number' })}
        {/* addresses get the full width: a list of recipients must not be cut off */}
        {m('from', 'From', { sx: { gridColumn: '1 / -1' } })}
        {m('to', 'To', { sx: { gridColumn: '1 / -1' }, placeholder: 'ops@example.com, boss@example.com' })}
        {m('user', 'User')}
        {m('password', 'Password', { type: 'password', autoComplete: 'new-password', placeholder: n.email?.passwordSet ? '(stored — leave empty to keep it)' : '', sx: { gridColumn: '1 / -1' } })}
      </Box>
      <FormControlLabel control={<Checkbox checked={mail.secure} onChange={(e) => setMail((x) => ({ ...x, secure: e.target.checked }))} />} label="E-mail: TLS from the start (port 465)" />
      <Typography variant="subtitle2">Webhook</Typography>
      <TextField size="small" label="Webhook URL" value={webhook} onChange={(e) => setWebhook(e.target.value)} placeholder="https://…" error={!!problems.webhook} helperText={problems.webhook} />
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
