/** Presets in the page: the list the server sends, checked, and the form patch choosing one applies. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/ui/api-error.ts';
import { createApiClient } from '../../src/ui/api-client.ts';
import { PERFORMANCE_MODE_NAMES } from '../../src/app/creative/performance-modes.ts';
import { DEFAULT_FORM, buildGenerateRequest, patchFromPreset, type FormValues } from '../../src/ui/form-values.ts';

/** The modes the page learns from the request schema (which lists the app's performance data). */
const MODES = PERFORMANCE_MODE_NAMES;

/** What GET /api/v1/presets answers for the built-in realistic preset on a store without its models. */
const REALISTIC = {
  name: 'realistic',
  label: 'Realistic',
  model: 'sd_xl_base_1.0.safetensors',
  refiner: 'sd_xl_refiner_1.0.safetensors',
  refinerSwitch: 0.75,
  loras: [{ name: 'detail.safetensors', weight: 0.4 }],
  cfg: 3,
  sharpness: 2,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  styles: ['FooocusTS Expansion', 'Photo Film 35mm'],
  performance: 'Quality',
  aspectRatio: '896*1152',
  imageCount: 2,
  missing: [{ kind: 'checkpoint', name: 'sd_xl_refiner_1.0.safetensors', catalogId: 'sdxl-refiner-1.0' }],
};

const api = (body: unknown) =>
  createApiClient(async (url) => {
    assert.equal(url, '/api/v1/presets');
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  });

describe('presets in the page', () => {
  it('reads the preset list with every value the form takes', async () => {
    const [preset] = await api({ presets: [REALISTIC] }).listPresets();
    assert.deepEqual(preset, { ...REALISTIC, missing: ['sd_xl_refiner_1.0.safetensors'] });
  });

  it('reads no refiner as empty; a performance mode the request schema does not list is left out of the form', async () => {
    const [preset] = await api({ presets: [{ ...REALISTIC, refiner: null, performance: 'Turbo' }] }).listPresets();
    assert.equal(preset?.refiner, '');
    assert.equal(preset?.performance, 'Turbo');
    assert.equal('performance' in patchFromPreset(preset!, MODES), false, 'the form keeps its own mode');
  });

  it('refuses a preset of the wrong shape', async () => {
    for (const broken of [{ ...REALISTIC, cfg: '3' }, { ...REALISTIC, styles: [1] }, { ...REALISTIC, aspectRatio: 'tall' }, { ...REALISTIC, loras: [{ name: 'x' }] }]) {
      await assert.rejects(api({ presets: [broken] }).listPresets(), (e: unknown) => e instanceof ApiError && e.code === 'bad_response');
    }
  });

  it('choosing a preset sets model, refiner, switch, LoRAs, guidance, sampling, styles, size, count and performance', async () => {
    const [preset] = await api({ presets: [REALISTIC] }).listPresets();
    const patch = patchFromPreset(preset!, MODES);
    // the preset's name, and every form value it lists (nothing of its label or missing models)
    const { name, label: _label, missing: _missing, ...formValues } = REALISTIC;
    assert.deepEqual(patch, { preset: name, ...formValues });
    const form: FormValues = { ...DEFAULT_FORM, prompt: 'a harbour', ...patch };
    const request = buildGenerateRequest(form, 'sdxl');
    assert.equal(request.prompt, 'a harbour', 'the prompt is the user\'s');
    assert.equal(request.model, 'sd_xl_base_1.0.safetensors');
    assert.equal(request.refinerSwitch, 0.75);
    assert.equal(request.aspectRatio, '896*1152');
    assert.equal(request.performance, 'Quality');
    assert.equal(request.preset, 'realistic', 'the server checks the preset\'s models at submit');
  });

  it('a preset whose checkpoint the server lacks leaves the model to the preset, so the submit is refused by name', async () => {
    const [preset] = await api({ presets: [REALISTIC] }).listPresets();
    // The page's model list has no such checkpoint, so the panel leaves the model empty (server's choice).
    const form: FormValues = { ...DEFAULT_FORM, prompt: 'a harbour', ...patchFromPreset(preset!, MODES), model: '' };
    const request = buildGenerateRequest(form, 'sdxl');
    assert.equal(request.preset, 'realistic');
    assert.equal('model' in request, false, 'no fallback model is sent in its place');
  });

  it('the form filled from elsewhere, or a model chosen by hand, sends no preset', () => {
    assert.equal('preset' in buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'x' }, 'sdxl'), false);
    assert.equal('preset' in buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'x', model: 'a.safetensors', preset: '' }, 'sdxl'), false);
  });
});
