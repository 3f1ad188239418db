/** The int8 case's result (bench/int8-case.ts) and its table. */
export interface Int8Result {
  family: string;
  part: 'int8';
  shape: string;
  fp32StepSeconds: number;
  int8StepSeconds: number;
  speedup: number;
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
  console.log('');
  console.log('| model | shape | fp32 UNet s | int8 UNet s | speed-up | UNet rel. error | image PSNR vs fp32 dB | int8 load s: cold / cached | quantize s / cache read s | peak RSS GiB | CPU | SIMD flags |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.family} | ${r.shape} | ${r.fp32StepSeconds.toFixed(2)} | ${r.int8StepSeconds.toFixed(2)} | ${r.speedup.toFixed(2)}x | ${(r.unetRelativeError * 100).toFixed(2)} % | ${r.imagePsnrDb.toFixed(1)} | ${r.int8ColdLoadSeconds.toFixed(1)} / ${r.int8WarmLoadSeconds.toFixed(1)} | ${r.quantizeSeconds.toFixed(1)} / ${r.cacheReadSeconds.toFixed(1)} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${r.cpu.model} | ${r.cpu.flags.join(' ')} |`,
    );
  }
}
