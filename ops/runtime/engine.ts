import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { emptyResult, runBatchCycle, type CyclePoint, type CycleResult } from '../../engine/delivery/batch-cycle.ts';
import { FeedMetrics } from '../metrics/feed-metrics.ts';
import { FeedRuntime } from './feeds.ts';
import { runRedelivery, type RedeliveryRequest } from '../../engine/delivery/redelivery.ts';
import { runSnapshotCycle } from '../../engine/delivery/snapshot-cycle.ts';
import { isSluiceError, SluiceError } from '../../engine/errors.ts';
import type { Logger, ResourceShape } from '../../engine/ports/index.ts';
import { pumpSource } from '../../engine/runtime/pump.ts';
import { PostgresBus } from '../../connectors/bus/postgres/postgres-bus.ts';
import { ParquetDirSink } from '../../connectors/sinks/parquet/dir-sink.ts';
import { migrate } from '../../connectors/state/postgres/migrate.ts';
import { PostgresStateStore } from '../../connectors/state/postgres/postgres-state-store.ts';
import type { Config, Row } from '../../schemas/index.ts';
import { startApi } from '../api/server.ts';
import { EmbeddedCluster } from '../embedded/postgres-cluster.ts';
import { EngineMetrics } from '../metrics/metrics.ts';
import { formatPath } from '../config/issues.ts';
import { semanticIssues } from '../config/semantic.ts';
import {
  buildSources,
  compileSubscriptions,
  cycleGrant,
  regrant,
  sourceResources,
  withConfigPath,
  type ScheduledSubscription,
} from './compile.ts';
import { RuntimeCatalog } from './runtime-catalog.ts';
import { onlineIssues } from '../config/online-checks.ts';
import { rowRules } from './row-rules.ts';
import { describeResources } from './describe-resources.ts';
import { QualityMonitor } from './quality-monitor.ts';
import { scanQuality } from './quality-scan.ts';
import { canonicalKey } from './canonical-key.ts';
import { hmacHex } from '../../engine/masking/index.ts';
import { CycleRunner, type CyclePlan } from './cycle-runner.ts';
import { BackfillNeeds } from './backfill-needs.ts';
import { cycleApi } from './cycle-api.ts';
import { stateReader } from './state-read.ts';
import { Retention } from './retention.ts';
import { subscriptionLag } from './subscription-lag.ts';
import { parseDuration } from '../config/duration.ts';
import type { EngineStatus } from './status.ts';
import type { FieldsView } from '../api/subscription-routes.ts';
import { RuntimeSubscriptions, type SubscriptionFields } from './runtime-subscriptions.ts';
import type { ShapeChange } from '../../engine/catalog/index.ts';
import { SchemaTracker } from './schema-tracker.ts';
import { DeliveryLog } from '../../engine/delivery-log/delivery-log.ts';
import { startAnchoring } from './anchoring.ts';
import { ChainPolicy } from '../../contracts/policy-client.ts';
import { chainGrant } from './chain-grants.ts';

export interface EngineOptions {
  logger: Logger;
  /** An embedded cluster the caller already started (the demo); otherwise one is started when state.url is unset. */
  cluster?: EmbeddedCluster;
  onDelivery?: (subscription: string, result: CycleResult) => void;
  /** Test hook (SLUICE_TEST_CRASH_AT): SIGKILL this process at a point of the delivery protocol. */
  crashAt?: CyclePoint;
  /**
   * Providers whose unusable replication slot (missing, invalidated, advanced by another program) is created anew at
   * start, every resource of theirs re-snapshotted (`sluice run --recover-slot`).
   */
  recoverSlot?: string[];
  /** Test hook (SLUICE_TEST_CRASH_AT=feed-published): SIGKILL once a feed range is published, before its commit. */
  crashFeed?: boolean;
}

export interface Engine {
  apiUrl: string;
  status(): Promise<EngineStatus>;
  /** Runs one cycle of a subscription now (tests, and later `sluice cycle run`). */
  runCycle(subscription: string, tick?: Date): Promise<CycleResult>;
  /** Finish the cycles in flight, flush acknowledgements, stop everything this engine started. */
  drain(): Promise<void>;
}

const ENGINE_LOCK = 0x51_1ce_0e; // session advisory lock held by the running engine

/** The composition root: config → adapters → engine; serves the API and writes runtime.json. */
export async function startEngine(cfg: Config, opts: EngineOptions): Promise<Engine> {
  const log = opts.logger;
  const dataDir = cfg.dataDir!;
  mkdirSync(dataDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse())
      await c().catch((e: unknown) => log.warn('cleanup failed', { error: String(e) }));
  };
  try {
    let stateUrl = cfg.state?.url;
    if (!stateUrl) {
      let cluster = opts.cluster;
      if (!cluster) {
        const own = new EmbeddedCluster(dataDir, log.child({ component: 'embedded-postgres' }));
        await own.start();
        cleanups.push(() => own.stop());
        cluster = own;
      }
      await cluster.ensureDatabase('sluice');
      stateUrl = cluster.url('sluice');
    }
    const pool = new pg.Pool({ connectionString: stateUrl, max: 10, connectionTimeoutMillis: 10_000 });
    pool.on('error', (e) => log.warn('state pool error', { error: e.message }));
    cleanups.push(() => pool.end());
    // One engine per state database: the lock lives as long as this session (and dies with a killed process).
    const lockClient = await pool.connect().catch((e: unknown) => {
      throw new SluiceError(
        'UNAVAILABLE',
        `state database unreachable (${cfg.state?.url ? 'state.url' : 'embedded'}): ${(e as Error).message}`,
        { cause: e },
      );
    });
    cleanups.push(async () => lockClient.release(true));
    const { rows: lock } = await lockClient.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
      ENGINE_LOCK,
    ]);
    if (!lock[0]?.ok) {
      throw new SluiceError(
        'UNAVAILABLE',
        'another Sluice engine is already running on this state database; stop it first',
      );
    }
    const applied = await migrate(lockClient);
    if (applied.length) log.info('state migrations applied', { versions: applied });
    const bus = new PostgresBus(pool);
    const state = new PostgresStateStore(pool);
    // Schema versions, and every column each stream carried: a configured column the table no longer has was dropped
    // (its subscriptions go on without it), not mistyped. A change is logged with the subscriptions it concerns.
    const schemas = await SchemaTracker.load(
      state,
      cfg.resources.map((r) => r.id),
      (resource, change, version) => logShapeChange(resource, change, version),
    );
    const streamed = (resource: string) => schemas.streamed(resource);
    // Runtime classifications (sluice classify) apply on top of the config; a change re-binds the provider's source
    // (the column enters or leaves the platform from the stored position on) and re-decides its subscriptions.
    const catalog = new RuntimeCatalog(
      cfg,
      state,
      async (resource, before) => {
        const now = runtimeConfig();
        const regranted: ScheduledSubscription[] = [];
        for (const sub of subs.values()) {
          if (sub.resource !== resource.id) continue;
          const had = sub.fields.map((f) => f.name).join();
          regrant(sub, now);
          if (sub.fields.map((f) => f.name).join() !== had) regranted.push(sub);
        }
        const columns = (r: typeof resource) => JSON.stringify(sourceResources({ resources: [r] }, r.provider));
        if (columns(resource) !== columns(before)) {
          const source = sources.find((x) => x.id === resource.provider);
          source?.reconfigure(sourceResources(now, resource.provider, streamed));
          log.info('classification changed: source re-binds', { resource: resource.id, provider: resource.provider });
        }
        // the granted fields are recorded as they change: one granted again (or for the first time) is backfilled —
        // the subscription gets its current values, the need stored first
        for (const sub of regranted) await needs.register(sub, 0n);
        if (regranted.length > 0) needs.schedule();
      },
      (resource) => reportsOf(resource),
      describeResources,
      streamed,
    );
    // Operators' runtime changes to subscriptions (sluice fields) apply on top of both; a change re-decides the grant,
    // and a field granted anew is backfilled.
    const subscriptionsRt = new RuntimeSubscriptions(state, async (id, setting) => {
      if (setting !== 'fields') {
        // a new cadence, a pause or a resume: re-scheduled at once (set once the engine runs; changes come later)
        const c = subscriptionsRt.cycle(catalog.config(), id);
        if (feeds.rt?.has(id)) {
          feeds.rt.setPaused(id, c.paused !== undefined);
          log.info(c.paused ? 'feed paused' : 'feed resumed', { subscription: id });
          return;
        }
        log.info(
          setting === 'paused' ? (c.paused ? 'subscription paused' : 'subscription resumed') : 'cadence changed',
          {
            subscription: id,
            cadence: c.cadence,
            timezone: c.timezone,
            ...(c.paused?.reason ? { reason: c.paused.reason } : {}),
          },
        );
        await cycles.runner?.apply(planOf(id));
        return;
      }
      const sub = subs.get(id)!;
      regrant(sub, runtimeConfig());
      await needs.register(sub, 0n);
      log.info('subscription fields changed', { subscription: id, granted: sub.fields.map((f) => f.name) });
      if (needs.has(id)) needs.kick();
    });
    const runtimeConfig = () => subscriptionsRt.apply(catalog.config());
    /** How a subscription's cycle is scheduled now: cadence (config or override) and pause. */
    const planOf = (id: string): CyclePlan => {
      const c = subscriptionsRt.cycle(catalog.config(), id);
      return { id, cadence: c.cadence, timezone: c.timezone, paused: c.paused !== undefined };
    };
    const cycles: { runner?: CycleRunner } = {}; // (set once the engine runs; overrides change later)
    const feeds: { rt?: FeedRuntime } = {}; // (likewise)
    await catalog.load();
    await subscriptionsRt.load();
    const effective = runtimeConfig();
    const grantErrors = semanticIssues(effective).filter((i) => i.severity === 'error');
    if (grantErrors.length > 0) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `with runtime classifications and subscription changes applied: ${grantErrors.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
        { details: { issues: grantErrors } },
      );
    }

    const subs = compileSubscriptions(effective);
    // with a chain, SharingPolicy decides each subscription's grant (the local evaluator otherwise)
    const chainPolicy = cfg.chain ? new ChainPolicy({ rpc: cfg.chain.rpc, address: cfg.chain.policy }) : null;
    if (chainPolicy) cleanups.push(async () => chainPolicy.close());
    for (const sub of subs.values()) {
      const local = cycleGrant(
        () => runtimeConfig(),
        sub.id,
        () => state.fieldUsage(sub.id),
      );
      sub.grant = chainPolicy
        ? chainGrant({
            policy: chainPolicy,
            subscription: sub.id,
            fields: () => runtimeConfig().subscriptions.find((x) => x.id === sub.id)!.fields,
            resource: () => runtimeConfig().resources.find((r) => r.id === sub.resource)!,
            local,
            usage: () => state.fieldUsage(sub.id),
            onOutage: cfg.chain?.onOutage ?? 'cached',
            logger: log.child({ component: 'chain' }),
          })
        : local;
    }
    const metrics = new EngineMetrics({
      pool,
      subscriptions: [...subs.values()].map((s) => ({ id: s.id, resource: s.resource })),
      sources: () => sources.map((s) => s.status()),
      paused: (id) => subscriptionsRt.isPaused(id),
    });
    // Keys in reports and logs go through the subscriber-independent hash (DESIGN.md: errors name keys masked).
    const platformKey = await state.subscriptionKey('_platform');
    const maskKey = (key: Row) => hmacHex(platformKey, canonicalKey(key)).slice(0, 16);
    const quality = new QualityMonitor(
      state,
      maskKey,
      (resource, check, n) => metrics.onQualityFailure(resource, check, n),
      log.child({ component: 'quality' }),
    );
    cleanups.push(() => quality.close());
    /** A resource's quality: the last scan (stored) and the stream's live report. */
    const reportsOf = async (resource: string) => {
      const live = quality.report(resource);
      const stored = await state.qualityReports(resource);
      return [...stored.filter((r) => r.source === 'scan' || !live), ...(live ? [live] : [])];
    };

    // sources
    const abort = new AbortController();
    const pumps: Promise<void>[] = [];
    const unknown = (opts.recoverSlot ?? []).filter((id) => !cfg.providers.some((p) => p.id === id));
    if (unknown.length > 0) {
      throw new SluiceError(
        'USAGE',
        `--recover-slot: no provider ${unknown.map((u) => `"${u}"`).join(', ')} in the config (providers: ${cfg.providers.map((p) => p.id).join(', ')})`,
      );
    }
    const sources = buildSources(effective, log, streamed, opts.recoverSlot);
    const retryNow = new Map<string, () => void>(); // per source: cut its pump's back-off short
    cleanups.push(async () => {
      abort.abort();
      await Promise.allSettled(pumps);
      await Promise.all(sources.map((s) => s.close()));
    });
    // A source reports shapes at each start and whenever its stream brings a new one (a DDL): each is recorded as a
    // schema version (a Parquet file holds one), and a change is logged with what it means for the subscriptions.
    const register = async (reported: ResourceShape[]) => {
      const versions: number[] = [];
      for (const shape of reported) {
        const version = await schemas.register(shape);
        versions.push(version);
        metrics.onSchema(shape.resource, version);
        await quality.bind(catalog.resource(shape.resource), shape);
      }
      return versions;
    };
    function logShapeChange(resource: string, change: ShapeChange, version: number) {
      const affected = (names: string[]) =>
        runtimeConfig()
          .subscriptions.filter((s) => s.resource === resource && s.fields.some((f) => names.includes(f)))
          .map((s) => s.id);
      log.warn('resource schema changed', {
        resource,
        schemaVersion: version,
        ...(change.added.length ? { added: change.added } : {}),
        ...(change.dropped.length
          ? { dropped: change.dropped, subscriptionsWithoutThem: affected(change.dropped) }
          : {}),
        ...(change.retyped.length
          ? {
              retyped: change.retyped.map((r) => `${r.name}: ${r.from} → ${r.to}`),
              subscriptionsRetyped: affected(change.retyped.map((r) => r.name)),
            }
          : {}),
      });
    }
    // Wait for each source's first start attempt, so that once the engine is up every reachable source has its
    // slot and no change made from then on can be missed. An unreachable provider keeps retrying in the background;
    // a configuration that cannot work (a missing table or column, wal_level, privileges, a vanished slot) stops
    // the start with the config path named (DESIGN.md: run start checks like `validate --online`).
    const firstErrors = await Promise.all(
      sources.map(
        (source) =>
          new Promise<unknown>((onFirstAttempt) => {
            const pumpLog = log.child({ component: 'pump', sourceId: source.id });
            pumps.push(
              pumpSource(source, bus, pumpLog, abort.signal, {
                register,
                onFirstAttempt,
                retryNow: (wake) => retryNow.set(source.id, wake),
                observe: (events) => {
                  quality.observe(events);
                  feeds.rt?.appended(events);
                },
              }),
            );
          }),
      ),
    );
    const fatal = firstErrors.find((e) => isSluiceError(e) && !e.retriable && e.code !== 'UNAVAILABLE');
    if (fatal) throw withConfigPath(cfg, fatal as SluiceError);
    // What `validate --online` checks (filter types, REPLICA IDENTITY for filters), against the reachable providers.
    const online = onlineIssues(effective, await describeResources(effective), streamed).filter(
      (i) => i.severity === 'error' && i.path[0] !== 'providers',
    );
    if (online.length > 0) {
      throw new SluiceError('CONFIG_INVALID', online.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '), {
        details: { issues: online },
      });
    }
    for (const sub of subs.values()) {
      const s = cfg.subscriptions.find((x) => x.id === sub.id)!;
      sub.rowRules = rowRules(() => catalog.resource(sub.resource), s.filter);
    }

    // snapshots: a resnapshot of a resource (every subscription), a backfill of one subscription
    const sourceOf = (resource: string) => {
      const r = catalog.resource(resource); // NOT_FOUND for an unknown one
      return sources.find((x) => x.id === r.provider)!;
    };
    const requestSnapshot = async (resource: string, subscription?: string) => {
      const source = sourceOf(resource);
      if (source.needsRecovery) {
        // the slot cannot be resumed: a re-snapshot of one resource is the recovery of all of them (one slot)
        if (subscription) {
          throw new SluiceError(
            'UNAVAILABLE',
            `provider "${source.id}" cannot stream: its replication slot is unusable; recover it first with sluice resnapshot ${resource}`,
            { details: { provider: source.id } },
          );
        }
        log.warn('slot recovery requested', { provider: source.id, resource });
        const runs = await source.recover(retryNow.get(source.id));
        const run = runs.find((r) => r.resource === resource);
        if (run) return run;
        // the slot was usable after all (repaired by hand): an ordinary re-snapshot
      }
      const run = await source.snapshot({
        resource,
        reason: subscription ? 'backfill' : 'resnapshot',
        ...(subscription ? { subscription } : {}),
      });
      if (subscription) await state.backfillRequested(subscription);
      return run;
    };
    // backfills a subscription needs (new on a resource with data, fields grown, trimmed past): stored, requested
    const needs = new BackfillNeeds({
      state,
      subscription: (id) => subs.get(id)!,
      request: (sub) => requestSnapshot(sub.resource, sub.id),
      log,
    });
    cleanups.push(async () => needs.close());
    const attaching = new Set(sources.flatMap((x) => x.unattached()));
    for (const sub of subs.values()) {
      // a resource still in its initial snapshot: everything since its attach is on the bus, read it from the start
      await needs.register(sub, attaching.has(sub.resource) ? 0n : await bus.head(sub.resource));
    }
    await needs.requestAll();
    needs.schedule();

    // subscriptions
    const sink = new ParquetDirSink((id) => {
      const d = cfg.subscriptions.find((s) => s.id === id)!.delivery;
      if (d.mode !== 'batch') throw new SluiceError('INTERNAL', `subscription "${id}" is a feed: it writes no files`);
      return d.dir;
    });
    cleanups.push(() => sink.close()); // runs after the scheduler has drained (cleanups run in reverse)
    const crash = opts.crashAt;
    const cycleDeps = {
      bus,
      state,
      sink,
      // retention trimmed changes a subscription had not received: the need of a backfill is stored before the
      // cycle moves past them, then requested
      // snapshot mode: the source reads the subscription's current state into the bus (a backfill for it alone)
      backfill: stateReader({ bus, sourceOf, request: requestSnapshot }),
      onGap: async (id: string, gap: { first: bigint; last: bigint }) => {
        metrics.onGap(id);
        await needs.require(id, `changes _seq ${gap.first}-${gap.last} trimmed by retention before delivery`);
      },
      logger: log.child({ component: 'delivery' }),
      ...(crash
        ? { checkpoint: (p: CyclePoint) => (p === crash ? process.kill(process.pid, 'SIGKILL') : undefined) }
        : {}),
    };
    // One cycle at a time per subscription, whoever asks (the scheduler or runCycle); subscriptions never wait
    // for each other. At drain, `stopping` lets the cycle in flight finish its current file and start no other.
    const stopping = new AbortController();
    const chains = new Map<string, Promise<unknown>>();
    const runCycleNow = async (id: string, tick: Date) => {
      const sub = subs.get(id);
      if (!sub) throw new Error(`unknown subscription "${id}"`);
      const t0 = performance.now();
      try {
        const run = sub.incremental === 'snapshot' ? runSnapshotCycle : runBatchCycle;
        const result = await run(sub, tick, { ...cycleDeps, stopping: stopping.signal }, abort.signal);
        metrics.onCycle(id, sub.resource, result, (performance.now() - t0) / 1000);
        delete sub.lastError;
        sub.denied = result.denied;
        for (const d of result.denied) metrics.onDenial(d.reason);
        if (result.files.length > 0) opts.onDelivery?.(id, result);
        return result;
      } catch (e) {
        sub.lastError = (e as Error).message;
        metrics.onCycleFailure(id);
        throw e;
      }
    };
    /** Runs `job` after whatever this subscription is running (cycles, re-deliveries): never two at once. */
    const inTurn = <T>(id: string, job: () => Promise<T>): Promise<T> => {
      const next = (chains.get(id) ?? Promise.resolve()).catch(() => {}).then(job);
      chains.set(id, next);
      return next;
    };
    const runCycle = (id: string, tick = new Date()): Promise<CycleResult> => inTurn(id, () => runCycleNow(id, tick));
    const redeliver = (id: string, req: RedeliveryRequest | null) =>
      inTurn(id, async () => {
        const sub = subs.get(id);
        if (!sub) throw new SluiceError('NOT_FOUND', `unknown subscription "${id}"`);
        if (sub.feed) {
          if (!req) return emptyResult();
          throw new SluiceError(
            'CONFLICT',
            `subscription "${id}" is a live feed: replay it from its JetStream stream (any consumer can start at a sequence or time), or its dead letters with sluice dlq replay`,
            { details: { subscription: id } },
          );
        }
        const result = await runRedelivery(sub, req, { ...cycleDeps, stopping: stopping.signal }, abort.signal);
        metrics.onRedelivery(id, result);
        if (result.files.length > 0) opts.onDelivery?.(id, result);
        return result;
      });
    // re-deliveries left open by a crash are finished first (same bytes), in turn with the cycles
    for (const id of subs.keys()) {
      void redeliver(id, null).catch((e: unknown) =>
        log.error('re-delivery could not be finished', { subscription: id, error: (e as Error).message }),
      );
    }
    const runner = new CycleRunner({
      state,
      run: runCycle,
      log: log.child({ component: 'scheduler' }),
      onSkip: (id) => metrics.onTickSkipped(id),
      ready: async (id, signal) => {
        const provider = subs.get(id)!.provider;
        await sources.find((x) => x.id === provider)?.caughtUp(signal);
      },
    });
    cycles.runner = runner;
    cleanups.push(() => runner.drain());
    const caughtUp = await runner.start([...subs.values()].filter((s) => !s.feed).map((s) => planOf(s.id)));
    // live feeds: one loop each, woken by appends to their resource
    const feedRuntime = new FeedRuntime({
      subscriptions: [...subs.values()].filter((s) => s.feed),
      bus,
      state,
      log: log.child({ component: 'feed' }),
      metrics: new FeedMetrics(metrics.registry),
      paused: (id) => subscriptionsRt.isPaused(id),
      onGap: cycleDeps.onGap,
      ...(opts.crashFeed ? { checkpoint: () => process.kill(process.pid, 'SIGKILL') } : {}),
    });
    feeds.rt = feedRuntime;
    feedRuntime.start();
    cleanups.push(() => feedRuntime.stop());
    const retention = new Retention({
      bus,
      state,
      policy: retentionPolicy(cfg),
      resources: () =>
        cfg.resources.map((r) => ({
          resource: r.id,
          subscriptions: [...subs.values()].filter((s) => s.resource === r.id).map((s) => s.id),
        })),
      lagSeconds: async (id) => (await subscriptionLag(pool, subs.get(id)!.resource, id)).lagSeconds,
      log: log.child({ component: 'retention' }),
      onTrimmed: (resource, n) => metrics.onTrimmed(resource, n),
      onRetentionLeft: (id, s) => metrics.onRetentionLeft(id, s),
    });
    retention.start();
    cleanups.push(() => retention.stop());

    // the delivery log, anchored on chain when one is configured (issue 8)
    const deliveryLog = new DeliveryLog(state);
    const chain = cfg.chain;
    const anchoring = chain
      ? startAnchoring({
          chain,
          log: deliveryLog,
          state,
          logger: log.child({ component: 'anchor' }),
          registry: metrics.registry,
          dirOf: (id) => {
            const d = cfg.subscriptions.find((s) => s.id === id)?.delivery;
            return d?.mode === 'batch' ? d.dir : undefined;
          },
          subscriptions: () => cfg.subscriptions.map((s) => s.id),
        })
      : null;
    if (anchoring) cleanups.push(() => anchoring.stop());

    cleanups.push(async () => stopping.abort()); // runs first at drain

    /** The fields a subscription asks for now (the config's, or a runtime override). */
    const askedFor = (id: string) => runtimeConfig().subscriptions.find((x) => x.id === id)!.fields;
    const fieldsOf = (id: string) => {
      const f = subscriptionsRt.fields(catalog.config(), id);
      return {
        fields: f.fields,
        ...(f.override
          ? { fieldsOverride: { ...(f.override.by ? { by: f.override.by } : {}), at: f.override.at } }
          : {}),
      };
    };
    const droppedOf = (id: string, resource: string): { dropped?: string[] } => {
      const dropped = schemas.dropped(resource, askedFor(id));
      return dropped.length > 0 ? { dropped } : {};
    };
    /** A subscription's fields with what the grant makes of them now, and a backfill still to come. */
    const withGrant = (f: SubscriptionFields): FieldsView => {
      const sub = subs.get(f.subscription)!;
      return { ...f, granted: sub.fields.map((g) => g.name), denied: sub.denied };
    };
    const schemaHistory = async (resource: string) => {
      catalog.resource(resource); // NOT_FOUND for an unknown one
      const of = [...subs.values()].filter((s) => s.resource === resource);
      return schemas.history(
        resource,
        of.map((s) => ({ id: s.id, fields: askedFor(s.id) })),
      );
    };
    const cadenceOf = (id: string) => {
      const c = subscriptionsRt.cycle(catalog.config(), id);
      return {
        cadence: c.cadence,
        timezone: c.timezone,
        ...(c.override ? { cadenceOverride: c.override } : {}),
        ...(c.paused ? { paused: c.paused } : {}),
      };
    };
    const status = async (): Promise<EngineStatus> => {
      let stateOk: EngineStatus['state'] = { ok: true };
      try {
        await pool.query('select 1');
      } catch (e) {
        stateOk = { ok: false, error: (e as Error).message };
      }
      return {
        pid: process.pid,
        startedAt,
        state: stateOk,
        sources: sources.map((s) => s.status()),
        ...(anchoring ? { anchor: anchoring.status() } : {}),
        subscriptions: await Promise.all(
          [...subs.values()].map(async (s) => {
            const cursor = stateOk.ok ? await state.cursor(s.id) : { seq: 0n, lastTick: null };
            const feed = feedRuntime.status(s.id);
            return {
              id: s.id,
              resource: s.resource,
              mode: s.feed ? ('feed' as const) : ('batch' as const),
              ...cadenceOf(s.id),
              ...(feed ? { feed: { transport: s.feed!.kind, ...feed } } : {}),
              cursorSeq: cursor.seq.toString(),
              lastTick: cursor.lastTick,
              nextRun: runner.nextRun(s.id)?.toISOString() ?? null,
              running: runner.running(s.id),
              deliveries: stateOk.ok ? await state.deliveryCount(s.id) : 0,
              ...(s.lastError ? { lastError: s.lastError } : {}),
              denied: s.denied,
              ...fieldsOf(s.id),
              ...droppedOf(s.id, s.resource),
            };
          }),
        ),
      };
    };
    const api = await startApi({
      listen: cfg.api?.listen ?? '127.0.0.1:7300',
      status,
      metrics: metrics.registry,
      catalog,
      snapshots: {
        list: async () => sources.flatMap((x) => x.status().snapshots ?? []),
        resnapshot: (resource) => requestSnapshot(resource),
        backfill: async (id) => {
          const sub = subs.get(id);
          if (!sub) throw new SluiceError('NOT_FOUND', `unknown subscription "${id}"`);
          return requestSnapshot(sub.resource, id);
        },
      },
      schemas: { history: schemaHistory },
      subscriptions: {
        fields: async (id) => withGrant(subscriptionsRt.fields(catalog.config(), id)),
        setFields: async (id, fields, by) => {
          const had = new Set(subs.get(id)?.fields.map((g) => g.name));
          const view = withGrant(await subscriptionsRt.setFields(catalog.config(), id, fields, by));
          const added = view.granted.filter((g) => !had.has(g));
          return added.length > 0 ? { ...view, backfill: `fields added: ${added.join(', ')}` } : view;
        },
        resetFields: async (id) => {
          const removed = await subscriptionsRt.resetFields(catalog.config(), id);
          return { removed, ...withGrant(subscriptionsRt.fields(catalog.config(), id)) };
        },
      },
      cycles: cycleApi({
        runner,
        overrides: subscriptionsRt,
        config: () => catalog.config(),
        resourceOf: (id) => subs.get(id)!.resource,
        pool,
        redeliver,
        isFeed: (id) => subs.get(id)?.feed !== undefined,
        retentionMaxMs: retentionPolicy(cfg).maxMs,
      }),
      log: deliveryLog,
      dlq: {
        list: (id) => feedRuntime.deadLetters(id),
        replay: (id) => feedRuntime.replay(id),
        skip: (id, eventId) => feedRuntime.skip(id, eventId),
      },
      rotateKey: async (id, kind) => {
        if (!subs.has(id)) throw new SluiceError('NOT_FOUND', `unknown subscription "${id}"`);
        const { version } = await state.rotateSecret(id, kind);
        log.info('subscription key rotated', { subscription: id, kind, version });
        return { version };
      },
      quality: {
        reports: async (resource) => {
          catalog.resource(resource); // NOT_FOUND for an unknown one
          return reportsOf(resource);
        },
        scan: async (resource) => {
          const r = catalog.resource(resource);
          const provider = cfg.providers.find((p) => p.id === r.provider)!;
          const described = (await describeResources({ providers: [provider], resources: [r] })).get(r.id);
          if (!described || described instanceof Error) {
            throw new SluiceError('UNAVAILABLE', `cannot scan "${resource}": ${described?.message ?? 'not described'}`);
          }
          const report = await scanQuality({ url: provider.connector.url, resource: r, described, maskKey });
          await state.saveQualityReport(report);
          for (const c of report.counts)
            log.info('quality scan', { resource, check: c.check, column: c.column, failures: c.failures });
          return report;
        },
      },
    });
    cleanups.push(() => api.close());
    const runtimeFile = join(dataDir, 'runtime.json');
    // written whole, then renamed: a CLI (or a test) reading it never sees it half-written
    writeFileSync(
      `${runtimeFile}.tmp`,
      JSON.stringify({ apiUrl: api.url, pid: process.pid, startedAt }, null, 2) + '\n',
    );
    renameSync(`${runtimeFile}.tmp`, runtimeFile);
    cleanups.push(async () => rmSync(runtimeFile, { force: true }));
    log.info('engine running', {
      api: api.url,
      subscriptions: [...subs.keys()],
      ...(caughtUp.length > 0 ? { caughtUp } : {}),
    });

    let drained: Promise<void> | null = null;
    return {
      apiUrl: api.url,
      status,
      runCycle: (id, tick) => runner.runNow(id, tick),
      drain: () => (drained ??= cleanup()),
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** `bus.retention` with its defaults: delivered changes kept 7 days, none longer than 30. */
function retentionPolicy(cfg: Config) {
  const r = cfg.bus?.retention;
  return {
    keepDeliveredMs: parseDuration(r?.keepDelivered, 7 * 86_400_000),
    maxMs: parseDuration(r?.max, 30 * 86_400_000),
  };
}
