/**
 * Buffer's own native slicers, bypassing `toString`'s argument handling, which costs more than the
 * decoding itself for the short strings of label sets (protobufjs does the same). Falls back to
 * `toString` should a Node version not have them.
 */
interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const proto = Buffer.prototype as unknown as Partial<NativeSlices>;
const HAS_NATIVE = typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function';

/** Bytes as one char each: a cheap, exact string image of binary data (map keys). */
export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return HAS_NATIVE
    ? (buf as unknown as NativeSlices).latin1Slice(start, end)
    : buf.toString('latin1', start, end);
}

/** UTF-8 decoding (invalid sequences become U+FFFD: validate first where that matters). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  return HAS_NATIVE
    ? (buf as unknown as NativeSlices).utf8Slice(start, end)
    : buf.toString('utf8', start, end);
}
