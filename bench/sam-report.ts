/** The Segment Anything case's result (sam-case.ts) and its table. */
export interface SamResult {
  family: 'sam';
  part: 'segment';
  shape: string;
  loadSeconds: number;
  encoderSeconds: number;
  perBoxSeconds: number;
  totalSeconds: number;
  peakRssBytes: number;
  cpu: { model: string; flags: string[] };
}

export function printSamResults(sams: readonly SamResult[]): void {
  console.log('');
  console.log('| Segment Anything | load s | image encoder s | s per box | encoder + boxes s | peak RSS GiB | CPU | SIMD flags |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of sams) {
    console.log(`| ${r.shape} | ${r.loadSeconds.toFixed(1)} | ${r.encoderSeconds.toFixed(2)} | ${r.perBoxSeconds.toFixed(3)} | ${r.totalSeconds.toFixed(2)} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${r.cpu.model} | ${r.cpu.flags.join(' ')} |`);
  }
}
