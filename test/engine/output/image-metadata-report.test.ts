/**
 * The one metadata reader on files built here in each tool's layout (as their sources and real files show them):
 * A1111 and forks in PNG, JPEG and WebP, stealth alpha/RGB info, Fooocus, RuinedFooocus, a ComfyUI graph with two
 * samplers, InvokeAI's three forms, SwarmUI, NovelAI and Civitai; unknown and absent metadata; hostile inputs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatFooocusJson } from '../../../src/engine/output/fooocus-metadata-scheme.ts';
import { readImageMetadataReport } from '../../../src/engine/output/image-metadata-report.ts';
import { SAMPLER_IDS, SCHEDULER_IDS, mapSamplerName } from '../../../src/engine/output/sampler-name-mapping.ts';
import { SAMPLER_NAMES } from '../../../src/engine/sampling/samplers/sampler-registry.ts';
import { SCHEDULER_NAMES } from '../../../src/engine/sampling/sigmas.ts';
import { buildJpeg, buildPng, buildStealthPng, buildTiff, buildWebp, latin1, utf16, utf8 } from './metadata-fixtures.ts';

const A1111 = [
  'masterpiece, a red fox in the snow <lora:fox_style:0.8>',
  'Negative prompt: lowres, bad hands',
  'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 3141592653, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, ' +
    'Denoising strength: 0.4, Clip skip: 2, Hires upscale: 1.5, ADetailer model: face_yolov8n.pt, Version: v1.10.1',
].join('\n');

function first(report: Awaited<ReturnType<typeof readImageMetadataReport>>) {
  assert.ok(report.candidates[0], `settings expected, got scheme ${report.scheme}`);
  return report.candidates[0];
}

describe('A1111 and forks', () => {
  it('reads PNG tEXt, maps the sampler label, keeps LoRA tags in the prompt and lists what has no equivalent', async () => {
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(A1111) }]));
    assert.equal(report.scheme, 'a1111');
    assert.equal(report.tool, 'AUTOMATIC1111 v1.10.1');
    const { settings, notApplied } = first(report);
    assert.deepEqual(settings, {
      prompt: 'masterpiece, a red fox in the snow <lora:fox_style:0.8>',
      negativePrompt: 'lowres, bad hands',
      steps: 28,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      cfg: 6.5,
      seed: '3141592653',
      width: 832,
      height: 1216,
      model: 'sd_xl_base_1.0',
      modelHash: '31e35c80fc',
      clipSkip: 2,
      denoise: 0.4,
    });
    assert.deepEqual(notApplied.map((f) => f.key), ['Hires upscale', 'ADetailer model']);
  });

  it('reads a JPEG whose little-endian EXIF holds UTF-16BE text (Civitai) and names Civitai from its resources key', async () => {
    const text = `${A1111}, Civitai resources: [{"type":"checkpoint","modelVersionId":128078}]`;
    const jpeg = buildJpeg({ exif: buildTiff({ userComment: { code: 'UNICODE', body: utf16(text, 'be') } }, 'II') });
    const report = await readImageMetadataReport(jpeg);
    assert.equal(report.format, 'jpeg');
    assert.equal(report.scheme, 'civitai');
    assert.equal(first(report).settings.sampler, 'dpmpp_2m');
    assert.ok(first(report).notApplied.some((f) => f.key === 'Civitai resources'));
  });

  it('reads A1111 text from a JPEG comment segment when there is no EXIF', async () => {
    const report = await readImageMetadataReport(buildJpeg({ comment: utf8(A1111) }));
    assert.equal(report.source, 'Comment');
    assert.equal(first(report).settings.steps, 28);
  });

  it('reads WebP EXIF (with and without the Exif prefix) and Forge versions', async () => {
    const text = A1111.replace('Version: v1.10.1', 'Schedule type: Exponential, Version: f2.0.1v1.10.1-previous-313-g6f9d6b1');
    for (const prefixed of [false, true]) {
      const webp = buildWebp(buildTiff({ userComment: { code: 'UNICODE', body: utf16(text, 'be') } }, 'MM'), prefixed);
      const report = await readImageMetadataReport(webp);
      assert.equal(report.format, 'webp');
      assert.match(report.tool, /^Forge or reForge f2\.0\.1/);
      assert.equal(first(report).settings.scheduler, 'exponential');
    }
  });

  it('reads "stealth" info from the alpha channel (gzip) and the RGB low bits (plain)', async () => {
    for (const [mode, compressed] of [['alpha', true], ['rgb', false], ['alpha', false]] as const) {
      const report = await readImageMetadataReport(buildStealthPng(A1111, mode, compressed, 90, 130));
      assert.equal(report.source, `parameters (stealth ${mode})`, `${mode} ${compressed}`);
      assert.equal(first(report).settings.seed, '3141592653');
    }
  });

  it('reads a prompt that starts with a wildcard brace as A1111 text, not as broken JSON', async () => {
    const text = '{red|blue} car, {day|night}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512';
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(text) }, { type: 'tEXt', keyword: 'prompt', bytes: latin1('{red|blue} car') }]));
    assert.equal(report.scheme, 'a1111');
    assert.equal(first(report).settings.prompt, '{red|blue} car, {day|night}');
  });

  it('leaves missing keys absent and lists an unknown sampler as not applied', async () => {
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1('a cat\nSteps: 20, Sampler: DPM++ 2M SDE Heun, CFG Scale: 4, Seed: 9') }]));
    assert.deepEqual(first(report).settings, { prompt: 'a cat', negativePrompt: '', steps: 20, cfg: 4, seed: '9' });
    assert.deepEqual(first(report).notApplied, [{ key: 'Sampler', value: 'DPM++ 2M SDE Heun', reason: 'has no equivalent sampler here' }]);
  });
});

describe('Input Image settings', () => {
  it('lists them as not applied with the reason, in A1111 text', async () => {
    const text = 'a cat\nSteps: 20, Sampler: Euler, CFG scale: 4, Seed: 1, Upscale or Variation: Vary (Subtle), Inpaint Denoising Strength: 0.9';
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(text) }]));
    assert.deepEqual(first(report).notApplied.map((f) => [f.key, f.reason]), [
      ['Upscale or Variation', 'is an Input Image setting: choose it with the input image'],
      ['Inpaint Denoising Strength', 'is an Input Image setting: choose it with the input image'],
    ]);
  });
});

describe('Input Image settings in the Fooocus scheme', () => {
  it('carries the mode and its parameters as settings (the page restores them), not as not-applied fields', async () => {
    const inputImage = { inpaintMethod: 'Improve Detail (face, hand, eyes, etc.)', inpaintEngine: 'v2.6', inpaintStrength: 0.6, inpaintErodeOrDilate: 4, invertMask: true, outpaint: [{ side: 'Left' as const, size: '64px' }] };
    const json = formatFooocusJson({
      prompt: 'a house', negativePrompt: '', styles: [], performance: 'Speed', steps: 30, sampler: 'euler', scheduler: 'karras',
      cfg: 4, sharpness: 2, adaptiveCfg: 7, seed: '12', width: 1152, height: 896, modelName: 'm', modelHash: '', clipSkip: 2, version: 'Fooocus-TS', inputImage,
    });
    const report = await readImageMetadataReport(buildPng([{ type: 'iTXt', keyword: 'parameters', text: json }, { type: 'tEXt', keyword: 'fooocus_scheme', bytes: latin1('fooocus') }]));
    assert.deepEqual(first(report).settings.inputImage, inputImage);
    assert.deepEqual(first(report).notApplied, []);
  });
});

describe('Fooocus and RuinedFooocus', () => {
  it('reads the Fooocus JSON scheme', async () => {
    const json = formatFooocusJson({
      prompt: 'a house', negativePrompt: '', styles: ['Fooocus V2'], performance: 'Speed', steps: 30, sampler: 'dpmpp_2m_sde_gpu', scheduler: 'karras',
      cfg: 4, sharpness: 2, adaptiveCfg: 7, seed: '12', width: 1152, height: 896, modelName: 'juggernautXL_v8', modelHash: '', clipSkip: 2, version: 'Fooocus v2.5.5',
    });
    const report = await readImageMetadataReport(buildPng([{ type: 'iTXt', keyword: 'parameters', text: json }, { type: 'tEXt', keyword: 'fooocus_scheme', bytes: latin1('fooocus') }]));
    assert.equal(report.scheme, 'fooocus');
    assert.equal(report.tool, 'Fooocus v2.5.5');
    const s = first(report).settings;
    assert.equal(s.sampler, 'dpmpp_2m_sde');
    assert.deepEqual([s.width, s.height, s.model, s.styles], [1152, 896, 'juggernautXL_v8', ['Fooocus V2']]);
  });

  it('reads RuinedFooocus JSON', async () => {
    const json = JSON.stringify({
      Prompt: 'a lighthouse', Negative: 'fog', steps: 30, cfg: 8, width: 1024, height: 1024, seed: 123456, sampler_name: 'dpmpp_2m_sde_gpu', scheduler: 'karras',
      base_model_name: 'sd_xl_base_1.0.safetensors', base_model_hash: 'abcdef0123', loras: [['detail.safetensors', 0.5]], start_step: 0, denoise: 1, software: 'RuinedFooocus',
    });
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(json) }]));
    assert.equal(report.scheme, 'ruinedfooocus');
    assert.deepEqual(first(report).settings, {
      prompt: 'a lighthouse', negativePrompt: 'fog', steps: 30, cfg: 8, seed: '123456', width: 1024, height: 1024, sampler: 'dpmpp_2m_sde', scheduler: 'karras',
      model: 'sd_xl_base_1.0.safetensors', modelHash: 'abcdef0123', loras: [{ name: 'detail.safetensors', weight: 0.5 }], denoise: 1,
    });
    assert.deepEqual(first(report).notApplied.map((f) => f.key), ['start_step']);
  });
});

describe('ComfyUI', () => {
  const graph = {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl/juggernautXL_v9.safetensors' } },
    '10': { class_type: 'LoraLoader', inputs: { lora_name: 'add-detail.safetensors', strength_model: 0.7, strength_clip: 1, model: ['4', 0], clip: ['4', 1] } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 896, height: 1152, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cozy cabin, snow', clip: ['10', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['10', 1] } },
    '20': { class_type: 'PrimitiveNode', inputs: { value: 987654321 } },
    '3': { class_type: 'KSampler', inputs: { seed: ['20', 0], steps: 25, cfg: 5.5, sampler_name: 'dpmpp_2m_sde_gpu', scheduler: 'karras', denoise: 1, model: ['10', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
    '12': { class_type: 'KSamplerAdvanced', inputs: { add_noise: 'enable', noise_seed: 5, steps: 10, cfg: 3, sampler_name: 'res_multistep', scheduler: 'beta', start_at_step: 5, end_at_step: 10, return_with_leftover_noise: 'disable', model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['3', 0] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
  };

  it('lists each sampler with prompts, checkpoint, LoRAs and size followed back through the graph', async () => {
    const png = buildPng([{ type: 'tEXt', keyword: 'prompt', bytes: latin1(JSON.stringify(graph)) }, { type: 'tEXt', keyword: 'workflow', bytes: latin1('{"nodes": []}') }]);
    const report = await readImageMetadataReport(png);
    assert.equal(report.scheme, 'comfyui');
    assert.deepEqual(report.candidates.map((c) => c.label), ['KSampler #3', 'KSamplerAdvanced #12']);
    assert.deepEqual(report.candidates[0]!.settings, {
      seed: '987654321', steps: 25, cfg: 5.5, sampler: 'dpmpp_2m_sde', scheduler: 'karras', prompt: 'a cozy cabin, snow', negativePrompt: 'blurry',
      model: 'sdxl/juggernautXL_v9.safetensors', loras: [{ name: 'add-detail.safetensors', weight: 0.7 }], width: 896, height: 1152,
    });
    const second = report.candidates[1]!;
    assert.equal(second.settings.width, 896, 'the size comes through the first sampler');
    assert.deepEqual(second.notApplied.map((f) => f.key), ['sampler_name', 'scheduler', 'add_noise', 'start_at_step', 'end_at_step', 'return_with_leftover_noise']);
  });

  it('ends on a cyclic graph and refuses one past the node limit', async () => {
    const cyclic = { '1': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['2', 0] } }, '2': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['1', 0] } },
      '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 2, cfg: 3, sampler_name: 'euler', scheduler: 'normal', positive: ['1', 0], negative: ['2', 0], model: ['3', 0], latent_image: ['3', 0] } } };
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'prompt', bytes: latin1(JSON.stringify(cyclic)) }]));
    assert.equal(report.candidates[0]!.settings.prompt, '');
    const huge = Object.fromEntries(Array.from({ length: 5001 }, (_, i) => [String(i), { class_type: 'Note', inputs: {} }]));
    await assert.rejects(readImageMetadataReport(buildPng([{ type: 'zTXt', keyword: 'prompt', bytes: latin1(JSON.stringify(huge)) }])), /prompt: graph has more than 5000 nodes/);
  });
});

describe('InvokeAI, SwarmUI, NovelAI', () => {
  it('reads invokeai_metadata (model and LoRAs as objects, dpmpp_2m_k as DPM++ 2M Karras)', async () => {
    const meta = { generation_mode: 'sdxl_txt2img', positive_prompt: 'a bridge', negative_prompt: 'rain', width: 1024, height: 768, seed: 42, rand_device: 'cpu', cfg_scale: 7.5, steps: 30,
      scheduler: 'dpmpp_2m_k', model: { key: 'k1', hash: 'blake3:ab', name: 'Juggernaut XL v9', base: 'sdxl', type: 'main' }, loras: [{ model: { key: 'k2', name: 'detail' }, weight: 0.75 }], app_version: '5.6.0' };
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'invokeai_metadata', bytes: latin1(JSON.stringify(meta)) }]));
    assert.equal(report.tool, 'InvokeAI 5.6.0');
    assert.deepEqual(first(report).settings, { prompt: 'a bridge', negativePrompt: 'rain', seed: '42', steps: 30, cfg: 7.5, width: 1024, height: 768, sampler: 'dpmpp_2m', scheduler: 'karras', model: 'Juggernaut XL v9', loras: [{ name: 'detail', weight: 0.75 }] });
    assert.deepEqual(first(report).notApplied.map((f) => f.key), ['generation_mode', 'rand_device']);
  });

  it('reads sd-metadata and Dream (negative prompt in brackets, k_ names)', async () => {
    const sd = { model: 'stable diffusion', model_weights: 'stable-diffusion-1.5', app_id: 'invoke-ai/InvokeAI', app_version: '2.3.5',
      image: { prompt: [{ prompt: 'a tower [fog, haze]', weight: 1 }], steps: 50, cfg_scale: 7.5, height: 512, width: 512, seed: 7, type: 'txt2img', sampler: 'k_euler_a' } };
    const legacy = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'sd-metadata', bytes: latin1(JSON.stringify(sd)) }]));
    assert.deepEqual([first(legacy).settings.prompt, first(legacy).settings.negativePrompt, first(legacy).settings.sampler], ['a tower', 'fog, haze', 'euler_ancestral']);
    const dream = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'Dream', bytes: latin1('"a tower [fog]" -s 50 -S 7 -W 512 -H 640 -C 7.5 -A k_lms') }]));
    assert.deepEqual(first(dream).settings, { prompt: 'a tower', negativePrompt: 'fog', steps: 50, seed: '7', width: 512, height: 640, cfg: 7.5 });
    assert.deepEqual(first(dream).notApplied, [{ key: '-A', value: 'k_lms', reason: 'has no equivalent sampler here' }]);
  });

  it('reads SwarmUI sui_image_params', async () => {
    const json = { sui_image_params: { prompt: 'a fox', negativeprompt: 'cat', model: 'OfficialStableDiffusion/sd_xl_base_1.0', seed: 2042464333, steps: 25, cfgscale: 6, aspectratio: '1:1', width: 1024, height: 1024,
      sampler: 'euler', scheduler: 'normal', loras: ['detail'], loraweights: ['0.6'], clipstopatlayer: -2, swarm_version: '0.9.5.2' }, sui_extra_data: { date: '2025-01-01' } };
    const jpeg = buildJpeg({ exif: buildTiff({ userComment: { code: 'UNICODE', body: utf16(JSON.stringify(json), 'be') } }, 'II') });
    const report = await readImageMetadataReport(jpeg);
    assert.equal(report.tool, 'SwarmUI 0.9.5.2');
    assert.deepEqual(first(report).settings, { prompt: 'a fox', negativePrompt: 'cat', seed: '2042464333', steps: 25, cfg: 6, width: 1024, height: 1024, sampler: 'euler', scheduler: 'normal',
      model: 'OfficialStableDiffusion/sd_xl_base_1.0', loras: [{ name: 'detail', weight: 0.6 }], clipSkip: 2 });
    assert.deepEqual(first(report).notApplied.map((f) => f.key), ['aspectratio']);
  });

  it('reads NovelAI text chunks and NovelAI stealth info', async () => {
    const comment = { prompt: '1girl, smile', steps: 28, height: 1216, width: 832, scale: 5, uncond_scale: 1, cfg_rescale: 0, seed: 1234, n_samples: 1, noise_schedule: 'karras', sampler: 'k_euler_ancestral', uc: 'lowres' };
    const texts = { Title: 'NovelAI generated image', Description: '1girl, smile', Software: 'NovelAI', Source: 'NovelAI Diffusion V4 4F49EC75', Comment: JSON.stringify(comment) };
    const png = buildPng(Object.entries(texts).map(([keyword, text]) => ({ type: 'tEXt' as const, keyword, bytes: utf8(text) })));
    const report = await readImageMetadataReport(png);
    assert.equal(report.tool, 'NovelAI (NovelAI Diffusion V4 4F49EC75)');
    assert.deepEqual(first(report).settings, { prompt: '1girl, smile', negativePrompt: 'lowres', steps: 28, cfg: 5, seed: '1234', width: 832, height: 1216, sampler: 'euler_ancestral', scheduler: 'karras' });
    const stealth = await readImageMetadataReport(buildStealthPng(JSON.stringify(texts), 'alpha', true, 100, 128));
    assert.equal(stealth.scheme, 'novelai');
    assert.equal(first(stealth).settings.seed, '1234');
  });
});

describe('unknown, absent and hostile metadata', () => {
  it('reports text it cannot place as unknown with its fields, and a file without text as none', async () => {
    const unknown = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'Comment', bytes: latin1('made with love') }, { type: 'tEXt', keyword: 'parameters', bytes: latin1('{"foo": 1}') }]));
    assert.equal(unknown.scheme, 'unknown');
    assert.deepEqual(unknown.fields.map((f) => f.key), ['Comment', 'parameters']);
    assert.deepEqual(unknown.candidates, []);
    assert.equal((await readImageMetadataReport(buildPng([]))).scheme, 'none');
  });

  it('refuses a zTXt bomb, an over-long parameters text, deep JSON, invalid UTF-8 and a non-image, naming each', async () => {
    const bomb = buildPng([{ type: 'zTXt', keyword: 'parameters', bytes: new Uint8Array(3 * 1024 * 1024) }]);
    assert.ok(bomb.length < 10_000);
    await assert.rejects(readImageMetadataReport(bomb), /inflates past 2097152 bytes/);
    await assert.rejects(readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(`a\nSteps: 1,${','.repeat(1_000_000)}`) }])), /parameters: is \d+ bytes, over the 65536-byte limit/);
    await assert.rejects(readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'prompt', bytes: latin1(`{"1":{"class_type":"X","inputs":{"a":${'['.repeat(100)}${']'.repeat(100)}}}}`) }])), /prompt: is not valid JSON \(nesting deeper than 64/);
    const badUtf8 = Buffer.concat([Buffer.from('parameters\0\0\0\0\0', 'latin1'), Buffer.from([0xc3, 0x28])]);
    const png = buildPng([{ type: 'iTXt', keyword: 'x', text: '' }]);
    const at = Buffer.from(png).indexOf('iTXt');
    const broken = rebuildChunk(png, at - 4, 'iTXt', badUtf8);
    await assert.rejects(readImageMetadataReport(broken), /not valid UTF-8/);
    await assert.rejects(readImageMetadataReport(new TextEncoder().encode('GIF89a')), /not a PNG, JPEG or WebP file/);
    await assert.rejects(readImageMetadataReport(buildPng(Array.from({ length: 65 }, (_, i) => ({ type: 'tEXt' as const, keyword: `k${i}`, bytes: latin1('v') })))), /more than 64 text fields/);
  });

  it('never evaluates Python literals or JSON: a Styles value with code is only refused text', async () => {
    const report = await readImageMetadataReport(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1('x\nSteps: 2, Seed: 1, CFG scale: 3, Styles: "__import__(\'os\').system(\'id\')"') }]));
    assert.equal(first(report).notApplied[0]!.key, 'Styles');
  });
});

describe('sampler names', () => {
  it('knows exactly the engine\'s samplers and schedulers', () => {
    assert.deepEqual([...SAMPLER_IDS], [...SAMPLER_NAMES]);
    assert.deepEqual([...SCHEDULER_IDS], [...SCHEDULER_NAMES]);
  });

  it('maps A1111, InvokeAI, NovelAI and ComfyUI spellings', () => {
    assert.deepEqual(mapSamplerName('DPM++ 2M Karras'), { sampler: 'dpmpp_2m', scheduler: 'karras' });
    assert.deepEqual(mapSamplerName('Euler a'), { sampler: 'euler_ancestral' });
    assert.deepEqual(mapSamplerName('dpmpp_2m_sde_k'), { sampler: 'dpmpp_2m_sde', scheduler: 'karras' });
    assert.deepEqual(mapSamplerName('k_dpmpp_2m'), { sampler: 'dpmpp_2m' });
    assert.deepEqual(mapSamplerName('dpmpp_3m_sde_gpu'), { sampler: 'dpmpp_3m_sde' });
    assert.equal(mapSamplerName('LMS'), null);
  });
});

function rebuildChunk(png: Uint8Array, at: number, type: string, data: Uint8Array): Uint8Array {
  const bytes = Buffer.from(png);
  const length = bytes.readUInt32BE(at);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  return new Uint8Array(Buffer.concat([bytes.subarray(0, at), head, data, Buffer.alloc(4), bytes.subarray(at + 12 + length)]));
}

