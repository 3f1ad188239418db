/** The describe cases' result (describe-case.ts: the captioner; describe-anime-case.ts: the tagger) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface DescribeResult {
  family: 'describe';
  part: string;
  shape: string;
  loadSeconds: number;
  seconds: number;
  /** photo only (the captioner's decoder with and without its cache). */
  recomputeSeconds?: number;
  cacheSpeedup?: number;
  /** anime only: input preparation alone, the network's counted FLOPs and its rate. */
  prepareSeconds?: number;
  flops?: number;
  gflopsPerSecond?: number;
  peakRssBytes: number;
  cpu: { model: string; cores: number; avx2: boolean; avx512: boolean; flags?: string[] };
}

export function printDescribeResults(describes: readonly DescribeResult[]): void {
  printMarkdownTable(
    ['describe', 'shape', 'load s', 's', 's re-running the decoder per token', 'cache speed-up', 'peak RSS GiB', 'CPU'],
    describes.map((r) => {
      const cpu = `${r.cpu.model}, ${r.cpu.cores} cores${r.cpu.avx512 ? ', AVX-512' : r.cpu.avx2 ? ', AVX2' : ''}`;
      return [r.part, r.shape, r.loadSeconds.toFixed(1), r.seconds.toFixed(r.part === 'anime' ? 3 : 1), r.recomputeSeconds?.toFixed(1) ?? '', r.cacheSpeedup === undefined ? '' : `${r.cacheSpeedup.toFixed(2)}x`, (r.peakRssBytes / 2 ** 30).toFixed(2), cpu];
    }),
  );
  for (const r of describes.filter((d) => d.flops !== undefined)) {
    console.log(`\n${r.part} network: ${(r.flops! / 1e9).toFixed(1)} GFLOP per describe (counted from the graph), ${r.gflopsPerSecond!.toFixed(1)} GFLOP/s over the describe less its input preparation (${r.prepareSeconds!.toFixed(3)} s); CPU flags: ${r.cpu.flags?.join(' ') ?? ''}`);
  }
}
