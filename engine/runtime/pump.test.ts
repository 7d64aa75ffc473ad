import test from 'ava';
import type { SourceEvent } from '../../schemas/index.ts';
import type { ChangeBatch, ResourceShape, Source, SourceStatus } from '../ports/index.ts';
import { silentLogger } from '../ports/index.ts';
import { MemoryBus } from '../testing/index.ts';
import { pumpSource } from './pump.ts';

const SHAPE: ResourceShape = {
  resource: 'people',
  key: ['id'],
  columns: [{ name: 'id', type: { kind: 'int64' }, sourceType: 'bigint' }],
  layout: 0,
};

function event(i: number): SourceEvent {
  return {
    resource: 'people',
    op: 'c',
    key: { id: String(i) },
    after: { id: String(i) },
    position: `00000000/${String(i).padStart(8, '0')}:0000000000`,
    commitTs: '2026-12-03T16:00:00.000000Z',
    txId: String(i),
    schemaVersion: 0,
  };
}

/** A scripted source: yields the given batches once per read, records starts and commits. */
class ScriptedSource implements Source {
  readonly id = 'prov';
  starts = 0;
  commits: string[] = [];
  failStarts = 0;
  constructor(private readonly batches: ChangeBatch[]) {}
  async start(): Promise<ResourceShape[]> {
    this.starts++;
    if (this.failStarts-- > 0) throw new Error('provider unreachable');
    return [SHAPE];
  }
  async *read(opts: { signal: AbortSignal }): AsyncIterable<ChangeBatch> {
    for (const b of this.batches) yield structuredClone(b);
    await new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  async commit(checkpoint: string): Promise<void> {
    this.commits.push(checkpoint);
  }
  status(): SourceStatus {
    return { id: this.id, state: 'STREAMING', confirmed: this.commits.at(-1) ?? null, received: null };
  }
  async close(): Promise<void> {}
}

const batch = (from: number, to: number, checkpoint: string): ChangeBatch => {
  const events = Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
  return { events, checkpoint };
};

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

test('a checkpoint is confirmed to the source only after the append that covers it is durable', async (t) => {
  const bus = new MemoryBus();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const append = bus.append.bind(bus);
  bus.append = async (...args) => {
    await gate;
    return append(...args);
  };
  const source = new ScriptedSource([batch(1, 3, '0/A')]);
  const abort = new AbortController();
  const run = pumpSource(source, bus, silentLogger, abort.signal, { register: async () => [7] });
  await new Promise((r) => setTimeout(r, 30));
  t.deepEqual(source.commits, [], 'nothing confirmed while the append is pending');
  release();
  await until(() => source.commits.length > 0);
  t.deepEqual(source.commits, ['0/A']);
  t.is(await bus.head('people'), 3n);
  const [stored] = await collect(bus.read('people', 0n, 3n));
  t.true(
    stored!.every((e) => e.schemaVersion === 7),
    'events carry the registered schema version',
  );
  abort.abort();
  await run;
});

test('a failed append confirms nothing; the source is restarted and every change is stored once', async (t) => {
  const bus = new MemoryBus();
  const append = bus.append.bind(bus);
  let failures = 1;
  // the first append fails inside the bus (an event it cannot store); the one pipelined behind it must not be stored
  bus.append = (source, events, opts) =>
    append(source, failures-- > 0 ? [{ ...events[0]!, after: { id: 1n as unknown as string } }] : events, opts);
  const source = new ScriptedSource([batch(1, 2, '0/B'), batch(3, 4, '0/C')]);
  const abort = new AbortController();
  const run = pumpSource(source, bus, silentLogger, abort.signal, {
    register: async (shapes) => shapes.map(() => 1),
    retry: { minMs: 1, maxMs: 2 },
  });
  await until(() => source.commits.includes('0/C'));
  t.is(source.starts, 2, 'restarted after the failure');
  t.deepEqual(source.commits, ['0/B', '0/C'], 'no checkpoint confirmed for the failed append');
  t.is(await bus.head('people'), 4n, 'each change stored once');
  abort.abort();
  await run;
});

test('the first start attempt is reported once, with its error, and the pump keeps trying', async (t) => {
  const bus = new MemoryBus();
  const source = new ScriptedSource([batch(1, 1, '0/D')]);
  source.failStarts = 2;
  const attempts: unknown[] = [];
  const abort = new AbortController();
  const run = pumpSource(source, bus, silentLogger, abort.signal, {
    register: async (shapes) => shapes.map(() => 1),
    retry: { minMs: 1, maxMs: 2 },
    onFirstAttempt: (error) => attempts.push(error === undefined ? 'started' : (error as Error).message),
  });
  await until(() => source.commits.length > 0);
  t.deepEqual(attempts, ['provider unreachable']);
  t.is(source.starts, 3);
  abort.abort();
  await run;
});

test('a shape the stream reports mid-way is registered before its events, which carry its version', async (t) => {
  const bus = new MemoryBus();
  const widened: ResourceShape = {
    ...SHAPE,
    columns: [...SHAPE.columns, { name: 'name', type: { kind: 'utf8' }, sourceType: 'text' }],
    layout: 5,
  };
  const second = batch(3, 4, '0/F');
  for (const e of second.events) e.schemaVersion = 5;
  const registered: ResourceShape[][] = [];
  const source = new ScriptedSource([batch(1, 2, '0/E'), { ...second, shapes: [widened] }]);
  const abort = new AbortController();
  const run = pumpSource(source, bus, silentLogger, abort.signal, {
    register: async (shapes) => {
      registered.push(shapes);
      return shapes.map((s) => (s.layout === 5 ? 2 : 1));
    },
  });
  await until(() => source.commits.includes('0/F'));
  t.deepEqual(registered, [[SHAPE], [widened]]);
  const [stored] = await collect(bus.read('people', 0n, 4n));
  t.deepEqual(
    stored!.map((e) => e.schemaVersion),
    [1, 1, 2, 2],
  );
  abort.abort();
  await run;
});

test('an event of a shape its source never reported stops the pump with an internal error', async (t) => {
  const bus = new MemoryBus();
  const bad = batch(1, 1, '0/G');
  bad.events[0]!.schemaVersion = 9;
  const source = new ScriptedSource([bad]);
  const abort = new AbortController();
  const logged: string[] = [];
  const log = {
    ...silentLogger,
    error: (m: string, f?: Record<string, unknown>) => logged.push(`${m}: ${String(f?.error)}`),
  };
  const run = pumpSource(source, bus, log as typeof silentLogger, abort.signal, {
    register: async (shapes) => shapes.map(() => 1),
    retry: { minMs: 1000, maxMs: 1000 },
  });
  await until(() => logged.length > 0);
  t.regex(logged[0]!, /emitted an event of resource "people" with shape 9, which it never reported/);
  t.is(await bus.head('people'), 0n, 'nothing stored');
  abort.abort();
  await run;
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
