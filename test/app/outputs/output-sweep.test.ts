/**
 * Saved images carry the SHA-256 of their bytes and, when made for a job, the job's id in their names; the sweep
 * removes only job-tagged files no job records (a killed process's leftovers), never the CLI's images or uploads.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sweepJobOutputs } from '../../../src/app/outputs/output-sweep.ts';
import { saveImage } from '../../../src/app/outputs/output-writer.ts';
import type { GenerationParameters } from '../../../src/engine/index.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-sweep-'));
after(() => rmSync(root, { recursive: true, force: true }));

const image = { width: 8, height: 8, rgb: new Uint8Array(8 * 8 * 3).fill(120) };
const parameters: GenerationParameters = {
  prompt: 'x',
  negativePrompt: '',
  fullPrompt: ['x'],
  fullNegativePrompt: [''],
  promptExpansion: '',
  styles: [],
  performance: 'Speed',
  steps: 1,
  sampler: 'euler',
  scheduler: 'karras',
  cfg: 1,
  sharpness: 2,
  adaptiveCfg: 7,
  admScalers: [1.5, 0.8, 0.3],
  seed: '3',
  width: 8,
  height: 8,
  modelName: 'm',
  modelHash: '0123456789',
  refinerSwitch: 1,
  loras: [],
  clipSkip: 2,
  version: 'test',
};
const JOB = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('job outputs', () => {
  it('records the SHA-256 of the bytes written and marks a job\'s file with its id', async () => {
    const dir = mkdtempSync(path.join(root, 'o-'));
    const saved = await saveImage(dir, image, parameters, { format: 'png', scheme: 'fooocus', software: 't', jobTag: JOB, now: new Date(2026, 0, 2, 3, 4, 5) });
    assert.equal(path.basename(saved.path), `2026-01-02_03-04-05_3.${JOB}.png`);
    assert.equal(saved.sha256, createHash('sha256').update(readFileSync(saved.path)).digest('hex'));
  });

  it('removes job-tagged files and temporary files no job records; keeps recorded ones, CLI images and uploads', async () => {
    const dir = mkdtempSync(path.join(root, 's-'));
    mkdirSync(path.join(dir, '2026-01-02'));
    mkdirSync(path.join(dir, 'uploads'));
    const files = {
      recorded: `2026-01-02/2026-01-02_03-04-05_3.${JOB}.png`,
      orphan: `2026-01-02/2026-01-02_03-04-06_4.${JOB}.webp`,
      orphanTemp: `2026-01-02/.${JOB}.0123456789ab.tmp`,
      cli: '2026-01-02/2026-01-02_03-04-07_5.png',
      cliTemp: '2026-01-02/.0123456789ab.tmp',
      upload: `uploads/up-${JOB}.png`,
    };
    for (const f of Object.values(files)) writeFileSync(path.join(dir, f), 'x');
    const removed = await sweepJobOutputs(dir, new Set([files.recorded]));
    assert.deepEqual(removed.sort(), [files.orphanTemp, files.orphan].sort());
    assert.deepEqual(readdirSync(path.join(dir, '2026-01-02')).sort(), [path.basename(files.cliTemp), path.basename(files.recorded), path.basename(files.cli)].sort());
    assert.deepEqual(readdirSync(path.join(dir, 'uploads')), [path.basename(files.upload)]);
  });
});
