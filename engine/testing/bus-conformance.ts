import type { ExecutionContext, TestFn } from 'ava';
import type { ChangeEvent, SourceEvent } from '../../schemas/index.ts';
import type { Bus } from '../ports/index.ts';

/** A fresh, empty bus and how to dispose of it. */
export interface BusFixture {
  bus: Bus;
  cleanup(): Promise<void>;
}

/** Fixed-width source position `<LSN 8/8 hex>:<index 10 digits>`, e.g. `00000000/0000A000:0000000003`. */
export function testPosition(lsn: bigint, index: number): string {
  const hex = (v: bigint) => v.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(lsn >> 32n)}/${hex(lsn & 0xffffffffn)}:${String(index).padStart(10, '0')}`;
}

function event(resource: string, position: string, over: Partial<SourceEvent> = {}): SourceEvent {
  return {
    resource,
    op: 'c',
    key: { id: position },
    after: { id: position, note: `row at ${position}` },
    position,
    commitTs: '2025-12-03T16:00:00.123456Z',
    txId: '731',
    schemaVersion: 1,
    ...over,
  };
}

async function pages(bus: Bus, resource: string, from: bigint, to: bigint, pageSize?: number) {
  const out: ChangeEvent[][] = [];
  for await (const page of bus.read(resource, from, to, pageSize === undefined ? {} : { pageSize })) out.push(page);
  return out;
}

async function readAll(bus: Bus, resource: string, from = 0n, to = 1_000_000n): Promise<ChangeEvent[]> {
  return (await pages(bus, resource, from, to)).flat();
}

/**
 * Registers the Bus conformance tests (DESIGN.md, Conventions: every adapter and the double pass one suite).
 * `factory` must return a fresh, empty bus for every test.
 */
export function busConformance(test: TestFn, name: string, factory: () => Promise<BusFixture>): void {
  const it = (title: string, fn: (t: ExecutionContext, bus: Bus) => Promise<void>) =>
    test(`${name} › bus › ${title}`, async (t) => {
      const f = await factory();
      try {
        await fn(t, f.bus);
      } finally {
        await f.cleanup();
      }
    });

  // Positions that cross digit and LSN-word boundaries: they order as strings only because they are fixed-width.
  const P = [
    testPosition(0xa000n, 9),
    testPosition(0xa000n, 10),
    testPosition(0xffffn, 0),
    testPosition(0x1_0000_0000n, 0),
    testPosition(0x1_0000_0000n, 1),
    testPosition(0x1_0000_0010n, 0),
    testPosition(0x2_0000_0000n, 123),
  ];
  const p = (i: number) => P[i]!;

  it('append assigns seq 1..n per resource, independently', async (t, bus) => {
    const r = await bus.append('src-a', [
      event('people', p(0)),
      event('orders', p(1)),
      event('people', p(2)),
      event('people', p(3)),
      event('orders', p(4)),
    ]);
    t.is(r.appended, 5);
    t.deepEqual(r.heads, { people: 3n, orders: 2n });
    t.is(await bus.head('people'), 3n);
    t.is(await bus.head('orders'), 2n);
    const people = await readAll(bus, 'people');
    t.deepEqual(
      people.map((e) => [e.seq, e.position, e.resource]),
      [
        ['1', p(0), 'people'],
        ['2', p(2), 'people'],
        ['3', p(3), 'people'],
      ],
    );
    const orders = await readAll(bus, 'orders');
    t.deepEqual(
      orders.map((e) => [e.seq, e.position]),
      [
        ['1', p(1)],
        ['2', p(4)],
      ],
    );
    // A second source appending to the same resource continues its seq.
    const r2 = await bus.append('src-b', [event('people', p(0))]);
    t.deepEqual(r2, { appended: 1, heads: { people: 4n } });
    t.deepEqual(
      (await readAll(bus, 'people')).map((e) => e.seq),
      ['1', '2', '3', '4'],
    );
    t.is(await bus.head('orders'), 2n);
  });

  it('trim: a prefix appended before the instant and at or below the seq goes; the rest reads as before', async (t, bus) => {
    t.is(await bus.trimmed('people'), 0n);
    await bus.append('src', [event('people', p(0)), event('people', p(1))]); // seqs 1-2
    await bus.append('src', [event('people', p(2)), event('orders', p(3))]); // seq 3
    const later = new Date(Date.now() + 60_000);
    t.deepEqual(await bus.trim('people', { upToSeq: 3n, appendedBefore: new Date(0) }), { trimmed: 0n, events: 0 });
    t.deepEqual(await bus.trim('people', { upToSeq: 2n, appendedBefore: later }), { trimmed: 2n, events: 2 });
    t.is(await bus.trimmed('people'), 2n);
    t.deepEqual(
      (await readAll(bus, 'people', 2n)).map((e) => [e.seq, e.position]),
      [['3', p(2)]],
    );
    t.deepEqual(
      (await readAll(bus, 'people')).map((e) => e.seq),
      ['3'],
      'a read from before the trimmed point starts after it',
    );
    t.is(await bus.head('people'), 3n, 'the head is not trimmed');
    t.is(await bus.trimmed('orders'), 0n, 'per resource');
    await bus.append('src', [event('people', p(4))]); // seq 4
    t.deepEqual(await bus.trim('people', { upToSeq: 1n, appendedBefore: later }), { trimmed: 2n, events: 0 });
    t.deepEqual(await bus.trim('people', { upToSeq: 4n, appendedBefore: later }), { trimmed: 4n, events: 2 });
    t.deepEqual(await readAll(bus, 'people'), []);
    t.deepEqual((await bus.append('src', [event('people', p(5))])).heads, { people: 5n }, 'seqs go on');
  });

  it('replaying the same batch stores nothing twice', async (t, bus) => {
    const batch = [event('people', p(0)), event('people', p(1)), event('orders', p(2))];
    t.is((await bus.append('src', batch)).appended, 3);
    const again = await bus.append('src', batch);
    t.is(again.appended, 0);
    for (const [resource, seq] of Object.entries(again.heads)) t.is(seq, await bus.head(resource));
    t.is(await bus.head('people'), 2n);
    t.is(await bus.head('orders'), 1n);
    t.deepEqual(
      (await readAll(bus, 'people')).map((e) => e.position),
      [p(0), p(1)],
    );
  });

  it('an overlapping batch stores only the events after the stored position', async (t, bus) => {
    t.is(testPosition(0xa000n, 3), '00000000/0000A000:0000000003');
    t.deepEqual([...P].sort(), P);
    await bus.append('src', [event('people', p(0)), event('people', p(1)), event('people', p(2))]);
    const r = await bus.append('src', [
      event('people', p(1)),
      event('people', p(2)),
      event('people', p(3)),
      event('people', p(4)),
    ]);
    t.deepEqual(r, { appended: 2, heads: { people: 5n } });
    const all = await readAll(bus, 'people');
    t.deepEqual(
      all.map((e) => [e.seq, e.position]),
      [0, 1, 2, 3, 4].map((i) => [String(i + 1), p(i)]),
    );
    // An entirely older batch is a replay too.
    t.is((await bus.append('src', [event('people', p(0))])).appended, 0);
    t.is(await bus.head('people'), 5n);
  });

  it('idempotency is per source', async (t, bus) => {
    await bus.append('src-a', [event('people', p(5))]);
    // src-b's positions are its own: a lower position than src-a's is still new for src-b.
    t.is((await bus.append('src-b', [event('people', p(0))])).appended, 1);
    t.is(await bus.sourcePosition('src-a'), p(5));
    t.is(await bus.sourcePosition('src-b'), p(0));
    t.is(await bus.head('people'), 2n);
  });

  it('concurrent appends of one batch store it once', async (t, bus) => {
    const batch = [0, 1, 2, 3].map((i) => event('people', p(i)));
    const results = await Promise.all([bus.append('src', batch), bus.append('src', batch), bus.append('src', batch)]);
    t.is(
      results.reduce((n, r) => n + r.appended, 0),
      4,
    );
    t.is(await bus.head('people'), 4n);
    t.deepEqual(
      (await readAll(bus, 'people')).map((e) => e.position),
      [p(0), p(1), p(2), p(3)],
    );
  });

  it('sourcePosition is null until something is stored, then the last stored position', async (t, bus) => {
    t.is(await bus.sourcePosition('src'), null);
    t.deepEqual(await bus.append('src', []), { appended: 0, heads: {} });
    t.is(await bus.sourcePosition('src'), null);
    await bus.append('src', [event('people', p(0)), event('orders', p(1))]);
    t.is(await bus.sourcePosition('src'), p(1));
    await bus.append('src', [event('people', p(0))]);
    t.is(await bus.sourcePosition('src'), p(1));
    await bus.append('src', [event('people', p(1)), event('people', p(2))]);
    t.is(await bus.sourcePosition('src'), p(2));
    t.is(await bus.sourcePosition('other'), null);
  });

  it('a pipelined append (after) is written after the one it follows', async (t, bus) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = gate.then(() =>
      bus.append('src', [event('people', p(0)), event('people', p(1))], { checkpoint: 'cp-1' }),
    );
    const second = bus.append('src', [event('people', p(2))], { checkpoint: 'cp-2', after: first });
    await new Promise((r) => setTimeout(r, 20));
    t.is(await bus.head('people'), 0n, 'nothing written before the append it follows');
    release();
    const [a, b] = await Promise.all([first, second]);
    t.is(a.appended, 2);
    t.is(b.appended, 1);
    t.deepEqual(
      (await readAll(bus, 'people')).map((e) => [e.seq, e.position]),
      [
        ['1', p(0)],
        ['2', p(1)],
        ['3', p(2)],
      ],
    );
    t.is(await bus.sourceCheckpoint('src'), 'cp-2');
  });

  it('an append pipelined behind a failed one fails too and stores nothing; the next one starts afresh', async (t, bus) => {
    const unstorable = event('people', p(0), { after: { id: 1n as unknown as string } }); // JSON cannot hold a BigInt
    const failed = bus.append('src', [unstorable], { checkpoint: 'cp-bad' });
    failed.catch(() => {});
    await new Promise((r) => setTimeout(r, 10)); // settled before the next call: the rejection still stops it
    const behind = bus.append('src', [event('people', p(1))], { checkpoint: 'cp-behind', after: failed });
    await t.throwsAsync(failed);
    await t.throwsAsync(behind);
    t.is(await bus.sourcePosition('src'), null, 'the later batch was not stored past the lost one');
    t.is(await bus.sourceCheckpoint('src'), null);
    t.is(await bus.head('people'), 0n);
    t.is((await bus.append('src', [event('people', p(0))])).appended, 1);
  });

  it('a checkpoint is stored with its append, also when every event is a replay or there is none', async (t, bus) => {
    t.is(await bus.sourceCheckpoint('src'), null);
    await bus.append('src', [event('people', p(0))]);
    t.is(await bus.sourceCheckpoint('src'), null, 'an append without a checkpoint stores none');
    await bus.append('src', [event('people', p(1))], { checkpoint: 'cp-1' });
    t.is(await bus.sourceCheckpoint('src'), 'cp-1');
    await bus.append('src', [event('people', p(1))], { checkpoint: 'cp-2' });
    t.is(await bus.sourceCheckpoint('src'), 'cp-2', 'a replayed batch still moves the checkpoint');
    await bus.append('src', [], { checkpoint: 'cp-3' });
    t.is(await bus.sourceCheckpoint('src'), 'cp-3', 'an idle checkpoint (no events) is stored');
    t.is(await bus.sourcePosition('src'), p(1));
    t.is(await bus.sourceCheckpoint('other'), null);
  });

  it('head is 0n for an unknown resource', async (t, bus) => {
    t.is(await bus.head('nothing-here'), 0n);
    await bus.append('src', [event('people', p(0))]);
    t.is(await bus.head('nothing-here'), 0n);
  });

  it('read: exclusive lower bound, inclusive upper bound, empty ranges', async (t, bus) => {
    await bus.append(
      'src',
      Array.from({ length: 10 }, (_, i) => event('people', testPosition(0x100n, i))),
    );
    const seqs = async (from: bigint, to: bigint) => (await readAll(bus, 'people', from, to)).map((e) => Number(e.seq));
    t.deepEqual(await seqs(0n, 10n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    t.deepEqual(await seqs(3n, 7n), [4, 5, 6, 7]);
    t.deepEqual(await seqs(6n, 7n), [7]);
    t.deepEqual(await seqs(8n, 100n), [9, 10]);
    t.deepEqual(await seqs(5n, 5n), []);
    t.deepEqual(await seqs(7n, 3n), []);
    t.deepEqual(await seqs(10n, 20n), []);
    t.deepEqual(await pages(bus, 'people', 5n, 5n), []);
    t.deepEqual(await pages(bus, 'unknown', 0n, 10n), []);
  });

  it('read: pages of at most pageSize, in seq order, never an empty page', async (t, bus) => {
    await bus.append(
      'src',
      Array.from({ length: 10 }, (_, i) => event('people', testPosition(0x100n, i))),
    );
    const shape = async (from: bigint, to: bigint, size: number) =>
      (await pages(bus, 'people', from, to, size)).map((pg) => pg.map((e) => Number(e.seq)));
    t.deepEqual(await shape(0n, 10n, 3), [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
    t.deepEqual(await shape(0n, 10n, 5), [
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ]);
    t.deepEqual(await shape(2n, 8n, 4), [
      [3, 4, 5, 6],
      [7, 8],
    ]);
    t.deepEqual(await shape(0n, 4n, 1), [[1], [2], [3], [4]]);
    t.deepEqual(await shape(0n, 10n, 100), [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
  });

  it('one very large batch (a big transaction) is stored whole, in order, across two resources', async (t, bus) => {
    const n = 25_000;
    const events = Array.from({ length: n }, (_, i) => event(i % 2 ? 'people' : 'firms', testPosition(0x200n, i)));
    const r = await bus.append('src', events);
    t.is(r.appended, n);
    t.deepEqual(r.heads, { firms: BigInt(n / 2), people: BigInt(n / 2) });
    const people = await readAll(bus, 'people');
    t.is(people.length, n / 2);
    t.true(people.every((e, i) => e.seq === String(i + 1) && e.position === testPosition(0x200n, 2 * i + 1)));
    t.is(await bus.sourcePosition('src'), testPosition(0x200n, n - 1));
  });

  // Adapters may store several events per record (the Postgres bus: one row per resource per append chunk, capped
  // at 2,000 events): reads that start, end or page inside such a record, and replays that overlap one.
  it('read: ranges and pages that start and end inside an append, across several appends', async (t, bus) => {
    const pos = (i: number) => testPosition(0x300n, i);
    // appends of 7, 1, 12 and 5 events: seqs 1-7, 8, 9-20, 21-25
    let i = 0;
    for (const n of [7, 1, 12, 5]) {
      await bus.append(
        'src',
        Array.from({ length: n }, () => event('people', pos(i++))),
      );
    }
    t.is(await bus.head('people'), 25n);
    const seqs = async (from: bigint, to: bigint) => (await readAll(bus, 'people', from, to)).map((e) => Number(e.seq));
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => a + k);
    t.deepEqual(await seqs(0n, 25n), range(1, 25));
    t.deepEqual(await seqs(3n, 5n), [4, 5], 'inside one append');
    t.deepEqual(await seqs(7n, 8n), [8], 'exactly one one-event append');
    t.deepEqual(await seqs(5n, 12n), range(6, 12), 'from inside one append to inside another');
    t.deepEqual(await seqs(6n, 21n), range(7, 21));
    t.deepEqual(await seqs(24n, 30n), [25]);
    const all = await readAll(bus, 'people');
    t.true(all.every((e, k) => e.position === pos(k) && e.resource === 'people'));
    for (const size of [1, 2, 3, 4, 6, 7, 8, 11, 13, 24, 25, 26, 1000]) {
      for (const [from, to] of [
        [0n, 25n],
        [2n, 23n],
        [7n, 20n],
        [8n, 100n],
      ] as const) {
        const got = await pages(bus, 'people', from, to, size);
        const want = range(Number(from) + 1, Math.min(Number(to), 25));
        t.deepEqual(
          got.flat().map((e) => Number(e.seq)),
          want,
          `(${from}, ${to}] in pages of ${size}`,
        );
        t.true(
          got.every((pg, k) => pg.length > 0 && (pg.length === size || k === got.length - 1)),
          `pages of ${size} are full but the last, never empty`,
        );
        t.true(
          got.flat().every((e) => e.position === pos(Number(e.seq) - 1)),
          'each seq keeps its position',
        );
      }
    }
  });

  it('one append spanning several resources, read back per resource', async (t, bus) => {
    const resources = ['alpha', 'beta', 'gamma'];
    const events = Array.from({ length: 30 }, (_, k) =>
      event(resources[[0, 0, 1, 2, 2, 2, 1, 0][k % 8]!]!, testPosition(0x400n, k), { key: { id: String(k) } }),
    );
    const r = await bus.append('src', events);
    t.is(r.appended, 30);
    for (const res of resources) {
      const want = events.filter((e) => e.resource === res);
      t.is(r.heads[res], BigInt(want.length));
      const got = await readAll(bus, res);
      t.deepEqual(
        got.map((e) => [e.seq, e.position, e.resource, e.key['id']]),
        want.map((e, k) => [String(k + 1), e.position, res, e.key['id']]),
      );
      const paged = await pages(bus, res, 1n, BigInt(want.length), 2);
      t.deepEqual(
        paged.flat().map((e) => e.position),
        want.slice(1).map((e) => e.position),
      );
    }
  });

  it('appends larger than a 2,000-event record: seqs stay dense across record boundaries', async (t, bus) => {
    const n = 4_500;
    const events = Array.from({ length: n }, (_, k) => event('people', testPosition(0x500n, k)));
    t.is((await bus.append('src', events)).appended, n);
    const more = Array.from({ length: 10 }, (_, k) => event('people', testPosition(0x501n, k)));
    t.is((await bus.append('src', more)).appended, 10);
    t.is(await bus.head('people'), BigInt(n + 10));
    const seqs = async (from: bigint, to: bigint, size?: number) =>
      (await pages(bus, 'people', from, to, size)).flat().map((e) => Number(e.seq));
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => a + k);
    t.deepEqual(await seqs(1_995n, 2_005n), range(1_996, 2_005));
    t.deepEqual(await seqs(3_999n, 4_001n), range(4_000, 4_001));
    t.deepEqual(await seqs(4_498n, 4_502n), range(4_499, 4_502));
    const shape = (await pages(bus, 'people', 0n, BigInt(n + 10), 1_500)).map((pg) => pg.length);
    t.deepEqual(shape, [1_500, 1_500, 1_500, 10]);
    const big = (await pages(bus, 'people', 100n, BigInt(n + 10), 10_000)).map((pg) => pg.length);
    t.deepEqual(big, [n + 10 - 100]);
    const all = await readAll(bus, 'people');
    t.true(all.every((e, k) => e.seq === String(k + 1)));
    t.true(all.slice(0, n).every((e, k) => e.position === testPosition(0x500n, k)));
    t.true(all.slice(n).every((e, k) => e.position === testPosition(0x501n, k)));
  });

  it('large events: each is stored whole, whatever the size of its neighbours', async (t, bus) => {
    const blob = (k: number, size: number) => String.fromCharCode(0x61 + (k % 26)).repeat(size);
    const sizes = [10, 600_000, 700_000, 20, 1_200_000, 5, 300_000];
    const events = sizes.map((size, k) =>
      event('docs', testPosition(0x600n, k), { after: { id: String(k), doc: blob(k, size) } }),
    );
    t.is((await bus.append('src', events)).appended, sizes.length);
    const got = await readAll(bus, 'docs');
    t.deepEqual(
      got.map((e) => [e.seq, (e.after!['doc'] as string).length, (e.after!['doc'] as string)[0]]),
      sizes.map((size, k) => [String(k + 1), size, blob(k, 1)]),
    );
    t.deepEqual(
      (await pages(bus, 'docs', 1n, 5n, 2)).map((pg) => pg.map((e) => e.seq)),
      [
        ['2', '3'],
        ['4', '5'],
      ],
    );
  });

  it('a replay that partially overlaps a stored append stores only its new tail, contiguously', async (t, bus) => {
    const pos = (k: number) => testPosition(0x700n, k);
    const batch = (from: number, to: number, resource = 'people') =>
      Array.from({ length: to - from }, (_, k) => event(resource, pos(from + k)));
    await bus.append('src', batch(0, 2_500)); // more than one record
    await bus.append('src', batch(2_500, 2_510));
    // a crash replay from inside the first append, through the second, and beyond
    const r = await bus.append('src', [...batch(1_990, 2_520)]);
    t.deepEqual(r, { appended: 10, heads: { people: 2_520n } });
    // a replay that is entirely old, with a checkpoint
    t.deepEqual(await bus.append('src', batch(5, 2_005), { checkpoint: 'cp' }), { appended: 0, heads: {} });
    t.is(await bus.sourceCheckpoint('src'), 'cp');
    const all = await readAll(bus, 'people');
    t.is(all.length, 2_520);
    t.true(all.every((e, k) => e.seq === String(k + 1) && e.position === pos(k)));
    t.deepEqual(
      (await readAll(bus, 'people', 2_505n, 2_512n)).map((e) => [e.seq, e.position]),
      [2_506, 2_507, 2_508, 2_509, 2_510, 2_511, 2_512].map((s) => [String(s), pos(s - 1)]),
    );
    t.is(await bus.sourcePosition('src'), pos(2_519));
  });

  it('values stay exact strings; null is distinct from an absent column', async (t, bus) => {
    const after = {
      id: '9223372036854775807',
      neg: '-9223372036854775808',
      amount: '1234567890123456.7891',
      zeros: '0.000000000000000000010',
      padded: '007  ',
      name: '欧阳娜娜',
      astral: '𠮷😀',
      quoted: 'a "quoted" \\ back\nslash\ttab',
      copyMarkers: '\\N \\. \\\\ \r\n\t \\t',
      control: '\u0001\u001f\u007f',
      ts: '2025-12-03T16:00:00.123456Z',
      empty: '',
      gone: null,
    };
    const sent: SourceEvent[] = [
      event('people', p(0), { key: { id: after.id }, after }),
      event('people', p(1), {
        op: 'u',
        key: { id: after.id },
        before: { id: after.id, amount: '1.10' },
        after: { id: after.id, amount: '1.1' },
        unchanged: ['doc'],
        txId: '4294967296',
        schemaVersion: 3,
      }),
      event('people', p(2), { op: 'd', key: { id: after.id }, before: null, after: null }),
    ];
    await bus.append('src', structuredClone(sent));
    const got = await readAll(bus, 'people');
    t.deepEqual(
      got,
      sent.map((e, i) => ({ ...e, seq: String(i + 1) })),
    );
    const row = got[0]!.after!;
    for (const [k, v] of Object.entries(after)) t.is(row[k], v, k);
    t.true(Object.hasOwn(row, 'gone'));
    t.is(row['gone'], null);
    t.false(Object.hasOwn(row, 'absent'));
    t.false(Object.hasOwn(got[1]!.after!, 'doc'));
    t.deepEqual(got[1]!.unchanged, ['doc']);
    t.is(got[2]!.before, null);
    t.false(Object.hasOwn(got[0]!, 'before'));
    t.false(Object.hasOwn(got[0]!, 'unchanged'));
  });
}
