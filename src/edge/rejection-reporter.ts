import type { RejectionReport } from './rejections.ts';

/**
 * Forwards rejections to the control plane's hook at most once per tenant, server and reason per
 * interval, so a misbehaving agent retrying in a loop cannot flood it.
 */
export class RejectionReporter {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly hook: ((report: RejectionReport) => void) | undefined,
    private readonly intervalMs = 1000,
    private readonly onHookError?: (err: unknown) => void,
  ) {}

  report(report: RejectionReport, nowMs: number): void {
    if (this.hook === undefined) return;
    const key = `${report.tenantId}/${report.serverId ?? ''}/${report.reason}`;
    const previous = this.last.get(key);
    if (previous !== undefined && nowMs - previous < this.intervalMs) return;
    if (this.last.size >= 10_000) this.prune(nowMs);
    this.last.set(key, nowMs);
    try {
      this.hook(report);
    } catch (err) {
      this.onHookError?.(err);
    }
  }

  private prune(nowMs: number): void {
    for (const [key, at] of this.last) if (nowMs - at >= this.intervalMs) this.last.delete(key);
  }
}
