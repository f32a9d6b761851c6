import type { RejectionReason } from './rejections.ts';

const DETAILS_SHOWN = 5;

/**
 * The problems found in one request: counts by reason, and the messages of the first few (built
 * lazily, so a request with thousands of bad samples does not format thousands of strings).
 */
export class ProblemList {
  private readonly samplesByReason = new Map<RejectionReason, number>();
  private readonly firstByReason = new Map<RejectionReason, string>();
  readonly details: string[] = [];
  count = 0;
  samples = 0;

  add(reason: RejectionReason, samples: number, describe: () => string): void {
    this.count++;
    this.samples += samples;
    this.samplesByReason.set(reason, (this.samplesByReason.get(reason) ?? 0) + samples);
    const needDetail = this.details.length < DETAILS_SHOWN;
    const needFirst = !this.firstByReason.has(reason);
    if (!needDetail && !needFirst) return;
    const message = describe();
    if (needDetail) this.details.push(message);
    if (needFirst) this.firstByReason.set(reason, message);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Each reason with the samples it refused and its first message. */
  *byReason(): Generator<{ reason: RejectionReason; samples: number; message: string }> {
    for (const [reason, samples] of this.samplesByReason) {
      yield { reason, samples, message: this.firstByReason.get(reason) ?? '' };
    }
  }

  /** The 400 answer: a summary line naming tenant and server, then the first problems. */
  format(who: string, totalSamples: number, stored: number): string {
    const shown = this.details.length < this.count ? `, the first ${this.details.length}` : '';
    const head =
      `${who}: ${this.samples} of ${totalSamples} samples refused, ${stored} stored; ` +
      `${this.count} problem${this.count === 1 ? '' : 's'}${shown}:`;
    return [head, ...this.details.map((d) => `  ${d}`)].join('\n') + '\n';
  }
}
