/**
 * parquet-wasm's linear memory grows in many small steps while a large table is decoded and written, and on this
 * V8 each grow of a large memory copies it: the first 1M-row write took 5–8 s instead of ~2.5 s. Making the
 * allocator take one big block first (and free it) grows memory once; later allocations reuse the freed block.
 * WASM memory never shrinks, so a reservation lasts for the life of the process.
 */
import { readSchema } from 'parquet-wasm';

const STEP = 16 * 1024 * 1024;
/** Larger writes grow the rest of the way on their own; this bounds the transient JS buffer. */
const MAX_RESERVATION = 1024 * 1024 * 1024;
let reserved = 0;

/** Ensures parquet-wasm's allocator has grown to at least `bytes` (rounded up to 16 MiB) in one step. */
export function reserveWasmHeap(bytes: number): void {
  if (bytes <= reserved) return;
  const target = Math.min(MAX_RESERVATION, Math.ceil(bytes / STEP) * STEP);
  if (target <= reserved) return;
  try {
    // The bytes are copied into a block malloc'ed inside WASM; all zeros is not a Parquet file, so readSchema
    // rejects it and the block is freed back to the allocator.
    readSchema(new Uint8Array(target));
  } catch {
    // expected: "Corrupt footer"
  }
  reserved = target;
}
