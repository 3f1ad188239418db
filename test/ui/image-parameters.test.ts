/**
 * Dropped-PNG metadata: the browser chunk reader on PNGs built here with node:zlib, and the form fields the page
 * takes from text written by the engine's metadata writers, read back by the engine's own readers (the page runs
 * the server's parsers, compiled for the browser, rather than a copy of them).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatA1111Parameters, formatFooocusJson } from '../../src/engine/index.ts';
import type { GenerationParameters } from '../../src/engine/output/generation-parameters.ts';
import { InvalidMetadataError } from '../../src/engine/output/generation-parameters.ts';
import { parseParametersText, readImageParameters } from '../../src/ui/image-parameters.ts';
import { MAX_TEXT_BYTES, PngReadError, readPngTextChunks } from '../../src/ui/png-text-chunks.ts';
import { buildPng } from './png-builder.ts';

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

describe('PNG text chunks', () => {
  it('reads tEXt, zTXt and iTXt (plain and compressed), first of a keyword wins', async () => {
    const png = buildPng([
      { type: 'tEXt', keyword: 'Software', text: 'caf\u00e9' },
      { type: 'zTXt', keyword: 'Comment', text: 'squeezed '.repeat(50) },
      { type: 'iTXt', keyword: 'parameters', text: 'Prompt \u2014 \u6771\u4eac' },
      { type: 'iTXt', keyword: 'Title', text: '\u00fcber', compressed: true },
      { type: 'tEXt', keyword: 'parameters', text: 'second' },
    ]);
    const chunks = await readPngTextChunks(png);
    assert.equal(chunks.get('Software'), 'caf\u00e9');
    assert.equal(chunks.get('Comment'), 'squeezed '.repeat(50));
    assert.equal(chunks.get('parameters'), 'Prompt \u2014 \u6771\u4eac');
    assert.equal(chunks.get('Title'), '\u00fcber');
  });

  it('refuses a file that is not a PNG, a truncated PNG, and a compressed chunk that inflates past the cap', async () => {
    await assert.rejects(readPngTextChunks(new TextEncoder().encode('GIF89a...')), PngReadError);
    const png = buildPng([{ type: 'tEXt', keyword: 'parameters', text: 'x'.repeat(100) }]);
    await assert.rejects(readPngTextChunks(png.subarray(0, 60)), /cut short/);
    const bomb = buildPng([{ type: 'zTXt', keyword: 'parameters', text: 'a'.repeat(MAX_TEXT_BYTES + 10) }]);
    assert.ok(bomb.length < 10_000, 'the test bomb is small on disk');
    await assert.rejects(readPngTextChunks(bomb), /size limit/);
  });

  it('reports a damaged compressed chunk as a PngReadError', async () => {
    const png = buildPng([{ type: 'zTXt', keyword: 'parameters', text: 'hello' }]);
    const damaged = Buffer.from(png);
    const at = damaged.indexOf(Buffer.from('zTXt')) + 4 + 'parameters'.length + 2;
    damaged.fill(0xff, at, at + 4);
    await assert.rejects(readPngTextChunks(new Uint8Array(damaged)), PngReadError);
  });
});

describe('Fooocus JSON parameters', () => {
  it('reads what the Fooocus scheme writer wrote, prompt markup kept as plain text', () => {
    assert.deepEqual(parseParametersText(formatFooocusJson(PARAMETERS)), EXPECTED);
  });

  it('reads older label keys, lora_combined_N (a disabled one skipped) and refiner None', () => {
    const text =
      '{"Prompt": "cat", "Resolution": "(1024, 1024)", "Refiner Model": "None", "Seed": "1234567890123456789", "Steps": 20, ' +
      '"Sampler": "dpmpp_2m_sde", "Scheduler": "karras", "Guidance Scale": 7, ' +
      '"lora_combined_1": "a.safetensors : 0.5", "lora_combined_2": "False : b.safetensors : 1"}';
    const patch = parseParametersText(text);
    assert.equal(patch.prompt, 'cat');
    assert.equal(patch.aspectRatio, '1024*1024');
    assert.equal(patch.refiner, '');
    assert.equal(patch.seed, '1234567890123456789');
    assert.equal(patch.sampler, 'dpmpp_2m_sde_gpu', 'the plain id becomes the one the form lists');
    assert.deepEqual(patch.loras, [{ name: 'a.safetensors', weight: 0.5 }]);
  });

  it('refuses bad metadata naming the field, as the server does (no silent partial fill)', () => {
    const good = JSON.parse(formatFooocusJson(PARAMETERS)) as Record<string, unknown>;
    assert.throws(() => parseParametersText(JSON.stringify({ ...good, seed: '92233720368547758070' })), (e) => e instanceof InvalidMetadataError && e.field === 'seed');
    assert.throws(() => parseParametersText(JSON.stringify({ ...good, guidance_scale: 'loud' })), /guidance_scale/);
    assert.throws(() => parseParametersText(JSON.stringify({ ...good, resolution: '__import__("os")' })), /resolution: is not a list or tuple literal/);
    assert.throws(() => parseParametersText('{"prompt": '), InvalidMetadataError);
  });
});

describe('A1111 parameters', () => {
  it('reads what the A1111 scheme writer wrote', () => {
    assert.deepEqual(parseParametersText(formatA1111Parameters(PARAMETERS)), EXPECTED);
  });

  it('reads a plain A1111 text with a multi-line prompt and quoted values', () => {
    const text = [
      'masterpiece, a red fox',
      'in the snow',
      'Negative prompt: lowres,',
      'bad hands',
      'Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 42, Size: 512x768, Model: "v1-5, pruned", Version: v1.10.0',
    ].join('\r\n');
    const patch = parseParametersText(text);
    assert.equal(patch.prompt, 'masterpiece, a red fox\nin the snow');
    assert.equal(patch.negative, 'lowres,\nbad hands');
    assert.equal(patch.sampler, 'euler_ancestral');
    assert.equal(patch.steps, 20);
    assert.equal(patch.cfg, 7);
    assert.equal(patch.seed, '42');
    assert.equal(patch.aspectRatio, '512*768');
    assert.equal(patch.model, 'v1-5, pruned');
  });

  it('says which key is missing when the last line is not parameters', () => {
    assert.throws(() => parseParametersText('portrait: oil, canvas: large'), /Sampler: is missing/);
  });

  it('is chosen for text and Fooocus for JSON, unless fooocus_scheme says a1111', () => {
    const json = formatFooocusJson({ ...PARAMETERS, prompt: 'json' });
    assert.equal(parseParametersText(json).prompt, 'json');
    assert.throws(() => parseParametersText(json, 'a1111'), /is missing/, 'read as A1111 text, the JSON has no parameter line');
  });
});

describe('PNG to form fields', () => {
  it('reads the parameters chunk of a Fooocus PNG (iTXt, compressed) and of an A1111 PNG (tEXt)', async () => {
    const fooocus = buildPng([
      { type: 'iTXt', keyword: 'parameters', text: formatFooocusJson(PARAMETERS), compressed: true },
      { type: 'tEXt', keyword: 'fooocus_scheme', text: 'fooocus' },
    ]);
    assert.deepEqual(await readImageParameters(fooocus), EXPECTED);
    const a1111 = buildPng([{ type: 'tEXt', keyword: 'parameters', text: formatA1111Parameters({ ...PARAMETERS, prompt: 'plain' }) }]);
    assert.equal((await readImageParameters(a1111)).prompt, 'plain');
  });

  it('says so when the PNG has no parameters', async () => {
    await assert.rejects(readImageParameters(buildPng([])), /no generation parameters/);
  });
});
