/**
 * The bench's precision option reaches the case processes (`--precision int8` runs the UNet in int8), and an int8
 * UNet's ideal time counts each kind of work at its own limit: linear layers at DynamicQuantizeMatMul's, 3x3
 * convolutions at MatMulInteger's, attention at the fp32 GEMM's.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { benchRuntimeEnv, parseBenchOptions, readBenchRuntime } from '../../bench/bench-options.ts';
import { idealInt8Seconds, idealSeconds } from '../../bench/machine-limits.ts';

const saved = process.env.BENCH_PRECISION;
afterEach(() => {
  if (saved === undefined) delete process.env.BENCH_PRECISION;
  else process.env.BENCH_PRECISION = saved;
});

test('--precision int8 is read in both spellings and passed to the cases', () => {
  for (const argv of [['--precision', 'int8', 'sd15:unet'], ['sd15:unet', '--precision=int8']]) {
    const options = parseBenchOptions(argv);
    assert.deepEqual(options.cases, ['sd15:unet']);
    assert.equal(options.precision, 'int8');
    Object.assign(process.env, benchRuntimeEnv(options));
    assert.deepEqual(readBenchRuntime(), { executionProvider: 'cpu', float16: false, int8: true });
  }
  process.env.BENCH_PRECISION = 'fp16';
  assert.deepEqual(readBenchRuntime(), { executionProvider: 'cpu', float16: true, int8: false });
  process.env.BENCH_PRECISION = 'int4';
  assert.throws(() => readBenchRuntime(), /BENCH_PRECISION: unknown precision "int4"/);
});

test("an int8 UNet's ideal time counts linear, conv and attention work at their own limits", () => {
  const flops = { gemm: 400e9, conv: 900e9, attention: 250e9 };
  const limits = { fp32GemmGflops: 250, fp32ConvGflops: 300, int8: { matMulInteger: 900, dynamicQuantizeMatMul: 1000, convInteger: 400, qlinearConv: 1400 } };
  // 400/1000 + 900/900 + 250/250 seconds.
  assert.equal(idealInt8Seconds(flops, limits), 0.4 + 1 + 1);
  assert.ok(idealInt8Seconds(flops, limits)! < idealSeconds(flops, limits));
  // A build without the int8 kernels has no int8 limit to compare with.
  assert.equal(idealInt8Seconds(flops, { ...limits, int8: { ...limits.int8, dynamicQuantizeMatMul: null } }), null);
});
