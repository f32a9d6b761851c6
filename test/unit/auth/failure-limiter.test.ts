import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter } from '../../../src/auth/failure-limiter.ts';

test('blocks after the limit within the window, per address, and forgets old failures', () => {
  const l = new FailureLimiter({ limit: 3, windowMs: 10_000 });
  l.recordFailure('a', 0);
  l.recordFailure('a', 1000);
  assert.equal(l.blockedFor('a', 1000), 0);
  l.recordFailure('a', 2000);
  assert.equal(l.blockedFor('a', 2000), 8);
  assert.equal(l.blockedFor('b', 2000), 0);
  assert.equal(l.blockedFor('a', 10_001), 0);
});

test('memory stays bounded under many addresses', () => {
  const l = new FailureLimiter({ limit: 2, windowMs: 1000, maxAddresses: 100 });
  for (let i = 0; i < 1000; i++) l.recordFailure(`10.0.${i >> 8}.${i & 255}`, i);
  assert.ok(l.trackedAddresses <= 100);
});
