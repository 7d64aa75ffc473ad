import pRetry from 'p-retry';
import { Webhook } from 'standardwebhooks';
import { SluiceError } from '../../../engine/errors.ts';
import type { FeedMessage, FeedSink } from '../../../engine/ports/index.ts';

export interface WebhookSinkOptions {
  url: string;
  /** Standard Webhooks secret: `whsec_` + base64 (the prefix is optional). */
  secret: string;
  /** Events per request: 1 posts single events, more posts `application/cloudevents-batch+json` arrays. */
  batchSize: number;
  timeoutMs: number;
  maxAttempts: number;
  backoff: { initialMs: number; maxMs: number };
  /** Each failed attempt (the metric `sluice_webhook_failures_total`). */
  onFailure?: (reason: string) => void;
}

/**
 * Posts a feed's events to a webhook (DESIGN.md, Feed output): one request per send, signed with Standard Webhooks
 * headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`, by the `standardwebhooks` package; signed anew at
 * each attempt, so a retry carries a fresh timestamp), answered 2xx within the timeout or failed. Failed attempts are
 * retried with exponential back-off and jitter (p-retry); after `maxAttempts` the send rejects with
 * DELIVERY_FAILED (details.attempts; details.unreachable when the last attempt never reached the receiver) and the loop
 * parks the events, or — for a receiver that is down — keeps them in the bus. A single event's `webhook-id` is its event id; a
 * batch's is `<first event id>+<count>` — receivers de-duplicate on each event's `id`.
 */
export class WebhookSink implements FeedSink {
  readonly batchSize: number;
  private readonly signer: Webhook;
  private readonly where: string;

  constructor(private readonly opts: WebhookSinkOptions) {
    this.batchSize = opts.batchSize;
    try {
      this.signer = new Webhook(opts.secret);
    } catch (e) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `webhook secret: not a Standard Webhooks secret (whsec_ followed by base64): ${(e as Error).message}`,
        { cause: e },
      );
    }
    const u = new URL(opts.url);
    this.where = `${u.origin}${u.pathname}`; // never the query (it may hold a token)
  }

  async send(messages: FeedMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length === 0) return;
    const single = this.batchSize === 1 && messages.length === 1;
    const body = single ? messages[0]!.body : `[${messages.map((m) => m.body).join(',')}]`;
    const id = single ? messages[0]!.id : `${messages[0]!.id}+${messages.length}`;
    const type = single ? 'application/cloudevents+json' : 'application/cloudevents-batch+json';
    let last = '';
    let answered = false; // the last attempt got an HTTP answer or timed out (vs. no connection at all)
    try {
      await pRetry(
        async () => {
          const at = new Date();
          const res = await fetch(this.opts.url, {
            method: 'POST',
            headers: {
              'content-type': `${type}; charset=utf-8`,
              'webhook-id': id,
              'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
              'webhook-signature': this.signer.sign(id, at, body),
            },
            body,
            signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs)]),
          }).catch((e: unknown) => {
            signal.throwIfAborted();
            const err = e as Error & { cause?: { code?: string } };
            answered = err.name === 'TimeoutError';
            const why =
              err.name === 'TimeoutError'
                ? `no answer within ${this.opts.timeoutMs} ms`
                : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`;
            throw new Error(why);
          });
          answered = true;
          await res.body?.cancel().catch(() => {});
          if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
        },
        {
          retries: this.opts.maxAttempts - 1,
          factor: 2,
          minTimeout: this.opts.backoff.initialMs,
          maxTimeout: this.opts.backoff.maxMs,
          randomize: true,
          signal,
          onFailedAttempt: ({ error }) => {
            last = error.message;
            this.opts.onFailure?.(last);
          },
        },
      );
    } catch (e) {
      signal.throwIfAborted();
      throw new SluiceError(
        'DELIVERY_FAILED',
        `webhook ${this.where} did not take ${messages.length} event(s) after ${this.opts.maxAttempts} attempts: ${last || (e as Error).message}`,
        {
          retriable: true,
          cause: e,
          // `unreachable`: no attempt reached the receiver (refused, reset, DNS): it is down, not refusing these events
          details: { attempts: this.opts.maxAttempts, url: this.where, unreachable: !answered },
        },
      );
    }
  }

  async close(): Promise<void> {}
}
