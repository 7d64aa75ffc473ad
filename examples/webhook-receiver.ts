/**
 * A subscriber's webhook receiver for a Sluice feed: verifies the Standard Webhooks signature of every request with
 * the `standardwebhooks` package (the secret is the `whsec_…` value of the subscription's `webhook.secret`), refuses
 * a bad or stale one with 401, accepts a single event (`application/cloudevents+json`) or a batch
 * (`application/cloudevents-batch+json`), drops events whose id it has already applied (delivery is at least once;
 * a re-sent event keeps its id) and answers 204 only once the events are applied — any other answer, or none within
 * the subscription's `timeout`, makes Sluice retry.
 *
 *   WEBHOOK_SECRET=whsec_… npx tsx examples/webhook-receiver.ts --port 8080
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' } } });
const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error('set WEBHOOK_SECRET to the subscription’s whsec_… secret');
  process.exit(2);
}
const wh = new Webhook(secret);
const applied = new Set<string>(); // a real receiver keeps this beside the data it applies, in one transaction

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8'); // verify the raw body, before any parsing
    try {
      // checks webhook-signature over `${webhook-id}.${webhook-timestamp}.${body}`, and that the timestamp is recent
      wh.verify(body, req.headers as Record<string, string>);
    } catch {
      res.writeHead(401).end();
      return;
    }
    const parsed = JSON.parse(body) as { id: string; type: string; subject?: string } | { id: string }[];
    const events = Array.isArray(parsed) ? parsed : [parsed];
    for (const e of events) {
      if (applied.has(e.id)) continue;
      applied.add(e.id);
      console.log(JSON.stringify(e));
    }
    res.writeHead(204).end();
  });
});
server.listen(Number(values.port), () => console.error(`listening on :${values.port}`));
