/**
 * A model family's constants live in its profile (src/engine/models/family-profiles.ts): code reads the profile
 * instead of recognising a family by one of its numbers, so a new family is one new profile.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FAMILY_PROFILES } from '../../src/engine/models/family-profiles.ts';

const src = path.resolve(import.meta.dirname, '..', '..', 'src');
const PROFILE_FILE = path.join('engine', 'models', 'family-profiles.ts');

describe('model family facts', () => {
  it('no source file outside the profiles spells out a latent scale or branches on one', () => {
    const offenders = (readdirSync(src, { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts') && file !== PROFILE_FILE)
      .filter((file) => /0\.18215|0\.13025|latentScale\s*[!=]==/.test(readFileSync(path.join(src, file), 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('every profile states its sizes, latent layout and prediction type consistently', () => {
    for (const profile of Object.values(FAMILY_PROFILES)) {
      const { width, height } = profile.defaultResolution;
      assert.equal(width % (profile.vaeScaleFactor * 8), 0, profile.family);
      assert.equal(height % (profile.vaeScaleFactor * 8), 0, profile.family);
      assert.ok(Math.abs(width * height - profile.defaultImageSize ** 2) / profile.defaultImageSize ** 2 < 0.02, `${profile.family}: about the native area`);
      assert.equal(profile.latentChannels, 4);
      assert.equal(profile.predictionType, 'epsilon');
      assert.equal(profile.latentSpace, profile.family.startsWith('sdxl') ? 'sdxl' : 'sd15');
    }
  });
});
