/** The LoRA case's result (lora-case.ts) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface LoraResult {
  family: string;
  part: 'lora';
  shape: string;
  baseStepSeconds: number;
  loraStepSeconds: number;
  twoLoraStepSeconds: number;
  stepOverheadPercent: number;
  firstApplySeconds: number;
  switchSeconds: number;
  switchTwoSeconds: number;
  switchNoneSeconds: number;
  peakRssBytes: number;
}

export function printLoraResults(loras: readonly LoraResult[]): void {
  printMarkdownTable(
    ['model', 'LoRAs', 'UNet step s, no LoRA', 'with 1 LoRA', 'with 2 LoRAs', 'step overhead', 'first LoRA (build with slots) s', 'switch to another s', 'switch to 2 LoRAs s', 'switch to none s', 'peak RSS GiB'],
    loras.map((r) => [r.family, r.shape, r.baseStepSeconds.toFixed(2), r.loraStepSeconds.toFixed(2), r.twoLoraStepSeconds.toFixed(2), `${r.stepOverheadPercent.toFixed(1)}%`, r.firstApplySeconds.toFixed(1), r.switchSeconds.toFixed(2), r.switchTwoSeconds.toFixed(2), r.switchNoneSeconds.toFixed(2), (r.peakRssBytes / 2 ** 30).toFixed(2)]),
  );
}
