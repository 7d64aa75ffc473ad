import test from 'ava';
import type { ChainDecision, ChainPolicy } from '../../contracts/policy-client.ts';
import { SluiceError } from '../../engine/errors.ts';
import { silentLogger } from '../../engine/ports/index.ts';
import type { ResourceConfig } from '../../schemas/index.ts';
import { chainGrant } from './chain-grants.ts';

const RESOURCE: ResourceConfig = {
  id: 'people',
  provider: 'p',
  table: 'public.people',
  key: ['id'],
  fields: {
    id: { level: 'general', share: 'unconditional' },
    name: { level: 'important', tag: 'person_name', share: 'conditional' },
    mobile: { level: 'important', tag: 'cn_mobile', share: 'conditional' },
  },
};
const ON_CHAIN: ChainDecision = {
  granted: [
    { name: 'id', strategy: 'clear' },
    { name: 'name', strategy: 'partial' },
  ],
  denied: [{ field: 'mobile', index: 2, reason: 'revoked' }],
};

/** A SharingPolicy reader that answers `answer()` (a decision, null: never applied, or an error). */
function fakePolicy(answer: () => ChainDecision | null | Error): ChainPolicy {
  return {
    currentDecision: async () => {
      const a = answer();
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as ChainPolicy;
}

function grant(
  answer: () => ChainDecision | null | Error,
  onOutage: 'cached' | 'pause',
  localNames = ['id', 'name', 'mobile'],
) {
  return chainGrant({
    policy: fakePolicy(answer),
    subscription: 'sub',
    fields: () => ['id', 'name', 'mobile'],
    resource: () => RESOURCE,
    local: async () => ({
      fields: localNames.map((n) => ({ name: n, level: RESOURCE.fields[n]!.level, strategy: 'clear' as const })),
      denied: ['id', 'name', 'mobile']
        .filter((n) => !localNames.includes(n))
        .map((n) => ({ field: n, reason: 'expired', message: `${n} expired` })),
    }),
    usage: async () => new Map(),
    onOutage,
    logger: silentLogger,
  });
}
const down = new SluiceError('UNAVAILABLE', 'the chain at http://x does not answer');
const names = (d: { fields: { name: string }[] }) => d.fields.map((f) => f.name);

test('the chain decides: its granted fields with its strategies, levels and tags from the config', async (t) => {
  const d = await grant(() => ON_CHAIN, 'cached')(new Date());
  t.deepEqual(d.fields, [
    { name: 'id', level: 'general', strategy: 'clear' },
    { name: 'name', level: 'important', tag: 'person_name', strategy: 'partial' },
  ]);
  t.like(d.denied[0], { field: 'mobile', reason: 'revoked' });
});

test('a window the clock says is over is withheld even when the chain (its block time lagging) still grants', async (t) => {
  const d = await grant(() => ON_CHAIN, 'cached', ['id', 'mobile'])(new Date()); // locally "name" has expired
  t.deepEqual(names(d), ['id']);
  t.like(
    d.denied.find((x) => x.field === 'name'),
    { reason: 'expired' },
  );
});

test('never applied: nothing is granted, and the message says how to apply', async (t) => {
  const d = await grant(() => null, 'cached')(new Date());
  t.deepEqual(d.fields, []);
  t.is(d.denied.length, 3);
  t.regex(d.denied[0]!.message, /no application on chain: sluice apply sub/);
});

test('chain down, cached: the last grant read, minus what the conditions deny by now; pause: nothing', async (t) => {
  let answer: ChainDecision | Error = ON_CHAIN;
  const cached = grant(() => answer, 'cached', ['id', 'mobile']); // locally, "name" has expired meanwhile
  t.deepEqual(names(await cached(new Date())), ['id'], 'the chain answers: name withheld by the clock already');
  answer = down;
  const during = await cached(new Date());
  t.deepEqual(names(during), ['id'], 'name expired locally, mobile was never granted on chain');
  t.like(
    during.denied.find((x) => x.field === 'name'),
    { reason: 'expired' },
  );

  const paused = grant(() => answer, 'pause');
  answer = ON_CHAIN;
  t.deepEqual(names(await paused(new Date())), ['id', 'name']);
  answer = down;
  const stopped = await paused(new Date());
  t.deepEqual(stopped.fields, []);
  t.regex(stopped.denied[0]!.message, /chain.onOutage: pause/);

  const fresh = grant(() => down, 'cached');
  t.deepEqual((await fresh(new Date())).fields, [], 'cached with nothing read yet: nothing');
  const other = grant(() => new Error('boom'), 'cached');
  await t.throwsAsync(other(new Date()), { message: 'boom' }, 'anything but an outage fails the cycle');
});
