/** A delivery-log checkpoint: the log's size and its RFC 6962 root (hex). */
export interface LogCheckpoint {
  size: number;
  root: string;
}

/** Where and when a checkpoint was anchored. */
export interface AnchorReceipt extends LogCheckpoint {
  chainId: number;
  contract: string;
  txHash: string;
  blockNumber: number;
}

/**
 * Where checkpoints of the delivery log are anchored (DESIGN.md, Ports: `anchor(checkpoint)` idempotent by tree
 * size). The chain adapter is contracts/anchor-client.ts; the in-memory double engine/testing/memory-anchor.ts.
 */
export interface Anchor {
  /** The latest checkpoint anchored (size 0 when none). */
  latest(): Promise<LogCheckpoint>;
  /** The anchoring of the checkpoint of exactly this size, or null. */
  find(size: number): Promise<AnchorReceipt | null>;
  /**
   * Anchors the checkpoint and resolves once it is confirmed. Idempotent by size: a checkpoint of that size already
   * anchored (with the same root) resolves with its receipt, nothing sent; one with another root, or a size below the
   * latest, is refused (STATE_CORRUPT / CONFLICT). Rejects with UNAVAILABLE when the chain cannot be reached.
   */
  anchor(checkpoint: LogCheckpoint, signal?: AbortSignal): Promise<AnchorReceipt>;
}
