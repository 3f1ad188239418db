import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { componentRuntimeOptions } from '../../../src/engine/pipeline/load-checkpoint.ts';

describe('runtime options per checkpoint component', () => {
  it('builds the UNet and the VAE without a memory pattern and the text encoders with one', () => {
    // The pattern's block grows the arena again at the second run: for the VAE decoder nearly twice the memory,
    // and slower (README, "Memory"); for the UNet 5 % of its weights.
    for (const component of ['unet', 'vae-decoder', 'vae-encoder'] as const) assert.equal(componentRuntimeOptions(component).memoryPattern, false, component);
    assert.equal(componentRuntimeOptions('text').memoryPattern, true);
  });

  it('builds the UNet without weight prepacking and the other components with it', () => {
    // Prepacking leaves the unpacked fp32 weights' freed blocks in the C heap (bench: memory:sd15-unet-no-prepacking).
    assert.deepEqual(componentRuntimeOptions('unet').sessionConfig, { 'session.disable_prepacking': '1' });
    for (const component of ['text', 'vae-decoder', 'vae-encoder'] as const) assert.equal(componentRuntimeOptions(component).sessionConfig, undefined, component);
    // The int8 UNet's integer GEMMs are faster with their weights prepacked: it keeps ONNX Runtime's default.
    assert.equal(componentRuntimeOptions('unet', {}, true).sessionConfig, undefined);
    // The caller's own entries are kept beside it, and win over it.
    assert.deepEqual(componentRuntimeOptions('unet', { sessionConfig: { 'session.disable_prepacking': '0', 'x.y': '1' } }).sessionConfig, { 'session.disable_prepacking': '0', 'x.y': '1' });
    assert.deepEqual(componentRuntimeOptions('text', { sessionConfig: { 'x.y': '1' } }).sessionConfig, { 'x.y': '1' });
  });

  it("keeps the caller's settings over the defaults", () => {
    const options = componentRuntimeOptions('unet', { memoryPattern: true, optimization: 'all', threads: 3 });
    assert.deepEqual(options, { memoryPattern: true, optimization: 'all', threads: 3, sessionConfig: { 'session.disable_prepacking': '1' } });
    assert.equal(componentRuntimeOptions('unet').optimization, 'extended');
    assert.equal(componentRuntimeOptions('vae-decoder').optimization, 'all');
  });
});
