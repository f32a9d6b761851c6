import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TenantPartitions } from '../../../src/tsdb/partitions.ts';
import { isStaleNaN } from '../../../src/model/samples.ts';
import { SERIES, sampleValue } from './crash-data.ts';

const writer = join(import.meta.dirname, 'crash-writer.ts');

/** Runs the writer until it has acknowledged `minAcks` batches, then SIGKILLs it. */
function runAndKill(dataDir: string, firstBatch: number, minAcks: number): Promise<Set<number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir, String(firstBatch)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Set<number>();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^ack (\d+)$/.exec(line);
      if (!m) return;
      acked.add(Number(m[1]));
      // kill at a moment that depends on timing, not on a batch boundary we control
      if (!killed && acked.size >= minAcks) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), Math.random() * 30);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

test(
  'kill -9 during a write load: every acknowledged sample is there after restart',
  { timeout: 60_000 },
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'irin-tsdb-crash-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const acked = new Set<number>();
    let next = 0;
    for (let round = 0; round < 2; round++) {
      const got = await runAndKill(dataDir, next, 100 + round * 50);
      for (const b of got) acked.add(b);
      next = Math.max(...acked) + 10; // later rounds continue in time, as a restarted agent does

      const parts = new TenantPartitions({
        dataDir,
        blockDurationMs: 10_000,
        maintenanceIntervalMs: 0,
        now: () => 0,
      });
      const db = await parts.get('crash');
      const res = db.querier().select([{ name: '__name__', type: '=', value: 'crash_metric' }], -1e15, 1e15);
      assert.equal(res.length, SERIES.length, `round ${round}: every series present`);
      for (const s of res) {
        const k = Number(s.labels.find((l) => l.name === 'k')!.value);
        const byT = new Map<number, number>();
        for (let i = 0; i < s.timestamps.length; i++) byT.set(s.timestamps[i]!, s.values[i]!);
        for (const b of acked) {
          assert.ok(byT.has(b * 1000), `round ${round}: series ${k} lost acknowledged batch ${b}`);
          const v = byT.get(b * 1000)!;
          if (b % 10 === 9 && k === 0) assert.ok(isStaleNaN(v), `batch ${b}: staleness marker bits`);
          else assert.equal(v, sampleValue(b, k));
        }
      }
      assert.ok(db.blockMetas().length > 0, `round ${round}: blocks were cut during the load`);
      assert.deepEqual(db.corruptBlocks, []);
      await parts.closeAll();
    }
  },
);
