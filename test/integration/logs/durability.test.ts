import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LogPartitions } from '../../../src/logs/store/partitions.ts';
import { TENANTS } from './harness.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'irin-kill9-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const CHILD = fileURLToPath(new URL('./durability-child.ts', import.meta.url));

/** Runs the pushing child until it has acknowledged `acks` more lines (plus a random extra delay), then SIGKILLs it. */
function runAndKill(startAt: number, acks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(startAt)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let buffer = '';
    let stderr = '';
    let killing = false;
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const l of lines) if (l.startsWith('ack ')) acked.push(Number(l.slice(4)));
      if (!killing && acked.length >= acks) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 30));
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

async function storedIds(): Promise<number[]> {
  const parts = new LogPartitions({ dataDir, store: { maintenanceIntervalMs: 0 } });
  try {
    const store = await parts.get(TENANTS['acme']!);
    const q = store.querier();
    const ids: number[] = [];
    for (const s of q.streams([{ name: 'job', type: '=~', value: '.+' }], 0, Number.MAX_SAFE_INTEGER)) {
      for (const src of q.blocks(s.id, 0, Number.MAX_SAFE_INTEGER)) {
        const b = await src.load();
        for (let i = 0; i < b.count; i++)
          ids.push(Number(b.lines.toString('utf8', b.starts[i], b.starts[i + 1]).split(' ')[1]));
      }
    }
    await store.close({ flush: false });
    return ids.sort((a, b) => a - b);
  } finally {
    await parts.closeAll();
  }
}

describe('kill -9 durability', () => {
  it('every acknowledged line survives SIGKILL, over several crashes, and none is stored twice', async () => {
    let next = 0;
    const allAcked: number[] = [];
    for (let round = 0; round < 3; round++) {
      const acked = await runAndKill(next, 400);
      assert.ok(acked.length >= 400, `round ${round}: ${acked.length} acks`);
      allAcked.push(...acked);
      const stored = await storedIds();
      const storedSet = new Set(stored);
      const lost = allAcked.filter((id) => !storedSet.has(id));
      assert.deepEqual(lost, [], `round ${round}: acknowledged lines lost`);
      assert.equal(new Set(stored).size, stored.length, `round ${round}: duplicates after recovery`);
      next = Math.max(...stored) + 1000;
    }
  });
});
