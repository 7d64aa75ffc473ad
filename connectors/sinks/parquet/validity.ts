/** An Arrow validity bitmap that starts all-valid; nulls are the exception and are cleared one by one. */
export class Validity {
  readonly bits: Uint8Array;
  nullCount = 0;

  constructor(readonly length: number) {
    this.bits = new Uint8Array((length + 7) >> 3).fill(0xff);
    const tail = length & 7;
    if (tail !== 0) this.bits[this.bits.length - 1] = (1 << tail) - 1;
  }

  setNull(i: number): void {
    this.bits[i >> 3] = (this.bits[i >> 3] as number) & ~(1 << (i & 7));
    this.nullCount++;
  }

  /** The bitmap for makeData: omitted when there are no nulls. */
  bitmap(): Uint8Array | undefined {
    return this.nullCount === 0 ? undefined : this.bits;
  }
}
