/** The int8 case's result (bench/int8-case.ts) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

export interface Int8Result {
  family: string;
  part: 'int8';
  shape: string;
  fp32StepSeconds: number;
  int8StepSeconds: number;
  speedup: number;
  /** The speed-up the machine's measured limits allow (fp32 ideal over int8 ideal; attention stays fp32). */
  speedupAtLimits: number | null;
  /** The int8 step's ideal time at the int8 limits over its measured time. */
  int8FractionOfLimit: number | null;
  unetRelativeError: number;
  imagePsnrDb: number;
  fp32LoadSeconds: number;
  int8ColdLoadSeconds: number;
  int8WarmLoadSeconds: number;
  quantizeSeconds: number;
  cacheReadSeconds: number;
  peakRssBytes: number;
  cpu: { model: string; flags: string[] };
}

export function printInt8Results(results: readonly Int8Result[]): void {
  printMarkdownTable(
    ['model', 'shape', 'fp32 UNet s', 'int8 UNet s', 'speed-up', 'speed-up the limits allow', 'int8 step of its limit', 'UNet rel. error', 'image PSNR vs fp32 dB', 'int8 load s: cold / cached', 'quantize s / cache read s', 'peak RSS GiB', 'CPU', 'SIMD flags'],
    results.map((r) => [
      r.family,
      r.shape,
      r.fp32StepSeconds.toFixed(2),
      r.int8StepSeconds.toFixed(2),
      `${r.speedup.toFixed(2)}x`,
      r.speedupAtLimits === null ? '' : `${r.speedupAtLimits.toFixed(2)}x`,
      r.int8FractionOfLimit === null ? '' : `${(r.int8FractionOfLimit * 100).toFixed(0)} %`,
      `${(r.unetRelativeError * 100).toFixed(2)} %`,
      r.imagePsnrDb.toFixed(1),
      `${r.int8ColdLoadSeconds.toFixed(1)} / ${r.int8WarmLoadSeconds.toFixed(1)}`,
      `${r.quantizeSeconds.toFixed(1)} / ${r.cacheReadSeconds.toFixed(1)}`,
      (r.peakRssBytes / 2 ** 30).toFixed(2),
      r.cpu.model,
      r.cpu.flags.join(' '),
    ]),
  );
}

/** The int8 conv kernel comparison (bench/int8-conv-case.ts). */
export interface Int8ConvResult {
  family: 'int8';
  part: 'conv';
  layers: { shape: string; gop: number; timings: Record<'fp32' | 'fp32-all' | 'im2col' | 'qlinear', { wallMs: number; oneThreadCpuMs: number }> }[];
  cpu: { model: string; flags: string[] };
}

export function printInt8ConvResults(results: readonly Int8ConvResult[]): void {
  printMarkdownTable(
    ['conv layer', 'fp32 ms (extended / all)', 'int8 im2col + MatMulInteger ms', 'int8 QLinearConv ms', 'QLinearConv / im2col', 'CPU', 'SIMD flags'],
    results.flatMap((r) =>
      r.layers.flatMap((l) =>
        (['wallMs', 'oneThreadCpuMs'] as const).map((clock) => {
          const t = l.timings;
          const label = clock === 'wallMs' ? 'wall, all cores' : 'CPU, one thread';
          return [`${l.shape} (${label})`, `${t.fp32[clock].toFixed(1)} / ${t['fp32-all'][clock].toFixed(1)}`, t.im2col[clock].toFixed(1), t.qlinear[clock].toFixed(1), (t.qlinear[clock] / t.im2col[clock]).toFixed(2), r.cpu.model, r.cpu.flags.join(' ')];
        }),
      ),
    ),
  );
}
