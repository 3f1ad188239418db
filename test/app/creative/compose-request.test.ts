import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { composeRequest, type CreativeContext, type CreativeRequest } from '../../../src/app/creative/compose-request.ts';
import { MissingPerformanceLoraError, PromptSyntaxError } from '../../../src/app/creative/creative-errors.ts';
import type { Preset } from '../../../src/app/creative/presets.ts';
import type { PromptExpander } from '../../../src/app/creative/prompt-expansion.ts';
import type { StyleEntry } from '../../../src/app/creative/style-library.ts';
import { EXPANSION_STYLE_NAME } from '../../../src/app/creative/style-names.ts';
import { createMemoryWildcardReader } from '../../../src/app/creative/wildcard-reader.ts';

const library = new Map<string, StyleEntry>([
  ['Ink', { name: 'Ink', prompt: 'ink drawing of {prompt}', negative: 'photo', source: 'builtin', file: 't.json' }],
  ['Grain', { name: 'Grain', prompt: 'film grain', negative: 'digital', source: 'builtin', file: 't.json' }],
]);
/** Records what it was asked, so the test sees which prompt, seed and style text reached the expander. */
const calls: { prompt: string; seed: bigint; styles: readonly string[] }[] = [];
const expander: PromptExpander = {
  expand(prompt, context) {
    calls.push({ prompt, ...context });
    return `${prompt}, extra words`;
  },
};
const context: CreativeContext = {
  library,
  expander,
  wildcards: createMemoryWildcardReader({ 'animal.txt': 'fox\nowl\nhare' }),
  loraAvailable: () => true,
};
const preset: Preset = {
  label: 'P',
  model: 'sdxl-base-1.0',
  refiner: 'sdxl-refiner-1.0',
  refinerSwitch: 0.7,
  loras: [{ name: 'grain.safetensors', weight: 0.2 }],
  cfg: 5,
  sharpness: 3,
  sampler: 'euler',
  scheduler: 'normal',
  styles: [],
  performance: 'Speed',
  aspectRatio: '1152*896',
  imageCount: 2,
  downloads: [],
};
const base: CreativeRequest = { prompt: 'a __animal__ in [[snow, rain]]', negative: 'blurry', styles: ['Ink'], performance: 'Speed', seed: 10n, imageIndex: 0 };

describe('composeRequest', () => {
  it('resolves wildcards and arrays before styling, then appends the expansion last', () => {
    calls.length = 0;
    const out = composeRequest({ ...base, prompt: `${base.prompt}\nsecond line`, styles: [EXPANSION_STYLE_NAME, 'Ink', 'Grain'], imageIndex: 1 }, context);
    assert.match(out.resolvedPrompt, /^a (fox|owl|hare) in rain\nsecond line$/);
    const main = out.resolvedPrompt.split('\n')[0] as string;
    assert.deepEqual(out.prompt, [`ink drawing of ${main}`, 'film grain', 'second line', `${main}, extra words`]);
    assert.deepEqual(out.negativePrompt, ['photo', 'digital', 'blurry']);
    assert.equal(out.seed, 11n);
    assert.deepEqual(calls, [{ prompt: main, seed: 11n, styles: ['ink drawing of {prompt}', 'film grain'] }]);
    assert.deepEqual(out.styles, [EXPANSION_STYLE_NAME, 'Ink', 'Grain']);
  });

  it('is deterministic, and the same image of a batch equals a single image with its seed', () => {
    const a = composeRequest({ ...base, seed: 10n, imageIndex: 3 }, context);
    assert.deepEqual(composeRequest({ ...base, seed: 10n, imageIndex: 3 }, context), a);
    const b = composeRequest({ ...base, seed: 13n, imageIndex: 0 }, context);
    assert.equal(a.resolvedPrompt.split(' in ')[0], b.resolvedPrompt.split(' in ')[0], 'same wildcard pick for the same image seed');
  });

  it('leaves expansion off unless the toggle is selected', () => {
    calls.length = 0;
    const out = composeRequest(base, context);
    assert.equal(out.expansion, null);
    assert.equal(calls.length, 0);
    assert.equal(out.prompt.length, 1);
  });

  it('layers defaults < preset < user choices < performance mode < explicit steps', () => {
    const speed = composeRequest({ ...base, preset, choices: { cfg: 6, sharpness: undefined } }, context).settings;
    assert.deepEqual(
      { model: speed.model, refiner: speed.refiner, cfg: speed.cfg, sharpness: speed.sharpness, sampler: speed.sampler, steps: speed.steps, adaptiveCfg: speed.adaptiveCfg },
      { model: 'sdxl-base-1.0', refiner: 'sdxl-refiner-1.0', cfg: 6, sharpness: 3, sampler: 'euler', steps: 30, adaptiveCfg: 7 },
    );
    const lightning = composeRequest({ ...base, preset, choices: { cfg: 6 }, performance: 'Lightning', steps: 5 }, context).settings;
    assert.deepEqual(
      { refiner: lightning.refiner, cfg: lightning.cfg, sharpness: lightning.sharpness, sampler: lightning.sampler, scheduler: lightning.scheduler, steps: lightning.steps },
      { refiner: null, cfg: 1, sharpness: 0, sampler: 'euler', scheduler: 'sgm_uniform', steps: 5 },
    );
  });

  it('collects LoRA tokens from the prompt: preset first, prompt weight wins, mode LoRA last', () => {
    const out = composeRequest({ ...base, prompt: 'a fox <lora:grain.safetensors:0.9> <lora:ink:0.4>', preset, performance: 'Extreme Speed' }, context);
    assert.deepEqual(out.settings.loras, [
      { name: 'grain.safetensors', weight: 0.9 },
      { name: 'ink', weight: 0.4 },
      { name: 'sdxl_lcm_lora.safetensors', weight: 1 },
    ]);
    assert.equal(out.resolvedPrompt, 'a fox');
    assert.deepEqual(out.prompt, ['ink drawing of a fox']);
  });

  it('passes errors through: syntax, misplaced LoRA tokens, missing performance LoRA', () => {
    assert.throws(() => composeRequest({ ...base, prompt: '__unknown__' }, context), PromptSyntaxError);
    assert.throws(() => composeRequest({ ...base, negative: '<lora:x:1>' }, context), (err: unknown) => err instanceof PromptSyntaxError && /negative/.test(err.message));
    assert.throws(() => composeRequest({ ...base, performance: 'Hyper-SD' }, { ...context, loraAvailable: () => false }), MissingPerformanceLoraError);
  });
});
