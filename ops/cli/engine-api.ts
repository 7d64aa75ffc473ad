import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SluiceError } from '../../engine/errors.ts';
import { formatIssue } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';

/** The options by which a command finds the running engine (`-c` for its runtime.json, `--api`). */
export const apiTarget = (command: Command) =>
  command
    .option('-c, --config <file>', 'config of the running engine (for its runtime.json)', './sluice.yaml')
    .option('--api <url>', 'the engine API (default: SLUICE_API, else <dataDir>/runtime.json)');

/** How an operational command finds the running engine: `--api`, `SLUICE_API`, or the config's runtime.json. */
export interface ApiTarget {
  api?: string;
  config: string;
}

/**
 * The running engine's API URL and where it was found: `--api`, else `SLUICE_API`, else `<dataDir>/runtime.json` of
 * the config (`./sluice.yaml` by default; `./.sluice`, the default dataDir, when there is no config file — as after
 * `sluice demo`). Throws UNAVAILABLE with what was tried when none is found.
 */
export function resolveApi(o: ApiTarget, env: NodeJS.ProcessEnv = process.env): { url: string; from: string } {
  if (o.api) return { url: o.api.replace(/\/+$/, ''), from: '--api' };
  if (env.SLUICE_API) return { url: env.SLUICE_API.replace(/\/+$/, ''), from: 'SLUICE_API' };
  let dataDir = resolve('.sluice');
  if (existsSync(o.config)) {
    const loaded = loadConfig(o.config, { mode: 'validate', env });
    const error = loaded.issues.find((i) => i.severity === 'error');
    if (!loaded.ok) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `${o.config} is not a valid config (${error ? formatIssue(o.config, error) : 'invalid'}); give --api or SLUICE_API instead`,
      );
    }
    dataDir = loaded.config.dataDir!; // made absolute by loadConfig
  }
  const runtime = join(dataDir, 'runtime.json');
  if (!existsSync(runtime)) {
    throw new SluiceError(
      'UNAVAILABLE',
      `no running engine found: ${runtime} does not exist (start one with \`sluice run -c ${o.config}\`, or give --api / SLUICE_API)`,
    );
  }
  const { apiUrl } = JSON.parse(readFileSync(runtime, 'utf8')) as { apiUrl?: string };
  if (!apiUrl) throw new SluiceError('UNAVAILABLE', `${runtime} names no apiUrl`);
  return { url: apiUrl, from: runtime };
}

/** GET a JSON document from the engine's API; UNAVAILABLE (exit 3) when it does not answer. */
export async function getJson<T>(target: { url: string; from: string }, path: string, timeoutMs = 5000): Promise<T> {
  return requestJson<T>(target, 'GET', path, undefined, timeoutMs);
}

/**
 * A request to the engine's API. UNAVAILABLE (exit 3) when it does not answer; an error answer `{error, code}`
 * becomes a SluiceError with that code and message (a wrong column: USAGE, an unknown resource: NOT_FOUND).
 */
export async function requestJson<T>(
  target: { url: string; from: string },
  method: 'GET' | 'PUT' | 'DELETE' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 15_000,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (e) {
    throw new SluiceError(
      'UNAVAILABLE',
      `the engine API at ${target.url} (from ${target.from}) does not answer: ${(e as Error).message}; is \`sluice run\` running?`,
      { cause: e },
    );
  }
  if (!res.ok) {
    const answer = (await res.json().catch(() => null)) as { error?: string; message?: string; code?: string } | null;
    const message = answer?.error ?? answer?.message;
    if (message && res.status < 500) {
      // (CONFLICT: refused by the engine's state, e.g. a paused subscription — a negative result, exit 1)
      const code = answer?.code === 'NOT_FOUND' || answer?.code === 'CONFLICT' ? answer.code : 'USAGE';
      throw new SluiceError(code, message);
    }
    throw new SluiceError('UNAVAILABLE', `${target.url}${path} answered ${res.status} ${message ?? res.statusText}`);
  }
  return (await res.json()) as T;
}
