import type { Command } from 'commander';
import type { SourceStatus } from '../../engine/ports/index.ts';
import type { EngineStatus } from '../runtime/status.ts';
import { getJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

interface LagOptions extends ApiTarget {
  json?: boolean;
}

export function lagCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('lag')
    .description(
      'show how far each source is behind its provider (state, confirmed position, WAL held back, seconds behind, ' +
        'stall); exit 1 when a source is not streaming or is stalled',
    )
    .option('-c, --config <file>', 'config of the running engine (for its runtime.json)', './sluice.yaml')
    .option('--api <url>', 'the engine API (default: SLUICE_API, else <dataDir>/runtime.json)')
    .option('--json', 'print the sources as JSON')
    .action(async (o: LagOptions) => setCode(await lag(o)));
}

async function lag(o: LagOptions): Promise<number> {
  const status = await getJson<EngineStatus>(resolveApi(o), '/v1/status');
  const unhealthy = status.sources.filter((s) => s.state !== 'STREAMING' || s.stalled);
  if (o.json) process.stdout.write(`${JSON.stringify({ sources: status.sources }, null, 2)}\n`);
  else {
    const rows = status.sources.map((s) => ({
      source: s.id,
      state: s.state,
      confirmed: s.confirmed ?? '-',
      'WAL held': s.lagBytes === undefined ? '-' : bytes(s.lagBytes),
      behind: s.lagSeconds === undefined ? '-' : `${s.lagSeconds.toFixed(s.lagSeconds < 10 ? 2 : 0)} s`,
      stalled: s.stalled ? 'STALLED' : 'no',
    }));
    for (const line of renderTable(['source', 'state', 'confirmed', 'WAL held', 'behind', 'stalled'], rows)) {
      process.stdout.write(`${line}\n`);
    }
    for (const s of status.sources.filter((x: SourceStatus) => x.error)) {
      process.stdout.write(`${s.id}: ${s.error}\n`);
    }
  }
  return unhealthy.length > 0 ? EXIT.NEGATIVE : EXIT.OK;
}

function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
