/** The control case's result (control-case.ts: ControlNet step overhead) and its table. */
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
  console.log('');
  console.log('| model | shape | hint encoder s, once per job | UNet step s, plain | ControlNet s | UNet with residuals s | step overhead (aim <= 60%) | peak RSS GiB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of controls) {
    console.log(
      `| ${r.family} | ${r.shape} | ${r.hintEncoderSeconds.toFixed(2)} | ${r.plainStepSeconds.toFixed(2)} | ${r.controlNetStepSeconds.toFixed(2)} | ${r.controlledUnetStepSeconds.toFixed(2)} | ${r.stepOverheadPercent.toFixed(1)}% | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} |`,
    );
  }
}
