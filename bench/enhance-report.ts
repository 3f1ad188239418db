/** The Enhance case's result (enhance-case.ts: one tab on an input image) and its table. */
export interface EnhanceResult {
  family: 'enhance';
  part: 'tab';
  shape: string;
  regions: number;
  totalSeconds: number;
  beforeSamplingSeconds: number | null;
  peakRssBytes: number;
  cpu: { model: string; flags: string[] };
}

export function printEnhanceResults(enhances: readonly EnhanceResult[]): void {
  console.log('');
  console.log('| Enhance | shape | regions | s | s before sampling | peak RSS GiB | CPU | SIMD flags |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of enhances) {
    console.log(`| ${r.part} | ${r.shape} | ${r.regions} | ${r.totalSeconds.toFixed(1)} | ${r.beforeSamplingSeconds?.toFixed(1) ?? ''} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${r.cpu.model} | ${r.cpu.flags.join(' ')} |`);
  }
}
