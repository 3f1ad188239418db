/**
 * Bad generate requests: each is answered 400 naming the field and the rule, and none reaches the port.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, jsonHeaders, type Fixture } from './server-fixture.ts';

const QUOTAS = { maxPromptChars: 100, maxPixels: 1024 * 1024, maxSteps: 80, maxImages: 4, maxUploadBytes: 1 << 20 };

interface BadCase {
  name: string;
  body: unknown;
  field: string;
  rule: string;
}

const ok = { prompt: 'a cat' };
const CASES: BadCase[] = [
  { name: 'missing prompt', body: {}, field: 'prompt', rule: 'required' },
  { name: 'prompt is a number', body: { prompt: 42 }, field: 'prompt', rule: 'type' },
  { name: 'prompt is null', body: { prompt: null }, field: 'prompt', rule: 'type' },
  { name: 'prompt is an array', body: { prompt: ['a'] }, field: 'prompt', rule: 'type' },
  { name: 'oversize prompt', body: { prompt: 'x'.repeat(101) }, field: 'prompt', rule: 'maxLength' },
  { name: 'oversize negative prompt', body: { ...ok, negative: 'x'.repeat(101) }, field: 'negative', rule: 'maxLength' },
  { name: 'body is an array', body: [ok], field: 'body', rule: 'type' },
  { name: 'body is a string', body: '"a cat"', field: 'body', rule: 'type' },
  { name: 'extra property', body: { ...ok, evil: true }, field: 'evil', rule: 'additionalProperties' },
  { name: '__proto__ property', body: '{"prompt":"a","__proto__":{"admin":true}}', field: 'body', rule: 'json' },
  { name: 'styles not an array', body: { ...ok, styles: 'Fooocus V2' }, field: 'styles', rule: 'type' },
  { name: 'style with a path', body: { ...ok, styles: ['../etc'] }, field: 'styles[0]', rule: 'pattern' },
  { name: 'duplicate styles', body: { ...ok, styles: ['a', 'a'] }, field: 'styles', rule: 'uniqueItems' },
  { name: 'too many styles', body: { ...ok, styles: Array.from({ length: 65 }, (_, i) => `s${i}`) }, field: 'styles', rule: 'maxItems' },
  { name: 'unknown performance', body: { ...ok, performance: 'Turbo' }, field: 'performance', rule: 'enum' },
  { name: 'aspect ratio not w*h', body: { ...ok, aspectRatio: '16:9' }, field: 'aspectRatio', rule: 'pattern' },
  { name: 'width not a multiple of 8', body: { ...ok, width: 1001, height: 1000 }, field: 'width', rule: 'multipleOf' },
  { name: 'width as a string', body: { ...ok, width: '1024', height: 1024 }, field: 'width', rule: 'type' },
  { name: 'width fractional', body: { ...ok, width: 1024.5, height: 1024 }, field: 'width', rule: 'type' },
  { name: 'height too small', body: { ...ok, width: 1024, height: 8 }, field: 'height', rule: 'minimum' },
  { name: 'width without height', body: { ...ok, width: 1024 }, field: 'height', rule: 'required' },
  { name: 'height without width', body: { ...ok, height: 1024 }, field: 'width', rule: 'required' },
  { name: 'aspect ratio and width', body: { ...ok, aspectRatio: '1024*1024', width: 512, height: 512 }, field: 'aspectRatio', rule: 'exclusive' },
  { name: 'pixels over quota', body: { ...ok, width: 2048, height: 1024 }, field: 'width', rule: 'maxPixels' },
  { name: 'aspect ratio over pixel quota', body: { ...ok, aspectRatio: '2048*2048' }, field: 'aspectRatio', rule: 'maxPixels' },
  { name: 'imageCount 0', body: { ...ok, imageCount: 0 }, field: 'imageCount', rule: 'minimum' },
  { name: 'imageCount over quota', body: { ...ok, imageCount: 5 }, field: 'imageCount', rule: 'maximum' },
  { name: 'imageCount as string', body: { ...ok, imageCount: '2' }, field: 'imageCount', rule: 'type' },
  { name: 'steps 0', body: { ...ok, steps: 0 }, field: 'steps', rule: 'minimum' },
  { name: 'steps over quota', body: { ...ok, steps: 81 }, field: 'steps', rule: 'maximum' },
  { name: 'seed "abc"', body: { ...ok, seed: 'abc' }, field: 'seed', rule: 'pattern' },
  { name: 'seed as number', body: { ...ok, seed: 42 }, field: 'seed', rule: 'type' },
  { name: 'seed negative', body: { ...ok, seed: '-1' }, field: 'seed', rule: 'pattern' },
  { name: 'seed with leading zero', body: { ...ok, seed: '007' }, field: 'seed', rule: 'pattern' },
  { name: 'seed 2^63', body: { ...ok, seed: '9223372036854775808' }, field: 'seed', rule: 'maximum' },
  { name: 'seed 20 digits', body: { ...ok, seed: '12345678901234567890' }, field: 'seed', rule: 'pattern' },
  { name: 'seed in exponent form', body: { ...ok, seed: '1e10' }, field: 'seed', rule: 'pattern' },
  { name: 'model with a path', body: { ...ok, model: '../../secret.safetensors' }, field: 'model', rule: 'pattern' },
  { name: 'model absolute path', body: { ...ok, model: '/etc/passwd' }, field: 'model', rule: 'pattern' },
  { name: 'refiner as object', body: { ...ok, refiner: {} }, field: 'refiner', rule: 'type' },
  { name: 'refinerSwitch over 1', body: { ...ok, refinerSwitch: 1.5 }, field: 'refinerSwitch', rule: 'maximum' },
  { name: 'lora weight 3', body: { ...ok, loras: [{ name: 'a.safetensors', weight: 3 }] }, field: 'loras[0].weight', rule: 'maximum' },
  { name: 'lora weight -2.5', body: { ...ok, loras: [{ name: 'a.safetensors', weight: -2.5 }] }, field: 'loras[0].weight', rule: 'minimum' },
  { name: 'lora without weight', body: { ...ok, loras: [{ name: 'a.safetensors' }] }, field: 'loras[0].weight', rule: 'required' },
  { name: 'lora extra property', body: { ...ok, loras: [{ name: 'a', weight: 1, path: '/x' }] }, field: 'loras[0].path', rule: 'additionalProperties' },
  { name: 'too many loras', body: { ...ok, loras: Array.from({ length: 9 }, () => ({ name: 'a', weight: 1 })) }, field: 'loras', rule: 'maxItems' },
  { name: 'cfg 0', body: { ...ok, cfg: 0 }, field: 'cfg', rule: 'minimum' },
  { name: 'cfg as string', body: { ...ok, cfg: '7' }, field: 'cfg', rule: 'type' },
  { name: 'sharpness 31', body: { ...ok, sharpness: 31 }, field: 'sharpness', rule: 'maximum' },
  { name: 'sampler string too long', body: { ...ok, sampler: 'e'.repeat(41) }, field: 'sampler', rule: 'pattern' },
  { name: 'sampler with upper case and spaces', body: { ...ok, sampler: 'DPM++ 2M' }, field: 'sampler', rule: 'pattern' },
  { name: 'unknown sampler (refused by the port)', body: { ...ok, sampler: 'warp_drive' }, field: 'sampler', rule: 'known' },
  { name: 'scheduler empty', body: { ...ok, scheduler: '' }, field: 'scheduler', rule: 'pattern' },
  { name: 'inputImageId with traversal', body: { ...ok, inputImageId: '../x', denoise: 0.5 }, field: 'inputImageId', rule: 'pattern' },
  { name: 'denoise 0', body: { ...ok, inputImageId: 'abc', denoise: 0 }, field: 'denoise', rule: 'exclusiveMinimum' },
  { name: 'denoise over 1', body: { ...ok, inputImageId: 'abc', denoise: 1.1 }, field: 'denoise', rule: 'maximum' },
  { name: 'denoise without input image', body: { ...ok, denoise: 0.5 }, field: 'inputImageId', rule: 'required' },
  { name: 'malformed JSON', body: '{"prompt":', field: 'body', rule: 'json' },
  { name: 'duplicate key (JSON.parse would keep the last)', body: '{"prompt":"a","steps":4,"steps":200}', field: 'steps', rule: 'duplicateKey' },
  { name: 'duplicate key in a nested object', body: '{"prompt":"a","loras":[{"name":"a","weight":1,"weight":2}]}', field: 'loras[0].weight', rule: 'duplicateKey' },
  { name: 'duplicate key spelled with an escape', body: '{"prompt":"a","\\u0070rompt":"b"}', field: 'prompt', rule: 'duplicateKey' },
];

describe('generate request validation', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture({ quotas: QUOTAS, rateLimit: { submitsPerMinute: 1000, readsPerMinute: 1000 } });
  });
  after(() => f.close());

  it(`has at least 40 cases`, () => assert.ok(CASES.length >= 40, String(CASES.length)));

  for (const c of CASES) {
    it(`refuses ${c.name} with 400 naming ${c.field}`, async () => {
      const submitsBefore = f.studio.calls.filter((call) => call.method === 'submitJob').length;
      const response = await f.app.inject({
        method: 'POST',
        url: '/api/v1/generate',
        headers: jsonHeaders(),
        payload: typeof c.body === 'string' ? c.body : JSON.stringify(c.body),
      });
      assert.equal(response.statusCode, 400, response.body);
      const body = response.json();
      assert.equal(body.error, 'invalid_request');
      assert.equal(body.field, c.field, response.body);
      assert.equal(body.rule, c.rule, response.body);
      assert.equal(typeof body.message, 'string');
      const submitsAfter = f.studio.calls.filter((call) => call.method === 'submitJob').length;
      const portValidates = c.rule === 'known';
      assert.equal(submitsAfter - submitsBefore, portValidates ? 1 : 0, 'the port saw the request');
      assert.equal(f.studio.jobs.size, 0, 'no job was queued');
    });
  }

  it('names the limit of a quota rule', async () => {
    const response = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'x'.repeat(101) } });
    assert.equal(response.json().limit, 100);
    const pixels = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a', width: 2048, height: 1024 } });
    assert.equal(pixels.json().limit, 1024 * 1024);
  });

  it('accepts the largest valid seed and a full request', async () => {
    const response = await f.app.inject({
      method: 'POST',
      url: '/api/v1/generate',
      headers: jsonHeaders(),
      payload: {
        prompt: 'a cat', negative: 'blurry', styles: ['Fooocus V2'], performance: 'Speed', width: 1024, height: 1024, imageCount: 4,
        steps: 30, seed: '9223372036854775807', model: 'sd_xl_base_1.0.safetensors', refiner: 'None', refinerSwitch: 0.8,
        loras: [{ name: 'a.safetensors', weight: -2 }], cfg: 7, sharpness: 2, sampler: 'dpmpp_2m_sde_gpu', scheduler: 'karras',
        inputImageId: 'upload1', denoise: 1,
      },
    });
    assert.equal(response.statusCode, 202, response.body);
    f.studio.jobs.clear();
  });

  it('refuses bad path and query parameters naming the field', async () => {
    const badId = await f.app.inject({ url: `/api/v1/jobs/${'a'.repeat(65)}`, headers: jsonHeaders() });
    assert.equal(badId.statusCode, 400);
    assert.equal(badId.json().field, 'id');
    const badLimit = await f.app.inject({ url: '/api/v1/history?limit=201', headers: jsonHeaders() });
    assert.equal(badLimit.statusCode, 400);
    assert.equal(badLimit.json().field, 'limit');
    const extra = await f.app.inject({ url: '/api/v1/history?admin=1', headers: jsonHeaders() });
    assert.equal(extra.statusCode, 400);
    assert.equal(extra.json().field, 'admin');
  });
});
