/**
 * Exact writes of 64-bit integers into a BigInt64Array without allocating a BigInt per value.
 * Integers with |v| < 2^53 are split into two 32-bit words written through a Uint32Array view;
 * anything wider goes through BigInt.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4294967296;

export class Int64Writer {
  readonly big: BigInt64Array;
  private readonly words: Uint32Array;

  constructor(length: number) {
    this.big = new BigInt64Array(length);
    this.words = new Uint32Array(this.big.buffer, this.big.byteOffset, length * 2);
  }

  /** Store an integer Number; the caller guarantees Number.isSafeInteger(v). */
  setSafe(i: number, v: number): void {
    if (!LITTLE_ENDIAN) {
      this.big[i] = BigInt(v);
      return;
    }
    const hi = Math.floor(v / TWO_32);
    // lo is in [0, 2^32); a negative hi wraps to its two's complement word on the Uint32Array store.
    this.words[2 * i] = v - hi * TWO_32;
    this.words[2 * i + 1] = hi;
  }

  setBig(i: number, v: bigint): void {
    this.big[i] = v;
  }
}
