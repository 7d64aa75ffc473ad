import type { Command } from 'commander';
import { SluiceError } from '../../engine/errors.ts';
import type { FieldsView } from '../api/subscription-routes.ts';
import { apiTarget, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';

interface Options extends ApiTarget {
  set?: string;
  add?: string;
  remove?: string;
  reset?: boolean;
  by?: string;
  json?: boolean;
}

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `sluice fields <subscription>`: the fields a subscription asks for, changed at runtime through the engine. */
export function fieldsCommand(program: Command, setCode: (c: number) => void): void {
  apiTarget(
    program
      .command('fields <subscription>')
      .description(
        'show or change the fields a subscription asks for, while the engine runs (stored; wins over the config ' +
          'until --reset); checked like sluice validate; a field granted anew is backfilled to that subscription',
      ),
  )
    .option('--set <fields>', 'ask for exactly these fields (comma-separated)')
    .option('--add <fields>', 'ask for these fields too (comma-separated)')
    .option('--remove <fields>', 'no longer ask for these fields (comma-separated)')
    .option('--reset', "back to the config's fields")
    .option('--by <who>', 'who makes the change (recorded with it)')
    .option('--json', 'print the result as JSON')
    .action(async (subscription: string, o: Options) => setCode(await run(subscription, o)));
}

async function run(subscription: string, o: Options): Promise<number> {
  const changes = [o.set, o.add, o.remove].filter((x) => x !== undefined).length + (o.reset ? 1 : 0);
  if (changes > 1 && !(o.add !== undefined && o.remove !== undefined && changes === 2)) {
    throw new SluiceError('USAGE', '--set and --reset go alone (--add and --remove may be combined)');
  }
  const api = resolveApi(o);
  const path = `/v1/subscriptions/${encodeURIComponent(subscription)}/fields`;
  let view = await requestJson<FieldsView>(api, 'GET', path);
  if (o.reset) view = await requestJson<FieldsView>(api, 'DELETE', path);
  else if (changes > 0) {
    const remove = new Set(list(o.remove ?? ''));
    const fields =
      o.set !== undefined
        ? list(o.set)
        : [...view.fields, ...list(o.add ?? '').filter((f) => !view.fields.includes(f))].filter((f) => !remove.has(f));
    view = await requestJson<FieldsView>(api, 'PUT', path, { fields, ...(o.by ? { by: o.by } : {}) });
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return EXIT.OK;
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const from = view.override
    ? `runtime override${view.override.by ? ` by ${view.override.by}` : ''} at ${view.override.at}; config: ${view.config.join(', ')}`
    : 'from the config';
  out(`${view.subscription}: ${view.fields.join(', ')} (${from})`);
  out(`granted now: ${view.granted.join(', ') || 'none'}`);
  for (const d of view.denied) out(`withheld: ${d.field} (${d.reason}): ${d.message}`);
  if (view.backfill) out(`backfill requested (${view.backfill}): the current values follow as _op = r rows`);
  return EXIT.OK;
}
