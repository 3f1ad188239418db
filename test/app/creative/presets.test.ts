import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InvalidPresetError } from '../../../src/app/creative/creative-errors.ts';
import { loadPresets, validatePreset, type Preset, type PresetValidationOptions } from '../../../src/app/creative/presets.ts';
import { loadStyleLibrary } from '../../../src/app/creative/style-library.ts';

const dataDir = path.resolve(import.meta.dirname, '..', '..', '..', 'data');
const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-presets-'));
after(() => rmSync(root, { recursive: true, force: true }));

const good: Preset = {
  label: 'Test',
  model: 'sdxl-base-1.0',
  refiner: null,
  refinerSwitch: 0.8,
  loras: [{ name: 'detail.safetensors', weight: 0.5 }],
  cfg: 4,
  sharpness: 2,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  styles: ['FooocusTS Expansion', 'Known Style', 'Random Style'],
  performance: 'Speed',
  aspectRatio: '1152*896',
  imageCount: 2,
  downloads: ['sdxl-base-1.0'],
};
const options: PresetValidationOptions = { styleNames: ['Known Style'] };

function problemsOf(value: unknown, opts = options): string[] {
  try {
    validatePreset(value, 'presets/test.json', opts);
  } catch (err) {
    assert.ok(err instanceof InvalidPresetError);
    return err.problems.map((p) => `${p.field}: ${p.message}`);
  }
  return [];
}

describe('validatePreset', () => {
  it('accepts a good preset', () => assert.deepEqual(problemsOf(good), []));

  const cases: { label: string; change: Record<string, unknown>; field: string; rule: RegExp }[] = [
    { label: 'cfg out of range', change: { cfg: 40 }, field: 'cfg', rule: /must be a number in 1\.\.30/ },
    { label: 'cfg as text', change: { cfg: '4' }, field: 'cfg', rule: /must be a number in 1\.\.30/ },
    { label: 'sharpness negative', change: { sharpness: -1 }, field: 'sharpness', rule: /0\.\.30/ },
    { label: 'unknown sampler', change: { sampler: 'euler_fancy' }, field: 'sampler', rule: /"euler_fancy" is not one/ },
    { label: 'unknown scheduler', change: { scheduler: 'linear' }, field: 'scheduler', rule: /must be one of normal, karras/ },
    { label: 'unknown performance', change: { performance: 'Turbo' }, field: 'performance', rule: /Quality, Speed, Extreme Speed, Lightning, Hyper-SD/ },
    { label: 'unknown style', change: { styles: ['Known Style', 'Missing'] }, field: 'styles.1', rule: /unknown style "Missing"/ },
    { label: 'lora weight out of range', change: { loras: [{ name: 'x', weight: 3 }] }, field: 'loras.0.weight', rule: /weight in -2\.\.2/ },
    { label: 'model in a folder', change: { model: '../evil.safetensors' }, field: 'model', rule: /no folders/ },
    { label: 'bad aspect ratio', change: { aspectRatio: '1000*1001' }, field: 'aspectRatio', rule: /multiple of 8/ },
    { label: 'aspect ratio shape', change: { aspectRatio: '16:9' }, field: 'aspectRatio', rule: /<width>\*<height>/ },
    { label: 'image count', change: { imageCount: 0 }, field: 'imageCount', rule: /integer in 1\.\.32/ },
    { label: 'refiner switch', change: { refinerSwitch: 2 }, field: 'refinerSwitch', rule: /0\.1\.\.1/ },
    { label: 'unknown key', change: { steps: 30 }, field: 'steps', rule: /is not a preset field/ },
    { label: 'download id shape', change: { downloads: ['has space'] }, field: 'downloads.0', rule: /catalog ids/ },
  ];
  for (const c of cases) {
    it(`names the field: ${c.label}`, () => {
      const problems = problemsOf({ ...good, ...c.change });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]?.startsWith(`${c.field}: `), problems[0]);
      assert.match(problems[0] ?? '', c.rule);
    });
  }

  it('names every bad field at once, and a missing one, in the file: field: rule form', () => {
    const { cfg: _cfg, ...withoutCfg } = good;
    try {
      validatePreset({ ...withoutCfg, sharpness: 99, imageCount: 1.5 }, 'presets/anime.json', options);
      assert.fail('expected InvalidPresetError');
    } catch (err) {
      assert.ok(err instanceof InvalidPresetError);
      assert.deepEqual(err.problems.map((p) => p.field).sort(), ['cfg', 'imageCount', 'sharpness']);
      assert.match(err.message, /^presets\/anime\.json: /m);
      assert.match(err.message, /presets\/anime\.json: cfg: is missing; it must be a number in 1\.\.30/);
      assert.match(err.message, /presets\/anime\.json: sharpness: must be a number in 0\.\.30/);
    }
  });

  it('checks downloads against the catalog when given its ids', () => {
    assert.deepEqual(problemsOf(good, { ...options, catalogIds: new Set(['sdxl-base-1.0']) }), []);
    const problems = problemsOf({ ...good, downloads: ['nope'] }, { ...options, catalogIds: new Set(['sdxl-base-1.0']) });
    assert.deepEqual(problems, ['downloads.0: "nope" is not in the catalog']);
  });
});

describe('loadPresets', () => {
  it('loads every shipped preset against the built-in styles', async () => {
    const { styles } = await loadStyleLibrary({ builtinDir: path.join(dataDir, 'styles') });
    const presets = await loadPresets(path.join(dataDir, 'presets'), { styleNames: new Set(styles.keys()) });
    assert.deepEqual([...presets.keys()].sort(), ['anime', 'default', 'extreme_speed', 'lightning', 'realistic', 'sd15']);
    assert.equal(presets.get('lightning')?.performance, 'Lightning');
    assert.equal(presets.get('extreme_speed')?.performance, 'Extreme Speed');
  });

  it('names the file and line of a JSON syntax error', async () => {
    const dir = mkdtempSync(path.join(root, 'presets-'));
    writeFileSync(path.join(dir, 'broken.json'), '{\n  "label": "x",\n  "cfg": 4,,\n}');
    await assert.rejects(loadPresets(dir, options), (err: unknown) => err instanceof InvalidPresetError && /broken\.json: line 3: /.test(err.message));
  });

  it('names the file of a bad field', async () => {
    const dir = mkdtempSync(path.join(root, 'presets-'));
    writeFileSync(path.join(dir, 'anime.json'), JSON.stringify({ ...good, cfg: 0 }));
    await assert.rejects(loadPresets(dir, options), (err: unknown) => err instanceof InvalidPresetError && err.message === `${path.basename(dir)}/anime.json: cfg: must be a number in 1..30`);
  });
});
