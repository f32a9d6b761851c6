import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHUNK_PACKED,
  CHUNK_XOR,
  XOR_MAX_SAMPLE_BYTES,
  XS_F64_SLOTS,
  XS_I32_SLOTS,
  chunkMinTime,
  decodeChunk,
  encodePacked,
  loadValue,
  packedMaxBytes,
  valueHi,
  valueLo,
  xorAppend,
  xorFinish,
  xorStart,
} from '../../../src/tsdb/chunk.ts';
import { STALE_NAN_BITS, isStaleNaN, staleNaN } from '../../../src/model/samples.ts';

function bitsOf(v: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
}

function fromBits(b: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, b);
  return dv.getFloat64(0);
}

function encodeXorStream(ts: Float64Array, vs: Float64Array): Uint8Array {
  const buf = new Uint8Array(3 + ts.length * XOR_MAX_SAMPLE_BYTES + 16);
  const sf = new Float64Array(XS_F64_SLOTS);
  const si = new Int32Array(XS_I32_SLOTS);
  xorStart(buf, 0, si, 0);
  for (let i = 0; i < ts.length; i++) {
    loadValue(vs[i]!);
    xorAppend(buf, sf, 0, si, 0, ts[i]!, valueHi(), valueLo());
  }
  const len = xorFinish(buf, 0, si, 0);
  return buf.slice(0, len);
}

function encodePackedChunk(ts: Float64Array, vs: Float64Array): Uint8Array {
  const out = new Uint8Array(packedMaxBytes(ts.length));
  const len = encodePacked(ts, vs, 0, ts.length, out);
  return out.slice(0, len);
}

function roundTrip(name: string, ts: Float64Array, vs: Float64Array): { xor: number; packed: number } {
  const sizes = { xor: 0, packed: 0 };
  for (const [kind, payload] of [
    ['xor', encodeXorStream(ts, vs)],
    ['packed', encodePackedChunk(ts, vs)],
  ] as const) {
    const outT = new Float64Array(ts.length);
    const outV = new Float64Array(ts.length);
    const n = decodeChunk(payload, 0, payload.length, outT, outV, 0);
    assert.equal(n, ts.length, `${name}/${kind}: count`);
    for (let i = 0; i < n; i++) {
      assert.equal(outT[i], ts[i], `${name}/${kind}: t[${i}]`);
      assert.equal(
        bitsOf(outV[i]!),
        bitsOf(vs[i]!),
        `${name}/${kind}: bits of v[${i}] (${vs[i]} vs ${outV[i]})`,
      );
    }
    assert.equal(chunkMinTime(payload, 0), ts[0], `${name}/${kind}: min time`);
    sizes[kind] = payload.length;
  }
  return sizes;
}

function series(n: number, t0: number, step: (i: number) => number, value: (i: number) => number) {
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  let t = t0;
  for (let i = 0; i < n; i++) {
    ts[i] = t;
    vs[i] = value(i);
    t += step(i);
  }
  return { ts, vs };
}

test('round-trips regular counters, gauges and constants bit-exactly, packed is smaller', () => {
  const t0 = 1_700_000_000_000;
  let c = 1e9;
  const counter = series(
    120,
    t0,
    () => 15_000,
    () => (c += Math.floor(Math.random() * 50_000)),
  );
  let g = 50;
  const gauge = series(
    120,
    t0,
    () => 15_000,
    () => (g = Math.round((g + Math.random() - 0.5) * 100) / 100),
  );
  const constant = series(
    120,
    t0,
    () => 15_000,
    () => 1,
  );
  for (const [name, s] of Object.entries({ counter, gauge, constant })) {
    const sizes = roundTrip(name, s.ts, s.vs);
    assert.ok(sizes.packed <= sizes.xor + 2, `${name}: packed ${sizes.packed} vs xor ${sizes.xor}`);
  }
  const constSizes = roundTrip('constant', constant.ts, constant.vs);
  assert.ok(constSizes.packed < 40, `a constant regular chunk should be tiny, got ${constSizes.packed}`);
});

test('staleness marker, other NaN payloads, ±Inf, -0, extremes survive bit-exactly', () => {
  // Producers, not a number[]: V8's double arrays would canonicalise the NaN payloads.
  const specials: (() => number)[] = [
    () => staleNaN(),
    () => NaN,
    () => fromBits(0x7ff8000000000001n),
    () => fromBits(0xfff0000000000abcn),
    () => Infinity,
    () => -Infinity,
    () => -0,
    () => 0,
    () => Number.MAX_VALUE,
    () => -Number.MIN_VALUE,
    () => 5e-324,
    () => 1.5,
    () => 0.1 + 0.2,
    () => 2 ** 53,
  ];
  const ts = new Float64Array(specials.length);
  const vs = new Float64Array(specials.length);
  specials.forEach((v, i) => {
    ts[i] = 1_000 + i * 1_000;
    vs[i] = v();
  });
  assert.equal(bitsOf(vs[0]!), STALE_NAN_BITS);
  assert.equal(bitsOf(vs[3]!), 0xfff0000000000abcn);
  roundTrip('specials', ts, vs);
  // the stale marker alone and at the end of a decimal-looking series
  const tail = series(
    50,
    0,
    () => 15_000,
    (i) => (i === 49 ? staleNaN() : i * 0.25),
  );
  roundTrip('stale tail', tail.ts, tail.vs);
  const payload = encodePackedChunk(tail.ts, tail.vs);
  const outT = new Float64Array(50);
  const outV = new Float64Array(50);
  decodeChunk(payload, 0, payload.length, outT, outV, 0);
  assert.ok(isStaleNaN(outV[49]!));
  assert.equal(bitsOf(outV[49]!), STALE_NAN_BITS);
});

test('irregular timestamps: jitter, gaps, negative and huge deltas, single sample', () => {
  const jitter = series(
    200,
    1_700_000_000_123,
    (i) => 15_000 + ((i * 7919) % 11) - 5,
    (i) => i,
  );
  roundTrip('jitter', jitter.ts, jitter.vs);
  const gaps = series(
    60,
    -5_000_000,
    (i) => (i % 10 === 0 ? 3_600_000 * 24 * 40 : i % 3 === 0 ? 1 : 999_999),
    (i) => Math.sin(i),
  );
  roundTrip('gaps', gaps.ts, gaps.vs);
  const one = new Float64Array(1);
  one[0] = staleNaN();
  roundTrip('single', new Float64Array([42]), one);
  roundTrip('two', new Float64Array([42, 1e13]), new Float64Array([1, 2]));
});

test('decimal coding handles precision, gcd and large mantissas', () => {
  const cases: Record<string, (i: number) => number> = {
    pages: (i) => 4096 * (100_000 + ((i * 37) % 91)),
    cents: (i) => Math.round(i * 1234.56 * 100) / 100,
    micro: (i) => (i * 7) / 1e6,
    negative: (i) => -1000.5 + i * 0.25,
    bigInts: (i) => 2 ** 50 - i * 3,
    mixedExponents: (i) => (i % 2 ? i : i + 0.125),
  };
  for (const [name, f] of Object.entries(cases)) {
    const s = series(120, 1_000, () => 15_000, f);
    roundTrip(name, s.ts, s.vs);
  }
  const pages = series(120, 1_000, () => 15_000, cases.pages!);
  assert.ok(encodePackedChunk(pages.ts, pages.vs).length < encodeXorStream(pages.ts, pages.vs).length);
});

test('random fuzz round-trips both encodings', () => {
  for (let iter = 0; iter < 200; iter++) {
    const n = 1 + Math.floor(Math.random() * 300);
    const kind = iter % 4;
    const s = series(
      n,
      Math.floor(Math.random() * 2e12) - 1e12,
      () => 1 + Math.floor(Math.random() * (kind === 0 ? 10 : 1e7)),
      (i) =>
        kind === 1
          ? Math.random() * 1e6
          : kind === 2
            ? Math.floor(Math.random() * 100) / 10
            : kind === 3 && i % 17 === 0
              ? staleNaN()
              : i * 3,
    );
    roundTrip(`fuzz ${iter}`, s.ts, s.vs);
  }
});

test('encodings are tagged', () => {
  const s = series(
    10,
    0,
    () => 1,
    (i) => i,
  );
  assert.equal(encodeXorStream(s.ts, s.vs)[0], CHUNK_XOR);
  assert.equal(encodePackedChunk(s.ts, s.vs)[0], CHUNK_PACKED);
});
