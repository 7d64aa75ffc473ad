import { Contract, Wallet, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import { SluiceError } from '../engine/errors.ts';
import type { Anchor, AnchorReceipt, LogCheckpoint } from '../engine/ports/index.ts';
import { DeliveryAnchorAbi } from './artifacts.ts';
import { revertReason } from './revert.ts';
import { connectRpc } from './rpc.ts';

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
  private conn: { provider: JsonRpcProvider; contract: Contract; chainId: number } | null = null;

  constructor(private readonly opts: ChainAnchorOptions) {}

  async latest(): Promise<LogCheckpoint> {
    const { contract } = await this.connect();
    const [size, root] = (await this.call(() => contract.latest!())) as [bigint, string];
    return { size: Number(size), root: size === 0n ? '' : strip(root) };
  }

  async find(size: number): Promise<AnchorReceipt | null> {
    const { contract, chainId } = await this.connect();
    const logs = (await this.call(() => contract.queryFilter(contract.filters.Checkpoint!(size), 0))) as unknown as {
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
    const { contract, chainId } = await this.connect();
    const receipt = await this.call(async () => {
      const tx = await contract.anchor!(cp.size, `0x${strip(cp.root)}`);
      return tx.wait(this.opts.confirmations ?? 1, this.opts.timeoutMs ?? 60_000);
    });
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
    this.conn?.provider.destroy();
    this.conn = null;
  }

  private async connect() {
    if (this.conn) return this.conn;
    const { provider, chainId } = await connectRpc(this.opts.rpc);
    const contract = new Contract(
      this.opts.address,
      DeliveryAnchorAbi as InterfaceAbi,
      new Wallet(this.opts.key, provider),
    );
    this.conn = { provider, contract, chainId };
    return this.conn;
  }

  /** A contract call whose failure says what went wrong: a revert by name, an unreachable node as UNAVAILABLE. */
  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'CALL_EXCEPTION') {
        throw new SluiceError('CONFLICT', `DeliveryAnchor refused: ${revertReason(e, this.conn!.contract.interface)}`, {
          cause: e,
        });
      }
      this.close(); // reconnect next time (the node may have restarted)
      throw new SluiceError(
        'UNAVAILABLE',
        `the chain at ${this.opts.rpc}: ${(e as { shortMessage?: string }).shortMessage ?? (e as Error).message}`,
        {
          retriable: true,
          cause: e,
        },
      );
    }
  }
}
