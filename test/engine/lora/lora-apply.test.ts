/**
 * LoRAs in the engine: a tiny LoRA in each key dialect, applied through the slotted graphs, must change the
 * UNet and text-encoder outputs exactly as the plain-TypeScript reference merge (W + s * up @ down, written into
 * a merged checkpoint and run through the unslotted graphs) predicts; weight 0 and the empty set give the base
 * output; switching among covered sets rebinds values without rebuilding.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { readLoraFile } from '../../../src/engine/lora/lora-file.ts';
import { LoraMismatchError, type WeightedLora } from '../../../src/engine/lora/lora-plan.ts';
import type { CheckpointArchitecture } from '../../../src/engine/models/architecture.ts';
import { loadCheckpoint, type LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import type { Int64Tensor, Tensor } from '../../../src/engine/tensor.ts';
import { expectedTinyArchitecture, writeTinyCheckpoint, type TinyFamily } from '../../fixtures/checkpoints.ts';
import { writeMergedCheckpoint, writeTinyLora, type LoraPair, type TinyLoraSpec } from '../../fixtures/loras.ts';
import { sampleInput } from '../graphs/graph-harness.ts';

const UNET = 'model.diffusion_model.';

interface Outputs {
  unet: Float32Array;
  text: Float32Array[];
}

function tokens(): Int64Tensor {
  const data = new BigInt64Array(77);
  const ids = [998n, 11n, 42n, 523n, 7n, 999n];
  ids.forEach((id, i) => (data[i] = id));
  return { dims: [1, 77], data };
}

async function runAll(model: LoadedCheckpoint, arch: CheckpointArchitecture): Promise<Outputs> {
  const unet = arch.unet!;
  const feeds: Record<string, Tensor> = {
    x: toTensor(sampleInput([1, unet.inChannels, 8, 8], 3)),
    timesteps: { dims: [1], data: Float32Array.of(500) },
    context: toTensor(sampleInput([1, 77, unet.contextDim], 5)),
  };
  if (unet.admInChannels !== null) feeds.y = toTensor(sampleInput([1, unet.admInChannels], 7));
  const out = (await model.unet!.run(feeds)).out!.data;
  const text: Float32Array[] = [];
  for (const session of model.textEncoders) {
    const r = await session.run({ tokens: tokens() });
    text.push(Float32Array.of(...r.hidden!.data, ...r.pooled!.data));
  }
  return { unet: out, text };
}

function toTensor(t: { shape: number[]; data: Float32Array }): Tensor {
  return { dims: t.shape, data: t.data };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function assertClose(actual: Outputs, expected: Outputs, what: string): void {
  const tolerance = 2e-4;
  assert.ok(maxDiff(actual.unet, expected.unet) <= tolerance, `${what}: UNet differs from the reference merge by ${maxDiff(actual.unet, expected.unet)}`);
  actual.text.forEach((t, i) => assert.ok(maxDiff(t, expected.text[i]!) <= tolerance, `${what}: text encoder ${i} differs by ${maxDiff(t, expected.text[i]!)}`));
}

function assertChanged(actual: Outputs, base: Outputs, parts: { unet: boolean; text: number[] }, what: string): void {
  if (parts.unet) assert.ok(maxDiff(actual.unet, base.unet) > 1e-3, `${what}: the LoRA did not change the UNet output`);
  for (const i of parts.text) assert.ok(maxDiff(actual.text[i]!, base.text[i]!) > 1e-3, `${what}: the LoRA did not change text encoder ${i}`);
}

interface FamilyFixture {
  dir: string;
  checkpoint: string;
  header: SafetensorsHeader;
  arch: CheckpointArchitecture;
  base: Outputs;
}

async function fixture(family: TinyFamily): Promise<FamilyFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fooocus-lora-${family}-`));
  const checkpoint = await writeTinyCheckpoint(dir, family);
  const header = await readSafetensorsHeader(checkpoint);
  const arch = expectedTinyArchitecture(family);
  const model = await loadCheckpoint(header, arch, { components: ['unet', 'text'], runtime: { threads: 2 } });
  try {
    return { dir, checkpoint, header, arch, base: await runAll(model, arch) };
  } finally {
    await model.release();
  }
}

/** Outputs of the reference: the unslotted graphs over a checkpoint with the LoRAs merged into its weights. */
async function referenceOutputs(f: FamilyFixture, loras: { pairs: LoraPair[]; weight: number }[], name: string): Promise<Outputs> {
  const merged = path.join(f.dir, `${name}-merged.safetensors`);
  await writeMergedCheckpoint(merged, f.checkpoint, loras);
  const model = await loadCheckpoint(await readSafetensorsHeader(merged), f.arch, { components: ['unet', 'text'], runtime: { threads: 2 } });
  try {
    return await runAll(model, f.arch);
  } finally {
    await model.release();
  }
}

async function writeLora(f: FamilyFixture, name: string, spec: TinyLoraSpec): Promise<{ file: string; pairs: LoraPair[] }> {
  const file = path.join(f.dir, `${name}.safetensors`);
  return { file, pairs: await writeTinyLora(file, f.checkpoint, spec) };
}

const SDXL_TE1 = 'conditioner.embedders.0.transformer.text_model.';
const SDXL_TE2 = 'conditioner.embedders.1.model.';

/** SDXL kohya file with LDM module names: attention, GEGLU, linear proj_in, LoCon on a 3x3 conv, both text encoders. */
const SDXL_KOHYA: TinyLoraSpec = {
  dialect: 'kohya',
  seed: 11,
  dtype: 'F16',
  modules: [
    { module: 'lora_unet_input_blocks_5_1_transformer_blocks_0_attn1_to_q', target: `${UNET}input_blocks.5.1.transformer_blocks.0.attn1.to_q.weight`, rank: 4, alpha: 2 },
    { module: 'lora_unet_input_blocks_5_1_transformer_blocks_1_attn2_to_out_0', target: `${UNET}input_blocks.5.1.transformer_blocks.1.attn2.to_out.0.weight`, rank: 4, alpha: 4 },
    { module: 'lora_unet_middle_block_1_transformer_blocks_0_ff_net_0_proj', target: `${UNET}middle_block.1.transformer_blocks.0.ff.net.0.proj.weight`, rank: 8, alpha: 4 },
    { module: 'lora_unet_output_blocks_0_1_proj_in', target: `${UNET}output_blocks.0.1.proj_in.weight`, rank: 2, alpha: 1 },
    { module: 'lora_unet_input_blocks_1_0_in_layers_2', target: `${UNET}input_blocks.1.0.in_layers.2.weight`, rank: 4, alpha: 1 },
    { module: 'lora_te1_text_model_encoder_layers_1_self_attn_k_proj', target: `${SDXL_TE1}encoder.layers.1.self_attn.k_proj.weight`, rank: 4, alpha: 4 },
    { module: 'lora_te2_text_model_encoder_layers_0_self_attn_q_proj', target: `${SDXL_TE2}transformer.resblocks.0.attn.in_proj_weight`, rows: { offset: 0, count: 64 }, rank: 4, alpha: 2 },
    { module: 'lora_te2_text_model_encoder_layers_0_self_attn_v_proj', target: `${SDXL_TE2}transformer.resblocks.0.attn.in_proj_weight`, rows: { offset: 128, count: 64 }, rank: 2, alpha: 2 },
    { module: 'lora_te2_text_model_encoder_layers_2_mlp_fc1', target: `${SDXL_TE2}transformer.resblocks.2.mlp.c_fc.weight`, rank: 4 },
  ],
};

/** SDXL PEFT file (diffusers module paths, lora_A/lora_B, no alpha): attention, a resnet conv, text encoder 2. */
const SDXL_PEFT: TinyLoraSpec = {
  dialect: 'peft',
  seed: 12,
  modules: [
    { module: 'unet.down_blocks.2.attentions.0.transformer_blocks.0.attn1.to_k', target: `${UNET}input_blocks.5.1.transformer_blocks.0.attn1.to_k.weight`, rank: 4 },
    { module: 'unet.up_blocks.0.attentions.1.transformer_blocks.1.ff.net.2', target: `${UNET}output_blocks.1.1.transformer_blocks.1.ff.net.2.weight`, rank: 4 },
    { module: 'unet.mid_block.resnets.1.conv2', target: `${UNET}middle_block.2.out_layers.3.weight`, rank: 2 },
    { module: 'unet.up_blocks.1.upsamplers.0.conv', target: `${UNET}output_blocks.3.1.conv.weight`, rank: 2 },
    { module: 'text_encoder_2.text_model.encoder.layers.1.self_attn.out_proj', target: `${SDXL_TE2}transformer.resblocks.1.attn.out_proj.weight`, rank: 4 },
  ],
};

const SD15_TE = 'cond_stage_model.transformer.text_model.';

/** SD1.5 kohya file with diffusers module names (as kohya writes SD1.5): conv proj_in, skip conv, text encoder. */
const SD15_KOHYA: TinyLoraSpec = {
  dialect: 'kohya',
  seed: 13,
  modules: [
    { module: 'lora_unet_down_blocks_0_attentions_1_proj_in', target: `${UNET}input_blocks.2.1.proj_in.weight`, rank: 4, alpha: 1, flatDown: true },
    { module: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v', target: `${UNET}input_blocks.1.1.transformer_blocks.0.attn2.to_v.weight`, rank: 4, alpha: 4 },
    { module: 'lora_unet_down_blocks_1_resnets_0_conv_shortcut', target: `${UNET}input_blocks.4.0.skip_connection.weight`, rank: 2, alpha: 2 },
    { module: 'lora_unet_down_blocks_0_downsamplers_0_conv', target: `${UNET}input_blocks.3.0.op.weight`, rank: 2, alpha: 1 },
    { module: 'lora_unet_time_embedding_linear_1', target: `${UNET}time_embed.0.weight`, rank: 2, alpha: 2 },
    { module: 'lora_te_text_model_encoder_layers_0_mlp_fc2', target: `${SD15_TE}encoder.layers.0.mlp.fc2.weight`, rank: 4, alpha: 4 },
  ],
};

/** SD1.5 diffusers file (`.lora.down/.lora.up`, text encoder under `text_encoder.`). */
const SD15_DIFFUSERS: TinyLoraSpec = {
  dialect: 'diffusers',
  seed: 14,
  modules: [
    { module: 'unet.up_blocks.1.attentions.2.transformer_blocks.0.attn1.to_out.0', target: `${UNET}output_blocks.4.1.transformer_blocks.0.attn1.to_out.0.weight`, rank: 4 },
    { module: 'text_encoder.text_model.encoder.layers.1.self_attn.q_proj', target: `${SD15_TE}encoder.layers.1.self_attn.q_proj.weight`, rank: 4 },
  ],
};

describe('LoRAs on SDXL', () => {
  let f: FamilyFixture;
  let kohya: { file: string; pairs: LoraPair[] };
  let peft: { file: string; pairs: LoraPair[] };
  let model: LoadedCheckpoint;
  const weighted = async (entries: [string, number][]): Promise<WeightedLora[]> => Promise.all(entries.map(async ([file, weight]) => ({ lora: await readLoraFile(file), weight })));

  before(async () => {
    f = await fixture('sdxl');
    kohya = await writeLora(f, 'kohya', SDXL_KOHYA);
    peft = await writeLora(f, 'peft', SDXL_PEFT);
    model = await loadCheckpoint(f.header, f.arch, { components: ['unet', 'text'], runtime: { threads: 2 }, loras: await weighted([[kohya.file, 1]]) });
  });
  after(async () => {
    await model?.release();
    await rm(f.dir, { recursive: true, force: true });
  });

  test('kohya (LDM names, F16, alpha, LoCon, packed q/v) matches the reference merge', async () => {
    const actual = await runAll(model, f.arch);
    assertChanged(actual, f.base, { unet: true, text: [0, 1] }, 'kohya');
    assertClose(actual, await referenceOutputs(f, [{ pairs: kohya.pairs, weight: 1 }], 'kohya'), 'kohya');
  });

  test('two LoRAs with weights -1.5 and 0.7 add up as the reference predicts', async () => {
    const report = await model.applyLoras(await weighted([[kohya.file, -1.5], [peft.file, 0.7]]));
    assert.deepEqual(report.rebuilt.sort(), ['text1', 'unet'], 'PEFT adds weights the kohya graph had no slot for');
    const reference = await referenceOutputs(f, [{ pairs: kohya.pairs, weight: -1.5 }, { pairs: peft.pairs, weight: 0.7 }], 'both');
    assertClose(await runAll(model, f.arch), reference, 'kohya + peft');
  });

  test('switching among covered sets only rebinds, and the empty set gives the base output', async () => {
    const onlyPeft = await model.applyLoras(await weighted([[peft.file, 2]]));
    assert.deepEqual(onlyPeft.rebuilt, []);
    assertClose(await runAll(model, f.arch), await referenceOutputs(f, [{ pairs: peft.pairs, weight: 2 }], 'peft'), 'peft alone');
    const none = await model.applyLoras([]);
    assert.deepEqual(none.rebuilt, []);
    assert.equal(none.modules, 0);
    const off = await runAll(model, f.arch);
    assert.equal(maxDiff(off.unet, f.base.unet), 0, 'no LoRA: the slotted UNet gives the base output exactly');
    off.text.forEach((t, i) => assert.equal(maxDiff(t, f.base.text[i]!), 0, `no LoRA: text encoder ${i} gives the base output exactly`));
  });

  test('weight 0 gives the base output', async () => {
    await model.applyLoras(await weighted([[kohya.file, 0], [peft.file, 0]]));
    const zero = await runAll(model, f.arch);
    assert.equal(maxDiff(zero.unet, f.base.unet), 0);
    zero.text.forEach((t, i) => assert.equal(maxDiff(t, f.base.text[i]!), 0));
  });

  test('an SD1.5 LoRA on SDXL is refused naming its modules, and the active set stays', async () => {
    const sd15 = path.join(f.dir, 'sd15-for-sdxl.safetensors');
    await writeTinyLoraForOtherFamily(sd15);
    const before = await runAll(model, f.arch);
    await assert.rejects(model.applyLoras(await weighted([[sd15, 1]])), (err: unknown) => err instanceof LoraMismatchError && /match no layer of this sdxl checkpoint: "lora_te_text_model_encoder_layers_0_mlp_fc2\.lora_down\.weight"/.test(err.message));
    assert.equal(maxDiff((await runAll(model, f.arch)).unet, before.unet), 0);
  });
});

/** An SD1.5 LoRA (written against the SD1.5 fixture) to try on SDXL. */
async function writeTinyLoraForOtherFamily(file: string): Promise<void> {
  const dir = path.dirname(file);
  const sd15 = await writeTinyCheckpoint(path.join(dir, 'sd15'), 'sd15');
  await writeTinyLora(file, sd15, { ...SD15_KOHYA, modules: SD15_KOHYA.modules.slice(-1) });
}

describe('LoRAs on SD1.5', () => {
  let f: FamilyFixture;

  before(async () => {
    f = await fixture('sd15');
  });
  after(async () => rm(f.dir, { recursive: true, force: true }));

  for (const [name, spec] of [['kohya (diffusers names, conv proj_in, skip and downsample convs)', SD15_KOHYA], ['diffusers (.lora.down/.lora.up)', SD15_DIFFUSERS]] as const) {
    test(`${name} matches the reference merge`, async () => {
      const lora = await writeLora(f, spec.dialect, spec);
      const model = await loadCheckpoint(f.header, f.arch, { components: ['unet', 'text'], runtime: { threads: 2 }, loras: [{ lora: await readLoraFile(lora.file), weight: 0.8 }] });
      try {
        const actual = await runAll(model, f.arch);
        assertChanged(actual, f.base, { unet: true, text: [0] }, name);
        assertClose(actual, await referenceOutputs(f, [{ pairs: lora.pairs, weight: 0.8 }], spec.dialect), name);
      } finally {
        await model.release();
      }
    });
  }

  test('a module whose shape does not fit is refused naming the module and the weight', async () => {
    const bad = await writeLora(f, 'bad-shape', {
      dialect: 'kohya',
      seed: 3,
      modules: [{ module: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', target: `${UNET}input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight`, rank: 2 }],
    });
    const lora = await readLoraFile(bad.file);
    await assert.rejects(loadCheckpoint(f.header, f.arch, { components: ['unet'], loras: [{ lora, weight: 1 }] }), (err: unknown) => {
      return err instanceof LoraMismatchError && err.message.includes('attn2_to_k.lora_down.weight') && err.message.includes('input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight');
    });
  });
});
