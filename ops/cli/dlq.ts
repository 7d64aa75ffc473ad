import type { Command } from 'commander';
import type { DeadLetterOutcome } from '../../engine/feed/feed-loop.ts';
import type { DeadLetterView } from '../runtime/feeds.ts';
import { apiTarget, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

interface Options extends ApiTarget {
  json?: boolean;
  id?: string;
}

const path = (subscription: string, rest = '') => `/v1/subscriptions/${encodeURIComponent(subscription)}/dlq${rest}`;

/** `sluice dlq list|replay|skip <subscription>`: a feed's dead-letter store, through the running engine. */
export function dlqCommand(program: Command, setCode: (c: number) => void): void {
  const dlq = program
    .command('dlq')
    .description(
      "a webhook feed's dead-letter store: events its receiver did not take after every attempt, and the later " +
        'events of the same keys, which wait behind them (per-key order); other keys keep flowing',
    );
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const outcome = (subscription: string, r: DeadLetterOutcome, o: Options) => {
    if (o.json) out(JSON.stringify({ subscription, ...r }, null, 2));
    else {
      const parts = [
        ...(r.skipped > 0 ? [`${r.skipped} skipped (never delivered)`] : []),
        `${r.replayed} delivered`,
        `${r.remaining} still in the store`,
      ];
      out(`${subscription}: ${parts.join(', ')}`);
    }
    setCode(r.remaining > 0 ? EXIT.NEGATIVE : EXIT.OK);
  };
  apiTarget(dlq.command('list <subscription>').description('the events in the store, by _seq'))
    .option('--json', 'print them as JSON')
    .action(async (subscription: string, o: Options) => {
      const r = await requestJson<{ events: DeadLetterView[] }>(resolveApi(o), 'GET', path(subscription));
      if (o.json) out(JSON.stringify(r, null, 2));
      else if (r.events.length === 0) out(`${subscription}: the dead-letter store is empty`);
      else {
        const cols = ['SEQ', 'EVENT ID', 'TYPE', 'KEY', 'STATE', 'ATTEMPTS', 'PARKED AT', 'ERROR'];
        const rows = r.events.map((d) => ({
          SEQ: d.seq,
          'EVENT ID': d.id,
          TYPE: d.type ?? '',
          KEY: d.key,
          STATE: d.state,
          ATTEMPTS: d.attempts,
          'PARKED AT': d.parkedAt,
          ERROR: d.error ?? '',
        }));
        for (const line of renderTable(cols, rows)) out(line);
      }
      setCode(EXIT.OK);
    });
  apiTarget(
    dlq
      .command('replay <subscription>')
      .description(
        'send the stored events again, in order per key (same event ids); a key that fails again stays in the ' +
          'store. Exit 1 when events remain',
      ),
  )
    .option('--json', 'print the outcome as JSON')
    .action(async (subscription: string, o: Options) => {
      const r = await requestJson<DeadLetterOutcome>(
        resolveApi(o),
        'POST',
        path(subscription, '/replay'),
        {},
        3_600_000,
      );
      outcome(subscription, r, o);
    });
  apiTarget(
    dlq
      .command('skip <subscription>')
      .description(
        'drop the failed events (or the one given by --id) without delivering them, then send the events that ' +
          'waited behind them. Exit 1 when events remain',
      ),
  )
    .option('--id <event id>', 'only this event (as listed: <subscription>:<seq>)')
    .option('--json', 'print the outcome as JSON')
    .action(async (subscription: string, o: Options) => {
      const body = o.id !== undefined ? { id: o.id } : {};
      const r = await requestJson<DeadLetterOutcome>(
        resolveApi(o),
        'POST',
        path(subscription, '/skip'),
        body,
        3_600_000,
      );
      outcome(subscription, r, o);
    });
}
