/** The Segment Anything case's result (sam-case.ts) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

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
  printMarkdownTable(
    ['Segment Anything', 'load s', 'image encoder s', 's per box', 'encoder + boxes s', 'peak RSS GiB', 'CPU', 'SIMD flags'],
    sams.map((r) => [r.shape, r.loadSeconds.toFixed(1), r.encoderSeconds.toFixed(2), r.perBoxSeconds.toFixed(3), r.totalSeconds.toFixed(2), (r.peakRssBytes / 2 ** 30).toFixed(2), r.cpu.model, r.cpu.flags.join(' ')]),
  );
}
