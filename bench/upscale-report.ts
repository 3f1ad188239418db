/** The upscaler cases' result (upscale-case.ts) and its table, with an end-to-end run's phases. */
import { printMarkdownTable } from './markdown-table.ts';
import { formatUpscalePhases, type UpscalePhases } from './upscale-phases.ts';

export interface UpscalerResult {
  family: 'upscaler';
  part: 'rrdb' | 'image' | 'image-small';
  shape: string;
  seconds: number;
  peakRssBytes: number;
  phases?: UpscalePhases;
  gflops?: number;
  convGflops?: number;
  percentOfConv?: number;
  cpu?: { model: string; cores: number; avx2: boolean | null; avx512: boolean | null };
}

export function printUpscalerResults(upscalers: readonly UpscalerResult[]): void {
  const figure = (v: number | undefined, digits: number) => (v === undefined ? '' : v.toFixed(digits));
  printMarkdownTable(
    ['upscaler', 'shape', 's', 'GFLOP/s', 'fp32 conv GFLOP/s (same run)', 'of conv', 'peak RSS GiB', 'CPU'],
    upscalers.map((r) => {
      const cpu = r.cpu === undefined ? '' : `${r.cpu.model}, ${r.cpu.cores} cores${r.cpu.avx512 ? ', AVX-512' : r.cpu.avx2 ? ', AVX2' : ''}`;
      return [r.part, r.shape, r.seconds.toFixed(1), figure(r.gflops, 1), figure(r.convGflops, 1), r.percentOfConv === undefined ? '' : `${r.percentOfConv.toFixed(0)} %`, (r.peakRssBytes / 2 ** 30).toFixed(2), cpu];
    }),
  );
  for (const r of upscalers.filter((u) => u.phases !== undefined)) console.log(`\n${r.part} phases: ${formatUpscalePhases(r.phases!)}`);
}
