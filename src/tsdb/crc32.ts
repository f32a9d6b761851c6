import zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial) for WAL records, checkpoints and block files.
 * Node 20.15+ ships a native `zlib.crc32` (backported from 22); it is ~10x faster than table-driven
 * JS, so it is used when present. The table-driven version is the fallback for older runtimes and
 * the reference the tests compare the native one against.
 */

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32Portable(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

type NativeCrc32 = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: NativeCrc32 }).crc32;

export const crc32: (data: Uint8Array) => number = native ? (data) => native(data) : crc32Portable;
