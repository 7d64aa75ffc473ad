import test from 'ava';
import type { BatchDeliveryConfig } from '../schemas/index.ts';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { silentLogger } from '../engine/ports/index.ts';
import type { CycleView } from '../ops/api/cycle-routes.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { waitFor } from './helpers/postgres.ts';
import { busHead, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

const YEARLY = '0 0 1 1 *';
const server = sharedPostgres('sluice-cycles-');
const works: string[] = [];
server.cleanup(() => {
  for (const w of works) rmSync(w, { recursive: true, force: true });
});

/** A provider and state database of its own, the relief config (yearly cadence: nothing runs unless told). */
async function setup(name: string) {
  const f = await reliefFixture(server(), name, 0, YEARLY);
  works.push(f.work);
  const { cfg: config, provider, state } = f;
  config.providers[0]!.connector.snapshot = { mode: 'never' };
  const configFile = join(f.work, 'sluice.yaml');
  writeFileSync(configFile, stringify(config));
  const out = join(f.outDir, 'audit-relief');
  let nextId = 1;
  return {
    config,
    configFile,
    provider,
    state,
    start: () => startEngine(config, { logger: silentLogger }),
    manifests: () => {
      try {
        return readdirSync(out)
          .filter((m) => m.endsWith('.manifest.json'))
          .sort();
      } catch {
        return [];
      }
    },
    parquet: (manifest: string) => join(out, manifest.replace('.manifest.json', '.parquet')),
    insert: async (n: number) => {
      const ids = Array.from({ length: n }, () => nextId++);
      await provider.query(
        `insert into relief_recipients (id, name, amount) select g, '张' || g, 1 from unnest($1::bigint[]) g`,
        [ids],
      );
      return ids;
    },
    busHead: () => busHead(state),
  };
}

async function sluice(args: string[], configFile: string) {
  const p = spawnSluice([...args, '-c', configFile]);
  const { code } = await exitWithin(p, 30_000);
  return { code, out: p.output() };
}

async function cycleOf(engine: Engine): Promise<CycleView> {
  const res = await fetch(`${engine.apiUrl}/v1/subscriptions/audit-relief/cycle`);
  return (await res.json()) as CycleView;
}

test.serial(
  'a cadence set at runtime takes effect on the next tick, survives a restart as an override; reset returns to the config',
  async (t) => {
    const s = await setup('cadence');
    let engine = await s.start();
    try {
      await s.insert(3);
      await waitFor('3 changes on the bus', async () => (await s.busHead()) >= 3);
      t.deepEqual(s.manifests(), [], 'the yearly cadence has not run');

      const set = await sluice(['cycle', 'set', 'audit-relief', '*/2 * * * * *', '--by', 'ops'], s.configFile);
      t.is(set.code, 0, set.out);
      t.regex(set.out, /runtime override by ops at .*; config: "0 0 1 1 \*" \(Asia\/Shanghai\)/);
      await waitFor('a file from the new cadence', async () => s.manifests().length === 1, 10_000);

      const listed = await sluice(['cycles', '--json'], s.configFile);
      t.is(listed.code, 0, listed.out);
      const [c] = (JSON.parse(listed.out) as { cycles: CycleView[] }).cycles;
      t.is(c!.cadence, '*/2 * * * * *');
      t.is(c!.timezone, 'Asia/Shanghai', "the config's time zone stays");
      t.is(c!.override?.by, 'ops');
      t.deepEqual(c!.config, { cadence: YEARLY, timezone: 'Asia/Shanghai' });
      // the run that delivered, or a later tick of the 2 s cadence that found nothing new
      if (c!.lastRun?.outcome === 'delivered') t.is(c!.lastRun.rows, 3);
      else t.is(c!.lastRun?.outcome, 'empty');
      t.is(c!.backlogEvents, 0);
      t.is(c!.lagSeconds, 0);
      t.true(Date.parse(c!.nextRun!) - Date.now() <= 2_500, c!.nextRun!);
      const table = await sluice(['cycles'], s.configFile);
      t.regex(table.out, /audit-relief\s+\*\/2 \* \* \* \* \*\s+Asia\/Shanghai\s+override by ops\s+(idle|running)/);
      t.regex(table.out, /config cadence "0 0 1 1 \*" \(Asia\/Shanghai\) is overridden/);

      // bad input is refused with what was wrong; nothing changes
      const bad = await sluice(['cycle', 'set', 'audit-relief', '*/2 * *'], s.configFile);
      t.is(bad.code, 2);
      t.regex(bad.out, /delivery\.cadence: bad cron expression "\*\/2 \* \*"/);
      const zone = await sluice(['cycle', 'set', 'audit-relief', '0 * * * *', '--timezone', 'Mars/Base'], s.configFile);
      t.is(zone.code, 2);
      t.regex(zone.out, /delivery\.timezone: unknown time zone "Mars\/Base"/);
      const unknown = await sluice(['cycle', 'set', 'nope', '0 * * * *'], s.configFile);
      t.is(unknown.code, 1);
      t.regex(unknown.out, /unknown subscription "nope"/);
      t.is((await cycleOf(engine)).cadence, '*/2 * * * * *');

      // a restart keeps the override: the next change is delivered on the runtime cadence, not the config's
      await engine.drain();
      engine = await s.start();
      t.is((await cycleOf(engine)).override?.by, 'ops');
      await s.insert(1);
      await waitFor('a file after the restart', async () => s.manifests().length === 2, 15_000);

      const reset = await sluice(['cycle', 'reset', 'audit-relief'], s.configFile);
      t.is(reset.code, 0, reset.out);
      t.regex(reset.out, /back to the config's cadence/);
      const after = await cycleOf(engine);
      t.is(after.cadence, YEARLY);
      t.is(after.override, undefined);
      t.regex(after.nextRun!, /-12-31T16:00:00\.000Z$/, '1 January 00:00 in Shanghai');
      const again = await sluice(['cycle', 'reset', 'audit-relief'], s.configFile);
      t.regex(again.out, /no override/);
    } finally {
      await engine.drain();
    }
  },
);

test.serial(
  'pause: no tick runs and a run on request is refused, also after a restart; resume delivers what waited',
  async (t) => {
    const s = await setup('pause');
    let engine = await s.start();
    try {
      t.is((await sluice(['cycle', 'set', 'audit-relief', '* * * * * *'], s.configFile)).code, 0);
      const paused = await sluice(
        ['pause', 'audit-relief', '--reason', 'suspected misuse', '--by', 'supervisor'],
        s.configFile,
      );
      t.is(paused.code, 0, paused.out);
      t.regex(paused.out, /paused: suspected misuse/);
      const ids = await s.insert(4);
      await waitFor('4 changes on the bus', async () => (await s.busHead()) >= 4);
      await new Promise((r) => setTimeout(r, 2_500)); // two ticks of the cadence
      t.deepEqual(s.manifests(), []);

      const run = await sluice(['cycle', 'run', 'audit-relief'], s.configFile);
      t.is(run.code, 1);
      t.regex(run.out, /subscription "audit-relief" is paused; `sluice resume audit-relief` first/);
      const c = await cycleOf(engine);
      t.is(c.state, 'paused');
      t.is(c.nextRun, null);
      t.is(c.paused?.reason, 'suspected misuse');
      t.is(c.paused?.by, 'supervisor');
      t.is(c.backlogEvents, 4);
      const metrics = await (await fetch(`${engine.apiUrl}/metrics`)).text();
      t.regex(metrics, /sluice_subscription_paused\{subscription="audit-relief"\} 1/);
      const status = (await (await fetch(`${engine.apiUrl}/v1/status`)).json()) as {
        subscriptions: { paused?: { reason?: string } }[];
      };
      t.is(status.subscriptions[0]!.paused?.reason, 'suspected misuse');

      await engine.drain();
      engine = await s.start();
      t.is((await cycleOf(engine)).state, 'paused', 'the pause survives a restart');
      await new Promise((r) => setTimeout(r, 1_500));
      t.deepEqual(s.manifests(), []);

      const resumed = await sluice(['resume', 'audit-relief'], s.configFile);
      t.is(resumed.code, 0, resumed.out);
      t.regex(resumed.out, /audit-relief: resumed/);
      await waitFor('the waiting changes delivered', async () => s.manifests().length === 1, 10_000);
      const { rows } = await readWithDuckDB(s.parquet(s.manifests()[0]!), 'select id::int as id from t order by id');
      t.deepEqual(
        rows.map((r) => r.id),
        ids,
      );
      t.regex((await sluice(['resume', 'audit-relief'], s.configFile)).out, /was not paused/);
    } finally {
      await engine.drain();
    }
  },
);

test.serial(
  'a tick missed while the engine was down is caught up as one run at start, with the changes made meanwhile',
  async (t) => {
    const s = await setup('catchup');
    // once a minute, at a second 8 s from now: the engine stops before it, restarts after it, and the next regular
    // tick is ~a minute away — a delivery soon after the restart can only be the catch-up run
    const second = (new Date().getUTCSeconds() + 8) % 60;
    (s.config.subscriptions[0]!.delivery as BatchDeliveryConfig).cadence = `${second} * * * * *`;
    let engine = await s.start();
    const due = Date.parse((await cycleOf(engine)).nextRun!);
    await engine.drain();
    // while the engine is down: enough that streaming them takes a while after the restart, so a catch-up run that
    // did not wait for its source would miss some
    const ids = await s.insert(100_000);
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now()) + 1_000));
    const restarted = Date.now();
    engine = await s.start();
    try {
      await waitFor('the catch-up file', async () => s.manifests().length === 1, 20_000);
      const { rows } = await readWithDuckDB(
        s.parquet(s.manifests()[0]!),
        'select count(*)::int as n, min(id)::int as lo, max(id)::int as hi from t',
      );
      t.deepEqual(rows[0], { n: ids.length, lo: ids[0], hi: ids.at(-1) }, 'every change made while down is in it');
      const c = await cycleOf(engine);
      t.is(c.lastRun?.outcome, 'delivered');
      t.true(Math.abs(Date.parse(c.lastRun!.tick) - restarted) < 5_000, 'labelled with the restart');
      t.true(Date.parse(c.nextRun!) > Date.now(), 'the regular schedule goes on');
      await new Promise((r) => setTimeout(r, 1_000));
      t.is(s.manifests().length, 1, 'one run, not one per missed tick');
    } finally {
      await engine.drain();
    }
  },
);
