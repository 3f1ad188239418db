/**
 * Golden outputs: one fingerprint per sampler family and per model family, made with the tiny fixtures and a
 * fixed seed. A change in any numeric path (graphs, schedules, samplers, guidance, decode) moves them.
 * Regenerate deliberately with UPDATE_GOLDEN_FINGERPRINTS=1 and explain the change in the commit.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from '../../../src/engine/pipeline/generate.ts';
import { blockMeans, loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

const GOLDEN_FILE = path.join(import.meta.dirname, 'golden-fingerprints.json');
const TOLERANCE = 1.0; // mean pixel value per 16x16 block, 0..255 scale
const LATENT_TOLERANCE = 1e-3; // relative, mean latent value per 2x2 block
const CASES = [
  { family: 'sd15', sampler: 'euler', scheduler: 'karras' },
  { family: 'sd15', sampler: 'euler_ancestral', scheduler: 'normal' },
  { family: 'sd15', sampler: 'heun', scheduler: 'karras' },
  { family: 'sd15', sampler: 'dpmpp_2m', scheduler: 'exponential' },
  { family: 'sd15', sampler: 'dpmpp_2m_sde_gpu', scheduler: 'karras' },
  { family: 'sd15', sampler: 'dpmpp_3m_sde', scheduler: 'sgm_uniform' },
  { family: 'sd15', sampler: 'uni_pc', scheduler: 'simple' },
  { family: 'sd15', sampler: 'lcm', scheduler: 'lcm' },
  { family: 'sdxl', sampler: 'dpmpp_2m_sde_gpu', scheduler: 'karras' },
] as const;

/** Means of each channel of an 8x8 latent over 2x2 blocks, to 1e-4. */
function latentBlockMeans(latent: Float32Array): number[] {
  const out: number[] = [];
  for (let c = 0; c < 4; c++) {
    for (let by = 0; by < 8; by += 2) {
      for (let bx = 0; bx < 8; bx += 2) {
        let sum = 0;
        for (let y = by; y < by + 2; y++) for (let x = bx; x < bx + 2; x++) sum += latent[c * 64 + y * 8 + x]!;
        out.push(Math.round((sum / 4) * 1e4) / 1e4);
      }
    }
  }
  return out;
}

const update = process.env.UPDATE_GOLDEN_FINGERPRINTS === '1';
const golden: Record<string, number[]> = update ? {} : (JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, number[]>);

describe('golden outputs per sampler family', () => {
  const models = new Map<string, LoadedTinyModel>();
  before(async () => {
    models.set('sd15', await loadTinyPipelineModel('sd15', 2));
    models.set('sdxl', await loadTinyPipelineModel('sdxl', 2));
  });
  after(async () => {
    for (const m of models.values()) await m.release();
    if (update) writeFileSync(GOLDEN_FILE, JSON.stringify(golden, null, 1) + '\n');
  });

  for (const c of CASES) {
    const key = `${c.family}/${c.sampler}/${c.scheduler}`;
    it(key, async () => {
      const [result] = await generate({ base: models.get(c.family)!.model }, tinyRequest({ sampler: c.sampler, scheduler: c.scheduler, steps: 6, seed: 20260101n }));
      const fingerprint = [...latentBlockMeans(result!.latent.data), ...blockMeans(result!.image.rgb, 64, 64)];
      if (update) {
        golden[key] = fingerprint;
        return;
      }
      const expected = golden[key];
      assert.ok(expected, `no golden fingerprint for ${key}; run with UPDATE_GOLDEN_FINGERPRINTS=1`);
      const latentCount = 4 * 4 * 4;
      const worstLatent = Math.max(...fingerprint.slice(0, latentCount).map((v, i) => Math.abs(v - expected[i]!) / Math.max(1, Math.abs(expected[i]!))));
      const worstImage = Math.max(...fingerprint.slice(latentCount).map((v, i) => Math.abs(v - expected[latentCount + i]!)));
      assert.ok(worstLatent <= LATENT_TOLERANCE, `${key} latent drifted: worst block differs by ${worstLatent} (relative)`);
      assert.ok(worstImage <= TOLERANCE, `${key} image drifted: worst block differs by ${worstImage}`);
    });
  }
});
