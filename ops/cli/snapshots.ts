import type { Command } from 'commander';
import type { SnapshotProgress } from '../../engine/ports/index.ts';
import { apiTarget as target, getJson, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

interface ListOptions extends ApiTarget {
  json?: boolean;
}

interface RunOptions extends ApiTarget {
  wait?: boolean;
  json?: boolean;
}

/** `sluice snapshots`, `sluice resnapshot <resource>`, `sluice backfill <subscription>`. */
export function snapshotCommands(program: Command, setCode: (c: number) => void): void {
  target(
    program
      .command('snapshots')
      .description('show snapshot runs in progress and the last finished ones: rows delivered of the estimate, chunks'),
  )
    .option('--json', 'print the runs as JSON')
    .action(async (o: ListOptions) => setCode(await list(o)));
  target(
    program
      .command('resnapshot <resource>')
      .description(
        "deliver a resource's current rows (_op = r) again to every subscription, read in chunks beside the stream " +
          "(no pause, no gap). When the provider's replication slot is unusable (dropped, invalidated), the slot is " +
          'created anew and every resource of that provider re-snapshotted: the recovery path after a lost slot ' +
          '(an engine that refuses to start for it: sluice run --recover-slot <provider>)',
      ),
  )
    .option('--wait', 'follow the run until it finishes (exit 1 if it fails)')
    .option('--json', 'print the run as JSON')
    .action(async (resource: string, o: RunOptions) =>
      setCode(await start(o, `/v1/resources/${encodeURIComponent(resource)}/resnapshot`)),
    );
  target(
    program
      .command('backfill <subscription>')
      .description(
        "deliver the current state of a subscription's resource to that subscription only (its fields, filter and " +
          'masks); other subscriptions see nothing of it',
      ),
  )
    .option('--wait', 'follow the run until it finishes (exit 1 if it fails)')
    .option('--json', 'print the run as JSON')
    .action(async (subscription: string, o: RunOptions) =>
      setCode(await start(o, `/v1/subscriptions/${encodeURIComponent(subscription)}/backfill`)),
    );
}

async function list(o: ListOptions): Promise<number> {
  const { snapshots } = await getJson<{ snapshots: SnapshotProgress[] }>(resolveApi(o), '/v1/snapshots');
  if (o.json) process.stdout.write(`${JSON.stringify({ snapshots }, null, 2)}\n`);
  else if (snapshots.length === 0) process.stdout.write('no snapshot runs\n');
  else {
    const rows = snapshots.map((s) => ({
      resource: s.resource,
      for: s.subscription ?? 'all',
      reason: s.reason,
      state: s.state,
      progress: progress(s),
      chunks: s.chunks,
      skipped: s.skipped,
      started: s.startedAt,
    }));
    const columns = ['resource', 'for', 'reason', 'state', 'progress', 'chunks', 'skipped', 'started'];
    for (const line of renderTable(columns, rows)) process.stdout.write(`${line}\n`);
    for (const s of snapshots.filter((x) => x.error)) process.stdout.write(`${s.id}: ${s.error}\n`);
  }
  return snapshots.some((s) => s.state === 'FAILED') ? EXIT.NEGATIVE : EXIT.OK;
}

/** `rows / estimate (pct)`: the estimate is the planner's, so a finished run may show more than 100 %. */
function progress(s: SnapshotProgress): string {
  if (s.estimated === null || s.estimated === 0) return `${s.rows} rows`;
  const pct = Math.min(100, Math.round((100 * (s.rows + s.skipped)) / s.estimated));
  return `${s.rows} / ~${s.estimated} (${s.state === 'DONE' ? 100 : pct}%)`;
}

async function start(o: RunOptions, path: string): Promise<number> {
  const api = resolveApi(o);
  const run = await requestJson<SnapshotProgress>(api, 'POST', path);
  if (o.json && !o.wait) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  else
    process.stdout.write(
      `snapshot ${run.id} of ${run.resource} for ${run.subscription ?? 'every subscription'}: ${run.state}\n`,
    );
  if (!o.wait) return EXIT.OK;
  let last = '';
  for (;;) {
    const { snapshots } = await getJson<{ snapshots: SnapshotProgress[] }>(api, '/v1/snapshots');
    const now = snapshots.find((s) => s.id === run.id);
    if (now) {
      const line = `${now.state} ${progress(now)}, ${now.chunks} chunks`;
      if (line !== last && !o.json) process.stdout.write(`  ${line}\n`);
      last = line;
      if (now.state !== 'RUNNING') {
        if (o.json) process.stdout.write(`${JSON.stringify(now, null, 2)}\n`);
        if (now.error) process.stderr.write(`sluice: snapshot failed: ${now.error}\n`);
        return now.state === 'DONE' ? EXIT.OK : EXIT.NEGATIVE;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
