import type { SnapshotProgress, SnapshotReason } from '../../../engine/ports/index.ts';

/** One snapshot run of a resource as the source persists it (inside its checkpoint, so atomically with the rows). */
export interface SnapshotRun {
  id: string;
  resource: string;
  /** The subscription the rows are for (a backfill); absent: every subscription of the resource. */
  target?: string;
  reason: SnapshotReason;
  /** Key of the last row read, in key-column order; null before the first chunk. */
  after: (string | null)[] | null;
  chunks: number;
  /** Rows delivered as `_op = r`. */
  rows: number;
  /** Rows left out of a chunk because the stream carried a change of their key in the chunk's window. */
  skipped: number;
  /** Estimated rows of the table when the run started (pg_class.reltuples, or a count when never analysed). */
  estimated: number | null;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

/** What a source keeps about snapshots, stored with its checkpoint (`<lsn>|<rev>|<json>`). */
export interface SnapshotState {
  /** Incremented by every change: a request is durable once a checkpoint with its rev is confirmed. */
  rev: number;
  /** Resources whose initial snapshot is complete (or that were attached before snapshots existed). */
  attached: string[];
  /** Runs not finished, in the order they run. */
  active: SnapshotRun[];
  /** The last finished runs, oldest first (at most KEEP_DONE). */
  done: SnapshotRun[];
}

const KEEP_DONE = 20;

/** A change to the state: applied to the runner's plan at once and to the durable state when its batch is handed out. */
export type SnapshotChange =
  | { kind: 'add'; run: SnapshotRun }
  | {
      kind: 'chunk';
      id: string;
      after: (string | null)[] | null;
      rows: number;
      skipped: number;
      estimated?: number;
      last: boolean;
      at: string;
    }
  | { kind: 'fail'; id: string; error: string; at: string }
  | { kind: 'attach'; resources: string[] };

export function emptyState(attached: string[] = []): SnapshotState {
  return { rev: 0, attached: [...attached], active: [], done: [] };
}

/** Applies a change in place (bumping rev). */
export function applyChange(s: SnapshotState, c: SnapshotChange): void {
  s.rev++;
  switch (c.kind) {
    case 'add':
      s.active.push({ ...c.run });
      return;
    case 'attach':
      for (const r of c.resources) if (!s.attached.includes(r)) s.attached.push(r);
      return;
    case 'chunk': {
      const run = s.active.find((r) => r.id === c.id);
      if (!run) return;
      run.after = c.after;
      run.chunks++;
      run.rows += c.rows;
      run.skipped += c.skipped;
      if (c.estimated !== undefined) run.estimated = c.estimated;
      if (c.last) finish(s, run, c.at);
      return;
    }
    case 'fail': {
      const run = s.active.find((r) => r.id === c.id);
      if (!run) return;
      run.error = c.error;
      finish(s, run, c.at);
      return;
    }
  }
}

function finish(s: SnapshotState, run: SnapshotRun, at: string): void {
  run.finishedAt = at;
  s.active = s.active.filter((r) => r !== run);
  s.done.push(run);
  if (s.done.length > KEEP_DONE) s.done.splice(0, s.done.length - KEEP_DONE);
  // a resource is attached once a full snapshot for every subscription has gone through
  if (!run.error && !run.target && !s.attached.includes(run.resource)) s.attached.push(run.resource);
}

/**
 * The state after the slot was created anew (its changes since the last checkpoint are lost): every resource runs a
 * re-snapshot from the start, in place of a full run it had going; backfills for one subscription go on.
 */
export function afterSlotLoss(s: SnapshotState, runs: SnapshotRun[]): SnapshotState {
  const again = new Set(runs.map((r) => r.resource));
  return {
    ...s,
    rev: s.rev + 1,
    active: [...s.active.filter((r) => r.target !== undefined || !again.has(r.resource)), ...runs],
  };
}

/** `<lsn>` alone, or `<lsn>|<rev>|<state json>`. */
export function encodeCheckpoint(lsn: string, state: SnapshotState | null): string {
  return state ? `${lsn}|${state.rev}|${JSON.stringify(state)}` : lsn;
}

export function checkpointLsn(cp: string): string {
  const bar = cp.indexOf('|');
  return bar < 0 ? cp : cp.slice(0, bar);
}

/** The rev a checkpoint carries (-1 when it carries no state). */
export function checkpointRev(cp: string): number {
  const a = cp.indexOf('|');
  if (a < 0) return -1;
  const b = cp.indexOf('|', a + 1);
  return Number(cp.slice(a + 1, b < 0 ? undefined : b));
}

export function checkpointState(cp: string | null): SnapshotState | null {
  if (!cp) return null;
  const a = cp.indexOf('|');
  if (a < 0) return null;
  const b = cp.indexOf('|', a + 1);
  return JSON.parse(cp.slice(b + 1)) as SnapshotState;
}

/** A run as `sluice snapshots` and the metrics show it. */
export function progressOf(run: SnapshotRun, provider: string): SnapshotProgress {
  return {
    id: run.id,
    provider,
    resource: run.resource,
    ...(run.target ? { subscription: run.target } : {}),
    reason: run.reason,
    state: run.error ? 'FAILED' : run.finishedAt ? 'DONE' : 'RUNNING',
    rows: run.rows,
    skipped: run.skipped,
    chunks: run.chunks,
    estimated: run.estimated,
    startedAt: run.startedAt,
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
}
