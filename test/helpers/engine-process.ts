import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SLUICE_BIN = fileURLToPath(new URL('../../ops/bin/sluice.js', import.meta.url));

export interface EngineProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Runs the real `sluice` CLI as a child process (so it can be killed with SIGKILL). */
export function spawnSluice(args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO): EngineProcess {
  const child = spawn(process.execPath, [SLUICE_BIN, ...args], {
    cwd,
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out };
}

/** Resolves with the exit, or rejects after `ms` (and kills the child so nothing is left behind). */
export async function exitWithin(p: EngineProcess, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${ms} ms; output:\n${p.output()}`));
    }, ms);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until the engine of `p` serves /readyz with 200 and returns its API URL (its `runtime.json` in `dataDir`
 * names its pid and API); rejects at once with its output when it exits first.
 */
export async function engineReady(p: EngineProcess, dataDir: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void p.exited.then((x) => (exited = x));
  for (;;) {
    if (exited)
      throw new Error(`the engine exited (${exited.code ?? exited.signal}) before it was ready:\n${p.output()}`);
    const runtime = join(dataDir, 'runtime.json');
    if (existsSync(runtime)) {
      const { apiUrl, pid } = JSON.parse(readFileSync(runtime, 'utf8')) as { apiUrl: string; pid: number };
      if (pid === p.child.pid && (await fetch(`${apiUrl}/readyz`).catch(() => null))?.status === 200) return apiUrl;
    }
    if (Date.now() > deadline) throw new Error(`the engine was not ready within ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
