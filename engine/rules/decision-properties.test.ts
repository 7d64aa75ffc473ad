import test from 'ava';
import fc from 'fast-check';
import { isAtLeastAsStrict, resolveStrategy, stricterOf, type Strategy } from '../masking/index.ts';
import { NAMES, application, fields, oneCondition, own, policy, usage } from '../testing/decision-arbitraries.ts';
import { decide, type FieldPolicy, type MaskingPolicy } from './decision.ts';

const RUNS = { numRuns: 2000 };

/** The matrix strategy tightened by the tag row: what no grant may be looser than. */
function floor(p: MaskingPolicy, f: FieldPolicy, clearance: number): Strategy {
  const base = resolveStrategy(p.matrix, f.level, clearance);
  if (f.tag === undefined || !p.tags || !Object.hasOwn(p.tags, f.tag)) return base;
  const r = p.tags[f.tag]!;
  return stricterOf(base, resolveStrategy({ core: r, important: r, general: r }, f.level, clearance));
}

test('every requested position is granted or denied, exactly once, in order', (t) => {
  fc.assert(
    fc.property(application, fields, policy, usage, (app, fs, p, u) => {
      const d = decide(app, fs, p, u);
      if (d.granted.length + d.denied.length !== app.fields.length) return false;
      const denied = new Map(d.denied.map((x) => [x.index, x]));
      if (denied.size !== d.denied.length) return false;
      if (d.denied.some((x, i) => i > 0 && x.index <= d.denied[i - 1]!.index)) return false;
      let g = 0;
      for (const [i, name] of app.fields.entries()) {
        const x = denied.get(i);
        if (x ? x.field !== name : d.granted[g++]?.name !== name) return false;
      }
      if (new Set(d.granted.map((x) => x.name)).size !== d.granted.length) return false;
      t.pass();
      return true;
    }),
    RUNS,
  );
});

test('a granted strategy is never deny nor looser than the matrix and tag row; without an override it is that', (t) => {
  fc.assert(
    fc.property(application, fields, policy, usage, (app, fs, p, u) => {
      for (const g of decide(app, fs, p, u).granted) {
        const base = floor(p, fs[g.name]!, app.subscriber.clearance);
        const override = app.masks && Object.hasOwn(app.masks, g.name) ? app.masks[g.name] : undefined;
        if ((g.strategy as Strategy) === 'deny' || !isAtLeastAsStrict(g.strategy, base)) return false;
        if (g.strategy !== (override ?? base)) return false;
      }
      t.pass();
      return true;
    }),
    RUNS,
  );
});

test('adding a condition never grants a denied field, nor changes a granted strategy', (t) => {
  fc.assert(
    fc.property(
      application,
      fields,
      policy,
      usage,
      fc.constantFrom(...NAMES),
      oneCondition,
      (app, fs, p, u, name, [key, value]) => {
        const f = Object.hasOwn(fs, name) ? fs[name] : undefined;
        fc.pre(f !== undefined && (f.conditions === undefined || !Object.hasOwn(f.conditions, key)));
        const tightened = own([
          ...Object.entries(fs),
          [name, { ...f!, conditions: { ...f!.conditions, [key]: value } }] as [string, FieldPolicy],
        ]);
        const before = decide(app, fs, p, u);
        const after = decide(app, tightened, p, u);
        const was = new Map(before.granted.map((g) => [g.name, g.strategy]));
        if (after.granted.some((g) => was.get(g.name) !== g.strategy)) return false;
        const denied = new Set(before.denied.map((x) => x.index));
        if (!after.denied.every((x) => x.field === name || denied.has(x.index))) return false;
        t.pass();
        return true;
      },
    ),
    RUNS,
  );
});

test('more deliveries never grant more', (t) => {
  fc.assert(
    fc.property(application, fields, policy, usage, fc.constantFrom(...NAMES), (app, fs, p, u, name) => {
      const more = new Map(u);
      more.set(name, (u.get(name) ?? 0) + 1);
      const was = new Set(decide(app, fs, p, u).granted.map((g) => g.name));
      if (!decide(app, fs, p, more).granted.every((g) => was.has(g.name))) return false;
      t.pass();
      return true;
    }),
    RUNS,
  );
});

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

test('decide is deterministic and does not modify its arguments', (t) => {
  fc.assert(
    fc.property(application, fields, policy, usage, (app, fs, p, u) => {
      const copies = structuredClone({ app, fs, p, u });
      const first = decide(app, fs, p, u);
      deepFreeze(app);
      deepFreeze(fs);
      deepFreeze(p);
      const second = decide(app, fs, p, u);
      t.deepEqual(second, first);
      t.deepEqual({ app, fs, p, u }, copies);
      t.deepEqual(second, decide(copies.app, copies.fs, copies.p, copies.u));
    }),
    RUNS,
  );
});
