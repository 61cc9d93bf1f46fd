import nodemailer from 'nodemailer';
import { AppError } from '../../../shared/errors/app-error.js';
import type { Notification, NotificationChannel } from './notification.js';
import { severityLabel } from './notification.js';

/** SMTP settings (the `notifications.email` block of the config). */
export interface EmailSettings {
  host: string;
  port: number;
  /** true = TLS from the start (port 465); false = plain, upgraded with STARTTLS when offered. */
  secure: boolean;
  from: string;
  /** One or more recipients, comma-separated. */
  to: string;
  user?: string;
  password?: string;
}

/** Options of the e-mail channel. */
export interface EmailChannelOptions {
  /** Connection + greeting + socket timeout (default 20 s). */
  timeoutMs?: number;
  /** Accept self-signed certificates (tests against a local sink only). */
  allowSelfSigned?: boolean;
}

/** The subject line of a notification e-mail: the severity comes first and is never "success" on a failure. */
export function emailSubject(n: Notification): string {
  return `[TwinSnap] ${severityLabel(n.severity)}: ${n.title}`;
}

/** Sends notifications as e-mail over SMTP with nodemailer. */
export class SmtpEmailChannel implements NotificationChannel {
  readonly name = 'email' as const;

  constructor(
    private readonly settings: EmailSettings,
    private readonly opts: EmailChannelOptions = {},
  ) {}

  async send(n: Notification): Promise<void> {
    const s = this.settings;
    const timeout = this.opts.timeoutMs ?? 20_000;
    const transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure,
      auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      tls: this.opts.allowSelfSigned ? { rejectUnauthorized: false } : undefined,
    });
    const lines = [n.body, '', `time: ${n.at}`];
    if (n.guest) lines.push(`guest: ${n.guest}`);
    if (n.jobId) lines.push(`job: ${n.jobId}`);
    try {
      await transport.sendMail({
        from: s.from,
        to: s.to,
        subject: emailSubject(n),
        text: `${lines.join('\n')}\n`,
        headers: { 'X-TwinSnap-Severity': n.severity, 'X-TwinSnap-Topic': n.topic },
      });
    } catch (cause) {
      throw new AppError('NOTIFY_FAILED', `unable to send e-mail via ${s.host}:${s.port}: ${(cause as Error).message}`, {
        cause,
        details: { channel: 'email', host: s.host, port: s.port },
      });
    } finally {
      transport.close();
    }
  }
}
