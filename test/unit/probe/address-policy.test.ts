import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createAddressPolicy,
  guardedLookup,
  parseCidr,
  parseIp,
  RefusedAddressError,
} from '../../../src/probe/address-policy.ts';

const strict = createAddressPolicy();

test('parseIp reads IPv4, IPv6 (compressed, embedded IPv4, zone ids)', () => {
  assert.deepEqual([...parseIp('192.168.1.20')!], [192, 168, 1, 20]);
  assert.deepEqual([...parseIp('::1')!], [...new Array(15).fill(0), 1]);
  assert.deepEqual([...parseIp('::ffff:10.0.0.1')!].slice(10), [0xff, 0xff, 10, 0, 0, 1]);
  assert.deepEqual([...parseIp('fe80::1%eth0')!].slice(0, 2), [0xfe, 0x80]);
  assert.deepEqual([...parseIp('[2001:db8::ff00:42:8329]')!].slice(10), [0xff, 0x00, 0x00, 0x42, 0x83, 0x29]);
  assert.equal(parseIp('example.com'), null);
  assert.equal(parseIp('256.1.1.1'), null);
});

test('parseCidr validates', () => {
  assert.equal(parseCidr('10.0.0.0/8').prefix, 8);
  assert.equal(parseCidr('fd00::1').prefix, 128);
  assert.throws(() => parseCidr('10.0.0.0/33'), /prefix must be an integer from 0 to 32/);
  assert.throws(() => parseCidr('nope/8'), /is not an IP address/);
});

test('refused by default: every internal range, with its category', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['169.254.1.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    // IPv4 hidden in IPv6 forms is judged by the IPv4 inside.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:0a00:0001::1', 'private'],
  ];
  for (const [addr, category] of cases)
    assert.deepEqual(strict.check(addr), { address: addr, category }, addr);
});

test('public addresses pass', () => {
  for (const addr of [
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '8.8.8.8',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
  ]) {
    assert.equal(strict.check(addr), null, addr);
  }
});

test('the allow-list opens ranges; metadata only by its exact address', () => {
  const p = createAddressPolicy({ allow: ['127.0.0.0/8', '169.254.0.0/16', 'fc00::/7'] });
  assert.equal(p.check('127.0.0.1'), null);
  assert.equal(p.check('::ffff:127.0.0.1'), null);
  assert.equal(p.check('169.254.1.1'), null);
  assert.equal(p.check('169.254.169.254')?.category, 'metadata');
  assert.equal(p.check('fd00:ec2::254')?.category, 'metadata');
  assert.equal(p.check('10.0.0.1')?.category, 'private');
  assert.equal(createAddressPolicy({ allow: ['169.254.169.254/32'] }).check('169.254.169.254'), null);
});

test('guardedLookup refuses a name if any answer is refused, and answers both lookup shapes', async () => {
  const lookup = guardedLookup(strict, async (host) =>
    host === 'mixed.test'
      ? [
          { address: '8.8.8.8', family: 4 },
          { address: '10.0.0.1', family: 4 },
        ]
      : [
          { address: '8.8.4.4', family: 4 },
          { address: '2001:4860:4860::8888', family: 6 },
        ],
  );
  const call = (host: string, all: boolean) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      lookup(host, all ? { all: true } : {}, (err, address, family) => resolve({ err, address, family })),
    );
  const mixed = await call('mixed.test', false);
  assert.ok(mixed.err instanceof RefusedAddressError);
  assert.match(mixed.err.message, /mixed\.test resolves to 10\.0\.0\.1, a private address/);
  const one = await call('public.test', false);
  assert.deepEqual([one.err, one.address, one.family], [null, '8.8.4.4', 4]);
  const all = await call('public.test', true);
  assert.equal((all.address as unknown[]).length, 2);
});
