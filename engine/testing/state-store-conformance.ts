import type { ExecutionContext, TestFn } from 'ava';
import { isSluiceError } from '../errors.ts';
import type { DeliveryIntent, DeliveryRecord, ResourceSchema, StateStore } from '../ports/index.ts';

/** A fresh, empty state store and how to dispose of it. */
export interface StateStoreFixture {
  state: StateStore;
  cleanup(): Promise<void>;
}

const SHAPE: Omit<ResourceSchema, 'version'> = {
  resource: 'people',
  columns: [
    { name: 'id', type: { kind: 'int64' }, sourceType: 'bigint' },
    { name: 'name', type: { kind: 'utf8' }, sourceType: 'text' },
    { name: 'amount', type: { kind: 'decimal', precision: 20, scale: 4 }, sourceType: 'numeric(20,4)' },
    { name: 'seen_at', type: { kind: 'timestamp', tz: 'UTC' }, sourceType: 'timestamp with time zone' },
  ],
  key: ['id'],
};

function intent(subscription: string, fromSeq: bigint, toSeq: bigint, tick = '2026-12-03T16:00:00.000Z') {
  return {
    subscription,
    resource: 'people',
    tick,
    windowFrom: fromSeq === 0n ? null : '2026-12-03T15:00:00.000Z',
    fromSeq,
    toSeq,
    fields: [
      { name: 'id', level: 'general', strategy: 'clear' },
      { name: 'name', level: 'important', tag: 'person_name', strategy: 'partial' },
    ],
  } satisfies DeliveryIntent;
}

function record(subscription: string, firstSeq: bigint, lastSeq: bigint): DeliveryRecord {
  const stem = `20261203T160000Z_${firstSeq}-${lastSeq}`;
  return {
    deliveryId: `${subscription}:${firstSeq}-${lastSeq}`,
    subscription,
    stem,
    firstSeq,
    lastSeq,
    rows: Number(lastSeq - firstSeq + 1n),
    manifestSha256: `${firstSeq}`.padStart(64, 'a'),
    parts: [{ file: `${stem}.parquet`, sha256: `${lastSeq}`.padStart(64, 'b'), bytes: 4096 }],
    leaf: JSON.stringify({ deliveryId: `${subscription}:${firstSeq}-${lastSeq}` }),
  };
}

/** Records as read back, without the log index the store assigned (checked on its own). */
const plain = (rs: DeliveryRecord[]) => rs.map(({ logIndex: _, ...r }) => r);

/**
 * Registers the StateStore conformance tests (DESIGN.md, Conventions). `factory` must return a fresh, empty store
 * for every test.
 */
export function stateStoreConformance(test: TestFn, name: string, factory: () => Promise<StateStoreFixture>): void {
  const it = (title: string, fn: (t: ExecutionContext, state: StateStore) => Promise<void>) =>
    test(`${name} › state › ${title}`, async (t) => {
      const f = await factory();
      try {
        await fn(t, f.state);
      } finally {
        await f.cleanup();
      }
    });

  it('registerSchema gives a new shape the next version and a known shape its own', async (t, state) => {
    t.is(await state.registerSchema(SHAPE), 1);
    t.is(await state.registerSchema(structuredClone(SHAPE)), 1);
    // Property order inside a column is not part of the shape.
    const reordered = {
      key: ['id'],
      columns: SHAPE.columns.map((c) => ({ sourceType: c.sourceType, type: c.type, name: c.name })),
      resource: 'people',
    };
    t.is(await state.registerSchema(reordered), 1);
    const added = {
      ...SHAPE,
      columns: [...SHAPE.columns, { name: 'email', type: { kind: 'utf8' as const }, sourceType: 'text' }],
    };
    t.is(await state.registerSchema(added), 2);
    t.is(await state.registerSchema(added), 2);
    // Column order, a type and the key are all part of the shape.
    t.is(await state.registerSchema({ ...added, columns: [...added.columns].reverse() }), 3);
    t.is(await state.registerSchema({ ...added, key: ['id', 'name'] }), 4);
    // An earlier shape again (a stream resumed before a DDL) is that shape's version: a version names one shape.
    t.is(await state.registerSchema(SHAPE), 1);
    t.is(await state.registerSchema(added), 2);
    t.is(await state.registerSchema({ ...added, columns: [...added.columns, SHAPE.columns[0]!] }), 5);
    // Resources are versioned independently.
    t.is(await state.registerSchema({ ...SHAPE, resource: 'orders' }), 1);
    t.deepEqual(
      (await state.schemas('people')).map((s) => [s.version, s.columns.length, s.key.length]),
      [
        [1, SHAPE.columns.length, 1],
        [2, SHAPE.columns.length + 1, 1],
        [3, SHAPE.columns.length + 1, 1],
        [4, SHAPE.columns.length + 1, 2],
        [5, SHAPE.columns.length + 2, 1],
      ],
    );
    t.deepEqual(await state.schemas('nobody'), []);
  });

  it('schema returns each recorded version; an unknown one is refused', async (t, state) => {
    await state.registerSchema(SHAPE);
    const changed = { ...SHAPE, columns: SHAPE.columns.slice(0, 2) };
    await state.registerSchema(changed);
    t.deepEqual(await state.schema('people', 1), { ...SHAPE, version: 1 });
    t.deepEqual(await state.schema('people', 2), { ...changed, version: 2 });
    for (const [resource, version] of [
      ['people', 3],
      ['people', 0],
      ['orders', 1],
    ] as const) {
      const e = await t.throwsAsync(state.schema(resource, version));
      t.true(isSluiceError(e, 'STATE_CORRUPT'), `${resource} v${version}`);
    }
  });

  it('subscriptionKey is 32 random bytes, stable, different per subscription', async (t, state) => {
    const [a1, a2] = await Promise.all([state.subscriptionKey('sub-a'), state.subscriptionKey('sub-a')]);
    const a3 = await state.subscriptionKey('sub-a');
    const b = await state.subscriptionKey('sub-b');
    t.true(a1 instanceof Uint8Array);
    t.is(a1.byteLength, 32);
    t.is(b.byteLength, 32);
    t.deepEqual(a2, a1);
    t.deepEqual(a3, a1);
    t.notDeepEqual(b, a1);
    t.true(a1.some((x) => x !== 0));
    // The caller cannot corrupt the stored key through the returned array.
    const before = Buffer.from(a1).toString('hex');
    a1.fill(0);
    t.is(Buffer.from(await state.subscriptionKey('sub-a')).toString('hex'), before);
  });

  it('cursor defaults to {seq: 0n, lastTick: null}; no open intent at first', async (t, state) => {
    t.deepEqual(await state.cursor('sub-a'), { seq: 0n, lastTick: null });
    t.is(await state.openIntent('sub-a'), null);
    t.deepEqual(plain(await state.deliveries('sub-a')), []);
  });

  it('registerSubscription: a new subscription starts at the head, with a backfill only when there is data', async (t, state) => {
    const fresh = await state.registerSubscription({ subscription: 'sub-new', resource: 'r', fields: ['a'], head: 0n });
    t.deepEqual(fresh, { created: true, backfill: null }, 'nothing to backfill on an empty resource');
    const later = await state.registerSubscription({
      subscription: 'sub-late',
      resource: 'r',
      fields: ['a'],
      head: 42n,
    });
    t.is(later.created, true);
    t.truthy(later.backfill, 'a resource with data: the current state first');
    t.deepEqual(await state.cursor('sub-late'), { seq: 42n, lastTick: null }, 'it starts at the head, not at 0');
    const again = await state.registerSubscription({
      subscription: 'sub-late',
      resource: 'r',
      fields: ['a'],
      head: 50n,
    });
    t.deepEqual(again, { created: false, backfill: later.backfill }, 'the need stays until it was requested');
    await state.backfillRequested('sub-late');
    t.deepEqual(
      await state.registerSubscription({ subscription: 'sub-late', resource: 'r', fields: ['a'], head: 50n }),
      { created: false, backfill: null },
    );
    t.deepEqual(await state.cursor('sub-late'), { seq: 42n, lastTick: null }, 'a known subscription keeps its cursor');
    const added = await state.registerSubscription({
      subscription: 'sub-late',
      resource: 'r',
      fields: ['a', 'b', 'c'],
      head: 60n,
    });
    t.deepEqual(added, { created: false, backfill: 'fields added: b, c' });
    await state.backfillRequested('sub-late');
    await state.requireBackfill('sub-late', 'changes _seq 61-70 trimmed by retention before delivery');
    t.deepEqual(
      await state.registerSubscription({ subscription: 'sub-late', resource: 'r', fields: ['a', 'b', 'c'], head: 70n }),
      { created: false, backfill: 'changes _seq 61-70 trimmed by retention before delivery' },
      'a need stored while running is found at the next start',
    );
  });

  it('registerSubscription: a subscription with a cursor from before is known, without a backfill', async (t, state) => {
    const i = intent('sub-old', 0n, 7n);
    await state.beginIntent(i);
    await state.completeIntent(i, []);
    t.deepEqual(await state.registerSubscription({ subscription: 'sub-old', resource: 'r', fields: ['a'], head: 9n }), {
      created: false,
      backfill: null,
    });
    t.deepEqual((await state.cursor('sub-old')).seq, 7n);
  });

  it('beginIntent, openIntent, completeIntent move the cursor and store the records together', async (t, state) => {
    const i1 = intent('sub-a', 0n, 3n);
    await state.beginIntent(i1);
    t.deepEqual(await state.openIntent('sub-a'), i1);
    t.is(await state.openIntent('sub-b'), null);
    t.deepEqual(await state.cursor('sub-a'), { seq: 0n, lastTick: null }, 'the cursor waits for completeIntent');
    t.deepEqual(plain(await state.deliveries('sub-a')), []);
    const records = [record('sub-a', 1n, 2n), record('sub-a', 3n, 3n)];
    await state.completeIntent(i1, records);
    t.is(await state.openIntent('sub-a'), null);
    t.deepEqual(await state.cursor('sub-a'), { seq: 3n, lastTick: i1.tick });
    t.deepEqual(plain(await state.deliveries('sub-a')), records);
    t.deepEqual(await state.cursor('sub-b'), { seq: 0n, lastTick: null });
  });

  it('a re-delivery intent is open beside a cycle; completing it records, counts usage, leaves the cursor', async (t, state) => {
    const cycle = intent('sub-a', 0n, 3n);
    await state.beginIntent(cycle);
    await state.completeIntent(cycle, [record('sub-a', 1n, 3n)]);
    const next = intent('sub-a', 3n, 5n, '2026-12-03T17:00:00.000Z');
    await state.beginIntent(next);
    const again = {
      ...intent('sub-a', 0n, 3n, '2026-12-04T09:30:00.000Z'),
      redeliveryOf: [{ deliveryId: 'sub-a:1-3', firstSeq: '1', lastSeq: '3' }],
    };
    await state.beginIntent(again);
    t.deepEqual(await state.openIntent('sub-a'), next, "the cycle's open intent");
    t.deepEqual(await state.openIntent('sub-a', 'redelivery'), again);
    const e = await t.throwsAsync(state.beginIntent({ ...again, tick: '2026-12-04T09:31:00.000Z' }));
    t.true(isSluiceError(e, 'STATE_CORRUPT'), 'one open re-delivery at a time');
    const r = { ...record('sub-a', 1n, 3n), deliveryId: 'sub-a:1-3@20261204T093000Z', redeliveryOf: ['sub-a:1-3'] };
    await state.completeIntent(again, [r]);
    t.is(await state.openIntent('sub-a', 'redelivery'), null);
    t.deepEqual(await state.openIntent('sub-a'), next, 'the cycle intent is untouched');
    t.deepEqual(await state.cursor('sub-a'), { seq: 3n, lastTick: cycle.tick }, 'the cursor stays');
    t.deepEqual(plain(await state.deliveries('sub-a')).at(-1), r);
    t.deepEqual(
      await state.fieldUsage('sub-a'),
      new Map([
        ['id', 2],
        ['name', 2],
      ]),
    );
  });

  it('int64 seqs and the window survive a round trip', async (t, state) => {
    const big = intent('sub-a', 9223372036854775000n, 9223372036854775807n, '2026-12-03T16:00:00.000Z');
    await state.beginIntent(big);
    t.deepEqual(await state.openIntent('sub-a'), big);
    const r = record('sub-a', 9223372036854775001n, 9223372036854775807n);
    await state.completeIntent(big, [r]);
    t.deepEqual(await state.cursor('sub-a'), { seq: 9223372036854775807n, lastTick: big.tick });
    t.deepEqual(plain(await state.deliveries('sub-a')), [r]);
  });

  it('delivery log: each record appends its leaf with it (dense indexes in order), a failed completion none, actions too', async (t, state) => {
    t.is(await state.logSize(), 0n);
    const i1 = intent('sub-a', 0n, 3n);
    await state.beginIntent(i1);
    const records = [record('sub-a', 1n, 2n), record('sub-a', 3n, 3n)];
    await state.completeIntent(i1, records);
    const action = '{"action":"pause","subject":"sub-a","type":"sluice.action"}';
    t.is(await state.appendLogLeaf({ leaf: action, subscription: 'sub-a' }), 2n);
    const feed = { ...record('feed-a', 1n, 4n), stem: 'feed', parts: [] };
    await state.completeFeedRange({
      subscription: 'feed-a',
      toSeq: 4n,
      at: '2026-12-04T08:00:00.000Z',
      record: feed,
      parked: [],
    });
    // a completion that fails (no open intent) appends nothing
    await t.throwsAsync(state.completeIntent(intent('sub-b', 0n, 2n), [record('sub-b', 1n, 2n)]));
    t.is(await state.logSize(), 4n);
    const leaves = await state.logLeaves(0n, 10n);
    t.deepEqual(
      leaves.map((l) => [l.index, l.kind, l.leaf, l.subscription, l.deliveryId]),
      [
        [0n, 'delivery', records[0]!.leaf, 'sub-a', 'sub-a:1-2'],
        [1n, 'delivery', records[1]!.leaf, 'sub-a', 'sub-a:3-3'],
        [2n, 'action', action, 'sub-a', undefined],
        [3n, 'delivery', feed.leaf, 'feed-a', 'feed-a:1-4'],
      ],
    );
    t.true(leaves.every((l) => !Number.isNaN(Date.parse(l.at))));
    t.deepEqual(
      (await state.deliveries('sub-a')).map((r) => r.logIndex),
      [0n, 1n],
      'records read back name their leaf',
    );
    t.deepEqual(
      (await state.deliveries('feed-a')).map((r) => r.logIndex),
      [3n],
    );
    t.deepEqual(
      (await state.logLeaves(1n, 3n)).map((l) => l.index),
      [1n, 2n],
    );
  });

  it('delivery log: operator actions that change what is shared append a leaf with the change', async (t, state) => {
    const at = '2026-12-04T08:00:00.000Z';
    await state.setClassification({
      resource: 'people',
      column: 'mobile',
      level: 'important',
      share: 'none',
      by: 'ops',
      at,
    });
    t.true(await state.clearClassification('people', 'mobile'));
    t.false(await state.clearClassification('people', 'mobile'), 'nothing removed: nothing logged');
    await state.setSubscriptionOverride({
      subscription: 'sub-a',
      setting: 'paused',
      value: { reason: 'misuse' },
      by: 'ops',
      at,
    });
    t.true(await state.clearSubscriptionOverride('sub-a', 'paused'));
    await state.setSubscriptionOverride({
      subscription: 'sub-a',
      setting: 'cadence',
      value: { cadence: '0 * * * *' },
      at,
    });
    await state.rotateSecret('sub-a', 'hash');
    const leaves = (await state.logLeaves(0n, 100n)).map((l) => JSON.parse(l.leaf) as Record<string, unknown>);
    t.deepEqual(
      leaves.map((l) => [l.type, l.action, l.subject]),
      [
        ['sluice.action', 'classify', 'people.mobile'],
        ['sluice.action', 'declassify', 'people.mobile'],
        ['sluice.action', 'pause', 'sub-a'],
        ['sluice.action', 'resume', 'sub-a'],
        ['sluice.action', 'set-cadence', 'sub-a'],
        ['sluice.action', 'rotate-key', 'sub-a'],
      ],
    );
    t.deepEqual(leaves[0], {
      type: 'sluice.action',
      action: 'classify',
      subject: 'people.mobile',
      by: 'ops',
      at,
      details: { level: 'important', share: 'none' },
    });
    t.deepEqual(leaves[5]!.details, { kind: 'hash', version: 1 });
  });

  it('anchored checkpoints: recorded once by size, in size order; another root for a size is refused', async (t, state) => {
    const cp = (size: number, root = 'ab'.repeat(32)) => ({
      size,
      root,
      chainId: 31337,
      contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      txHash: `0x${String(size).padStart(64, '0')}`,
      blockNumber: size * 10,
      at: '2026-12-04T08:00:00.000Z',
    });
    await state.recordCheckpoint(cp(20));
    await state.recordCheckpoint(cp(7));
    await state.recordCheckpoint(cp(7));
    t.deepEqual(await state.checkpoints(), [cp(7), cp(20)]);
    const e = await t.throwsAsync(state.recordCheckpoint(cp(7, 'cd'.repeat(32))));
    t.true(isSluiceError(e, 'STATE_CORRUPT'));
    t.deepEqual(await state.checkpoints(), [cp(7), cp(20)]);
  });

  it('completeIntent with no records moves the cursor only', async (t, state) => {
    const i1 = intent('sub-a', 0n, 5n);
    await state.beginIntent(i1);
    await state.completeIntent(i1, []);
    t.deepEqual(await state.cursor('sub-a'), { seq: 5n, lastTick: i1.tick });
    t.deepEqual(plain(await state.deliveries('sub-a')), []);
    t.is(await state.openIntent('sub-a'), null);
  });

  it('completeIntent without a matching open intent throws and changes nothing', async (t, state) => {
    const i1 = intent('sub-a', 0n, 3n);
    const e1 = await t.throwsAsync(state.completeIntent(i1, [record('sub-a', 1n, 3n)]));
    t.true(isSluiceError(e1, 'STATE_CORRUPT'));
    t.deepEqual(await state.cursor('sub-a'), { seq: 0n, lastTick: null });
    t.deepEqual(plain(await state.deliveries('sub-a')), []);

    await state.beginIntent(i1);
    for (const wrong of [
      { ...i1, toSeq: 4n },
      { ...i1, tick: '2026-12-03T17:00:00.000Z' },
      { ...i1, subscription: 'sub-b' },
    ]) {
      const e = await t.throwsAsync(state.completeIntent(wrong, [record(wrong.subscription, 1n, 3n)]));
      t.true(isSluiceError(e, 'STATE_CORRUPT'));
    }
    t.deepEqual(await state.openIntent('sub-a'), i1, 'the open intent is untouched');
    t.deepEqual(await state.cursor('sub-a'), { seq: 0n, lastTick: null });
    t.deepEqual(plain(await state.deliveries('sub-a')), []);
    t.deepEqual(plain(await state.deliveries('sub-b')), []);

    await state.completeIntent(i1, []);
    // Completing the same intent twice is refused as well.
    const e2 = await t.throwsAsync(state.completeIntent(i1, []));
    t.true(isSluiceError(e2, 'STATE_CORRUPT'));
  });

  it('a second beginIntent while one is open is refused', async (t, state) => {
    const i1 = intent('sub-a', 0n, 3n);
    await state.beginIntent(i1);
    await t.throwsAsync(state.beginIntent(intent('sub-a', 0n, 7n, '2026-12-03T17:00:00.000Z')));
    await t.throwsAsync(state.beginIntent(i1));
    t.deepEqual(await state.openIntent('sub-a'), i1);
    // Other subscriptions are independent.
    const other = intent('sub-b', 0n, 1n);
    await state.beginIntent(other);
    t.deepEqual(await state.openIntent('sub-b'), other);
    // Once completed, the next intent may begin.
    await state.completeIntent(i1, []);
    const i2 = intent('sub-a', 3n, 9n, '2026-12-03T17:00:00.000Z');
    await state.beginIntent(i2);
    t.deepEqual(await state.openIntent('sub-a'), i2);
  });

  it('a completeIntent that fails half-way stores nothing (atomic)', async (t, state) => {
    const i1 = intent('sub-a', 0n, 2n);
    const first = record('sub-a', 1n, 2n);
    await state.beginIntent(i1);
    await state.completeIntent(i1, [first]);
    const i2 = intent('sub-a', 2n, 5n, '2026-12-03T17:00:00.000Z');
    await state.beginIntent(i2);
    // The second record repeats a delivery id that is already recorded.
    await t.throwsAsync(state.completeIntent(i2, [record('sub-a', 3n, 5n), first]));
    t.deepEqual(plain(await state.deliveries('sub-a')), [first]);
    t.deepEqual(await state.cursor('sub-a'), { seq: 2n, lastTick: i1.tick });
    t.deepEqual(await state.openIntent('sub-a'), i2);
  });

  it('deliveries are listed in the order they were committed, per subscription', async (t, state) => {
    const expected: DeliveryRecord[] = [];
    let seq = 0n;
    for (const [h, sizes] of [
      [16, [3n, 1n]],
      [17, [2n]],
      [18, [5n, 2n, 1n]],
    ] as const) {
      const tick = `2026-12-03T${h}:00:00.000Z`;
      const start = seq;
      const records = sizes.map((n) => {
        const r = record('sub-a', seq + 1n, seq + n);
        seq += n;
        return r;
      });
      const i = intent('sub-a', start, seq, tick);
      await state.beginIntent(i);
      const b = intent('sub-b', start, seq, tick);
      await state.beginIntent(b);
      await state.completeIntent(b, [record('sub-b', start + 1n, seq)]);
      await state.completeIntent(i, records);
      expected.push(...records);
    }
    t.deepEqual(plain(await state.deliveries('sub-a')), expected);
    t.deepEqual(
      (await state.deliveries('sub-b')).map((r) => r.stem),
      ['20261203T160000Z_1-4', '20261203T160000Z_5-6', '20261203T160000Z_7-14'],
    );
    t.deepEqual(await state.cursor('sub-a'), { seq: 14n, lastTick: '2026-12-03T18:00:00.000Z' });
  });

  it('field usage counts each completed delivery once per field; an empty range and a failed commit count nothing', async (t, state) => {
    t.deepEqual(await state.fieldUsage('sub-a'), new Map());
    const i1 = intent('sub-a', 0n, 2n);
    await state.beginIntent(i1);
    await state.completeIntent(i1, [record('sub-a', 1n, 2n)]);
    const i2 = intent('sub-a', 2n, 2n, '2026-12-03T17:00:00.000Z');
    await state.beginIntent(i2);
    await state.completeIntent(i2, []); // nothing delivered
    const i3 = intent('sub-a', 2n, 6n, '2026-12-03T18:00:00.000Z');
    await state.beginIntent(i3);
    await state.completeIntent(i3, [record('sub-a', 3n, 4n), record('sub-a', 5n, 6n)]); // one cycle, two files
    const i4 = intent('sub-a', 6n, 8n, '2026-12-03T19:00:00.000Z');
    await state.beginIntent(i4);
    await t.throwsAsync(state.completeIntent(i4, [record('sub-a', 1n, 2n)])); // duplicate delivery id
    t.deepEqual(
      await state.fieldUsage('sub-a'),
      new Map([
        ['id', 2],
        ['name', 2],
      ]),
    );
    t.deepEqual(await state.fieldUsage('sub-b'), new Map());
  });

  it('runtime classifications: set, replace, list in order, clear', async (t, state) => {
    const at = '2026-12-04T08:00:00.000000Z';
    await state.setClassification({
      resource: 'people',
      column: 'mobile',
      level: 'important',
      tag: 'cn_mobile',
      share: 'conditional',
      by: 'dba',
      at,
    });
    await state.setClassification({ resource: 'people', column: 'email', level: 'general', share: 'none', at });
    await state.setClassification({
      resource: 'orders',
      column: 'total',
      level: 'general',
      share: 'unconditional',
      at,
    });
    await state.setClassification({
      resource: 'people',
      column: 'email',
      level: 'important',
      tag: 'email',
      share: 'conditional',
      at,
    });
    t.deepEqual(await state.classifications(), [
      { resource: 'orders', column: 'total', level: 'general', share: 'unconditional', at },
      { resource: 'people', column: 'email', level: 'important', tag: 'email', share: 'conditional', at },
      {
        resource: 'people',
        column: 'mobile',
        level: 'important',
        tag: 'cn_mobile',
        share: 'conditional',
        by: 'dba',
        at,
      },
    ]);
    t.true(await state.clearClassification('people', 'email'));
    t.false(await state.clearClassification('people', 'email'));
    t.deepEqual(
      (await state.classifications()).map((c) => c.column),
      ['total', 'mobile'],
    );
  });

  it('subscription overrides: set, replace, list in order, clear', async (t, state) => {
    const at = '2026-12-04T08:00:00.000000Z';
    await state.setSubscriptionOverride({ subscription: 'b', setting: 'fields', value: ['id'], at });
    await state.setSubscriptionOverride({ subscription: 'a', setting: 'fields', value: ['id', 'x'], by: 'ops', at });
    await state.setSubscriptionOverride({ subscription: 'b', setting: 'fields', value: ['id', 'name'], at });
    t.deepEqual(await state.subscriptionOverrides(), [
      { subscription: 'a', setting: 'fields', value: ['id', 'x'], by: 'ops', at },
      { subscription: 'b', setting: 'fields', value: ['id', 'name'], at },
    ]);
    t.true(await state.clearSubscriptionOverride('a', 'fields'));
    t.false(await state.clearSubscriptionOverride('a', 'fields'));
    t.deepEqual(
      (await state.subscriptionOverrides()).map((o) => o.subscription),
      ['b'],
    );
  });

  it('cadence and pause overrides keep their values; one setting cleared leaves the others', async (t, state) => {
    const at = '2026-12-04T08:00:00.000000Z';
    await state.setSubscriptionOverride({
      subscription: 'a',
      setting: 'cadence',
      value: { cadence: '*/5 * * * *', timezone: 'Asia/Shanghai' },
      by: 'ops',
      at,
    });
    await state.setSubscriptionOverride({ subscription: 'a', setting: 'paused', value: { reason: 'misuse' }, at });
    await state.setSubscriptionOverride({ subscription: 'a', setting: 'fields', value: ['id'], at });
    t.deepEqual(await state.subscriptionOverrides(), [
      {
        subscription: 'a',
        setting: 'cadence',
        value: { cadence: '*/5 * * * *', timezone: 'Asia/Shanghai' },
        by: 'ops',
        at,
      },
      { subscription: 'a', setting: 'fields', value: ['id'], at },
      { subscription: 'a', setting: 'paused', value: { reason: 'misuse' }, at },
    ]);
    t.true(await state.clearSubscriptionOverride('a', 'paused'));
    t.deepEqual(
      (await state.subscriptionOverrides()).map((o) => o.setting),
      ['cadence', 'fields'],
    );
  });

  it('cycle state: the last run and the next due tick, kept apart, per subscription', async (t, state) => {
    t.deepEqual(await state.cycleStates(), []);
    await state.setNextDue('b', '2026-12-04T08:05:00.000Z');
    const run = {
      tick: '2026-12-04T08:00:00.000Z',
      endedAt: '2026-12-04T08:00:01.250Z',
      outcome: 'delivered' as const,
      rows: 12,
      files: 1,
      durationMs: 1250,
    };
    await state.recordCycleRun('b', run);
    await state.recordCycleRun('a', { ...run, outcome: 'failed', rows: 0, files: 0, error: 'disk full' });
    t.deepEqual(await state.cycleStates(), [
      { subscription: 'a', last: { ...run, outcome: 'failed', rows: 0, files: 0, error: 'disk full' }, nextDue: null },
      { subscription: 'b', last: run, nextDue: '2026-12-04T08:05:00.000Z' },
    ]);
    await state.setNextDue('b', null);
    await state.recordCycleRun('b', { ...run, tick: '2026-12-04T08:05:00.000Z', outcome: 'empty', rows: 0, files: 0 });
    const b = (await state.cycleStates()).find((c) => c.subscription === 'b')!;
    t.is(b.nextDue, null);
    t.is(b.last?.outcome, 'empty');
    t.is(b.last?.tick, '2026-12-04T08:05:00.000Z');
  });

  it('quality reports: the latest per resource and source, scan before stream', async (t, state) => {
    const report = (source: 'scan' | 'stream', failures: number) => ({
      resource: 'people',
      source,
      rowsChecked: 10,
      rowsFailed: failures,
      counts: [{ check: 'check-digit' as const, column: 'id_card', failures, sampleKeys: ['ab12'] }],
      nullRates: { id: 0 },
      startedAt: '2026-12-04T08:00:00.000Z',
      updatedAt: '2026-12-04T08:01:00.000Z',
    });
    t.deepEqual(await state.qualityReports('people'), []);
    await state.saveQualityReport(report('stream', 1));
    await state.saveQualityReport(report('scan', 2));
    await state.saveQualityReport(report('stream', 3));
    t.deepEqual(await state.qualityReports('people'), [report('scan', 2), report('stream', 3)]);
    t.deepEqual(await state.qualityReports('orders'), []);
  });

  it('feed ranges: record, parked events and cursor move together; dead letters are listed, marked, removed', async (t, state) => {
    const letter = (seq: bigint, st: 'failed' | 'waiting', key = '{"id":"1"}') => ({
      subscription: 'feed-a',
      seq,
      id: `feed-a:${seq}`,
      key,
      body: `{"id":"feed-a:${seq}"}`,
      state: st,
      attempts: st === 'failed' ? 8 : 0,
      ...(st === 'failed' ? { error: 'HTTP 503' } : {}),
      parkedAt: '2026-12-04T08:00:00.000Z',
    });
    const rec = { ...record('feed-a', 1n, 10n), stem: 'feed', parts: [] };
    await state.completeFeedRange({
      subscription: 'feed-a',
      toSeq: 10n,
      at: '2026-12-04T08:00:00.000Z',
      record: rec,
      parked: [letter(7n, 'waiting'), letter(4n, 'failed'), letter(5n, 'failed', '{"id":"2"}')],
    });
    t.deepEqual(await state.cursor('feed-a'), { seq: 10n, lastTick: '2026-12-04T08:00:00.000Z' });
    t.deepEqual(plain(await state.deliveries('feed-a')), [rec]);
    t.is(await state.deliveryCount('feed-a'), 1);
    t.deepEqual(await state.fieldUsage('feed-a'), new Map(), 'feeds count no field usage');
    t.deepEqual(
      (await state.deadLetters('feed-a')).map((d) => [d.seq, d.state]),
      [
        [4n, 'failed'],
        [5n, 'failed'],
        [7n, 'waiting'],
      ],
      'by seq',
    );
    t.deepEqual((await state.deadLetters('feed-a'))[0], letter(4n, 'failed'));
    // a range with nothing published moves the cursor only
    await state.completeFeedRange({
      subscription: 'feed-a',
      toSeq: 12n,
      at: '2026-12-04T08:00:01.000Z',
      record: null,
      parked: [],
    });
    t.is((await state.cursor('feed-a')).seq, 12n);
    t.is(await state.deliveryCount('feed-a'), 1);
    // never backwards, and nothing of a refused range is kept
    const back = await t.throwsAsync(() =>
      state.completeFeedRange({
        subscription: 'feed-a',
        toSeq: 11n,
        at: 'x',
        record: null,
        parked: [letter(11n, 'failed')],
      }),
    );
    t.true(isSluiceError(back) && back.code === 'STATE_CORRUPT');
    t.is((await state.deadLetters('feed-a')).length, 3);
    await state.markDeadLetters('feed-a', [7n], { state: 'failed', attempts: 3, error: 'timeout' });
    const seven = (await state.deadLetters('feed-a')).find((d) => d.seq === 7n)!;
    t.like(seven, { state: 'failed', attempts: 3, error: 'timeout' });
    t.is(await state.removeDeadLetters('feed-a', [4n, 7n, 99n]), 2);
    t.deepEqual(
      (await state.deadLetters('feed-a')).map((d) => d.seq),
      [5n],
    );
    t.deepEqual(await state.deadLetters('feed-b'), []);
  });
}
