/**
 * `runtime.memory: auto` counts what an image prompt or control job holds besides the base model's phases: the
 * extra UNets, the vision encoder and adapters, and each ControlNet (the base UNet's encoder half plus its
 * control-LoRA file). Expected sizes are summed here straight from the files' JSON headers.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureGuidanceBytes } from '../../../src/app/generation/guidance-memory.ts';
import { inspectHeader, readSafetensorsHeader, writeSafetensors } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, writeTinyModel } from '../../fixtures/image-prompt-models.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-guidance-memory-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** fp32 bytes of the tensors whose names pass `keep`, from the raw header (8-byte length, then JSON). */
function rawFp32Bytes(file: string, keep: (name: string) => boolean = () => true): number {
  const bytes = readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape?: number[] }>;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__' && keep(name))
    .reduce((n, [, t]) => n + t.shape!.reduce((a, b) => a * b, 1) * 4, 0);
}

describe('measureGuidanceBytes', () => {
  let checkpoint: string;
  let prefix: string;
  const f = (file: string) => ({ path: file, sha256: path.basename(file) });
  let encoder: string, adapter: string, negative: string, control: string, cpds: string;

  before(async () => {
    checkpoint = await writeTinyCheckpoint(path.join(root, 'ckpt'), 'sdxl');
    const unet = inspectHeader(await readSafetensorsHeader(checkpoint)).architecture.unet!;
    prefix = unet.prefix;
    encoder = await writeTinyModel(root, 'clip_vision_vit_h.safetensors', generateTinyVisionEncoder());
    adapter = await writeTinyModel(root, 'ip-adapter.safetensors', generateTinyIpAdapter([32, 32], 32));
    negative = await writeTinyModel(root, 'negative.safetensors', generateTinyIpNegative());
    control = path.join(root, 'canny.safetensors');
    cpds = path.join(root, 'cpds.safetensors');
    await writeSafetensors(control, generateTinyControlLora(unet));
    await writeSafetensors(cpds, generateTinyControlLora(unet, { seed: 5 }));
  });

  it('is 0 for a job without image prompts or controls', async () => {
    assert.equal(await measureGuidanceBytes({ base: { path: checkpoint, unetPrefix: prefix }, imagePromptFiles: [], controlFiles: [] }), 0);
  });

  it('counts the image prompt UNet, the encoder and the adapter files', async () => {
    const unet = rawFp32Bytes(checkpoint, (n) => n.startsWith(prefix));
    const files = [encoder, adapter, negative];
    const expected = unet + files.reduce((n, file) => n + rawFp32Bytes(file), 0);
    const got = await measureGuidanceBytes({ base: { path: checkpoint, unetPrefix: prefix }, imagePromptFiles: files.map(f), controlFiles: [] });
    assert.equal(got, expected);
  });

  it('counts per control type a ControlNet (encoder half plus its file) and the one guided UNet, which mixing both kinds shares', async () => {
    const unet = rawFp32Bytes(checkpoint, (n) => n.startsWith(prefix));
    const encoderHalf = rawFp32Bytes(checkpoint, (n) => ['time_embed.', 'label_emb.', 'input_blocks.', 'middle_block.'].some((p) => n.startsWith(`${prefix}${p}`)));
    assert.ok(encoderHalf > 0 && encoderHalf < unet);
    const base = { path: checkpoint, unetPrefix: prefix };
    const one = await measureGuidanceBytes({ base, imagePromptFiles: [], controlFiles: [f(control)] });
    assert.equal(one, unet + encoderHalf + rawFp32Bytes(control));
    const two = await measureGuidanceBytes({ base, imagePromptFiles: [], controlFiles: [f(control), f(cpds)] });
    assert.equal(two, unet + 2 * encoderHalf + rawFp32Bytes(control) + rawFp32Bytes(cpds));
    const mixed = await measureGuidanceBytes({ base, imagePromptFiles: [f(encoder), f(adapter), f(negative)], controlFiles: [f(control)] });
    const adapters = rawFp32Bytes(encoder) + rawFp32Bytes(adapter) + rawFp32Bytes(negative);
    assert.equal(mixed, unet + adapters + encoderHalf + rawFp32Bytes(control), 'one guided UNet serves both kinds');
  });
});
