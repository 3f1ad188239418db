/** The image prompt case's result (image-prompt-case.ts) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface ImagePromptResult {
  family: string;
  part: 'image-prompt';
  shape: string;
  runs: number;
  encoderBuildSeconds: number;
  encodeSecondsPerImage: number;
  plainBuildSeconds: number;
  guidedBuildSeconds: number;
  plainStepSeconds: number;
  onePromptStepSeconds: number;
  fourPromptStepSeconds: number;
  onePromptOverheadPercent: number;
  fourPromptOverheadPercent: number;
  peakRssBytes: number;
}

export function printImagePromptResults(results: readonly ImagePromptResult[]): void {
  if (results.length === 0) return;
  printMarkdownTable(
    ['model', 'shape', 'timed runs', 'encode s per image prompt', 'UNet step s, plain', '1 prompt s', '4 prompts s', 'overhead, 1 prompt (aim <= 15%)', 'overhead, 4 prompts', 'peak RSS GiB'],
    results.map((r) => [r.family, r.shape, r.runs === 1 ? 'first' : 'second of two', r.encodeSecondsPerImage.toFixed(2), r.plainStepSeconds.toFixed(2), r.onePromptStepSeconds.toFixed(2), r.fourPromptStepSeconds.toFixed(2), `${r.onePromptOverheadPercent.toFixed(1)}%`, `${r.fourPromptOverheadPercent.toFixed(1)}%`, (r.peakRssBytes / 2 ** 30).toFixed(2)]),
  );
}
