import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatA1111Parameters } from '../../../src/engine/output/a1111-metadata-scheme.ts';
import { formatFooocusJson } from '../../../src/engine/output/fooocus-metadata-scheme.ts';
import { MAX_METADATA_BYTES, parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { InvalidMetadataError, type GenerationParameters } from '../../../src/engine/output/generation-parameters.ts';
import { formatA1111SamplerName, parseA1111SamplerName } from '../../../src/engine/output/sampler-display-names.ts';

const base: GenerationParameters = {
  prompt: 'a red fox, "snow": 猫 🦊',
  negativePrompt: 'blurry, lowres',
  fullPrompt: ['a red fox, "snow": 猫 🦊', 'cinematic still, highly detailed'],
  fullNegativePrompt: ['blurry, lowres', 'anime, cartoon'],
  promptExpansion: 'intricate, elegant',
  styles: ['Fooocus V2', 'Fooocus Enhance', "Mk. Moebius' Style"],
  performance: 'Speed',
  steps: 30,
  sampler: 'dpmpp_2m_sde',
  scheduler: 'karras',
  cfg: 4,
  sharpness: 2,
  adaptiveCfg: 7,
  admScalers: [1.5, 0.8, 0.3],
  seed: '9223372036854775807',
  width: 1152,
  height: 896,
  modelName: 'juggernautXL_v8Rundiffusion',
  modelHash: 'aeb7e9e689',
  refinerName: 'sd_xl_refiner_1.0',
  refinerHash: '7440042bbd',
  refinerSwitch: 0.8,
  loras: [{ name: 'sd_xl_offset_example-lora_1.0', weight: 0.1, hash: '4852686128' }],
  clipSkip: 2,
  version: 'Fooocus-TS v0.1.0',
};

function assertMetadataError(text: string, field: string, pattern?: RegExp): void {
  assert.throws(
    () => parseGenerationMetadata(text),
    (error: unknown) => error instanceof InvalidMetadataError && error.field === field && (!pattern || pattern.test(error.message)),
    `expected InvalidMetadataError for ${field}`,
  );
}

describe('Fooocus JSON scheme', () => {
  it('round-trips every field', () => {
    const p = { ...base, adaptiveCfg: 5.5, denoise: 0.75, vae: 'sdxl_vae', refinerSwitchMethod: 'separate', extra: { freeu: '(1.01, 1.02, 0.99, 0.95)' } };
    assert.deepEqual({ ...parseGenerationMetadata(formatFooocusJson(p)), extra: { ...parseGenerationMetadata(formatFooocusJson(p)).extra } }, p);
  });

  it('writes the keys, literals and spacing Fooocus writes', () => {
    const json = formatFooocusJson(base);
    const keys = [...json.matchAll(/"([a-z_0-9]+)": /g)].map((m) => m[1]);
    assert.deepEqual(keys, [...keys].sort(), 'keys are sorted');
    for (const key of ['adm_guidance', 'base_model', 'base_model_hash', 'full_negative_prompt', 'full_prompt', 'guidance_scale', 'loras', 'lora_combined_1', 'metadata_scheme', 'negative_prompt', 'performance', 'prompt', 'prompt_expansion', 'refiner_model', 'refiner_model_hash', 'refiner_switch', 'resolution', 'sampler', 'scheduler', 'seed', 'sharpness', 'steps', 'styles', 'vae', 'version', 'clip_skip']) {
      assert.ok(keys.includes(key), `writes ${key}`);
    }
    assert.ok(!keys.includes('adaptive_cfg'), 'omits adaptive_cfg at its default, as Fooocus does');
    assert.match(json, /"resolution": "\(1152, 896\)"/);
    assert.match(json, /"adm_guidance": "\(1\.5, 0\.8, 0\.3\)"/);
    assert.match(json, /"guidance_scale": 4\.0, /);
    assert.match(json, /"steps": 30, /);
    assert.match(json, /"styles": "\['Fooocus V2', 'Fooocus Enhance', \\"Mk\. Moebius' Style\\"\]"/);
    assert.match(json, /"metadata_scheme": "fooocus"/);
    assert.match(json, /"vae": "Default \(model\)"/);
    assert.match(formatFooocusJson({ ...base, refinerSwitchMethod: 'vae' }), /"refiner_swap_method": "vae", /);
    assert.match(json, /"lora_combined_1": "sd_xl_offset_example-lora_1\.0 : 0\.1"/);
    assert.match(json, /\\u732b \\ud83e\\udd8a/, 'non-ASCII escaped like json.dumps(ensure_ascii=True)');
    assert.ok(/^[\x20-\x7e]*$/.test(json));
  });

  it('reads older Fooocus logs keyed by label and a missing refiner as "None"', () => {
    const p = parseGenerationMetadata(
      JSON.stringify({ Prompt: 'cat', 'Negative Prompt': '', Styles: "['Fooocus V2']", Steps: 60, Resolution: '(1024, 1024)', 'Guidance Scale': 7, Sampler: 'dpmpp_2m_sde_gpu', Scheduler: 'karras', Seed: '42', 'Base Model': 'sd_xl_base_1.0.safetensors', 'Refiner Model': 'None' }),
    );
    assert.equal(p.prompt, 'cat');
    assert.deepEqual(p.styles, ['Fooocus V2']);
    assert.equal(p.steps, 60);
    assert.equal(p.refinerName, undefined);
    assert.equal(p.seed, '42');
    assert.equal(p.clipSkip, 1);
  });
});

describe('A1111 scheme', () => {
  it('writes A1111 names and order', () => {
    const text = formatA1111Parameters({ ...base, seed: '123', fullPrompt: undefined, fullNegativePrompt: undefined });
    const [prompt, negative, line] = text.split('\n');
    assert.equal(prompt, base.prompt);
    assert.equal(negative, 'Negative prompt: blurry, lowres');
    assert.ok(line!.startsWith('Steps: 30, Sampler: DPM++ 2M SDE Karras, CFG scale: 4, Seed: 123, Size: 1152x896, Model hash: aeb7e9e689, Model: juggernautXL_v8Rundiffusion, Clip skip: 2, Sharpness: 2, ADM Guidance: "(1.5, 0.8, 0.3)"'), line);
    assert.ok(line!.endsWith('Version: Fooocus-TS v0.1.0'));
  });

  it('round-trips every field, including quoted values with commas', () => {
    const p = { ...base, denoise: 0.6, vae: 'sdxl_vae', adaptiveCfg: 5, extra: { 'Hires upscaler': 'Latent, bicubic: x2', Note: '"quoted"' } };
    const parsed = parseGenerationMetadata(formatA1111Parameters(p));
    assert.deepEqual({ ...parsed, extra: { ...parsed.extra } }, { ...p, fullPrompt: [base.fullPrompt!.join(', ')], fullNegativePrompt: [base.fullNegativePrompt!.join(', ')] });
  });

  it('parses an A1111 infotext written from the documented format', () => {
    // Shape of AUTOMATIC1111 1.6 infotext (wiki "Features: PNG info"); 6ce0161689 is SD 1.5 emaonly's short hash.
    const text = [
      'masterpiece, a photo of a red fox in the snow, (detailed fur:1.2)',
      'Negative prompt: lowres, blurry, (worst quality:1.4)',
      'Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3684409847, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.7, Clip skip: 2, Hires upscale: 2, Hires upscaler: Latent, Lora hashes: "fox_v2: 0123456789ab", TI hashes: "easynegative: c74b4e810b03", Version: v1.6.0',
    ].join('\n');
    const p = parseGenerationMetadata(text);
    assert.equal(p.prompt, 'masterpiece, a photo of a red fox in the snow, (detailed fur:1.2)');
    assert.equal(p.negativePrompt, 'lowres, blurry, (worst quality:1.4)');
    assert.deepEqual([p.steps, p.sampler, p.scheduler, p.cfg, p.seed, p.width, p.height], [20, 'dpmpp_2m', 'karras', 7, '3684409847', 512, 768]);
    assert.deepEqual([p.modelHash, p.modelName, p.denoise, p.clipSkip, p.version], ['6ce0161689', 'v1-5-pruned-emaonly', 0.7, 2, 'v1.6.0']);
    assert.deepEqual({ ...p.extra }, { 'Hires upscale': '2', 'Hires upscaler': 'Latent', 'TI hashes': 'easynegative: c74b4e810b03' });
    assert.equal(p.loras, undefined, 'hashes without weights name no LoRA to apply');
  });

  it('parses A1111 1.9 "Schedule type" and text the way Fooocus writes it', () => {
    const a1111 = parseGenerationMetadata('cat\nSteps: 25, Sampler: DPM++ 3M SDE, Schedule type: Exponential, CFG scale: 5, Seed: 1, Size: 1024x1024');
    assert.deepEqual([a1111.sampler, a1111.scheduler], ['dpmpp_3m_sde', 'exponential']);
    const fooocus = parseGenerationMetadata(
      'a cat, cinematic, highly detailed\nNegative prompt: unrealistic, saturated\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 1234, Size: 1152x896, CFG scale: 4.0, Sharpness: 2.0, ADM Guidance: "(1.5, 0.8, 0.3)", Model: juggernautXL_v8Rundiffusion, Model hash: aeb7e9e689, Performance: Speed, Scheduler: karras, VAE: Default (model), Raw prompt: a cat, Raw negative prompt: , Clip skip: 2, Version: Fooocus v2.5.5',
    );
    assert.equal(fooocus.prompt, 'a cat');
    assert.equal(fooocus.negativePrompt, '');
    assert.deepEqual(fooocus.fullPrompt, ['a cat, cinematic, highly detailed']);
    assert.deepEqual(fooocus.admScalers, [1.5, 0.8, 0.3]);
    assert.equal(fooocus.performance, 'Speed');
  });

  it('treats a last line with fewer than three parameters as prompt', () => {
    const p = parseGenerationMetadata('Steps: 30, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 64x64').prompt;
    assert.equal(p, '');
    assert.throws(() => parseGenerationMetadata('just a prompt: with colon'), /Sampler: is missing/);
  });

  it('maps every sampler id to an A1111 name and back', () => {
    for (const id of ['euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpm_2_ancestral', 'dpmpp_2m', 'dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_3m_sde', 'lcm', 'ddim', 'uni_pc']) {
      for (const scheduler of ['karras', 'normal']) {
        const name = formatA1111SamplerName(id, scheduler);
        const back = parseA1111SamplerName(name);
        assert.equal(back.sampler, id, name);
        if (name.endsWith(' Karras')) assert.equal(back.scheduler, 'karras');
      }
    }
    assert.equal(formatA1111SamplerName('euler_ancestral', 'karras'), 'Euler a');
    assert.equal(formatA1111SamplerName('dpmpp_2m_sde', 'karras'), 'DPM++ 2M SDE Karras');
  });
});

describe('metadata validation', () => {
  const line = (fields: string): string => `cat\n${fields}`;
  const valid = 'Steps: 30, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64';

  it('keeps seeds up to 2^63-1 exact and rejects larger ones', () => {
    for (const seed of ['9223372036854775807', '9223372036854775806', '9007199254740993', '0']) {
      assert.equal(parseGenerationMetadata(line(valid.replace('Seed: 5', `Seed: ${seed}`))).seed, seed);
      assert.equal(parseGenerationMetadata(formatFooocusJson({ ...base, seed })).seed, seed);
    }
    assertMetadataError(line(valid.replace('Seed: 5', 'Seed: 9223372036854775808')), 'Seed');
    assertMetadataError(line(valid.replace('Seed: 5', 'Seed: -1')), 'Seed');
  });

  it('names the field and the problem', () => {
    assert.throws(() => parseGenerationMetadata(line(valid.replace('Seed: 5', 'Seed: abc'))), { message: 'Seed: "abc" is not an integer in 0..2^63-1' });
    assertMetadataError(line(valid.replace('Size: 64x64', 'Size: 0x64')), 'Size');
    assertMetadataError(line(valid.replace('Size: 64x64', 'Size: big')), 'Size', /WIDTHxHEIGHT/);
    assertMetadataError(line(valid.replace('Steps: 30', 'Steps: -3')), 'Steps', /not an integer in 1\.\.1000/);
    assertMetadataError(line(valid.replace('CFG scale: 7', 'CFG scale: NaN')), 'CFG scale');
    assertMetadataError(line(`${valid}, Note: "unterminated`), 'Note', /unterminated/);
    const json = JSON.parse(formatFooocusJson(base)) as Record<string, unknown>;
    assertMetadataError(JSON.stringify({ ...json, steps: 'many' }), 'steps');
    assertMetadataError(JSON.stringify({ ...json, prompt: 5 }), 'prompt', /not a string/);
    assertMetadataError(JSON.stringify({ ...json, resolution: [1152, 896] }), 'resolution', /not a string/);
    assertMetadataError(JSON.stringify({ ...json, resolution: '(1152, __import__("os"))' }), 'resolution');
    assertMetadataError(JSON.stringify({ ...json, seed: 1.5 }), 'seed');
    assertMetadataError(JSON.stringify({ ...json, sampler: undefined }), 'sampler', /missing/);
    assertMetadataError('{"steps": 1, "steps": 2}', 'steps');
    assert.throws(() => parseGenerationMetadata('[1, 2, 3]', 'fooocus'), { field: 'metadata', message: 'metadata: is not a JSON object' });
  });

  it('checks the size limit before parsing', () => {
    assertMetadataError(`${'x'.repeat(MAX_METADATA_BYTES)}\n${valid}`, 'metadata', /limit/);
  });

  it('keeps __proto__ keys as data and never pollutes Object.prototype', () => {
    const json = JSON.parse(formatFooocusJson(base)) as Record<string, unknown>;
    const hostile = JSON.stringify(json).replace(/^\{/, '{"__proto__": {"polluted": "yes"}, "constructor": "x", ');
    const fromJson = parseGenerationMetadata(hostile);
    assert.equal(fromJson.extra?.['__proto__'], '{"polluted": "yes"}');
    assert.equal(Object.hasOwn(fromJson.extra!, '__proto__'), true);
    const fromText = parseGenerationMetadata(line(`${valid}, __proto__: polluted, constructor: x`));
    assert.equal(fromText.extra?.['__proto__'], 'polluted');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    assert.match(formatFooocusJson(fromJson), /"__proto__": /);
  });
});
