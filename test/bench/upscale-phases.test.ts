/**
 * The upscale benchmark's phase clock reads the `upscale --json` progress lines: the upscaler's own load line (sent
 * before its first tile) belongs to the upscaler's phase, not to the checkpoint's load, so every phase is reached
 * in order and the checkpoint load starts after the resample.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpscalePhaseClock } from '../../bench/upscale-phases.ts';

test('an Upscale run reaches every phase, in order, with the upscaler load counted in its own phase', () => {
  const reported: string[] = [];
  const clock = new UpscalePhaseClock((line) => reported.push(line.replace(/:.*/, '')));
  const lines = [
    { phase: 'load', model: 'x4.safetensors', component: 'upscaler', done: 0, total: 1 },
    { phase: 'upscale', done: 1, total: 2 },
    { phase: 'upscale', done: 2, total: 2 },
    { phase: 'load', model: 'sdxl.safetensors', component: 'text', done: 0, total: 3 },
    { phase: 'load', model: 'sdxl.safetensors', component: 'unet', done: 1, total: 3 },
    { phase: 'encode' },
    { phase: 'sample', done: 0, total: 2 },
    { phase: 'sample', done: 1, total: 2 },
    { phase: 'sample', done: 2, total: 2 },
    { phase: 'decode' },
  ];
  // Any chunking: split one line across two feeds.
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n';
  clock.feed(text.slice(0, 40));
  clock.feed(text.slice(40));
  const phases = clock.finish();
  assert.deepEqual(reported, ['upscaler (2 tiles)', 'resample and model verification', 'checkpoint load', 'prompt and VAE encode', 'step 1/2', 'step 2/2', 'VAE decode and save']);
  for (const key of ['upscalerSeconds', 'resampleAndVerifySeconds', 'loadSeconds', 'promptAndVaeEncodeSeconds', 'vaeDecodeSeconds'] as const) {
    assert.ok(phases[key] !== undefined && phases[key] >= 0, key);
  }
  assert.equal(phases.stepSeconds.length, 2);
});
