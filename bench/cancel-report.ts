/** The cancel case's result (cancel-case.ts: cancel latency of a running job) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface CancelResult {
  family: string;
  part: 'cancel';
  shape: string;
  trials: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  unetStepSeconds: number;
  submitToFirstStepSeconds: number;
  cpu: { model: string; flags: string[] };
}

export function printCancelResults(cancels: readonly CancelResult[]): void {
  printMarkdownTable(
    ['model', 'image', 'cancels', 'p50 ms', 'p99 ms', 'max ms', 'UNet step s (what a cancel used to wait for)', 'next job: submit to first step s', 'CPU', 'SIMD flags'],
    cancels.map((r) => [r.family, r.shape, `${r.trials}`, r.p50Ms.toFixed(0), r.p99Ms.toFixed(0), r.maxMs.toFixed(0), r.unetStepSeconds.toFixed(2), r.submitToFirstStepSeconds.toFixed(1), r.cpu.model, r.cpu.flags.join(' ')]),
  );
}
