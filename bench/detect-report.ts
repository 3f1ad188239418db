/** The detector case's result (detect-case.ts) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface DetectResult {
  family: 'detect';
  part: string;
  shape: string;
  loadSeconds: number;
  firstSeconds: number;
  secondSeconds: number;
  peakRssBytes: number;
  cpu: { model: string; cores: number; avx2: boolean; avx512: boolean };
}

export function printDetectResults(detections: readonly DetectResult[]): void {
  printMarkdownTable(
    ['detector', 'shape', 'load s', 'first detection s (graph + session)', 'next detection s', 'peak RSS GiB', 'CPU'],
    detections.map((r) => {
      const flags = [r.cpu.avx2 ? 'avx2' : '', r.cpu.avx512 ? 'avx512' : ''].filter((f) => f !== '').join(' ');
      return [r.part, r.shape, r.loadSeconds.toFixed(2), r.firstSeconds.toFixed(1), r.secondSeconds.toFixed(1), (r.peakRssBytes / 2 ** 30).toFixed(2), `${r.cpu.model}, ${r.cpu.cores} cores, ${flags}`];
    }),
  );
}
