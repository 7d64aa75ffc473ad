import type { Command } from 'commander';
import type { CycleRunView, CycleView } from '../api/cycle-routes.ts';
import { apiTarget as target, getJson, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

interface Options extends ApiTarget {
  json?: boolean;
  timezone?: string;
  by?: string;
  reason?: string;
}

const path = (subscription: string, what: string) => `/v1/subscriptions/${encodeURIComponent(subscription)}/${what}`;
const out = (s: string) => process.stdout.write(`${s}\n`);

/**
 * Exchange cycles while the engine runs: `sluice cycles`, `sluice cycle set|reset|run <subscription>`,
 * `sluice pause|resume <subscription>` (through the engine's API; changes are stored and survive restarts).
 */
export function cycleCommands(program: Command, setCode: (c: number) => void): void {
  target(
    program
      .command('cycles')
      .description(
        "show every subscription's exchange cycle: cadence and time zone (config or runtime override), state, last " +
          'run, next run, lag (age of the oldest change not yet delivered) and backlog; exit 1 when a last run failed',
      ),
  )
    .option('--json', 'print the cycles as JSON')
    .action(async (o: Options) => setCode(await list(o)));

  const cycle = program
    .command('cycle')
    .description("change a subscription's exchange cycle while the engine runs (see sluice cycles)");
  target(
    cycle
      .command('set <subscription> <cron>')
      .description(
        'run the subscription on this cron cadence from its next tick on (5 fields, or 6 with seconds first); ' +
          'stored as a runtime override that wins over the config until sluice cycle reset, also after a restart',
      ),
  )
    .option('--timezone <zone>', "IANA time zone of the cadence (default: the config's, else UTC)")
    .option('--by <who>', 'who makes the change (recorded with it)')
    .option('--json', 'print the cycle as JSON')
    .action(async (subscription: string, cron: string, o: Options) => {
      const body = { cadence: cron, ...(o.timezone ? { timezone: o.timezone } : {}), ...(o.by ? { by: o.by } : {}) };
      const v = await requestJson<CycleView>(resolveApi(o), 'PUT', path(subscription, 'cycle'), body);
      setCode(show(v, o, `${subscription}: cadence set`));
    });
  target(cycle.command('reset <subscription>').description("back to the config's cadence and time zone"))
    .option('--json', 'print the cycle as JSON')
    .action(async (subscription: string, o: Options) => {
      const v = await requestJson<CycleView & { removed: boolean }>(
        resolveApi(o),
        'DELETE',
        path(subscription, 'cycle'),
      );
      setCode(show(v, o, v.removed ? `${subscription}: back to the config's cadence` : `${subscription}: no override`));
    });
  target(
    cycle
      .command('run <subscription>')
      .description(
        'run one cycle of the subscription now (after a run in flight) and wait for it; refused while paused',
      ),
  )
    .option('--json', 'print what was delivered as JSON')
    .action(async (subscription: string, o: Options) => {
      const r = await requestJson<CycleRunView>(
        resolveApi(o),
        'POST',
        path(subscription, 'cycle/run'),
        undefined,
        600_000,
      );
      if (o.json) out(JSON.stringify(r, null, 2));
      else if (r.files.length === 0) out(`${subscription}: nothing new to deliver (tick ${r.tick})`);
      else {
        out(`${subscription}: ${r.rows} rows in ${r.files.length} file(s) (tick ${r.tick})`);
        for (const f of r.files) out(`  ${f.manifestFile}  (${f.rows} rows, _seq ${f.firstSeq}-${f.lastSeq})`);
      }
      setCode(EXIT.OK);
    });

  target(
    program
      .command('pause <subscription>')
      .description(
        "stop a subscription's cycles (e.g. on suspected misuse) until sluice resume; changes keep collecting on " +
          'the bus and are delivered after resuming (kept across restarts)',
      ),
  )
    .option('--reason <text>', 'why (shown in sluice cycles and the status)')
    .option('--by <who>', 'who pauses it')
    .option('--json', 'print the cycle as JSON')
    .action(async (subscription: string, o: Options) => {
      const body = { ...(o.reason ? { reason: o.reason } : {}), ...(o.by ? { by: o.by } : {}) };
      const v = await requestJson<CycleView>(resolveApi(o), 'POST', path(subscription, 'pause'), body);
      setCode(show(v, o, `${subscription}: paused`));
    });
  target(program.command('resume <subscription>').description("let a paused subscription's cycles run again"))
    .option('--json', 'print the cycle as JSON')
    .action(async (subscription: string, o: Options) => {
      const v = await requestJson<CycleView & { resumed: boolean }>(
        resolveApi(o),
        'POST',
        path(subscription, 'resume'),
      );
      setCode(show(v, o, v.resumed ? `${subscription}: resumed` : `${subscription}: was not paused`));
    });
}

async function list(o: Options): Promise<number> {
  const { cycles } = await getJson<{ cycles: CycleView[] }>(resolveApi(o), '/v1/cycles');
  if (o.json) out(JSON.stringify({ cycles }, null, 2));
  else if (cycles.length === 0) out('no subscriptions');
  else {
    const rows = cycles.map((c) => ({
      subscription: c.subscription,
      cadence: c.cadence,
      timezone: c.timezone,
      from: c.override ? `override${c.override.by ? ` by ${c.override.by}` : ''}` : 'config',
      state: c.state,
      'last run (UTC)': c.lastRun ? c.lastRun.tick.slice(0, 19).replace('T', ' ') : '-',
      outcome: c.lastRun ? c.lastRun.outcome : '-',
      rows: c.lastRun ? c.lastRun.rows : '-',
      'next run (UTC)': c.nextRun ? c.nextRun.slice(0, 19).replace('T', ' ') : '-',
      lag: c.lagSeconds === null ? '?' : duration(c.lagSeconds),
      backlog: c.backlogEvents ?? '?',
    }));
    const columns = ['subscription', 'cadence', 'timezone', 'from', 'state', 'last run (UTC)', 'outcome', 'rows'];
    columns.push('next run (UTC)', 'lag');
    for (const line of renderTable([...columns, 'backlog'], rows)) out(line);
    for (const c of cycles) {
      if (c.override)
        out(`${c.subscription}: config cadence "${c.config.cadence}" (${c.config.timezone}) is overridden`);
      if (c.paused)
        out(
          `${c.subscription}: paused${c.paused.by ? ` by ${c.paused.by}` : ''} at ${c.paused.at}${c.paused.reason ? `: ${c.paused.reason}` : ''}`,
        );
      if (c.lastRun?.error) out(`${c.subscription}: last run failed: ${c.lastRun.error}`);
      if (c.backlogEvents && c.retentionLeftSeconds !== null && c.state !== 'running' && c.state !== 'idle') {
        out(
          `${c.subscription}: ${duration(Math.max(0, c.retentionLeftSeconds))} left before bus.retention.max trims changes it has not received`,
        );
      }
    }
  }
  return cycles.some((c) => c.state === 'failing') ? EXIT.NEGATIVE : EXIT.OK;
}

function show(v: CycleView, o: Options, headline: string): number {
  if (o.json) {
    out(JSON.stringify(v, null, 2));
    return EXIT.OK;
  }
  out(headline);
  const from = v.override
    ? `runtime override${v.override.by ? ` by ${v.override.by}` : ''} at ${v.override.at}; config: "${v.config.cadence}" (${v.config.timezone})`
    : 'from the config';
  out(`  cadence "${v.cadence}" (${v.timezone}), ${from}`);
  if (v.paused) out(`  paused${v.paused.reason ? `: ${v.paused.reason}` : ''}`);
  else out(`  next run ${v.nextRun ?? '-'}`);
  return EXIT.OK;
}

/** 3s, 2m05s, 1h02m, 3d04h. */
export function duration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}
