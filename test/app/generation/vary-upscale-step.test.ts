import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ImageRequestError, type VaryUpscaleChoice } from '../../../src/app/generation/image-request.ts';
import { chooseUpscaler, FOOOCUS_UPSCALER_FILE } from '../../../src/app/generation/upscaler-selection.ts';
import {
  checkVaryUpscaleChoice,
  checkVaryUpscaleSize,
  planVaryUpscaleSize,
  prepareVaryUpscale,
  runVaryUpscaleStep,
  shapeCeil,
  sizeForShapeCeil,
  varyUpscaleDenoise,
  varyUpscaleSteps,
} from '../../../src/app/generation/vary-upscale-step.ts';
import type { ModelListing } from '../../../src/app/models/model-store.ts';
import type { RgbImage } from '../../../src/engine/index.ts';

function refusal(field: string, rule: string, text?: RegExp) {
  return (err: unknown) => err instanceof ImageRequestError && err.field === field && err.rule === rule && (text === undefined || text.test(err.message));
}

function upscalers(...names: string[]): ModelListing[] {
  return names.map((name) => ({ kind: 'upscalers', name, size: 1, sha256: 'a'.repeat(64), source: 'import', verifiedAt: '', family: null }) as unknown as ModelListing);
}

function flat(width: number, height: number, value = 90): RgbImage {
  return { width, height, rgb: new Uint8Array(width * height * 3).fill(value) };
}

/** Nearest-neighbour x4, standing in for an upscaler model. */
async function nearest4x(img: RgbImage): Promise<RgbImage> {
  const out = flat(img.width * 4, img.height * 4, 0);
  for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) for (let c = 0; c < 3; c++) out.rgb[(y * out.width + x) * 3 + c] = img.rgb[((y >> 2) * img.width + (x >> 2)) * 3 + c]!;
  return out;
}

describe("Fooocus's Vary / Upscale sizes", () => {
  it('shape ceil is sqrt(W*H) rounded up to 64, and resizing to a ceil rounds both sides to 64', () => {
    assert.equal(shapeCeil(1000, 1000), 1024);
    assert.equal(shapeCeil(640, 480), 576);
    assert.deepEqual(sizeForShapeCeil(640, 480, 1024), { width: 1152, height: 832 });
    assert.equal(shapeCeil(1152, 832), 1024);
  });

  it('Vary resizes into [1024, 2048] for SDXL and [512, 1024] for SD 1.5, cropped to the latent grid', () => {
    assert.deepEqual(planVaryUpscaleSize({ mode: 'vary-subtle' }, { width: 640, height: 480 }, 'sdxl'), { width: 1152, height: 832, imageToImage: true });
    assert.deepEqual(planVaryUpscaleSize({ mode: 'vary-strong' }, { width: 641, height: 483 }, 'sd15'), { width: 640, height: 480, imageToImage: true });
    const big = planVaryUpscaleSize({ mode: 'vary-strong' }, { width: 4000, height: 3000 }, 'sdxl');
    assert.equal(shapeCeil(big.width, big.height), 2048);
  });

  it('Upscale 2x diffuses up to a 2800 shape ceil and returns the upscaler image past it; Fast 2x always returns it', () => {
    assert.deepEqual(planVaryUpscaleSize({ mode: 'upscale-2x' }, { width: 1024, height: 1024 }, 'sdxl', 4), { width: 2048, height: 2048, imageToImage: true });
    assert.deepEqual(planVaryUpscaleSize({ mode: 'upscale-2x' }, { width: 1600, height: 1600 }, 'sdxl', 4), { width: 3200, height: 3200, imageToImage: false });
    assert.deepEqual(planVaryUpscaleSize({ mode: 'upscale-fast-2x' }, { width: 512, height: 512 }, 'sdxl', 4), { width: 1024, height: 1024, imageToImage: false });
    assert.deepEqual(planVaryUpscaleSize({ mode: 'upscale-1.5x' }, { width: 1001, height: 1001 }, 'sdxl', 4), { width: 1496, height: 1496, imageToImage: true });
    // SD 1.5: the same rule scaled by 512 / 1024 (1400).
    assert.equal(planVaryUpscaleSize({ mode: 'upscale-2x' }, { width: 720, height: 720 }, 'sd15', 4).imageToImage, false);
  });

  it('an upscale under the native ceil is resized to it from the upscaled size', () => {
    const size = planVaryUpscaleSize({ mode: 'upscale-1.5x' }, { width: 300, height: 200 }, 'sdxl', 4);
    assert.equal(size.imageToImage, true);
    assert.equal(shapeCeil(size.width, size.height), 1024);
    assert.deepEqual(size, { ...sizeForShapeCeil(1200, 800, 1024), imageToImage: true });
  });

  it('steps: the performance mode for Vary; its image-to-image steps for Upscale (Speed 18, Quality 36, ...)', () => {
    assert.equal(varyUpscaleSteps({ mode: 'vary-subtle' }, 'Speed'), undefined);
    const steps = Object.fromEntries(['Speed', 'Quality', 'Extreme Speed', 'Lightning', 'Hyper-SD'].map((p) => [p, varyUpscaleSteps({ mode: 'upscale-2x' }, p)]));
    assert.deepEqual(steps, { Speed: 18, Quality: 36, 'Extreme Speed': 8, Lightning: 4, 'Hyper-SD': 4 });
    assert.deepEqual(
      (['vary-subtle', 'vary-strong', 'upscale-1.5x'] as const).map((mode) => varyUpscaleDenoise({ mode })),
      [0.5, 0.85, 0.382],
    );
  });
});

describe('Vary / Upscale choices are refused by field', () => {
  const cases: [string, VaryUpscaleChoice, boolean, ReturnType<typeof refusal>][] = [
    ['an unknown mode', { mode: 'upscale-3x' as VaryUpscaleChoice['mode'] }, true, refusal('varyUpscale.mode', 'known', /one of vary-subtle, /)],
    ['custom without a factor', { mode: 'upscale-custom' }, true, refusal('varyUpscale.factor', 'required')],
    ['a factor past 4', { mode: 'upscale-custom', factor: 5 }, true, refusal('varyUpscale.factor', 'range', /1\.\.4, got 5/)],
    ['a factor under 1', { mode: 'upscale-custom', factor: 0.5 }, true, refusal('varyUpscale.factor', 'range')],
    ['a factor for 2x', { mode: 'upscale-2x', factor: 2 }, true, refusal('varyUpscale.factor', 'mode')],
    ['an upscaler for vary', { mode: 'vary-subtle', upscaler: 'x.safetensors' }, true, refusal('varyUpscale.upscaler', 'mode')],
    ['no input image', { mode: 'vary-strong' }, false, refusal('input', 'required', /needs an input image/)],
  ];
  for (const [what, choice, hasInput, check] of cases) it(what, () => assert.throws(() => checkVaryUpscaleChoice(choice, hasInput), check));

  it('a result too large for image-to-image or for an upscaler-only image names the factor', () => {
    const choice: VaryUpscaleChoice = { mode: 'upscale-custom', factor: 4 };
    assert.throws(() => checkVaryUpscaleSize(choice, planVaryUpscaleSize(choice, { width: 3000, height: 2500 }, 'sdxl', 4)), refusal('varyUpscale.factor', 'range', /12000x10000 image; each side must be in 64\.\.8192/));
    assert.doesNotThrow(() => checkVaryUpscaleSize(choice, planVaryUpscaleSize(choice, { width: 2000, height: 2000 }, 'sdxl', 4)));
  });
});

describe('upscaler choice', () => {
  it("takes the named one, else Fooocus's, else the only one", () => {
    assert.equal(chooseUpscaler({ mode: 'upscale-2x', upscaler: 'b.safetensors' }, upscalers('a.safetensors', 'b.safetensors')), 'b.safetensors');
    assert.equal(chooseUpscaler({ mode: 'upscale-2x' }, upscalers('a.safetensors', FOOOCUS_UPSCALER_FILE)), FOOOCUS_UPSCALER_FILE);
    assert.equal(chooseUpscaler({ mode: 'upscale-2x' }, upscalers('a.safetensors')), 'a.safetensors');
  });

  it('refuses none installed (naming the pull command), several without a name, and a name not installed', () => {
    assert.throws(() => chooseUpscaler({ mode: 'upscale-2x' }, []), refusal('varyUpscale.upscaler', 'installed', /npm run fooocus -- models pull fooocus-upscaler-s409985e5/));
    assert.throws(() => chooseUpscaler({ mode: 'upscale-2x' }, upscalers('a.safetensors', 'b.safetensors')), refusal('varyUpscale.upscaler', 'required', /a\.safetensors, b\.safetensors/));
    assert.throws(() => chooseUpscaler({ mode: 'upscale-2x', upscaler: 'c.safetensors' }, upscalers('a.safetensors')), refusal('varyUpscale.upscaler', 'installed', /installed: a\.safetensors/));
  });

  it("prepareVaryUpscale holds the result to the submitting server's pixel quota, naming the field", async () => {
    const context = { input: { width: 1024, height: 1024 }, family: 'sdxl' as const, listing: upscalers('only.safetensors'), readUpscalerScale: async () => 4 };
    await assert.rejects(prepareVaryUpscale({ mode: 'upscale-2x' }, { ...context, maxPixels: 2048 * 2048 - 1 }), refusal('input', 'maxPixels', /2048x2048 image, more than the 4194303 pixels/));
    await assert.rejects(prepareVaryUpscale({ mode: 'upscale-custom', factor: 3 }, { ...context, maxPixels: 2048 * 2048 }), refusal('varyUpscale.factor', 'maxPixels'));
    assert.equal((await prepareVaryUpscale({ mode: 'upscale-2x' }, { ...context, maxPixels: 2048 * 2048 })).size.width, 2048);
  });

  it('prepareVaryUpscale records the chosen upscaler and reads its scale for the size', async () => {
    const scales: string[] = [];
    const prepared = await prepareVaryUpscale(
      { mode: 'upscale-1.5x' },
      { input: { width: 300, height: 200 }, family: 'sdxl', listing: upscalers('only.safetensors'), readUpscalerScale: async (name) => (scales.push(name), 2) },
    );
    assert.deepEqual(scales, ['only.safetensors']);
    assert.deepEqual(prepared.choice, { mode: 'upscale-1.5x', upscaler: 'only.safetensors' });
    assert.deepEqual(prepared.size, { ...sizeForShapeCeil(600, 400, 1024), imageToImage: true });
    assert.equal(prepared.denoise, 0.382);
  });
});

describe('runVaryUpscaleStep', () => {
  it('Fast 2x returns the upscaler image resampled to twice the input', async () => {
    const step = await runVaryUpscaleStep({ mode: 'upscale-fast-2x' }, flat(300, 200), { family: 'sdxl', performance: 'Speed', size: { width: 600, height: 400 }, upscale: nearest4x });
    assert.equal(step.kind, 'final');
    assert.deepEqual([step.image.width, step.image.height], [600, 400]);
    assert.ok(step.image.rgb.every((v) => v === 90), 'a flat image stays flat through the resample');
  });

  it('Upscale 2x gives the image-to-image input at the planned size with 0.382, the upscale steps and a tiled VAE', async () => {
    const size = planVaryUpscaleSize({ mode: 'upscale-2x' }, { width: 300, height: 200 }, 'sdxl', 4);
    const step = await runVaryUpscaleStep({ mode: 'upscale-2x' }, flat(300, 200), { family: 'sdxl', performance: 'Quality', size, upscale: nearest4x });
    assert.ok(step.kind === 'image-to-image');
    assert.deepEqual([step.image.width, step.image.height, step.denoise, step.steps, step.tiledVae], [size.width, size.height, 0.382, 36, true]);
  });

  it('Vary never calls the upscaler and resizes to the planned size', async () => {
    const size = planVaryUpscaleSize({ mode: 'vary-subtle' }, { width: 640, height: 480 }, 'sdxl');
    const step = await runVaryUpscaleStep({ mode: 'vary-subtle' }, flat(640, 480), {
      family: 'sdxl',
      performance: 'Speed',
      size,
      upscale: () => Promise.reject(new Error('no upscaler for vary')),
    });
    assert.ok(step.kind === 'image-to-image');
    assert.deepEqual([step.image.width, step.image.height, step.denoise, step.steps, step.tiledVae], [1152, 832, 0.5, undefined, false]);
  });
});
