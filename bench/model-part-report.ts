/**
 * The model part cases' result (case.ts: one text encoder, UNet or VAE run, with its FLOPs measured against the
 * machine's limits) and its table.
 */
import { printMarkdownTable } from './markdown-table.ts';

export interface ModelPartResult {
  family: string;
  part: string;
  shape: string;
  buildSeconds: number;
  firstRunSeconds: number;
  secondsPerRun: number;
  cpuSecondsPerRun: number;
  peakRssBytes: number;
  weightsFp32Bytes: number;
  rssOverWeights: number;
  flops: { gemm: number; conv: number; attention: number; total: number };
  gflops: number;
  limitGflops: number | null;
  fractionOfLimit: number | null;
  gflopsPerCpuSecond: number;
  fractionOfCoreLimit: number | null;
}

export function printModelPartResults(results: readonly ModelPartResult[]): void {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  printMarkdownTable(
    ['model', 'part', 'shape', 'session build s', 'first run s', 's per run', 'CPU s per run', 'GFLOP (graph)', 'GFLOP/s', 'limit GFLOP/s', 'of limit', 'GFLOP per CPU s', 'of the one-core limit, per CPU s', 'peak RSS GiB', 'fp32 weights GiB', 'RSS / weights'],
    results.map((r) => {
      const limit = r.limitGflops === null ? '' : r.limitGflops.toFixed(1);
      const fraction = r.fractionOfLimit === null ? '' : `${(r.fractionOfLimit * 100).toFixed(0)} %`;
      const coreFraction = r.fractionOfCoreLimit === null ? '' : `${(r.fractionOfCoreLimit * 100).toFixed(0)} %`;
      return [r.family, r.part, r.shape, r.buildSeconds.toFixed(1), r.firstRunSeconds.toFixed(2), r.secondsPerRun.toFixed(2), r.cpuSecondsPerRun.toFixed(2), (r.flops.total / 1e9).toFixed(0), r.gflops.toFixed(1), limit, fraction, r.gflopsPerCpuSecond.toFixed(1), coreFraction, gib(r.peakRssBytes), gib(r.weightsFp32Bytes), r.rssOverWeights.toFixed(2)];
    }),
  );
}
