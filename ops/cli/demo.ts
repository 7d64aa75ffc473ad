import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import { formatIssue } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { demoConfigYaml } from '../demo/demo-config.ts';
import { grantOnChain, startDemoChain, type DemoChain } from '../demo/demo-chain.ts';
import { prng } from '../../engine/testing/prng.ts';
import { RELIEF_TABLE_DDL, sampleRecipient } from '../demo/sample-data.ts';
import { startWorkload } from '../demo/workload.ts';
import { EmbeddedCluster } from '../embedded/postgres-cluster.ts';
import { createLogger } from '../log/logger.ts';
import { startEngine } from '../runtime/engine.ts';
import { crashPointFromEnv } from './crash-point.ts';
import { EXIT } from './exit-codes.ts';
import { shutdownGate } from './lifecycle.ts';

interface DemoOptions {
  dataDir: string;
  cadence: string;
  rate: string;
  chain?: boolean;
}

export function demoCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('demo')
    .description('run the main job on the embedded default: sample provider DB, live workload, masked Parquet batches')
    .option('-d, --data-dir <dir>', 'state directory (embedded PostgreSQL, outputs, demo.yaml)', './.sluice')
    .option('--cadence <cron>', 'exchange cycle of the sample subscription', '*/10 * * * * *')
    .option('--rate <n>', 'workload operations per second', '5')
    .option(
      '--chain',
      'also run a local EVM (anvil from npm): the contracts decide the grant, every delivery is anchored and gets a proof for sluice verify',
    )
    .action(async (o: DemoOptions) => setCode(await demo(o)));
}

async function demo(o: DemoOptions): Promise<number> {
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const gate = shutdownGate(say);
  const log = createLogger({ level: process.env.SLUICE_LOG_LEVEL ?? 'warn' });
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  say(`sluice demo — state in ${dataDir}`);
  const cluster = new EmbeddedCluster(dataDir, log.child({ component: 'embedded-postgres' }));
  await cluster.start();
  const provider = new pg.Client({ connectionString: cluster.url('relief') });
  // A dropped connection is reported by the workload's failing steps; it must not crash the demo.
  provider.on('error', (e) => log.warn('demo provider connection error', { error: e.message }));
  let chainStarted: DemoChain | null = null;
  try {
    await cluster.ensureDatabase('relief');
    await provider.connect();
    await provider.query(RELIEF_TABLE_DDL);

    const chain = o.chain ? await startDemoChain(dataDir) : null;
    chainStarted = chain;
    if (chain) {
      say(`chain: anvil at ${chain.anvil.url} (state in ${rel(join(dataDir, 'anvil-state.json'))})`);
      say(`  SharingPolicy ${chain.policy}, DeliveryAnchor ${chain.anchor}`);
    }
    const configFile = join(dataDir, 'demo.yaml');
    writeFileSync(
      configFile,
      demoConfigYaml({
        dataDir,
        providerUrl: cluster.url('relief'),
        cadence: o.cadence,
        ...(chain
          ? {
              chain: {
                rpc: chain.anvil.url,
                policy: chain.policy,
                anchor: chain.anchor,
                provider: chain.provider,
                subscriber: chain.subscriber,
              },
            }
          : {}),
      }),
    );
    chmodSync(configFile, 0o600); // it holds the embedded server's password
    const loaded = loadConfig(configFile, { mode: 'run' });
    if (!loaded.ok) {
      for (const i of loaded.issues) process.stderr.write(formatIssue(configFile, i) + '\n');
      await provider.end();
      await cluster.stop();
      await chain?.anvil.stop();
      return EXIT.NEGATIVE;
    }
    say(`config: ${configFile} (reuse it with: npx sluice run -c ${rel(configFile)})`);
    if (chain) say(await grantOnChain(loaded.config, chain));

    let shownInspect = false;
    const engine = await startEngine(loaded.config, {
      logger: log,
      cluster,
      ...crashPointFromEnv(),
      onDelivery: (sub, result) => {
        for (const f of result.files) {
          const path = join(dataDir, 'out', sub, `${f.stem}.parquet`);
          say(`delivered ${f.rows} change${f.rows === 1 ? '' : 's'} (seq ${f.firstSeq}–${f.lastSeq}) → ${rel(path)}`);
          if (!shownInspect) {
            say(`  read it: npx sluice inspect ${rel(path)}`);
            if (chain)
              say(
                `  prove it (once anchored, a .proof.json lands beside it): npx sluice verify ${rel(path)} -c ${rel(configFile)}`,
              );
            shownInspect = true;
          }
        }
      },
    });
    // Seed after the engine created its slot, so the first rows flow as changes too.
    const { rows } = await provider.query<{ n: string }>('select count(*) as n from relief_recipients');
    if (rows[0]?.n === '0') {
      const r = prng(20261203);
      await provider.query('begin');
      for (let i = 0; i < 50; i++) {
        const p = sampleRecipient(r);
        await provider.query(
          'insert into relief_recipients (name, id_card, mobile, amount, diagnosis) values ($1,$2,$3,$4,$5)',
          [p.name, p.id_card, p.mobile, p.amount, p.diagnosis],
        );
      }
      await provider.query('commit');
      say('seeded 50 relief recipients');
    } else {
      say(`resuming: ${rows[0]?.n} relief recipients already in the provider database`);
    }
    const workload = startWorkload(provider, Number(o.rate) || 5, log);
    say(
      `workload running (~${o.rate} changes/s); batches every cycle (${o.cadence}, Asia/Shanghai) into ${rel(join(dataDir, 'out', 'audit-relief'))}/`,
    );
    say(`engine API ${engine.apiUrl}  (try: curl ${engine.apiUrl}/v1/status)  — Ctrl-C to stop`);
    say(`change stream health: npx sluice lag -c ${rel(configFile)}`);
    const code = await gate.drainOnSignal(
      async () => {
        await workload.stop();
        await provider.end();
        await engine.drain();
        await cluster.stop();
        await chain?.anvil.stop();
      },
      30_000,
      log,
    );
    process.exit(code);
  } catch (e) {
    await provider.end().catch(() => {});
    await cluster.stop();
    await chainStarted?.anvil.stop();
    throw e;
  }
}

function rel(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r;
}
