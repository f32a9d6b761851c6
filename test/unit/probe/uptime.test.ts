import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  coveredSegments,
  findIncidents,
  uptimeCalendar,
  uptimeWindows,
  zonedMidnight,
} from '../../../src/probe/uptime.ts';
import type { SuccessSample } from '../../../src/probe/uptime.ts';
import type { ProbeStateEvent } from '../../../src/probe/types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string): number => Date.parse(iso);

/** Samples every minute in [from, to), down where `down(t)` says so. */
function run(from: string, to: string, down: (t: number) => boolean = () => false): SuccessSample[] {
  const out: SuccessSample[] = [];
  for (let t = at(from); t < at(to); t += MIN) out.push({ t, v: down(t) ? 0 : 1 });
  return out;
}

// A known history, interval 60 s, "now" = 2026-03-03 12:00 UTC:
//  Mar 1: probed all day; down 00:10–00:20 (10 failed probes).
//  Mar 2: probed 00:00–08:00, then the PROBER was not running until Mar 3 06:00.
//  Mar 3: probed 06:00–12:00; down 06:00–06:05 (5 failed probes).
const samples: SuccessSample[] = [
  ...run(
    '2026-03-01T00:00:00Z',
    '2026-03-02T00:00:00Z',
    (t) => t >= at('2026-03-01T00:10:00Z') && t < at('2026-03-01T00:20:00Z'),
  ),
  ...run('2026-03-02T00:00:00Z', '2026-03-02T08:00:00Z'),
  ...run('2026-03-03T06:00:00Z', '2026-03-03T12:00:00Z', (t) => t < at('2026-03-03T06:05:00Z')),
];
const now = at('2026-03-03T12:00:00Z');
const load = (from: number, to: number): SuccessSample[] => samples.filter((s) => s.t >= from && s.t <= to);
const opts = { intervalSeconds: 60 };

test('a prober gap is no data, never up', () => {
  const segs = coveredSegments(samples, opts, now);
  const gap = segs.find((s) => s.to === at('2026-03-02T08:00:00Z'));
  assert.ok(gap, 'coverage ends one interval after the last sample before the gap');
  assert.ok(!segs.some((s) => s.from < at('2026-03-03T06:00:00Z') && s.to > at('2026-03-02T08:00:00Z')));
});

test('uptime windows are time-weighted over observed time only', async () => {
  const w = await uptimeWindows(load, opts, now);
  // 24h = Mar 2 12:00 → Mar 3 12:00: only Mar 3 06:00–12:00 observed, 5 minutes of it down.
  assert.equal(w['24h'].upSeconds, 6 * 3600 - 300);
  assert.equal(w['24h'].downSeconds, 300);
  assert.equal(w['24h'].noDataSeconds, 18 * 3600);
  assert.equal(w['24h'].coverage, 0.25);
  assert.equal(w['24h'].uptimePercent!.toFixed(4), ((100 * (21600 - 300)) / 21600).toFixed(4));
  assert.equal(w['24h'].samples, 360);
  assert.equal(w['24h'].failedSamples, 5);
  // 7d: everything observed: 24 h + 8 h + 6 h, 15 minutes down.
  const observed = (24 + 8 + 6) * 3600;
  assert.equal(w['7d'].upSeconds + w['7d'].downSeconds, observed);
  assert.equal(w['7d'].downSeconds, 900);
  assert.equal(w['7d'].uptimePercent!.toFixed(4), ((100 * (observed - 900)) / observed).toFixed(4));
  assert.equal(w['90d'].uptimePercent, w['7d'].uptimePercent);
});

test('daily calendar in UTC: uptime, coverage and status per day', async () => {
  const days = await uptimeCalendar(load, { ...opts, days: 4 }, now);
  assert.deepEqual(
    days.map((d) => [
      d.date,
      d.status,
      d.uptimePercent === null ? null : Number(d.uptimePercent.toFixed(3)),
      Number(d.coverage.toFixed(4)),
    ]),
    [
      ['2026-02-28', 'no_data', null, 0],
      ['2026-03-01', 'degraded', Number(((100 * (86400 - 600)) / 86400).toFixed(3)), 1],
      ['2026-03-02', 'no_data', 100, Number((8 / 24).toFixed(4))], // 8 h seen of 24: too little to call it ok
      ['2026-03-03', 'degraded', Number(((100 * (21600 - 300)) / 21600).toFixed(3)), 0.5], // today: 6 h of the 12 elapsed
    ],
  );
  assert.equal(days[3]!.to, now, 'today ends now');
});

test('daily calendar at tenant-local midnight (Europe/Berlin, UTC+1 in March)', async () => {
  const days = await uptimeCalendar(load, { ...opts, days: 3, timeZone: 'Europe/Berlin' }, now);
  assert.deepEqual(
    days.map((d) => d.date),
    ['2026-03-01', '2026-03-02', '2026-03-03'],
  );
  assert.equal(days[0]!.from, at('2026-02-28T23:00:00Z'));
  // Berlin's Mar 1 misses UTC Mar 1 23:00–24:00 and gains nothing before (no data on Feb 28).
  assert.equal(days[0]!.upSeconds + days[0]!.downSeconds, 23 * 3600);
  assert.equal(days[2]!.from, at('2026-03-02T23:00:00Z'));
});

test('local midnights across DST: 23 h and 25 h days', () => {
  assert.equal(
    zonedMidnight(2026, 3, 30, 'Europe/Berlin') - zonedMidnight(2026, 3, 29, 'Europe/Berlin'),
    23 * HOUR,
  );
  assert.equal(
    zonedMidnight(2026, 11, 2, 'America/New_York') - zonedMidnight(2026, 11, 1, 'America/New_York'),
    25 * HOUR,
  );
  assert.equal(zonedMidnight(2026, 1, 1, 'Asia/Kolkata'), at('2025-12-31T18:30:00Z'));
});

test('an unknown time zone is a clear error', async () => {
  await assert.rejects(
    uptimeCalendar(load, { ...opts, days: 1, timeZone: 'Mars/Olympus' }, now),
    /unknown time zone "Mars\/Olympus"/,
  );
});

test('incidents from down → up, with the reason of the first failed probe', async () => {
  const events: ProbeStateEvent[] = [
    { t: at('2026-03-01T00:00:00Z'), endpointId: 1, state: 'up', reason: null, statusCode: 200 },
    {
      t: at('2026-03-01T00:10:00Z'),
      endpointId: 1,
      state: 'down',
      reason: { code: 'status_mismatch', detail: 'status 503, expected 2xx' },
      statusCode: 503,
    },
    { t: at('2026-03-01T00:20:00Z'), endpointId: 1, state: 'up', reason: null, statusCode: 200 },
    {
      t: at('2026-03-03T06:00:00Z'),
      endpointId: 1,
      state: 'down',
      reason: { code: 'timeout', detail: 'no answer within 10 s' },
      statusCode: 0,
    },
    { t: at('2026-03-03T06:05:00Z'), endpointId: 1, state: 'up', reason: null, statusCode: 200 },
  ];
  const incidents = await findIncidents(load, opts, { from: now - 90 * 86_400_000, now }, events);
  assert.equal(incidents.length, 2);
  const [last, first] = incidents;
  assert.deepEqual(
    {
      start: first!.start,
      end: first!.end,
      open: first!.open,
      duration: first!.durationSeconds,
      failed: first!.failedSamples,
      reason: first!.reason?.code,
    },
    {
      start: at('2026-03-01T00:10:00Z'),
      end: at('2026-03-01T00:20:00Z'),
      open: false,
      duration: 600,
      failed: 10,
      reason: 'status_mismatch',
    },
  );
  assert.equal(last!.reason?.code, 'timeout');
  assert.equal(last!.durationSeconds, 300);
  assert.equal(last!.downSeconds, 300);
});

test('an incident still going on is open', async () => {
  const s = [
    ...run('2026-03-03T11:00:00Z', '2026-03-03T11:30:00Z'),
    ...run('2026-03-03T11:30:00Z', '2026-03-03T12:00:00Z', () => true),
  ];
  const incidents = await findIncidents(() => s, opts, { from: at('2026-03-03T00:00:00Z'), now });
  assert.equal(incidents.length, 1);
  assert.equal(incidents[0]!.open, true);
  assert.equal(incidents[0]!.end, null);
  assert.equal(incidents[0]!.durationSeconds, 1800);
  assert.equal(incidents[0]!.reason, null, 'no event recorded: no reason invented');
});
