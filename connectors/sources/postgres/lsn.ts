/** `16/B374D848` or `00000016/B374D848` → bigint. */
export function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

export function bigIntToLsn(v: bigint): string {
  return `${(v >> 32n).toString(16).toUpperCase().padStart(8, '0')}/${(v & 0xffffffffn).toString(16).toUpperCase().padStart(8, '0')}`;
}
