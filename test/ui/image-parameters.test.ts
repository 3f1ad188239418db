/**
 * Dropped-image metadata on the page: the engine's reader (the same the server and the CLI run) on PNG, JPEG and
 * WebP files, the form patch its settings become, and the message saying what was restored and what not. The
 * cases are the ones the page's former PNG-only reader got wrong.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatA1111Parameters, formatFooocusJson } from '../../src/engine/index.ts';
import type { GenerationParameters } from '../../src/engine/output/generation-parameters.ts';
import { describeRestore, patchFromSettings, readImageFileReport } from '../../src/ui/image-parameters.ts';
import { buildJpeg, buildPng, buildTiff, buildWebp, latin1, utf16 } from '../engine/output/metadata-fixtures.ts';

const XSS = '<img src=x onerror=alert(1)>';

const PARAMETERS: GenerationParameters = {
  prompt: `a lighthouse at dusk, "storm", ${XSS}`,
  negativePrompt: 'blurry, low quality',
  styles: ['Fooocus V2', "Artist's Sketch"],
  performance: 'Speed',
  steps: 30,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  cfg: 4.5,
  sharpness: 3,
  adaptiveCfg: 7,
  admScalers: [1.5, 0.8, 0.3],
  seed: '9223372036854775807',
  width: 896,
  height: 1152,
  modelName: 'juggernautXL_v8',
  modelHash: 'aeb7e9e689',
  refinerName: 'sd_xl_refiner_1.0',
  refinerSwitch: 0.7,
  loras: [{ name: 'sd_xl_offset_example-lora_1.0', weight: 0.1 }],
  clipSkip: 1,
  version: 'Fooocus-TS v0.1.0',
};

const EXPECTED = {
  prompt: PARAMETERS.prompt,
  negative: 'blurry, low quality',
  styles: ['Fooocus V2', "Artist's Sketch"],
  performance: 'Speed',
  steps: 30,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  cfg: 4.5,
  sharpness: 3,
  adaptiveCfg: 7,
  admPositive: 1.5,
  admNegative: 0.8,
  admEnd: 0.3,
  clipSkip: 1,
  seed: '9223372036854775807',
  randomSeed: false,
  aspectRatio: '896*1152',
  model: 'juggernautXL_v8',
  refiner: 'sd_xl_refiner_1.0',
  refinerSwitch: 0.7,
  vae: '',
  loras: [{ name: 'sd_xl_offset_example-lora_1.0', weight: 0.1 }],
};

async function patchOf(bytes: Uint8Array) {
  const report = await readImageFileReport(new Blob([new Uint8Array(bytes)]));
  assert.ok(report.candidates[0], `settings expected, got ${report.scheme}`);
  return patchFromSettings(report.candidates[0].settings).patch;
}

describe('the page reads dropped images with the engine reader', () => {
  it('fills every field from a Fooocus PNG (JSON scheme)', async () => {
    const png = buildPng([{ type: 'iTXt', keyword: 'parameters', text: formatFooocusJson(PARAMETERS), compressed: true }, { type: 'tEXt', keyword: 'fooocus_scheme', bytes: latin1('fooocus') }]);
    assert.deepEqual(await patchOf(png), EXPECTED);
  });

  it('restores image prompt types and values and the mixing switches, and says their images must be chosen again', async () => {
    const inputImage = {
      uovMethod: 'Vary (Subtle)',
      imagePrompts: [
        { type: 'FaceSwap', stopAt: 0.8, weight: 0.7, image: 'face.png', imageSha256: 'a'.repeat(64) },
        { type: 'CPDS', stopAt: 0.4, weight: 1.2, image: 'room.jpg', imageSha256: 'b'.repeat(64) },
      ],
      mixImagePromptAndVary: true,
    };
    const png = buildPng([{ type: 'iTXt', keyword: 'parameters', text: formatFooocusJson({ ...PARAMETERS, inputImage }), compressed: true }, { type: 'tEXt', keyword: 'fooocus_scheme', bytes: latin1('fooocus') }]);
    const report = await readImageFileReport(new Blob([new Uint8Array(png)]));
    const { patch, notRestored } = patchFromSettings(report.candidates[0]!.settings);
    assert.deepEqual(
      patch.imagePrompts?.slots.map((s) => [s.imageId, s.type, s.stopAt, s.weight]),
      [[null, 'FaceSwap', 0.8, 0.7], [null, 'CPDS', 0.4, 1.2], [null, 'ImagePrompt', 0.5, 0.6], [null, 'ImagePrompt', 0.5, 0.6]],
    );
    assert.equal(patch.imagePrompts?.mixVary, true);
    assert.equal(patch.imagePrompts?.mixInpaint, false);
    assert.equal(patch.inputImage?.tab, 'uov', 'the Vary mode is restored beside them');
    assert.deepEqual(notRestored.find((f) => f.key === 'image prompt images'), { key: 'image prompt images', value: 'face.png, room.jpg', reason: 'choose or drop them again' });
    assert.match(describeRestore(patch, [], notRestored), /restored .*image prompts.*not restored: .*image prompt images face\.png, room\.jpg \(choose or drop them again\)/);
    // Image prompts alone are no Input Image mode to restore or complain about.
    const alone = patchFromSettings({ ...report.candidates[0]!.settings, inputImage: { imagePrompts: inputImage.imagePrompts } });
    assert.equal(alone.patch.inputImage, undefined);
    assert.ok(!alone.notRestored.some((f) => f.key === 'Input Image mode' || f.key === 'input image'));
  });

  it('reads JPEG and WebP files, our own outputs included (EXIF UserComment and MakerNote)', async () => {
    const text = formatA1111Parameters({ ...PARAMETERS, prompt: 'plain' });
    const tiff = buildTiff({ userComment: { code: 'UNICODE', body: utf16(text, 'be') }, makerNote: latin1('a1111'), software: 'Fooocus-TS' }, 'MM');
    assert.equal((await patchOf(buildJpeg({ exif: tiff }))).prompt, 'plain');
    assert.equal((await patchOf(buildWebp(tiff))).seed, '9223372036854775807');
  });

  it('restores SwarmUI parameters instead of an empty patch', async () => {
    const json = JSON.stringify({ sui_image_params: { prompt: 'a fox', seed: 7, steps: 20, cfgscale: 5, width: 1024, height: 1024, sampler: 'euler', scheduler: 'karras' } });
    assert.deepEqual(await patchOf(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(json) }])), {
      prompt: 'a fox', seed: '7', randomSeed: false, steps: 20, cfg: 5, aspectRatio: '1024*1024', sampler: 'euler', scheduler: 'karras',
    });
  });

  it('restores RuinedFooocus settings, and leaves Random seed alone when no seed is recorded', async () => {
    const json = JSON.stringify({ Prompt: 'a bay', Negative: 'fog', steps: 24, cfg: 6, width: 1152, height: 896, sampler_name: 'euler_ancestral', scheduler: 'karras', base_model_name: 'x.safetensors', software: 'RuinedFooocus' });
    const patch = await patchOf(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(json) }]));
    assert.deepEqual(patch, { prompt: 'a bay', negative: 'fog', steps: 24, cfg: 6, aspectRatio: '1152*896', sampler: 'euler_ancestral', scheduler: 'karras', model: 'x.safetensors' });
    assert.ok(!('randomSeed' in patch), 'Random seed stays as the form had it');
  });

  it('refuses a parameters line padded with a million commas instead of putting the settings into the prompt', async () => {
    const text = `a quiet lake\nSteps: 20,${','.repeat(1_000_000)} Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512`;
    await assert.rejects(readImageFileReport(new Blob([new Uint8Array(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(text) }]))])), /parameters: is \d+ bytes, over the 65536-byte limit/);
  });

  it('reports unknown metadata as unknown, with nothing to apply', async () => {
    const report = await readImageFileReport(new Blob([new Uint8Array(buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1('{"hello": "world"}') }]))]));
    assert.equal(report.scheme, 'unknown');
    assert.deepEqual(report.candidates, []);
  });

  it('refuses a file over the size cap before reading it', async () => {
    const huge = { size: 65 * 1024 * 1024, arrayBuffer: () => assert.fail('must not be read') } as unknown as Blob;
    await assert.rejects(readImageFileReport(huge), /too large to read parameters from/);
  });
});

describe('the restore message', () => {
  it('names the restored fields and what was not restored, with the reason', () => {
    const { patch, notRestored } = patchFromSettings({ prompt: 'x', seed: '1', model: 'absent_model', modelHash: 'abcdef0123' });
    const message = describeRestore(patch, ['model absent_model'], [{ key: 'Hires upscale', value: '2', reason: 'has no equivalent here' }, ...notRestored]);
    assert.equal(message, 'restored prompt, seed; not restored: Hires upscale 2 (has no equivalent here), model hash abcdef0123 (the form chooses models by name), model absent_model (not available here)');
  });
});
