import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { staleNaN } from '../../../src/model/samples.ts';
import {
  decodeWriteRequest,
  DecodedWriteRequest,
  locateLabels,
  MalformedProtobufError,
  type RawLabel,
} from '../../../src/edge/write-request.ts';
import { bits, encodeRequest } from './helpers.ts';

function labelsOf(req: DecodedWriteRequest, i: number): [string, string][] {
  const raw: RawLabel[] = [];
  const n = locateLabels(req.buf, req.labelsStart[i]!, req.labelsEnd[i]!, raw);
  return raw
    .slice(0, n)
    .map((l) => [
      req.buf.toString('utf8', l.nameStart, l.nameEnd),
      req.buf.toString('utf8', l.valueStart, l.valueEnd),
    ]);
}

function samplesOf(req: DecodedWriteRequest, i: number): { t: number; v: string }[] {
  const out = [];
  for (let j = req.sampleStart[i]!; j < req.sampleStart[i + 1]!; j++)
    out.push({ t: req.timestamps[j]!, v: bits(req.values[j]!) });
  return out;
}

describe('decodeWriteRequest', () => {
  it('decodes series, labels in sent order, samples with exact value bits, metadata', () => {
    const buf = Buffer.from(
      encodeRequest(
        [
          {
            labels: [
              ['job', 'node'],
              ['__name__', 'up'],
              ['unicode', 'héllo ✓'],
            ],
            samples: [
              { t: 1_700_000_000_123, v: 1.5 },
              { t: 1_700_000_015_123, v: staleNaN() },
            ],
          },
          { labels: { __name__: 'neg' }, samples: [{ t: -5, v: -0 }] },
          { labels: { __name__: 'h' }, histograms: 3, exemplars: 1 },
        ],
        [{ type: 2, metricFamilyName: 'up', help: 'Target up.', unit: 'bool' }],
      ),
    );
    const req = decodeWriteRequest(buf);
    assert.equal(req.seriesCount, 3);
    assert.equal(req.sampleCount, 3);
    assert.equal(req.histogramCount, 3);
    assert.deepEqual(labelsOf(req, 0), [
      ['job', 'node'],
      ['__name__', 'up'],
      ['unicode', 'héllo ✓'],
    ]);
    assert.deepEqual(samplesOf(req, 0), [
      { t: 1_700_000_000_123, v: bits(1.5) },
      { t: 1_700_000_015_123, v: '7ff0000000000002' },
    ]);
    assert.deepEqual(samplesOf(req, 1), [{ t: -5, v: '8000000000000000' }]);
    assert.deepEqual(samplesOf(req, 2), []);
    assert.equal(req.histograms[2], 3);
    assert.equal(req.labelsSplit[0], 0);
    assert.deepEqual(req.metadata, [{ type: 2, metricFamilyName: 'up', help: 'Target up.', unit: 'bool' }]);
  });

  it('reuses its arrays across requests and grows them for large ones', () => {
    const out = new DecodedWriteRequest();
    const big = Array.from({ length: 700 }, (_, i) => ({
      labels: { __name__: 'm', i: String(i) },
      samples: [
        { t: i, v: i },
        { t: i + 1, v: i + 0.5 },
      ],
    }));
    decodeWriteRequest(Buffer.from(encodeRequest(big)), out);
    assert.equal(out.seriesCount, 700);
    assert.equal(out.sampleCount, 1400);
    assert.deepEqual(samplesOf(out, 699), [
      { t: 699, v: bits(699) },
      { t: 700, v: bits(699.5) },
    ]);
    decodeWriteRequest(
      Buffer.from(encodeRequest([{ labels: { __name__: 'x' }, samples: [{ t: 9, v: 9 }] }])),
      out,
    );
    assert.equal(out.seriesCount, 1);
    assert.deepEqual(labelsOf(out, 0), [['__name__', 'x']]);
  });

  it('finds labels interleaved with samples and marks them not cacheable; skips unknown fields', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string('__name__')
      .uint32((2 << 3) | 2)
      .string('a')
      .ldelim();
    w.uint32((2 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 1)
      .double(7)
      .uint32((2 << 3) | 0)
      .int64(10)
      .ldelim();
    w.uint32((9 << 3) | 5).fixed32(123); // unknown field
    w.uint32((1 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string('b')
      .uint32((2 << 3) | 2)
      .string('c')
      .ldelim();
    w.ldelim();
    w.uint32((2 << 3) | 0).uint32(42); // reserved field 2 at the top level
    const req = decodeWriteRequest(Buffer.from(w.finish()));
    assert.equal(req.seriesCount, 1);
    assert.equal(req.labelsSplit[0], 1);
    assert.deepEqual(labelsOf(req, 0), [
      ['__name__', 'a'],
      ['b', 'c'],
    ]);
    assert.deepEqual(samplesOf(req, 0), [{ t: 10, v: bits(7) }]);
  });

  it('uses proto3 defaults for absent sample fields', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).fork();
    w.uint32((2 << 3) | 2)
      .fork()
      .ldelim();
    w.ldelim();
    const req = decodeWriteRequest(Buffer.from(w.finish()));
    assert.deepEqual(samplesOf(req, 0), [{ t: 0, v: '0' }]);
  });

  const malformed: [string, number[]][] = [
    ['truncated varint', [0x0a]],
    ['length past the end', [0x0a, 0x05, 0x00]],
    ['field number 0', [0x00, 0x01]],
    ['group wire type', [0x0b]],
    ['wrong wire type for timeseries', [0x08, 0x01]],
    ['varint longer than 10 bytes', [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['truncated double', [0x0a, 0x05, 0x12, 0x03, 0x09, 0x00, 0x00]],
    ['sample timestamp as bytes', [0x0a, 0x04, 0x12, 0x02, 0x12, 0x00]],
  ];
  for (const [name, bytes] of malformed) {
    it(`throws MalformedProtobufError: ${name}`, () => {
      assert.throws(() => decodeWriteRequest(Buffer.from(bytes)), MalformedProtobufError);
    });
  }
});
