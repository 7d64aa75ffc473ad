import type { Row, SourceEvent } from '../../../schemas/index.ts';

/** The subset of pg-logical-replication's pgoutput messages Sluice uses (raw text values, see postgres-source.ts). */
export type PgoutputMessage =
  | { tag: 'begin'; commitLsn: string | null; commitTime: bigint; xid: number }
  | {
      tag: 'relation';
      relationOid: number;
      schema: string;
      name: string;
      columns: { name: string; parser: (v: string) => unknown }[];
      keyColumns: string[];
    }
  | { tag: 'insert'; relation: Relation; new: RawTuple }
  | { tag: 'update'; relation: Relation; key: RawTuple | null; old: RawTuple | null; new: RawTuple }
  | { tag: 'delete'; relation: Relation; key: RawTuple | null; old: RawTuple | null }
  | { tag: 'truncate'; relations: Relation[] }
  | { tag: 'commit'; commitLsn: string | null; commitEndLsn: string | null; commitTime: bigint }
  | { tag: 'type' | 'origin' | 'message' };

type Relation = { schema: string; name: string };
/** Column → text, null (SQL NULL) or undefined (unchanged TOAST value not sent). */
type RawTuple = Record<string, string | null | undefined>;

export interface ResourceBinding {
  resource: string;
  key: string[];
  /** Columns that may enter the platform: key columns and shareable classified fields. */
  keep: ReadonlySet<string>;
}

export interface AssembledTx {
  events: SourceEvent[];
  /** Confirm this once the transaction is durable downstream. */
  commitEndLsn: string;
}

/** Fixed-width position: `<commit LSN, 8/8 hex>:<index in commit, 10 digits>` — orders as a string. */
export function eventPosition(commitLsn: string, index: number): string {
  return `${commitLsn}:${String(index).padStart(10, '0')}`;
}

/** µs since the Unix epoch → RFC 3339 UTC with µs. */
export function isoMicros(us: bigint): string {
  const frac = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n; // floor semantics, also before 1970
  const seconds = (us - frac) / 1_000_000n;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${frac.toString().padStart(6, '0')}Z`);
}

/**
 * Folds a pgoutput message stream into whole transactions of ChangeEvents for the bound tables, dropping every
 * column that may not enter the platform. Events of other tables are ignored; a transaction with no event for a
 * bound table still yields its commit LSN so the slot can advance.
 */
export class TxAssembler {
  private tx: { commitLsn: string; commitTime: bigint; xid: number; events: Omit<SourceEvent, 'position'>[] } | null =
    null;

  constructor(private readonly bindings: Map<string, ResourceBinding>) {}

  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** Returns a completed transaction at its commit, otherwise null. */
  push(msg: PgoutputMessage): AssembledTx | null {
    switch (msg.tag) {
      case 'begin':
        this.tx = {
          commitLsn: msg.commitLsn ?? '00000000/00000000',
          commitTime: msg.commitTime,
          xid: msg.xid,
          events: [],
        };
        return null;
      case 'insert': {
        const b = this.bind(msg.relation);
        if (b) this.add(b, 'c', pick(msg.new, b.key), null, msg.new);
        return null;
      }
      case 'update': {
        const b = this.bind(msg.relation);
        if (b) this.add(b, 'u', pick(msg.new, b.key), msg.old ?? msg.key, msg.new);
        return null;
      }
      case 'delete': {
        const b = this.bind(msg.relation);
        const oldRow = msg.old ?? msg.key;
        if (b && oldRow) this.add(b, 'd', pick(oldRow, b.key), oldRow, null);
        return null;
      }
      case 'truncate':
        for (const rel of msg.relations) {
          const b = this.bind(rel);
          if (b) this.add(b, 't', {}, null, null);
        }
        return null;
      case 'commit': {
        const tx = this.tx;
        this.tx = null;
        if (!tx) return null;
        const commitTs = isoMicros(msg.commitTime);
        const txId = String(tx.xid);
        return {
          commitEndLsn: msg.commitEndLsn ?? tx.commitLsn,
          events: tx.events.map((e, i) => ({ ...e, position: eventPosition(tx.commitLsn, i), commitTs, txId })),
        };
      }
      default:
        return null;
    }
  }

  private bind(rel: Relation): ResourceBinding | undefined {
    return this.bindings.get(`${rel.schema}.${rel.name}`);
  }

  private add(b: ResourceBinding, op: SourceEvent['op'], key: Row, before: RawTuple | null, after: RawTuple | null) {
    const ev: Omit<SourceEvent, 'position'> = {
      resource: b.resource,
      op,
      key,
      commitTs: '',
      txId: '',
      schemaVersion: 0,
    };
    if (before) ev.before = keep(before, b.keep).row;
    if (after) {
      const { row, unchanged } = keep(after, b.keep);
      ev.after = row;
      if (unchanged.length > 0) ev.unchanged = unchanged;
    }
    this.tx?.events.push(ev);
  }
}

function pick(t: RawTuple, cols: string[]): Row {
  const out: Row = {};
  for (const c of cols) out[c] = t[c] ?? null;
  return out;
}

function keep(t: RawTuple, allowed: ReadonlySet<string>): { row: Row; unchanged: string[] } {
  const row: Row = {};
  const unchanged: string[] = [];
  for (const c of allowed) {
    if (!(c in t)) continue;
    const v = t[c];
    if (v === undefined) unchanged.push(c);
    else if (v === null || typeof v === 'string') row[c] = v;
    else
      throw new TypeError(
        `column "${c}" arrived as ${typeof v}, not as the server's text: values must never be parsed`,
      );
  }
  return { row, unchanged };
}
