import { setImmediate as nextTick } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { QueryError } from '../errors.ts';

export interface BudgetOptions {
  /** Wall-clock budget for the whole query. */
  readonly timeoutMs: number;
  /** Named in the timeout error so the caller knows which limit applied. */
  readonly timeoutLimitName: string;
  /** Samples a query may load and hold; 0 or Infinity for none. */
  readonly maxSamples: number;
  readonly maxSamplesLimitName: string;
  /** Longest stretch of synchronous work before yielding to the event loop. */
  readonly sliceMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Cooperative scheduling and limits for one query. Hot loops call `shouldYield(work)` (a counter
 * and, every ~1000 units of work, a clock read) and `await yield()` when it says so, so a heavy query
 * gives other tenants' requests the event loop every few milliseconds; the deadline and client
 * cancellation are checked at every yield.
 */
export class Budget {
  private ops = 0;
  private sliceEnd: number;
  private readonly deadline: number;
  private samples = 0;

  constructor(private readonly opts: BudgetOptions) {
    const now = performance.now();
    this.deadline = now + opts.timeoutMs;
    this.sliceEnd = now + opts.sliceMs;
  }

  /**
   * Accounts for `work` units (roughly: samples or series touched) and says whether the current
   * slice is used up; the clock is read once per ~1000 units.
   */
  shouldYield(work = 1): boolean {
    this.ops += work;
    if (this.ops < 1024) return false;
    this.ops = 0;
    const now = performance.now();
    return now >= this.sliceEnd || now >= this.deadline;
  }

  async yield(): Promise<void> {
    this.checkDeadline();
    await nextTick();
    this.checkDeadline();
    this.sliceEnd = performance.now() + this.opts.sliceMs;
  }

  /** Yields when the current slice is used up; cheap enough to call once per series or step. */
  async tick(work = 1): Promise<void> {
    if (this.shouldYield(work)) await this.yield();
  }

  checkDeadline(): void {
    if (this.opts.signal?.aborted)
      throw new QueryError('canceled', 'query was canceled in expression evaluation');
    if (performance.now() >= this.deadline) {
      throw new QueryError(
        'timeout',
        `query timed out in expression evaluation (limit: ${this.opts.timeoutLimitName}=${this.opts.timeoutMs}ms)`,
      );
    }
  }

  /** Accounts for samples loaded or materialised; throws once the query holds too many. */
  addSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.opts.maxSamples) {
      throw new QueryError(
        'execution',
        `query processing would load too many samples into memory in query execution (limit: ${this.opts.maxSamplesLimitName}=${this.opts.maxSamples})`,
      );
    }
  }

  releaseSamples(n: number): void {
    this.samples = Math.max(0, this.samples - n);
  }

  get sampleCount(): number {
    return this.samples;
  }
}
