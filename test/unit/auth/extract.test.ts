import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractCredential } from '../../../src/auth/extract.ts';
import { basic, bearer, cfHeaders, fakeRequest } from './helpers.ts';

const ID = 'irin_push_abcdefghijklmnop';
const ID2 = 'irin_push_qrstuvwxyz234567';
const SECRET = 'A'.repeat(43);

test('the three credential forms yield the same client id and secret', () => {
  for (const headers of [cfHeaders(ID, SECRET), bearer(`${ID}.${SECRET}`), basic(ID, SECRET)]) {
    const got = extractCredential(fakeRequest('1.2.3.4', headers), false);
    assert.equal(got.kind, 'credential');
    assert.equal(got.kind === 'credential' && got.clientId, ID);
    assert.equal(got.kind === 'credential' && got.secret, SECRET);
  }
  assert.equal(
    extractCredential(fakeRequest('1.2.3.4', [['authorization', `bEaReR ${ID}.${SECRET}`]]), false).kind,
    'credential',
  );
});

test('the same credential sent in several forms is accepted', () => {
  const got = extractCredential(
    fakeRequest('1.2.3.4', [...cfHeaders(ID, SECRET), ...bearer(`${ID}.${SECRET}`)]),
    false,
  );
  assert.equal(got.kind, 'credential');
  assert.deepEqual(got.kind === 'credential' && got.schemes, ['cf-access', 'bearer']);
});

test('different credentials in one request are ambiguous', () => {
  const cases: [string, string][][] = [
    [...cfHeaders(ID, SECRET), ...bearer(`${ID2}.${SECRET}`)],
    [...bearer(`${ID}.${SECRET}`), ...bearer(`${ID2}.${SECRET}`)],
    [...basic(ID, SECRET), ...bearer(`${ID}.${'B'.repeat(43)}`)],
    [
      ['CF-Access-Client-Id', ID],
      ['CF-Access-Client-Id', ID2],
      ['CF-Access-Client-Secret', SECRET],
    ],
    [
      ['CF-Access-Client-Id', ID],
      ['CF-Access-Client-Secret', SECRET],
      ['cf-access-client-secret', 'other'],
    ],
  ];
  for (const headers of cases) {
    const got = extractCredential(fakeRequest('1.2.3.4', headers), false);
    assert.equal(got.kind, 'invalid');
    assert.match(got.kind === 'invalid' ? got.reason : '', /ambiguous/);
  }
});

test('malformed and incomplete credentials are invalid, absent ones are none', () => {
  const cases: [string, string][][] = [
    [['CF-Access-Client-Id', ID]],
    [['Authorization', 'Bearer nodot']],
    [['Authorization', 'Basic bm9jb2xvbg==']],
    [['Authorization', 'Digest abc']],
    [['Authorization', 'Bearer']],
  ];
  for (const headers of cases)
    assert.equal(extractCredential(fakeRequest('1.2.3.4', headers), false).kind, 'invalid');
  assert.equal(extractCredential(fakeRequest('1.2.3.4', []), false).kind, 'none');
});

test('the session cookie counts only where sessions are allowed, and only once', () => {
  const cookie: [string, string][] = [['Cookie', `theme=dark; irin_session=${'x'.repeat(43)}`]];
  assert.equal(extractCredential(fakeRequest('1.2.3.4', cookie), false).kind, 'none');
  const got = extractCredential(fakeRequest('1.2.3.4', cookie), true);
  assert.equal(got.kind === 'session' && got.token, 'x'.repeat(43));
  const twice: [string, string][] = [
    ['Cookie', `irin_session=a`],
    ['Cookie', 'irin_session=b'],
  ];
  assert.equal(extractCredential(fakeRequest('1.2.3.4', twice), true).kind, 'invalid');
  // Header credentials take precedence over a cookie.
  assert.equal(
    extractCredential(fakeRequest('1.2.3.4', [...cookie, ...bearer(`${ID}.${SECRET}`)]), true).kind,
    'credential',
  );
});
