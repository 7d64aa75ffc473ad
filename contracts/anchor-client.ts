import { SluiceError } from '../engine/errors.ts';
import type { Anchor, AnchorReceipt, LogCheckpoint } from '../engine/ports/index.ts';
import { DeliveryAnchorAbi } from './artifacts.ts';
import { ChainContract } from './chain-contract.ts';

export interface ChainAnchorOptions {
  rpc: string;
  /** The operator's private key (the contract's operator). */
  key: string;
  address: string;
  /** Blocks a checkpoint transaction must be under (default 1). */
  confirmations?: number;
  /** How long to wait for a transaction to be mined before treating it as dropped (default 60 s). */
  timeoutMs?: number;
}

const strip = (h: string) => h.replace(/^0x/, '').toLowerCase();

/**
 * The {@link Anchor} port on DeliveryAnchor through ethers: connects lazily (the node may be down at start), reads
 * the latest checkpoint from storage and a given one from its `Checkpoint` event (indexed by size), and anchors with
 * the operator's key, idempotently by size — a size the chain already holds is not sent again. A transaction not
 * mined within `timeoutMs` (dropped, or the node restarted without it) fails the attempt; the next attempt looks at
 * the chain first and sends again only if the checkpoint is not there.
 */
export class ChainAnchor implements Anchor {
  private readonly chain: ChainContract;

  constructor(private readonly opts: ChainAnchorOptions) {
    this.chain = new ChainContract({
      rpc: opts.rpc,
      address: opts.address,
      abi: DeliveryAnchorAbi,
      name: 'DeliveryAnchor',
      key: opts.key,
    });
  }

  async latest(): Promise<LogCheckpoint> {
    const [size, root] = (await this.chain.call((c) => c.latest!())) as [bigint, string];
    return { size: Number(size), root: size === 0n ? '' : strip(root) };
  }

  async find(size: number): Promise<AnchorReceipt | null> {
    const { chainId } = await this.chain.connect();
    const logs = (await this.chain.call((c) => c.queryFilter(c.filters.Checkpoint!(size), 0))) as unknown as {
      args: { root: string };
      transactionHash: string;
      blockNumber: number;
    }[];
    const l = logs[0];
    if (!l) return null;
    return {
      size,
      root: strip(l.args.root),
      chainId,
      contract: this.opts.address,
      txHash: l.transactionHash,
      blockNumber: l.blockNumber,
    };
  }

  async anchor(cp: LogCheckpoint, signal?: AbortSignal): Promise<AnchorReceipt> {
    const latest = await this.latest();
    if (cp.size <= latest.size) {
      const found = await this.find(cp.size);
      if (found && found.root === strip(cp.root)) return found;
      if (found) {
        throw new SluiceError('STATE_CORRUPT', `checkpoint ${cp.size} is anchored with another root (${found.root})`, {
          details: { size: cp.size },
        });
      }
      throw new SluiceError('CONFLICT', `checkpoint ${cp.size} is not above the anchored ${latest.size}`, {
        details: { size: cp.size, anchored: latest.size },
      });
    }
    signal?.throwIfAborted();
    const { chainId } = await this.chain.connect();
    const receipt = await this.chain.send(
      (c) => c.anchor!(cp.size, `0x${strip(cp.root)}`),
      this.opts.confirmations ?? 1,
      this.opts.timeoutMs ?? 60_000,
    );
    return {
      size: cp.size,
      root: strip(cp.root),
      chainId,
      contract: this.opts.address,
      txHash: (receipt as { hash: string }).hash,
      blockNumber: (receipt as { blockNumber: number }).blockNumber,
    };
  }

  /** Drops the connection (the next call connects again). */
  close(): void {
    this.chain.close();
  }
}
