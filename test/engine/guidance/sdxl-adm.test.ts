import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  DEFAULT_ADM_SCALER_NEGATIVE,
  DEFAULT_ADM_SCALER_POSITIVE,
  REFINER_NEGATIVE_AESTHETIC_SCORE,
  REFINER_POSITIVE_AESTHETIC_SCORE,
  encodeFooocusSdxlAdm,
  encodeSdxlAdm,
  encodeSdxlRefinerAdm,
  fourierEmbed,
  roundToMultipleOf64,
  scaledAdmSizes,
  selectAdm,
} from '../../../src/engine/guidance/sdxl-adm.ts';
import { referenceFourierEmbed } from '../../reference/guidance-reference.ts';

const pooled = Float32Array.from({ length: 1280 }, (_, i) => Math.sin(i) * 0.1);

function assertSlice(adm: Float32Array, start: number, expected: Float32Array): void {
  assert.deepEqual(adm.subarray(start, start + expected.length), expected);
}

describe('fourierEmbed', () => {
  it('starts cos(v), cos(v / 10000^(1/128)) and has sin(v) at index 128, for v = 1024 and dim 256', () => {
    const e = fourierEmbed(1024);
    assert.equal(e.length, 256);
    // By hand: half = 128, freq_i = exp(-ln(10000) * i / 128); cos(1024) = 0.98735..., sin(1024) = -0.15853...
    assert.ok(Math.abs(e[0]! - 0.9873536182198484) < 1e-6);
    assert.ok(Math.abs(e[128]! - -0.15853338004399595) < 1e-6);
    assert.ok(Math.abs(e[1]! - Math.cos(1024 * Math.exp(-Math.log(10000) / 128))) < 2e-4);
    assert.ok(Math.abs(e[129]! - Math.sin(1024 * Math.exp(-Math.log(10000) / 128))) < 2e-4);
    assert.ok(Math.abs(e[127]! - Math.cos(1024 * Math.pow(10000, -127 / 128))) < 1e-6);
  });

  it('matches the float64 reference for several values and widths (odd widths end in 0)', () => {
    for (const [value, dim] of [[0, 256], [2.5, 256], [832, 256], [1216, 32], [6, 31]] as const) {
      const e = fourierEmbed(value, dim);
      const expected = referenceFourierEmbed(value, dim);
      assert.equal(e.length, dim);
      for (let i = 0; i < dim; i++) assert.ok(Math.abs(e[i]! - expected[i]!) < 3e-4, `value ${value} dim ${dim} index ${i}`);
    }
    assert.equal(fourierEmbed(6, 31)[30], 0);
  });
});

describe('encodeSdxlAdm', () => {
  it('lays out pooled ++ height ++ width ++ crop_h ++ crop_w ++ target_height ++ target_width (2816)', () => {
    const adm = encodeSdxlAdm({ pooled, width: 1152, height: 896, cropW: 16, cropH: 8, targetWidth: 1216, targetHeight: 832 });
    assert.equal(adm.length, 2816);
    assertSlice(adm, 0, pooled);
    [896, 1152, 8, 16, 832, 1216].forEach((value, k) => assertSlice(adm, 1280 + 256 * k, fourierEmbed(value)));
  });

  it('takes the embedding width as a parameter (tiny models: pooled 64, 32 per value)', () => {
    const small = pooled.subarray(0, 64);
    const adm = encodeSdxlAdm({ pooled: small, width: 64, height: 32, cropW: 0, cropH: 0, targetWidth: 64, targetHeight: 32, embedDim: 32 });
    assert.equal(adm.length, 64 + 6 * 32);
    [32, 64, 0, 0, 32, 64].forEach((value, k) => assertSlice(adm, 64 + 32 * k, fourierEmbed(value, 32)));
  });
});

describe('encodeSdxlRefinerAdm', () => {
  it('lays out pooled ++ height ++ width ++ crop_h ++ crop_w ++ aesthetic score (2560)', () => {
    const adm = encodeSdxlRefinerAdm({ pooled, width: 1024, height: 768, cropW: 0, cropH: 4, aestheticScore: REFINER_NEGATIVE_AESTHETIC_SCORE });
    assert.equal(adm.length, 2560);
    assertSlice(adm, 0, pooled);
    [768, 1024, 4, 0, 2.5].forEach((value, k) => assertSlice(adm, 1280 + 256 * k, fourierEmbed(value)));
    assert.equal(REFINER_POSITIVE_AESTHETIC_SCORE, 6);
  });
});

describe('Fooocus ADM scaling', () => {
  it('scales sizes by truncation and rounds targets to 64 half-to-even like Python', () => {
    assert.deepEqual(scaledAdmSizes(1152, 896, DEFAULT_ADM_SCALER_POSITIVE), { width: 1728, height: 1344 });
    assert.deepEqual(scaledAdmSizes(1001, 1003, DEFAULT_ADM_SCALER_NEGATIVE), { width: 800, height: 802 });
    assert.deepEqual([96, 160, 1000, 1023, 1056].map(roundToMultipleOf64), [128, 128, 1024, 1024, 1024]);
  });

  it('builds the scaled ("emphasized") and original ("consistent") ADM halves', () => {
    const { scaled, original } = encodeFooocusSdxlAdm({ pooled, width: 1152, height: 896, scaler: 1.5 });
    assert.deepEqual(scaled, encodeSdxlAdm({ pooled, width: 1728, height: 1344, cropW: 0, cropH: 0, targetWidth: 1152, targetHeight: 896 }));
    assert.deepEqual(original, encodeSdxlAdm({ pooled, width: 1152, height: 896, cropW: 0, cropH: 0, targetWidth: 1152, targetHeight: 896 }));
    const small = encodeFooocusSdxlAdm({ pooled: pooled.subarray(0, 64), width: 72, height: 40, scaler: 0.8, embedDim: 32 });
    assertSlice(small.scaled, 64, fourierEmbed(32, 32)); // int(40 * 0.8)
    assertSlice(small.original, 64, fourierEmbed(64, 32)); // round_to_64(40) = 64 (0.625 -> 1)
  });

  it('switches from scaled to original once the timestep falls to 999 * (1 - end) or below', () => {
    const scaled = new Float32Array([1]);
    const original = new Float32Array([2]);
    assert.equal(selectAdm(scaled, original, 999), scaled);
    assert.equal(selectAdm(scaled, original, 700), scaled);
    assert.equal(selectAdm(scaled, original, 699), original);
    assert.equal(selectAdm(scaled, original, 0), original);
    assert.equal(selectAdm(scaled, original, 999, 0), original);
    assert.equal(selectAdm(scaled, original, 0.5, 1), scaled);
  });
});
