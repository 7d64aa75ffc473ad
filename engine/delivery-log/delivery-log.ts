import { SluiceError } from '../errors.ts';
import type { StateStore } from '../ports/index.ts';
import { consistencyProof, inclusionProof, leafHash, rootOf, type Hash } from './merkle.ts';

const hex = (h: Hash) => Buffer.from(h).toString('hex');
const utf8 = new TextEncoder();

/** A checkpoint of the log: its size and root (hex). */
export interface Checkpoint {
  size: number;
  root: string;
}

/** What proves a leaf is in the log of a given size. */
export interface InclusionProof {
  index: number;
  size: number;
  /** The leaf's data (canonical JSON). */
  leaf: string;
  leafHash: string;
  auditPath: string[];
  root: string;
}

/**
 * The delivery log as an RFC 6962 Merkle tree over the state store's leaves (engine/delivery-log/merkle.ts): the
 * leaf hashes are kept in memory (32 bytes per leaf) and extended from the store as it grows. Answers checkpoints,
 * audit paths and consistency proofs for any size up to the current one.
 */
export class DeliveryLog {
  private readonly hashes: Hash[] = [];

  constructor(private readonly state: StateStore) {}

  /** Loads the leaves appended since the last call; returns the log's size. */
  async sync(): Promise<number> {
    const size = Number(await this.state.logSize());
    while (this.hashes.length < size) {
      const from = BigInt(this.hashes.length);
      const page = await this.state.logLeaves(from, from + 10_000n);
      if (page.length === 0) break;
      for (const l of page) this.hashes.push(leafHash(utf8.encode(l.leaf)));
    }
    return this.hashes.length;
  }

  /** The checkpoint of the log as it is now (or of its first `size` leaves). */
  async checkpoint(size?: number): Promise<Checkpoint> {
    const n = this.size(await this.upTo(size));
    return { size: n, root: hex(rootOf(this.hashes.slice(0, n))) };
  }

  /** The audit path of leaf `index` in the log of `size` leaves (default: all). */
  async inclusion(index: number, size?: number): Promise<InclusionProof> {
    const n = this.size(await this.upTo(size));
    if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
      throw new SluiceError('NOT_FOUND', `leaf ${index} is not in the log of size ${n}`, {
        details: { index, size: n },
      });
    }
    const [leaf] = await this.state.logLeaves(BigInt(index), BigInt(index) + 1n);
    return {
      index,
      size: n,
      leaf: leaf!.leaf,
      leafHash: hex(this.hashes[index]!),
      auditPath: inclusionProof(this.hashes, index, n).map(hex),
      root: hex(rootOf(this.hashes.slice(0, n))),
    };
  }

  /** Proves the log of `from` leaves is a prefix of the log of `to` leaves. */
  async consistency(from: number, to?: number): Promise<{ from: Checkpoint; to: Checkpoint; proof: string[] }> {
    const n = this.size(await this.upTo(to));
    if (!Number.isSafeInteger(from) || from < 1 || from > n) {
      throw new SluiceError('USAGE', `no consistency proof from size ${from} to ${n}`, { details: { from, to: n } });
    }
    return {
      from: { size: from, root: hex(rootOf(this.hashes.slice(0, from))) },
      to: { size: n, root: hex(rootOf(this.hashes.slice(0, n))) },
      proof: consistencyProof(this.hashes, from, n).map(hex),
    };
  }

  /** `size`, once the cached hashes reach it (synced when they do not); the whole log when undefined. */
  private async upTo(size?: number): Promise<number> {
    if (size === undefined || size > this.hashes.length) {
      const held = await this.sync();
      return size ?? held;
    }
    return size;
  }

  private size(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.hashes.length) {
      throw new SluiceError('USAGE', `the log holds ${this.hashes.length} leaves, not ${n}`, {
        details: { size: n, held: this.hashes.length },
      });
    }
    return n;
  }
}
