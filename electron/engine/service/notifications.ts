import { SMTP_PASSWORD } from '../core/secrets.js';
import { SmtpEmailChannel } from '../notify/email-channel.js';
import type { NotificationChannel } from '../notify/notification.js';
import { Notifier } from '../notify/notifier.js';
import { HttpWebhookChannel } from '../notify/webhook-channel.js';
import type { EngineBase } from './engine-context.js';

/** The notification channels configured in the settings. */
export function configuredChannels(base: EngineBase): NotificationChannel[] {
  const n = base.config().notifications;
  const out: NotificationChannel[] = [desktopChannel(base)];
  if (n.email) {
    // the password lives in the secret store (never in config.json)
    const problem = base.secrets.problem(SMTP_PASSWORD);
    if (problem) base.logger.warn(`the stored SMTP password cannot be used: ${problem}`);
    out.push(new SmtpEmailChannel({ ...n.email, password: base.secrets.get(SMTP_PASSWORD) }));
  }
  if (n.webhookUrl) out.push(new HttpWebhookChannel(n.webhookUrl));
  return out;
}

/** Desktop notifications: an engine event that the Electron app (and the browser UI) shows. */
function desktopChannel(base: EngineBase): NotificationChannel {
  return {
    name: 'desktop',
    send: async (n) => {
      const { details: _details, ...plain } = n;
      base.emit('notify.raised', plain);
    },
  };
}

/** The engine's notifier (channels and the on-success flag are read from the live config). */
export function createNotifier(base: EngineBase): Notifier {
  return new Notifier({ clock: base.clock, logger: base.logger.child({ area: 'notify' }), channels: () => configuredChannels(base), onSuccess: () => base.config().notifications.onSuccess });
}
