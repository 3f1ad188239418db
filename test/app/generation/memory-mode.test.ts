/**
 * `runtime.memory` through the generation service: a text-to-image job builds no VAE encoder (the service's load
 * progress names every component it builds), an image-to-image job does; `per-phase` gives the same pixels as
 * `resident`; `auto` picks per-phase only when the available memory is below the job's fp32 weights plus the margin.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AppGenerationRequest } from '../../../src/app/generation/app-generation-request.ts';
import { GenerationService, type ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { chooseMemoryMode, describeMemoryChoice, estimateActivationBytes, measureAvailableMemory } from '../../../src/app/generation/memory-mode.ts';
import { decodePng } from '../../../src/engine/output/png.ts';
import { sha256File } from '../../../src/engine/io/sha256.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { tinyRequestFields } from '../../fixtures/generation-requests.ts';

const GIB = 2 ** 30;

describe('memory mode choice', () => {
  test('an explicit setting is kept; auto compares the available memory with the weights plus 25 % and 512 MiB', () => {
    const never = () => assert.fail('an explicit setting reads no memory figure');
    assert.equal(chooseMemoryMode('resident', 4 * GIB, never).mode, 'resident');
    assert.equal(chooseMemoryMode('per-phase', 4 * GIB, never).mode, 'per-phase');
    assert.equal(chooseMemoryMode('auto', 4 * GIB, () => 5.6 * GIB).mode, 'resident');
    assert.equal(chooseMemoryMode('auto', 4 * GIB, () => 5.4 * GIB).mode, 'per-phase');
    const line = describeMemoryChoice(chooseMemoryMode('auto', 4 * GIB, () => 3 * GIB));
    assert.match(line, /^memory: per-phase \(auto: 3\.0 GiB available, the job's components take 4\.0 GiB in fp32/);
  });

  test("auto counts the UNet's activations at the job's size when they exceed the margin", () => {
    // SDXL's fp32 components for an upscale to 2048x2048: 12.7 GiB of weights; 20 GiB free is enough at 1024 but
    // not at 2048, where the activations (about 8.8 GB measured) outgrow the 25 % margin.
    const weights = 12.7 * GIB;
    const at1024 = estimateActivationBytes('sdxl', 1024, 1024);
    const at2048 = estimateActivationBytes('sdxl', 2048, 2048);
    assert.equal(at2048, 4 * at1024);
    assert.ok(at2048 > 8 * GIB && at2048 < 10 * GIB, `${at2048 / GIB} GiB`);
    assert.equal(chooseMemoryMode('auto', weights, () => 20 * GIB, at1024).mode, 'resident');
    const big = chooseMemoryMode('auto', weights, () => 20 * GIB, at2048);
    assert.equal(big.mode, 'per-phase');
    assert.match(describeMemoryChoice(big), /plus 8\.\d GiB of activations at this size\)$/);
    // Below the margin the activations change nothing: the margin's rule above still decides.
    assert.equal(chooseMemoryMode('auto', 4 * GIB, () => 5.6 * GIB, 1 * GIB).mode, 'resident');
    assert.equal(estimateActivationBytes('sd15', 512, 512), 480 * 1024 * 64 * 64);
  });

  test("the activation estimate scales with the UNet's base width", () => {
    const full = estimateActivationBytes('sd15', 512, 512);
    assert.equal(estimateActivationBytes('sd15', 512, 512, 320), full);
    // A tiny test UNet (32 channels) holds a tenth of the full model's feature maps; the refiner's 384 a fifth more.
    assert.equal(estimateActivationBytes('sd15', 512, 512, 32), Math.round(full / 10));
    assert.equal(estimateActivationBytes('sdxl', 1024, 1024, 384), Math.round(estimateActivationBytes('sdxl', 1024, 1024) * 1.2));
  });

  test('the available memory is a positive figure no larger than the free memory', () => {
    const available = measureAvailableMemory();
    assert.ok(available > 0 && available <= os.freemem() * 1.01, `${available}`);
  });
});

describe('components a job builds, through the generation service', () => {
  let dir: string;
  let checkpoint: string;
  let sha: string;
  const services: GenerationService[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-memory-app-'));
    await mkdir(path.join(dir, 'outputs'));
    checkpoint = await writeTinyCheckpoint(dir, 'sd15');
    sha = await sha256File(checkpoint);
  });
  after(async () => {
    for (const s of services) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (memory: 'resident' | 'per-phase' | 'auto'): GenerationService => {
    const service = new GenerationService({ runtime: { threads: 2 }, outputsDir: path.join(dir, 'outputs'), loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test', memory });
    services.push(service);
    return service;
  };
  const request = (extra: Partial<AppGenerationRequest> = {}): AppGenerationRequest => ({ ...tinyRequestFields('a lighthouse'), model: { path: checkpoint, sha256: sha }, steps: 2, ...extra });
  const input = { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).map((_, i) => (i * 53) % 256) };
  const run = async (service: GenerationService, r: AppGenerationRequest) => {
    const events: ServiceProgress[] = [];
    const [saved] = await service.generate(r, { onProgress: (p) => events.push(p) });
    const built = events.flatMap((p) => (p.phase === 'load' ? [p.component] : []));
    const memory = events.flatMap((p) => (p.phase === 'memory' ? [p.mode] : []));
    return { pixels: decodePng(new Uint8Array(await readFile(saved!.path))).rgb, built, memory };
  };

  test('text-to-image builds no VAE encoder; image-to-image builds it; per-phase gives the same pixels and builds again', async () => {
    const resident = open('resident');
    const perPhase = open('per-phase');
    const a = await run(resident, request());
    assert.deepEqual(a.built, ['text', 'unet', 'vae-decoder']);
    assert.deepEqual(a.memory, ['resident'], 'the first job says which memory mode it runs in');
    const b = await run(resident, request({ input: { image: input, denoise: 0.6 } }));
    assert.deepEqual(b.built, ['vae-encoder']);
    assert.deepEqual(b.memory, [], 'an unchanged mode is not repeated');

    const c = await run(perPhase, request());
    assert.deepEqual(c.built, ['text', 'unet', 'vae-decoder']);
    assert.deepEqual(c.memory, ['per-phase']);
    assert.deepEqual(c.pixels, a.pixels);
    const d = await run(perPhase, request({ input: { image: input, denoise: 0.6 } }));
    assert.deepEqual(d.built, ['text', 'vae-encoder', 'unet', 'vae-decoder'], 'per-phase builds each phase again');
    assert.deepEqual(d.pixels, b.pixels);
  });

  test('auto runs resident here, where a tiny model fits many times over', async () => {
    const r = await run(open('auto'), request());
    assert.deepEqual(r.memory, ['resident']);
  });
});
