import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** A received CloudEvent (structured JSON). */
export interface ReceivedEvent {
  id: string;
  type: string;
  subject?: string;
  time: string;
  data: { op: string; key: Record<string, unknown>; after: Record<string, unknown> | null };
  [k: string]: unknown;
}

/** How the receiver answers one request: take it, fail it (HTTP 503), or never answer. */
export type Answer = 'ok' | 'fail' | 'hang';

/**
 * A real HTTP webhook receiver for the tests: verifies every Standard Webhooks signature (a bad one is a 401 and
 * counted), answers as `decide` says, and keeps the events of the requests it took, in arrival order.
 */
export async function startReceiver(secret: string, decide: (events: ReceivedEvent[]) => Answer = () => 'ok') {
  const wh = new Webhook(secret);
  const taken: ReceivedEvent[] = [];
  const stats = { requests: 0, badSignatures: 0, failed: 0, hung: 0, contentTypes: new Set<string>() };
  const hanging = new Set<ServerResponse>();
  const receiver = {
    decide,
    taken,
    stats,
    url: '',
    /** Received ids per key (the subject), in arrival order. */
    byKey(): Map<string, number[]> {
      const m = new Map<string, number[]>();
      for (const e of taken) m.set(e.subject ?? '', [...(m.get(e.subject ?? '') ?? []), seqOf(e.id)]);
      return m;
    },
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        wh.verify(body, req.headers as Record<string, string>);
      } catch {
        stats.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      stats.contentTypes.add(type.split(';')[0]!);
      const parsed = JSON.parse(body) as ReceivedEvent | ReceivedEvent[];
      const events = Array.isArray(parsed) ? parsed : [parsed];
      const answer = receiver.decide(events);
      if (answer === 'hang') {
        stats.hung++;
        hanging.add(res);
        return;
      }
      if (answer === 'fail') {
        stats.failed++;
        res.writeHead(503).end();
        return;
      }
      taken.push(...events);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sluice`;
  return receiver;
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** The seq of an event id `<subscription>:<seq>`. */
export const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf(':') + 1));
