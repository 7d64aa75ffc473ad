import test, { type ExecutionContext } from 'ava';
import { SluiceError } from '../../../engine/errors.ts';
import { checkSlot, type SlotRow } from './slot-check.ts';

const PROVIDER = 'tax-bureau';
const SLOT = 'sluice_tax_bureau';

const healthy = (confirmed: string | null = '0/16B3748'): SlotRow => ({
  plugin: 'pgoutput',
  confirmed,
  walStatus: 'reserved',
  invalidation: null,
});
const none = { lastPosition: null, checkpoint: null };

/** Asserts a SLOT_INVALID refusal that names provider and slot and gives recovery steps; returns it. */
function refused(t: ExecutionContext, fn: () => unknown): SluiceError {
  const e = t.throws(fn, { instanceOf: SluiceError });
  t.is(e.code, 'SLOT_INVALID');
  t.false(e.retriable, 'retrying cannot bring back lost WAL');
  t.true(e.message.includes(`"${PROVIDER}"`), e.message);
  t.true(e.message.includes(SLOT), e.message);
  t.is(e.details['provider'], PROVIDER);
  t.is(e.details['slot'], SLOT);
  t.is(typeof e.details['recovery'], 'string');
  t.true((e.details['recovery'] as string).includes(SLOT), 'recovery names the slot');
  return e;
}

// --- no slot -----------------------------------------------------------------------------------------------------

test('no slot and nothing stored: create it', (t) => {
  t.deepEqual(checkSlot(PROVIDER, SLOT, undefined, none), { action: 'create' });
});

test('no slot but a checkpoint stored: refused, naming the checkpoint', (t) => {
  const e = refused(t, () =>
    checkSlot(PROVIDER, SLOT, undefined, {
      lastPosition: '00000001/00000100:0000000003',
      checkpoint: '1/100',
    }),
  );
  t.regex(e.message, /is missing/);
  t.true(e.message.includes('1/100'), e.message);
  t.is(e.details['checkpoint'], '1/100');
  t.is(e.details['lastPosition'], '00000001/00000100:0000000003');
  t.true((e.details['recovery'] as string).includes(`pg_create_logical_replication_slot('${SLOT}', 'pgoutput')`));
});

test('no slot, no checkpoint but events in the bus: refused, naming the last position', (t) => {
  const e = refused(t, () =>
    checkSlot(PROVIDER, SLOT, undefined, { lastPosition: '00000002/00000040:0000000000', checkpoint: null }),
  );
  t.true(e.message.includes('00000002/00000040:0000000000'), e.message);
  t.is(e.details['checkpoint'], null);
});

// --- the slot cannot serve us ------------------------------------------------------------------------------------

test('a slot of another plugin is refused, even with nothing stored', (t) => {
  for (const stored of [none, { lastPosition: null, checkpoint: '0/1' }]) {
    const e = refused(t, () => checkSlot(PROVIDER, SLOT, { ...healthy(), plugin: 'wal2json' }, stored));
    t.true(e.message.includes('"wal2json"'), e.message);
    t.regex(e.message, /not pgoutput/);
    t.true((e.details['recovery'] as string).includes(`pg_drop_replication_slot('${SLOT}')`));
  }
});

test('wal_status lost is refused, naming the slot position', (t) => {
  const e = refused(t, () =>
    checkSlot(
      PROVIDER,
      SLOT,
      { ...healthy('3/2A000000'), walStatus: 'lost' },
      { lastPosition: null, checkpoint: '3/2A000000' },
    ),
  );
  t.regex(e.message, /invalidated/);
  t.regex(e.message, /wal_status lost/);
  t.true(e.message.includes('3/2A000000'), e.message);
  t.is(e.details['walStatus'], 'lost');
  t.is(e.details['invalidation'], null);
  t.regex(e.details['recovery'] as string, /max_slot_wal_keep_size/);
  t.true((e.details['recovery'] as string).includes(`where source = '${PROVIDER}'`));
});

test('a lost slot without a confirmed position is still refused', (t) => {
  const e = refused(t, () => checkSlot(PROVIDER, SLOT, { ...healthy(null), walStatus: 'lost' }, none));
  t.regex(e.message, /its last position/);
});

test('an invalidation reason (PG 17+) is refused and named, whatever wal_status says', (t) => {
  for (const invalidation of ['wal_removed', 'rows_removed', 'wal_level_insufficient', 'idle_timeout']) {
    for (const walStatus of [null, 'reserved', 'lost']) {
      const e = refused(t, () =>
        checkSlot(
          PROVIDER,
          SLOT,
          { ...healthy('0/3000000'), walStatus, invalidation },
          {
            lastPosition: null,
            checkpoint: '0/3000000',
          },
        ),
      );
      t.true(e.message.includes(`(${invalidation})`), e.message);
      t.true(e.message.includes('0/3000000'), e.message);
      t.is(e.details['invalidation'], invalidation);
    }
  }
});

test('an invalidated slot is refused even when nothing is stored yet', (t) => {
  refused(t, () => checkSlot(PROVIDER, SLOT, { ...healthy(), invalidation: 'wal_removed' }, none));
});

// --- slot position against the bus --------------------------------------------------------------------------------

test('a slot confirmed beyond the stored checkpoint is refused: the changes in between would be skipped', (t) => {
  const e = refused(t, () =>
    checkSlot(PROVIDER, SLOT, healthy('16/B374D900'), {
      lastPosition: '00000016/B374D848:0000000002',
      checkpoint: '16/B374D848',
    }),
  );
  t.true(e.message.includes('16/B374D900'), e.message);
  t.true(e.message.includes('16/B374D848'), e.message);
  t.regex(e.message, /beyond what the bus holds/);
  t.is(e.details['slotConfirmed'], '16/B374D900');
  t.is(e.details['checkpoint'], '16/B374D848');
  t.regex(e.details['recovery'] as string, /pg_replication_slot_advance/);
});

test('LSNs are compared as numbers, not as strings', (t) => {
  // As strings '9/FFFFFFFF' > '10/0' and 'A/0' > '0000000A/00000001'; as LSNs both slots are behind.
  t.deepEqual(checkSlot(PROVIDER, SLOT, healthy('9/FFFFFFFF'), { lastPosition: null, checkpoint: '10/0' }), {
    action: 'resume',
  });
  t.deepEqual(checkSlot(PROVIDER, SLOT, healthy('A/0'), { lastPosition: null, checkpoint: '0000000A/00000001' }), {
    action: 'resume',
  });
  // and ahead by one byte is ahead, in either spelling
  refused(t, () => checkSlot(PROVIDER, SLOT, healthy('10/1'), { lastPosition: null, checkpoint: '00000010/00000000' }));
  refused(t, () => checkSlot(PROVIDER, SLOT, healthy('1/0'), { lastPosition: null, checkpoint: '0/FFFFFFFF' }));
});

test('a slot confirmed at or behind the stored checkpoint resumes without a warning', (t) => {
  for (const confirmed of ['16/B374D848', '16/B374D847', '15/FFFFFFFF', '0/0']) {
    const d = checkSlot(PROVIDER, SLOT, healthy(confirmed), {
      lastPosition: '00000016/B374D848:0000000000',
      checkpoint: '16/B374D848',
    });
    t.deepEqual(d, { action: 'resume' }, confirmed);
  }
});

test('a slot without a confirmed position resumes', (t) => {
  t.deepEqual(checkSlot(PROVIDER, SLOT, healthy(null), { lastPosition: null, checkpoint: '1/0' }), {
    action: 'resume',
  });
});

test('a slot on a server without wal_status / invalidation columns resumes', (t) => {
  const old: SlotRow = { plugin: 'pgoutput', confirmed: '0/100', walStatus: null, invalidation: null };
  t.deepEqual(checkSlot(PROVIDER, SLOT, old, { lastPosition: null, checkpoint: '0/100' }), { action: 'resume' });
});

test('an existing slot and nothing stored resumes (a fresh bus, or the first run after creating the slot)', (t) => {
  t.deepEqual(checkSlot(PROVIDER, SLOT, healthy('5/0'), none), { action: 'resume' });
  t.deepEqual(checkSlot(PROVIDER, SLOT, { ...healthy('5/0'), walStatus: 'extended' }, none), { action: 'resume' });
  t.deepEqual(checkSlot(PROVIDER, SLOT, { ...healthy('5/0'), walStatus: 'unreserved' }, none), { action: 'resume' });
});

test('events in the bus but no checkpoint: resume, with a warning that the slot cannot be verified', (t) => {
  const d = checkSlot(PROVIDER, SLOT, healthy('FF/0'), {
    lastPosition: '00000001/00000000:0000000000',
    checkpoint: null,
  });
  t.is(d.action, 'resume');
  t.true(d.action === 'resume' && typeof d.warning === 'string' && /no checkpoint/.test(d.warning));
});
