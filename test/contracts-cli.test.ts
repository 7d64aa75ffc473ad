import test from 'ava';
import { JsonRpcProvider } from 'ethers';
import { anvilKey, startAnvil } from '../ops/chain/anvil.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';

/** `sluice contracts deploy` as an operator runs it, against a real anvil. */

const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const p = spawnSluice(args, env);
  const { code } = await exitWithin(p, 60_000);
  return { code, out: p.output() };
};

test('contracts deploy: both contracts on chain, the config block printed; bad keys and a dead node refused', async (t) => {
  const anvil = await startAnvil();
  t.teardown(() => anvil.stop());
  const ok = await run(['contracts', 'deploy', '--rpc', anvil.url, '--key', 'env:OPERATOR_KEY', '--json'], {
    OPERATOR_KEY: anvilKey(0),
  });
  t.is(ok.code, 0, ok.out);
  const d = JSON.parse(ok.out) as { chainId: number; operator: string; policy: string; anchor: string };
  t.is(d.chainId, 31337);
  t.is(d.operator, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', "anvil's first account");
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true });
  t.teardown(() => rpc.destroy());
  for (const a of [d.policy, d.anchor]) t.true((await rpc.getCode(a)).length > 1000, `code at ${a}`);

  const text = await run(['contracts', 'deploy', '--rpc', anvil.url, '--key', 'env:OPERATOR_KEY'], {
    OPERATOR_KEY: anvilKey(0),
  });
  t.is(text.code, 0);
  t.regex(
    text.out,
    /chain:\n {2}rpc: http:\/\/127\.0\.0\.1:\d+\n {2}operatorKey: env:OPERATOR_KEY\n {2}policy: "0x[0-9a-fA-F]{40}"\n {2}anchor: "0x[0-9a-fA-F]{40}"/,
  );

  const literal = await run(['contracts', 'deploy', '--rpc', anvil.url, '--key', anvilKey(0)]);
  t.is(literal.code, 2);
  t.regex(literal.out, /--key takes env:NAME/);
  t.notRegex(literal.out, new RegExp(anvilKey(0).slice(2)), 'the key is never echoed');
  const unset = await run(['contracts', 'deploy', '--rpc', anvil.url, '--key', 'env:NO_SUCH_KEY']);
  t.is(unset.code, 2);
  t.regex(unset.out, /NO_SUCH_KEY is not set/);
  const dead = await run(['contracts', 'deploy', '--rpc', 'http://127.0.0.1:1', '--key', 'env:OPERATOR_KEY'], {
    OPERATOR_KEY: anvilKey(0),
  });
  t.is(dead.code, 3);
  t.regex(dead.out, /the chain at http:\/\/127\.0\.0\.1:1 does not answer/);
});
