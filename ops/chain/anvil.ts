import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HDNodeWallet } from 'ethers';
import { freePort } from '../net/free-port.ts';

/** anvil's default mnemonic: its funded accounts (10,000 ETH each) are derived from it. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/** The private key of anvil's funded account `i` (m/44'/60'/0'/0/i). */
export const anvilKey = (i: number): string =>
  HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;

export interface Anvil {
  url: string;
  chainId: number;
  pid: number;
  /** Stops the node (SIGTERM, then SIGKILL); its state is gone unless `stateFile` was given. */
  stop(): Promise<void>;
}

/** The anvil binary of `@foundry-rs/anvil` for this platform (its npm package ships it; nothing is downloaded). */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'bin', 'anvil');
  } catch {
    throw new Error(`anvil is not installed for ${process.platform}-${arch} (npm package ${pkg})`);
  }
}

/**
 * Starts anvil on a loopback port (random unless given), chain id 31337, and resolves once it answers JSON-RPC.
 * `stateFile`: the chain is loaded from and saved to it, so a restarted node keeps its blocks (anvil --state).
 */
export async function startAnvil(opts: { port?: number; stateFile?: string; blockTime?: number } = {}): Promise<Anvil> {
  const port = opts.port ?? (await freePort());
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337', '--silent'];
  if (opts.stateFile) args.push('--state', opts.stateFile);
  if (opts.blockTime) args.push('--block-time', String(opts.blockTime));
  const child: ChildProcess = spawn(anvilBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil did not start on ${url}: ${log.trim() || `exit ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    chainId: 31337,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
