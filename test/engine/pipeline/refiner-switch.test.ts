import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generate } from '../../../src/engine/pipeline/generate.ts';
import { InvalidGenerationRequestError } from '../../../src/engine/pipeline/generation-request.ts';
import type { RefinerSwitchMethod } from '../../../src/engine/request-limits.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('refiner switch methods with tiny SDXL base and refiner', () => {
  let base: LoadedTinyModel;
  let refiner: LoadedTinyModel;
  before(async () => {
    base = await loadTinyPipelineModel('sdxl');
    refiner = await loadTinyPipelineModel('sdxl-refiner');
  });
  after(async () => {
    await base.release();
    await refiner.release();
  });

  const make = async (sampler: string, method?: RefinerSwitchMethod, onStep?: (step: number, steps: number) => void) => {
    const request = tinyRequest({ sampler, steps: 6, refinerSwitch: 0.5, ...(method === undefined ? {} : { refinerSwitchMethod: method }) });
    const [image] = await generate({ base: base.model, refiner: refiner.model }, request, {
      onProgress: (p) => {
        if (p.phase === 'sample' && p.step > 0) onStep?.(p.step, p.steps);
      },
    });
    return image!;
  };

  it('joint is what the pipeline did before the choice existed (the default), bit for bit', async () => {
    for (const sampler of ['dpmpp_2m_sde_gpu', 'euler']) {
      const today = await make(sampler);
      const joint = await make(sampler, 'joint');
      assert.equal(sha(joint.image.rgb), sha(today.image.rgb), sampler);
      assert.notEqual(sha(joint.image.rgb), sha((await generate({ base: base.model }, tinyRequest({ sampler, steps: 6 })))[0]!.image.rgb), 'the refiner took part');
    }
  });

  it('separate restarts the sampler at the switch: the same image for a one-step sampler (euler), another for a multistep one', async () => {
    assert.equal(sha((await make('euler', 'separate')).image.rgb), sha((await make('euler', 'joint')).image.rgb));
    const steps: string[] = [];
    const separate = await make('dpmpp_2m', 'separate', (step, total) => steps.push(`${step}/${total}`));
    assert.notEqual(sha(separate.image.rgb), sha((await make('dpmpp_2m', 'joint')).image.rgb));
    assert.deepEqual(steps, ['1/6', '2/6', '3/6', '4/6', '5/6', '6/6'], 'progress counts over the whole schedule');
  });

  it('vae passes the latent through both VAEs at the switch: a valid, different image, one extra base evaluation', async () => {
    const joint = await make('euler', 'joint');
    const vae = await make('euler', 'vae');
    assert.equal(vae.image.rgb.length, 64 * 64 * 3);
    assert.ok(vae.latent.data.every(Number.isFinite));
    assert.notEqual(sha(vae.image.rgb), sha(joint.image.rgb));
    assert.equal(vae.unetEvaluations, joint.unetEvaluations + 2, 'one CFG pair to estimate the clean image at the switch');
  });

  it('refuses an unknown method by field', async () => {
    await assert.rejects(
      generate({ base: base.model, refiner: refiner.model }, tinyRequest({ refinerSwitchMethod: 'swap' as RefinerSwitchMethod })),
      (err: unknown) => err instanceof InvalidGenerationRequestError && err.field === 'refinerSwitchMethod',
    );
  });
});
