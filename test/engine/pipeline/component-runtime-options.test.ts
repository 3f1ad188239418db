import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { componentRuntimeOptions } from '../../../src/engine/pipeline/load-checkpoint.ts';

describe('runtime options per checkpoint component', () => {
  it('builds the UNet without a memory pattern and the other components with one', () => {
    // The UNet's second run would otherwise grow the arena by the pattern's block (bench: memory:sd15-unet-*).
    assert.equal(componentRuntimeOptions('unet').memoryPattern, false);
    for (const component of ['text', 'vae-decoder', 'vae-encoder'] as const) assert.equal(componentRuntimeOptions(component).memoryPattern, true, component);
  });

  it("keeps the caller's settings over the defaults", () => {
    const options = componentRuntimeOptions('unet', { memoryPattern: true, optimization: 'all', threads: 3 });
    assert.deepEqual(options, { memoryPattern: true, optimization: 'all', threads: 3 });
    assert.equal(componentRuntimeOptions('unet').optimization, 'extended');
    assert.equal(componentRuntimeOptions('vae-decoder').optimization, 'all');
  });
});
