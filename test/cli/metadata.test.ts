import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildPng, latin1 } from '../engine/output/metadata-fixtures.ts';
import { runCli } from './cli-run.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-metadata-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

const TEXT = 'a fox\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 5, Size: 512x768, Hires upscale: 2, Version: v1.10.1';

describe('fooocus metadata', () => {
  it('prints the tool, the fields, the mapped settings and what is not applied', async () => {
    const file = write('a1111.png', buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(TEXT) }]));
    const { code, out } = await runCli(['metadata', file]);
    assert.equal(code, 0);
    assert.match(out, /Metadata {7}a1111, written by AUTOMATIC1111 v1\.10\.1 \(from parameters\)/);
    assert.match(out, /sampler {14}dpmpp_2m/);
    assert.match(out, /scheduler {12}karras/);
    assert.match(out, /Not applied:\n {2}Hires upscale: 2 \(has no equivalent here\)/);
  });

  it('prints the whole report as JSON with --json', async () => {
    const file = write('a1111-json.png', buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(TEXT) }]));
    const { code, out } = await runCli(['metadata', file, '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(out) as { scheme: string; candidates: { settings: { seed: string; width: number } }[] };
    assert.equal(report.scheme, 'a1111');
    assert.deepEqual([report.candidates[0]!.settings.seed, report.candidates[0]!.settings.width], ['5', 512]);
  });

  it('says so for unknown metadata, and refuses a missing file or a non-image with exit code 2', async () => {
    const unknown = write('unknown.png', buildPng([{ type: 'tEXt', keyword: 'Comment', bytes: latin1('hello') }]));
    assert.match((await runCli(['metadata', unknown])).out, /unknown scheme: no reader recognises these fields/);
    const missing = await runCli(['metadata', path.join(dir, 'nope.png')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.png: no such file/);
    const text = write('notes.txt', new TextEncoder().encode('hello'));
    const refused = await runCli(['metadata', text]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /notes\.txt: not a PNG, JPEG or WebP file/);
  });
});
