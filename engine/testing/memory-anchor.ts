import { SluiceError } from '../errors.ts';
import type { Anchor, AnchorReceipt, LogCheckpoint } from '../ports/index.ts';

/** In-memory {@link Anchor}: checkpoints in a list, `down` makes every call fail as an unreachable chain would. */
export class MemoryAnchor implements Anchor {
  readonly anchored: AnchorReceipt[] = [];
  down = false;
  sends = 0;

  async latest(): Promise<LogCheckpoint> {
    this.reachable();
    const l = this.anchored.at(-1);
    return l ? { size: l.size, root: l.root } : { size: 0, root: '' };
  }

  async find(size: number): Promise<AnchorReceipt | null> {
    this.reachable();
    const found = this.anchored.find((a) => a.size === size);
    return found ? { ...found } : null;
  }

  async anchor(cp: LogCheckpoint): Promise<AnchorReceipt> {
    this.reachable();
    const found = this.anchored.find((a) => a.size === cp.size);
    if (found) {
      if (found.root !== cp.root) {
        throw new SluiceError('STATE_CORRUPT', `checkpoint ${cp.size} is anchored with another root`);
      }
      return { ...found };
    }
    const latest = this.anchored.at(-1)?.size ?? 0;
    if (cp.size <= latest) {
      throw new SluiceError('CONFLICT', `checkpoint ${cp.size} is not above the anchored ${latest}`);
    }
    this.sends++;
    const r = {
      ...cp,
      chainId: 0,
      contract: 'memory',
      txHash: `0x${this.sends.toString(16).padStart(64, '0')}`,
      blockNumber: this.sends,
    };
    this.anchored.push(r);
    return { ...r };
  }

  private reachable(): void {
    if (this.down) throw new SluiceError('UNAVAILABLE', 'the memory chain is down', { retriable: true });
  }
}
