import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generate, prepareLatent, scheduleFor } from '../../../src/engine/pipeline/generate.ts';
import { getSigmas } from '../../../src/engine/sampling/sigmas.ts';
import { InvalidGenerationRequestError } from '../../../src/engine/pipeline/generation-request.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('text-to-image with the tiny SD1.5-like model', () => {
  let sd15: LoadedTinyModel;
  before(async () => {
    sd15 = await loadTinyPipelineModel('sd15');
  });
  after(async () => sd15.release());

  it('gives byte-identical pixels for the same request and seed, and different pixels for another seed', async () => {
    const [a] = await generate({ base: sd15.model }, tinyRequest());
    const [b] = await generate({ base: sd15.model }, tinyRequest());
    const [c] = await generate({ base: sd15.model }, tinyRequest({ seed: 12346n }));
    assert.equal(a!.image.width, 64);
    assert.equal(a!.image.rgb.length, 64 * 64 * 3);
    assert.equal(sha(a!.image.rgb), sha(b!.image.rgb));
    assert.notEqual(sha(a!.image.rgb), sha(c!.image.rgb));
  });

  it('image i of a batch uses seed + i, so it equals a single image made with that seed', async () => {
    const batch = await generate({ base: sd15.model }, tinyRequest({ imageCount: 2, sampler: 'euler_ancestral' }));
    const [single] = await generate({ base: sd15.model }, tinyRequest({ seed: 12346n, sampler: 'euler_ancestral' }));
    assert.deepEqual(batch.map((r) => r.seed), [12345n, 12346n]);
    assert.equal(sha(batch[1]!.image.rgb), sha(single!.image.rgb));
  });

  it('skips the unconditional pass at CFG 1 (counting UNet evaluations)', async () => {
    const [cfg1] = await generate({ base: sd15.model }, tinyRequest({ cfg: 1, sampler: 'euler', steps: 5 }));
    const [cfg4] = await generate({ base: sd15.model }, tinyRequest({ cfg: 4, sampler: 'euler', steps: 5 }));
    assert.equal(cfg1!.unetEvaluations, 5);
    assert.equal(cfg4!.unetEvaluations, 10);
  });

  it('reports encode, every sampling step with a preview, and decode', async () => {
    const seen: string[] = [];
    await generate({ base: sd15.model }, tinyRequest({ steps: 3, sampler: 'euler' }), {
      onProgress: (p) => {
        seen.push(`${p.phase}:${p.step}/${p.steps}${p.preview ? `:${p.preview.width}x${p.preview.height}` : ''}`);
      },
    });
    assert.deepEqual(seen, ['encode:0/3', 'sample:0/3', 'sample:1/3:8x8', 'sample:2/3:8x8', 'sample:3/3:8x8', 'decode:3/3']);
  });

  it('cancels within one step', async () => {
    const controller = new AbortController();
    let lastStep = 0;
    const request = tinyRequest({ steps: 8, sampler: 'euler', cfg: 1 });
    await assert.rejects(
      generate({ base: sd15.model }, request, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase !== 'sample') return;
          lastStep = p.step;
          if (p.step === 2) controller.abort(new Error('user cancelled'));
        },
      }),
      /user cancelled/,
    );
    assert.equal(lastStep, 2);
  });

  it('image-to-image: the input changes the result, deterministically, over the truncated schedule', async () => {
    const [source] = await generate({ base: sd15.model }, tinyRequest({ sampler: 'euler' }));
    const [other] = await generate({ base: sd15.model }, tinyRequest({ sampler: 'euler', seed: 5n }));
    const request = (image: typeof source) => tinyRequest({ sampler: 'euler', seed: 999n, steps: 4, input: { image: image!.image, denoise: 0.5 } });
    const [a] = await generate({ base: sd15.model }, request(source));
    const [b] = await generate({ base: sd15.model }, request(source));
    const [c] = await generate({ base: sd15.model }, request(other));
    const [fresh] = await generate({ base: sd15.model }, tinyRequest({ sampler: 'euler', seed: 999n }));
    assert.equal(sha(a!.image.rgb), sha(b!.image.rgb));
    assert.notEqual(sha(a!.image.rgb), sha(c!.image.rgb));
    assert.notEqual(sha(a!.image.rgb), sha(fresh!.image.rgb));
    assert.equal(a!.unetEvaluations, 2 * 4);
  });

  it('starts image-to-image from latent + sigma0 * noise over the last steps of a longer schedule', () => {
    const request = tinyRequest({ steps: 10, scheduler: 'karras', sampler: 'euler', input: { image: { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3) }, denoise: 0.5 } });
    const sigmas = scheduleFor(request, 'sd15');
    const full = getSigmas('karras', 20);
    assert.deepEqual(Array.from(sigmas), Array.from(full.slice(10)));
    const x = prepareLatent(new Float32Array([1, -2]), [1, 2], sigmas[0]!, { dims: [1, 2], data: new Float32Array([0.5, 0.25]) });
    assert.deepEqual(Array.from(x.data), [Math.fround(0.5 + sigmas[0]!), Math.fround(0.25 - 2 * sigmas[0]!)]);
    const t2i = prepareLatent(new Float32Array([1]), [1, 1], getSigmas('karras', 10)[0]!, null);
    assert.ok(Math.abs(t2i.data[0]! - Math.sqrt(1 + 14.6146 ** 2)) < 1e-3, 'full denoise scales noise by sqrt(1 + sigma_max^2)');
  });

  it('drops the penultimate sigma for dpm_2 and uni_pc, as ComfyUI does', () => {
    const sigmas = scheduleFor(tinyRequest({ steps: 5, sampler: 'dpm_2' }), 'sd15');
    const six = getSigmas('karras', 6);
    assert.equal(sigmas.length, 6);
    assert.deepEqual(Array.from(sigmas), [...Array.from(six.slice(0, 5)), 0]);
  });

  it('names the invalid field', async () => {
    await assert.rejects(generate({ base: sd15.model }, tinyRequest({ width: 100 })), (e: unknown) => e instanceof InvalidGenerationRequestError && e.field === 'width' && /multiple of 8/.test(e.message));
    await assert.rejects(generate({ base: sd15.model }, tinyRequest({ steps: 0 })), /steps: must be an integer in 1\.\.1000/);
    await assert.rejects(generate({ base: sd15.model }, tinyRequest({ sampler: 'dpm_fancy' })), /sampler: .*euler/);
    await assert.rejects(generate({ base: sd15.model }, tinyRequest({ seed: -1n })), /seed: must be an integer in 0\.\./);
  });
});

describe('text-to-image with the tiny SDXL-like model and refiner', () => {
  let sdxl: LoadedTinyModel;
  let refiner: LoadedTinyModel;
  before(async () => {
    sdxl = await loadTinyPipelineModel('sdxl', 2);
    refiner = await loadTinyPipelineModel('sdxl-refiner', 2);
  });
  after(async () => {
    await sdxl.release();
    await refiner.release();
  });

  it('runs SDXL with timed ADM, reproducibly', async () => {
    const [a] = await generate({ base: sdxl.model }, tinyRequest({ steps: 4 }));
    const [b] = await generate({ base: sdxl.model }, tinyRequest({ steps: 4 }));
    assert.equal(sha(a!.image.rgb), sha(b!.image.rgb));
  });

  it('switches to the refiner at the requested fraction of the steps', async () => {
    const [plain] = await generate({ base: sdxl.model }, tinyRequest({ steps: 4, sampler: 'euler' }));
    const [refined] = await generate({ base: sdxl.model, refiner: refiner.model }, tinyRequest({ steps: 4, sampler: 'euler', refinerSwitch: 0.5 }));
    const [late] = await generate({ base: sdxl.model, refiner: refiner.model }, tinyRequest({ steps: 4, sampler: 'euler', refinerSwitch: 1 }));
    assert.notEqual(sha(plain!.image.rgb), sha(refined!.image.rgb), 'the refiner changed the last two steps');
    assert.equal(sha(plain!.image.rgb), sha(late!.image.rgb), 'a switch at 1.0 never runs the refiner');
  });
});
