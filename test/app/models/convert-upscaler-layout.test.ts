/**
 * Conversion feeds the upscaler graphs: tiny upscalers in every key dialect the graph builder reads, written as
 * PyTorch files (Real-ESRGAN's nested `params_ema` dict included), are converted with the kind detected, and the
 * converted files are accepted by the upscaler layout detection with every tensor byte for byte as written.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { convertModel } from '../../../src/app/models/convert-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { readSafetensorsHeader } from '../../../src/engine/index.ts';
import { detectUpscalerLayout } from '../../../src/engine/upscale/upscaler-layout.ts';
import { writeTorchFile } from '../../fixtures/torch-files.ts';
import type { TestValue } from '../../fixtures/torch-save-writer.ts';
import { writeTinyRrdb, writeTinySrvgg, type RrdbDialect } from '../../fixtures/upscalers.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-convert-upscaler-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));

/** Every tensor of a safetensors file: name -> raw bytes. */
async function readRaw(file: string): Promise<Map<string, Buffer>> {
  const header = await readSafetensorsHeader(file);
  const bytes = readFileSync(file);
  return new Map([...header.tensors].map(([name, t]) => [name, bytes.subarray(header.dataOffset + t.begin, header.dataOffset + t.end)]));
}

/** The same tensors as a torch.save state dict, optionally nested under one key as BasicSR releases are. */
async function toTorchValue(file: string, nestUnder?: string): Promise<TestValue> {
  const header = await readSafetensorsHeader(file);
  const raw = await readRaw(file);
  const entries: [string, TestValue][] = [...header.tensors].map(([name, t]) => [name, { tensor: { dtype: 'F32', shape: t.shape, bytes: Uint8Array.from(raw.get(name)!) } }]);
  return nestUnder === undefined ? { dict: entries } : { dict: [[nestUnder, { dict: entries }]] };
}

const cases: { label: string; write: (dir: string) => Promise<{ file: string }>; nest?: string }[] = [
  ...(['esrgan-sequential', 'esrgan', 'basicsr', 'fooocus'] as RrdbDialect[]).map((dialect) => ({ label: `RRDBNet (${dialect})`, write: (dir: string) => writeTinyRrdb(dir, { dialect }) })),
  { label: 'RRDBNet (BasicSR, nested under params_ema)', write: (dir: string) => writeTinyRrdb(dir, { dialect: 'basicsr' }), nest: 'params_ema' },
  { label: 'SRVGGNet compact', write: (dir: string) => writeTinySrvgg(dir) },
];

describe('converted upscalers are read by the upscaler layout detection', () => {
  for (const c of cases) {
    it(`${c.label}: detected as an upscaler, converted, and laid out as the graph builder expects`, async () => {
      const dir = freshDir('src');
      const { file } = await c.write(dir);
      const source = await writeTorchFile(dir, 'model.pth', await toTorchValue(file, c.nest));
      const converted = await convertModel(await openModelStore(freshDir('models')), source);
      assert.equal(converted.kind, 'upscalers');
      const header = await readSafetensorsHeader(converted.path);
      assert.doesNotThrow(() => detectUpscalerLayout(header));
      const expected = await readRaw(file);
      const actual = await readRaw(converted.path);
      assert.equal(actual.size, expected.size);
      for (const [name, bytes] of expected) assert.deepEqual(actual.get(c.nest === undefined ? name : `${c.nest}.${name}`), bytes, name);
    });
  }
});
