import { SluiceError } from '../errors.ts';
import type { Anchor, AnchorReceipt, Logger, StateStore } from '../ports/index.ts';
import { Waker } from '../feed/waker.ts';
import type { DeliveryLog } from './delivery-log.ts';

export interface AnchorerOptions {
  /** Anchor once this many leaves wait. */
  everyLeaves: number;
  /** Anchor at least this often while leaves wait. */
  intervalMs: number;
  /** How often to look at the log when nothing wakes the anchorer (default 1 s). */
  pollMs?: number;
}

/** What `sluice status` / the metrics show of anchoring. */
export interface AnchorerStatus {
  logSize: number;
  anchoredSize: number;
  /** Leaves not yet under an anchored checkpoint. */
  pending: number;
  lastAnchor: (AnchorReceipt & { at: string }) | null;
  lastError?: string;
}

/**
 * Anchors the delivery log's checkpoints (DESIGN.md, Delivery log): when `everyLeaves` leaves wait, or `intervalMs`
 * passed with some waiting, the checkpoint of the whole log is anchored — one transaction however many deliveries —
 * and recorded in the state store. While the chain is down, leaves keep accumulating and the next checkpoint covers
 * them all when it returns (they queue; nothing is lost). Idempotent across crashes: before sending, the chain's
 * latest checkpoint is compared with the state store's, so a checkpoint anchored just before a crash is recorded,
 * not sent again — and one that is not this log's (a root that differs from the log's at that size) stops anchoring
 * with STATE_CORRUPT. Every leaf is thus covered by exactly one first checkpoint.
 */
export class Anchorer {
  private readonly waker = new Waker();
  private lastError: string | undefined;
  private lastAnchor: (AnchorReceipt & { at: string }) | null = null;
  private anchoredSize = 0;
  private logSize = 0;
  private lastAttempt = Date.now();

  constructor(
    private readonly log: DeliveryLog,
    private readonly anchor: Anchor,
    private readonly state: StateStore,
    private readonly opts: AnchorerOptions,
    private readonly logger: Logger,
    /** Called after a checkpoint is recorded (proof files are written then). */
    private readonly onAnchored?: (r: AnchorReceipt & { at: string }) => Promise<void>,
  ) {}

  /** Runs until `signal` aborts; failures (the chain down) are logged and retried with back-off. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 1000;
    const recorded = await this.state.checkpoints();
    this.lastAnchor = recorded.at(-1) ?? null;
    this.anchoredSize = this.lastAnchor?.size ?? 0;
    while (!signal.aborted) {
      try {
        const due = await this.due();
        if (due) await this.anchorNow(signal);
        if (this.lastError) this.logger.info('anchoring works again', { anchoredSize: this.anchoredSize });
        delete this.lastError;
        backoff = 1000;
        await this.waker.wait(this.opts.pollMs ?? 1000, signal);
      } catch (e) {
        if (signal.aborted) break;
        const first = this.lastError === undefined;
        this.lastError = (e as Error).message;
        const fields = { error: this.lastError, pending: this.logSize - this.anchoredSize, retryInMs: backoff };
        if (first) this.logger.error('anchoring failed; the checkpoint waits', fields);
        else this.logger.warn('anchoring failed again; the checkpoint waits', fields);
        if ((e as SluiceError).code === 'STATE_CORRUPT') throw e;
        await this.waker.wait(backoff, signal);
        backoff = Math.min(backoff * 2, 60_000);
      }
    }
  }

  /** New leaves were appended. */
  wake(): void {
    this.waker.wake();
  }

  status(): AnchorerStatus {
    return {
      logSize: this.logSize,
      anchoredSize: this.anchoredSize,
      pending: Math.max(0, this.logSize - this.anchoredSize),
      lastAnchor: this.lastAnchor,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async due(): Promise<boolean> {
    this.logSize = await this.log.sync();
    const pending = this.logSize - this.anchoredSize;
    if (pending <= 0) {
      this.lastAttempt = Date.now();
      return false;
    }
    return pending >= this.opts.everyLeaves || Date.now() - this.lastAttempt >= this.opts.intervalMs;
  }

  /** Anchors the checkpoint of the whole log now (after settling what the chain already holds). */
  async anchorNow(signal?: AbortSignal): Promise<AnchorReceipt | null> {
    this.lastAttempt = Date.now();
    const size = (this.logSize = await this.log.sync());
    const onChain = await this.anchor.latest();
    if (onChain.size > this.anchoredSize) {
      // anchored before a crash, not recorded yet: record it (after checking it is this log's)
      await this.adopt(onChain.size);
    }
    if (size <= this.anchoredSize) return null;
    const cp = await this.log.checkpoint(size);
    const receipt = await this.anchor.anchor(cp, signal);
    await this.record(receipt);
    this.logger.info('checkpoint anchored', {
      size: receipt.size,
      root: receipt.root,
      txHash: receipt.txHash,
      block: receipt.blockNumber,
    });
    return receipt;
  }

  private async adopt(size: number): Promise<void> {
    const found = await this.anchor.find(size);
    const ours = size <= this.logSize ? await this.log.checkpoint(size) : null;
    if (!found || !ours || found.root !== ours.root) {
      throw new SluiceError(
        'STATE_CORRUPT',
        `the anchor contract holds a checkpoint of size ${size} that is not this delivery log's` +
          (ours
            ? ` (root ${found?.root ?? '?'} on chain, ${ours.root} here)`
            : ` (the log has ${this.logSize} leaves)`),
        { details: { size } },
      );
    }
    await this.record(found);
  }

  private async record(r: AnchorReceipt): Promise<void> {
    const rec = { ...r, at: new Date().toISOString() };
    await this.state.recordCheckpoint(rec);
    this.anchoredSize = r.size;
    this.lastAnchor = rec;
    await this.onAnchored?.(rec);
  }
}
