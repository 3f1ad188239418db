/**
 * The Input Image fields of a generate request (varyUpscale, inpaint) at the HTTP boundary: the OpenAPI document
 * states them with the engine's bounds; a bad value is answered 400 naming the field and rule before the port
 * sees it; a good one reaches the port as sent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { INPAINT_ENGINES, INPAINT_MODES, VARY_UPSCALE_MODES } from '../../src/app/generation/image-request.ts';
import { INPUT_IMAGE_LIMITS } from '../../src/engine/request-limits.ts';
import { createFixture, HOST, jsonHeaders, type Fixture } from './server-fixture.ts';

const input = { prompt: 'a cat', inputImageId: 'up-aaaaaaaaaaaaaaaa' };
const CASES: { name: string; body: unknown; field: string; rule: string }[] = [
  { name: 'varyUpscale without an input image', body: { prompt: 'a', varyUpscale: { mode: 'vary-subtle' } }, field: 'inputImageId', rule: 'required' },
  { name: 'inpaint without an input image', body: { prompt: 'a', inpaint: { mode: 'default', mask: 'up-bbbbbbbbbbbbbbbb' } }, field: 'inputImageId', rule: 'required' },
  { name: 'an unknown vary/upscale mode', body: { ...input, varyUpscale: { mode: 'upscale-8x' } }, field: 'varyUpscale.mode', rule: 'enum' },
  { name: 'varyUpscale without a mode', body: { ...input, varyUpscale: {} }, field: 'varyUpscale.mode', rule: 'required' },
  { name: 'a factor past the bound', body: { ...input, varyUpscale: { mode: 'upscale-custom', factor: INPUT_IMAGE_LIMITS.upscaleFactor.max + 0.5 } }, field: 'varyUpscale.factor', rule: 'maximum' },
  { name: 'upscale-custom without a factor', body: { ...input, varyUpscale: { mode: 'upscale-custom' } }, field: 'varyUpscale.factor', rule: 'required' },
  { name: 'a factor with upscale-2x', body: { ...input, varyUpscale: { mode: 'upscale-2x', factor: 2 } }, field: 'varyUpscale.factor', rule: 'mode' },
  { name: 'an upscaler with a vary mode', body: { ...input, varyUpscale: { mode: 'vary-strong', upscaler: 'x.safetensors' } }, field: 'varyUpscale.upscaler', rule: 'mode' },
  { name: 'an upscaler name with a path', body: { ...input, varyUpscale: { mode: 'upscale-2x', upscaler: '../x' } }, field: 'varyUpscale.upscaler', rule: 'pattern' },
  { name: 'an unknown varyUpscale field', body: { ...input, varyUpscale: { mode: 'upscale-2x', tile: 512 } }, field: 'varyUpscale.tile', rule: 'additionalProperties' },
  { name: 'both modes at once', body: { ...input, varyUpscale: { mode: 'vary-subtle' }, inpaint: { mode: 'default', mask: 'up-bbbbbbbbbbbbbbbb' } }, field: 'inpaint', rule: 'exclusive' },
  { name: 'an unknown inpaint mode', body: { ...input, inpaint: { mode: 'fill', mask: 'm' } }, field: 'inpaint.mode', rule: 'enum' },
  { name: 'an unknown inpaint engine', body: { ...input, inpaint: { mode: 'default', mask: 'm', engine: 'sd-inpaint' } }, field: 'inpaint.engine', rule: 'enum' },
  { name: 'a mask id with traversal', body: { ...input, inpaint: { mode: 'default', mask: '../m' } }, field: 'inpaint.mask', rule: 'pattern' },
  { name: 'an inpaint with neither mask nor outpaint', body: { ...input, inpaint: { mode: 'default' } }, field: 'inpaint.mask', rule: 'required' },
  { name: 'strength 0', body: { ...input, inpaint: { mode: 'detail', mask: 'm', strength: 0 } }, field: 'inpaint.strength', rule: 'exclusiveMinimum' },
  { name: 'respective field over 1', body: { ...input, inpaint: { mode: 'detail', mask: 'm', respectiveField: 1.2 } }, field: 'inpaint.respectiveField', rule: 'maximum' },
  { name: 'mask erode past the bound', body: { ...input, inpaint: { mode: 'default', mask: 'm', maskErode: -65 } }, field: 'inpaint.maskErode', rule: 'minimum' },
  { name: 'mask erode fractional', body: { ...input, inpaint: { mode: 'default', mask: 'm', maskErode: 1.5 } }, field: 'inpaint.maskErode', rule: 'type' },
  { name: 'invertMask as a string', body: { ...input, inpaint: { mode: 'default', mask: 'm', invertMask: 'yes' } }, field: 'inpaint.invertMask', rule: 'type' },
  { name: 'an additional prompt past the quota', body: { ...input, inpaint: { mode: 'default', mask: 'm', additionalPrompt: 'x'.repeat(101) } }, field: 'inpaint.additionalPrompt', rule: 'maxLength' },
  { name: 'an empty outpaint', body: { ...input, inpaint: { mode: 'default', outpaint: {} } }, field: 'inpaint.outpaint', rule: 'minProperties' },
  { name: 'an unknown outpaint side', body: { ...input, inpaint: { mode: 'default', outpaint: { middle: { px: 64 } } } }, field: 'inpaint.outpaint.middle', rule: 'additionalProperties' },
  { name: 'an outpaint amount in both units', body: { ...input, inpaint: { mode: 'default', outpaint: { left: { px: 64, percent: 10 } } } }, field: 'inpaint.outpaint.left', rule: 'maxProperties' },
  { name: 'an outpaint percent over 100', body: { ...input, inpaint: { mode: 'default', outpaint: { top: { percent: 150 } } } }, field: 'inpaint.outpaint.top.percent', rule: 'maximum' },
  { name: 'an outpaint amount with no unit', body: { ...input, inpaint: { mode: 'default', outpaint: { bottom: {} } } }, field: 'inpaint.outpaint.bottom', rule: 'minProperties' },
];

describe('Input Image fields of a generate request', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture({ quotas: { maxPromptChars: 100, maxPixels: 1024 * 1024, maxSteps: 80, maxImages: 4, maxUploadBytes: 1 << 20 }, rateLimit: { submitsPerMinute: 1000, readsPerMinute: 1000 } });
  });
  after(() => f.close());

  const submit = (body: unknown) => f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: JSON.stringify(body) });

  for (const c of CASES) {
    it(`refuses ${c.name} with 400 naming ${c.field}`, async () => {
      const response = await submit(c.body);
      assert.equal(response.statusCode, 400, response.body);
      const body = response.json();
      assert.equal(body.field, c.field, response.body);
      assert.equal(body.rule, c.rule, response.body);
      assert.equal(f.studio.calls.filter((call) => call.method === 'submitJob').length, 0, 'the port saw no request');
    });
  }

  it('passes every mode with its parameters to the port as sent', async () => {
    const bodies = [
      { ...input, varyUpscale: { mode: 'vary-strong' } },
      { ...input, varyUpscale: { mode: 'upscale-custom', factor: 2.5, upscaler: 'fooocus_upscaler_s409985e5.safetensors' } },
      { ...input, inpaint: { mode: 'detail', mask: 'up-bbbbbbbbbbbbbbbb', engine: 'latent-blend', strength: 0.5, respectiveField: 0, maskErode: -8, invertMask: true, additionalPrompt: 'red hat' } },
      { ...input, inpaint: { mode: 'default', outpaint: { left: { px: 128 }, top: { percent: 30 } } } },
    ];
    for (const body of bodies) {
      const response = await submit(body);
      assert.equal(response.statusCode, 202, response.body);
      const id = (response.json() as { id: string }).id;
      assert.deepEqual(f.studio.jobs.get(id)?.request, body);
    }
    f.studio.jobs.clear();
  });

  it('states the modes, engines and bounds in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ url: '/api/openapi.json', headers: { host: HOST } })).json();
    const body = doc.paths['/api/v1/generate'].post.requestBody.content['application/json'].schema;
    const vary = body.properties.varyUpscale;
    assert.deepEqual(vary.properties.mode.enum, [...VARY_UPSCALE_MODES]);
    assert.equal(vary.properties.factor.maximum, INPUT_IMAGE_LIMITS.upscaleFactor.max);
    const inpaint = body.properties.inpaint;
    assert.deepEqual(inpaint.properties.mode.enum, [...INPAINT_MODES]);
    assert.deepEqual(inpaint.properties.engine.enum, [...INPAINT_ENGINES]);
    assert.equal(inpaint.properties.maskErode.minimum, INPUT_IMAGE_LIMITS.maskErode.min);
    assert.equal(inpaint.properties.additionalPrompt.maxLength, 100);
    const amount = inpaint.properties.outpaint.properties.left;
    assert.equal(amount.properties.px.maximum, INPUT_IMAGE_LIMITS.outpaintPixels.max);
    assert.equal(amount.properties.percent.maximum, INPUT_IMAGE_LIMITS.outpaintPercent.max);
    const upload = doc.paths['/api/v1/uploads'].post.parameters.find((p: { name: string }) => p.name === 'purpose');
    assert.deepEqual(upload.schema.enum, ['image', 'mask']);
  });
});
