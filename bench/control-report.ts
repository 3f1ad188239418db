/** The control case's result (control-case.ts: ControlNet step overhead) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface ControlResult {
  family: string;
  part: 'control';
  shape: string;
  plainStepSeconds: number;
  controlNetStepSeconds: number;
  controlledUnetStepSeconds: number;
  hintEncoderSeconds: number;
  stepOverheadPercent: number;
  peakRssBytes: number;
}

export function printControlResults(controls: readonly ControlResult[]): void {
  printMarkdownTable(
    ['model', 'shape', 'hint encoder s, once per job', 'UNet step s, plain', 'ControlNet s', 'UNet with residuals s', 'step overhead (aim <= 60%)', 'peak RSS GiB'],
    controls.map((r) => [r.family, r.shape, r.hintEncoderSeconds.toFixed(2), r.plainStepSeconds.toFixed(2), r.controlNetStepSeconds.toFixed(2), r.controlledUnetStepSeconds.toFixed(2), `${r.stepOverheadPercent.toFixed(1)}%`, (r.peakRssBytes / 2 ** 30).toFixed(2)]),
  );
}
