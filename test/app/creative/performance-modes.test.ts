import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isSchedulerName, resolveSamplerName } from '../../../src/engine/index.ts';
import { MissingPerformanceLoraError, UnknownPerformanceModeError } from '../../../src/app/creative/creative-errors.ts';
import { createDefaultSettings, type GenerationSettings } from '../../../src/app/creative/generation-settings.ts';
import { applyPerformanceMode, PERFORMANCE_MODES } from '../../../src/app/creative/performance-modes.ts';

const everything = { loraAvailable: () => true };
const userSettings = (): GenerationSettings => ({
  ...createDefaultSettings(),
  model: 'sdxl-base-1.0',
  refiner: 'sdxl-refiner-1.0',
  loras: [{ name: 'style.safetensors', weight: 0.7 }],
  cfg: 7,
  sharpness: 5,
});
const distilled = { cfg: 1, sharpness: 0, adaptiveCfg: 1, refiner: null, refinerSwitch: 1, admScalers: { positive: 1, negative: 1, end: 0 } };

describe('applyPerformanceMode', () => {
  const cases: { mode: string; expect: Partial<GenerationSettings>; lora?: { name: string; weight: number } }[] = [
    { mode: 'Quality', expect: { steps: 60, cfg: 7, sharpness: 5, refiner: 'sdxl-refiner-1.0', sampler: 'dpmpp_2m_sde_gpu' } },
    { mode: 'Speed', expect: { steps: 30, cfg: 7, sharpness: 5, refiner: 'sdxl-refiner-1.0', scheduler: 'karras' } },
    { mode: 'Extreme Speed', expect: { steps: 8, sampler: 'lcm', scheduler: 'lcm', ...distilled }, lora: { name: 'sdxl_lcm_lora.safetensors', weight: 1 } },
    { mode: 'Lightning', expect: { steps: 4, sampler: 'euler', scheduler: 'sgm_uniform', ...distilled }, lora: { name: 'sdxl_lightning_4step_lora.safetensors', weight: 1 } },
    { mode: 'Hyper-SD', expect: { steps: 4, sampler: 'dpmpp_sde_gpu', scheduler: 'karras', ...distilled }, lora: { name: 'sdxl_hyper_sd_4step_lora.safetensors', weight: 0.8 } },
  ];
  for (const c of cases) {
    it(`${c.mode}: ${JSON.stringify(c.expect)}`, () => {
      const before = userSettings();
      const after = applyPerformanceMode(before, c.mode, everything);
      for (const [key, value] of Object.entries(c.expect)) assert.deepEqual(after[key as keyof GenerationSettings], value, key);
      assert.deepEqual(after.loras, c.lora === undefined ? before.loras : [...before.loras, c.lora], 'mode LoRA goes last');
      assert.equal(after.model, 'sdxl-base-1.0');
      assert.deepEqual(before, userSettings(), 'input untouched');
    });
  }

  it('only names samplers and schedulers the engine knows', () => {
    for (const mode of PERFORMANCE_MODES) {
      if (mode.overrides?.sampler !== undefined) assert.doesNotThrow(() => resolveSamplerName(mode.overrides?.sampler as string));
      if (mode.overrides?.scheduler !== undefined) assert.ok(isSchedulerName(mode.overrides.scheduler));
    }
  });

  it('does not add the mode LoRA twice', () => {
    const once = applyPerformanceMode({ ...userSettings(), loras: [{ name: 'sdxl_lcm_lora.safetensors', weight: 0.3 }] }, 'Extreme Speed', everything);
    assert.deepEqual(once.loras, [{ name: 'sdxl_lcm_lora.safetensors', weight: 1 }]);
  });

  it('refuses a fast mode whose LoRA is missing, saying which file and how to get it', () => {
    const asked: string[] = [];
    const context = { loraAvailable: (file: string) => (asked.push(file), false) };
    assert.throws(
      () => applyPerformanceMode(userSettings(), 'Lightning', context),
      (err: unknown) =>
        err instanceof MissingPerformanceLoraError &&
        err.file === 'sdxl_lightning_4step_lora.safetensors' &&
        err.message.includes('npm run fooocus -- models pull sdxl-lightning-4step-lora') &&
        err.message.includes('npm run fooocus -- models import'),
    );
    assert.deepEqual(asked, ['sdxl_lightning_4step_lora.safetensors']);
    assert.doesNotThrow(() => applyPerformanceMode(userSettings(), 'Speed', context), 'Speed needs no LoRA');
  });

  it('refuses an unknown mode, listing the known ones', () => {
    assert.throws(() => applyPerformanceMode(userSettings(), 'Turbo', everything), (err: unknown) => err instanceof UnknownPerformanceModeError && /Hyper-SD/.test(err.message));
  });
});
