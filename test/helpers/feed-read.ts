import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { ReceivedEvent } from './webhook-receiver.ts';

/** Every message of `subject` in a JetStream stream, in stream order, read by an ordinary (ordered) consumer. */
export async function natsEvents(url: string, subject: string, stream = 'SLUICE_FEED'): Promise<ReceivedEvent[]> {
  const nc = await connect({ servers: url });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(stream, { filter_subjects: subject });
    const out: ReceivedEvent[] = [];
    for (;;) {
      const before = out.length;
      const msgs = await consumer.fetch({ max_messages: 5000, expires: 1000 });
      for await (const m of msgs) out.push(m.json<ReceivedEvent>());
      if (out.length === before) return out;
    }
  } finally {
    await nc.close();
  }
}

/** A JSON request to the engine's API. */
export async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The value of one Prometheus series (0 when absent). */
export async function metric(base: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
