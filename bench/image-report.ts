/** The image case's result (image-case.ts: one text-to-image run) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface ImageResult {
  family: string;
  part: 'image';
  shape: string;
  loadSeconds: number;
  encodeSeconds: number;
  sampleSeconds: number;
  decodeSeconds: number;
  totalSeconds: number;
  modelSeconds: number;
  unetEvaluations: number;
  overheadPercent: number;
  peakRssBytes: number;
}

export function printImageResults(images: readonly ImageResult[]): void {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  printMarkdownTable(
    ['model', 'image', 'load s', 'text s', 'sampling s', 'decode s', 'total s', 'inside ONNX Runtime s', 'pipeline overhead', 'peak RSS GiB'],
    images.map((r) => [r.family, r.shape, r.loadSeconds.toFixed(1), r.encodeSeconds.toFixed(2), r.sampleSeconds.toFixed(1), r.decodeSeconds.toFixed(1), r.totalSeconds.toFixed(1), r.modelSeconds.toFixed(1), `${r.overheadPercent.toFixed(2)}%`, gib(r.peakRssBytes)]),
  );
}
