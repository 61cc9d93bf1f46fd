import { AppError } from '../../../shared/errors/app-error.js';
import type { Notification, NotificationChannel } from './notification.js';

/** Options of the webhook channel. */
export interface WebhookChannelOptions {
  /** Whole-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Redirects followed, same host only (default 3). */
  maxRedirects?: number;
}

function fail(url: string, message: string, cause?: unknown): never {
  throw new AppError('NOTIFY_FAILED', `webhook '${redact(url)}' failed: ${message}`, { cause, details: { channel: 'webhook' } });
}

/** The URL without credentials or query (tokens often live there) for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * POSTs each notification as JSON to a URL. Only http(s); a timeout bounds the whole request;
 * a redirect is followed only to the same host (and re-POSTed only for 307/308) — a webhook
 * must never be bounced to another host with our payload.
 */
export class HttpWebhookChannel implements NotificationChannel {
  readonly name = 'webhook' as const;

  constructor(
    private readonly url: string,
    private readonly opts: WebhookChannelOptions = {},
  ) {}

  async send(n: Notification): Promise<void> {
    let url: URL;
    try {
      url = new URL(this.url);
    } catch (cause) {
      return fail(this.url, 'not a valid URL', cause);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(this.url, `unsupported scheme '${url.protocol}': use http or https`);
    const origin = url.host;
    const body = JSON.stringify({ source: 'twinsnap', ...n });
    const signal = AbortSignal.timeout(this.opts.timeoutMs ?? 10_000);
    for (let hop = 0; hop <= (this.opts.maxRedirects ?? 3); hop++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'TwinSnap' },
          body,
          redirect: 'manual',
          signal,
        });
      } catch (cause) {
        const e = cause as Error;
        if (e.name === 'TimeoutError' || e.name === 'AbortError') fail(this.url, `no answer within ${(this.opts.timeoutMs ?? 10_000) / 1000} s`, cause);
        fail(this.url, (e.cause as Error | undefined)?.message ?? e.message, cause);
      }
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return;
      if (res.status >= 300 && res.status < 400) {
        const loc = res.headers.get('location');
        if (!loc) fail(this.url, `redirect ${res.status} without a location`);
        const next = new URL(loc, url);
        if (next.host !== origin) fail(this.url, `redirect to another host (${next.host}) refused`);
        if (res.status !== 307 && res.status !== 308) fail(this.url, `redirect ${res.status} would drop the POST body: point the webhook at the final URL`);
        url = next;
        continue;
      }
      fail(this.url, `HTTP ${res.status} ${res.statusText}`.trim());
    }
    fail(this.url, 'too many redirects');
  }
}
