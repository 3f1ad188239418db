/**
 * The restricted decoding process: what Node's permission model lets it do, and that time and memory are bounded
 * (the process is killed and the upload fails, the server goes on).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { encodePng } from '../../../src/engine/output/png.ts';
import { UploadDecoder, UploadDecoderError } from '../../../src/app/uploads/upload-decoder.ts';
import { UploadRefusedError } from '../../../src/app/uploads/upload-errors.ts';

const PNG = encodePng(new Uint8Array(64 * 64 * 3).fill(90), 64, 64);

describe('upload decoder process', () => {
  it('may read only the application, write nothing, spawn nothing, and load addons (sharp)', () => {
    const flags = new UploadDecoder().permissionFlags();
    assert.ok(flags.includes('--permission') && flags.includes('--allow-addons'));
    const readable = flags.filter((f) => f.startsWith('--allow-fs-read=')).map((f) => f.slice('--allow-fs-read='.length));
    assert.deepEqual(readable.map((p) => path.relative(process.cwd(), p)).sort(), ['node_modules', 'package.json', 'src']);
    assert.ok(!flags.some((f) => /allow-fs-write|allow-child-process|allow-worker|allow-wasi/.test(f)), flags.join(' '));
    // The same flags on a plain Node process: reading outside the code (even the project's README) and writing are denied.
    const probe = spawnSync(process.execPath, [...flags, '-e', "const fs = require('node:fs'); for (const f of [() => fs.readFileSync('/etc/hostname'), () => fs.readFileSync('README.md'), () => fs.writeFileSync('x.tmp', 'x')]) { try { f(); console.log('allowed'); } catch (e) { console.log(e.code); } }"], { encoding: 'utf8' });
    assert.deepEqual(probe.stdout.trim().split('\n'), ['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED'], probe.stderr);
  });

  it('decodes in the child and answers the pixels as a PNG', async () => {
    const decoded = await new UploadDecoder().decode(PNG, 4096 * 4096);
    assert.deepEqual({ width: decoded.width, height: decoded.height }, { width: 64, height: 64 });
    assert.deepEqual(Buffer.from(decoded.png), Buffer.from(PNG));
  });

  it('kills a decode that takes too long: the upload is refused as too costly', async () => {
    await assert.rejects(new UploadDecoder({ timeoutMs: 1 }).decode(PNG, 4096 * 4096), (e: unknown) => e instanceof UploadRefusedError && e.rule === 'decodeLimits' && e.tooLarge && /longer than 1 ms/.test(e.message));
  });

  it('kills a decode whose process grows past its memory limit', { skip: !existsSync('/proc/self/statm') && 'no /proc on this platform' }, async () => {
    await assert.rejects(new UploadDecoder({ memoryLimitBytes: 8 * 1024 ** 2 }).decode(PNG, 4096 * 4096), (e: unknown) => e instanceof UploadRefusedError && e.rule === 'decodeLimits' && /memory/.test(e.message));
  });

  it('reports a process that fails on its own (cannot load its code) as a decoder failure, not a refusal', async () => {
    const decoder = new UploadDecoder();
    // Without the application among its readable paths the child cannot even load its entry point.
    Object.defineProperty(decoder, 'permissionFlags', { value: () => ['--permission', '--allow-fs-read=/nonexistent'] });
    await assert.rejects(decoder.decode(PNG, 4096 * 4096), UploadDecoderError);
  });

  it('queues uploads beyond maxConcurrent and answers every one', async () => {
    const decoder = new UploadDecoder({ maxConcurrent: 1 });
    const results = await Promise.all([0, 1, 2].map(() => decoder.decode(PNG, 4096 * 4096)));
    assert.equal(results.length, 3);
  });
});
