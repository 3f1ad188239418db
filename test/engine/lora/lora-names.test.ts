/**
 * LoRA module names of released files (kohya SD1.5 with diffusers paths, kohya SDXL with LDM paths, diffusers and
 * PEFT spellings) resolve to the right weights of full-size SD1.5 and SDXL layouts; LoRA files with adapter types
 * or keys the engine cannot apply are refused by key name.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SafetensorsHeader, TensorInfo } from '../../../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { LoraFormatError, readLoraFile } from '../../../src/engine/lora/lora-file.ts';
import { canonicalModuleName, listAdapterTargets } from '../../../src/engine/lora/lora-targets.ts';
import { listCheckpointTensors } from '../../../src/engine/models/checkpoint-layout.ts';
import { referenceArchitecture, RELEASED_EXTRAS, type ReferenceFamily } from '../../fixtures/reference-architectures.ts';

function layoutHeader(family: ReferenceFamily): SafetensorsHeader {
  const tensors = new Map<string, TensorInfo>();
  for (const spec of listCheckpointTensors(referenceArchitecture(family), RELEASED_EXTRAS)) {
    tensors.set(spec.name, { name: spec.name, dtype: 'F16', shape: spec.shape, begin: 0, end: 0 });
  }
  return { file: `${family}.safetensors`, fileSize: 0, dataOffset: 0, metadata: {}, tensors };
}

const U = 'model.diffusion_model.';

describe('module names of released LoRAs resolve to checkpoint weights', () => {
  const cases: [ReferenceFamily, string, string, { offset: number; count: number } | null][] = [
    // kohya SDXL files: LDM paths
    ['sdxl', 'lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q', `${U}input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight`, null],
    ['sdxl', 'lora_unet_middle_block_1_transformer_blocks_9_ff_net_2', `${U}middle_block.1.transformer_blocks.9.ff.net.2.weight`, null],
    ['sdxl', 'lora_unet_output_blocks_2_2_conv', `${U}output_blocks.2.2.conv.weight`, null],
    ['sdxl', 'lora_te1_text_model_encoder_layers_11_mlp_fc1', 'conditioner.embedders.0.transformer.text_model.encoder.layers.11.mlp.fc1.weight', null],
    ['sdxl', 'lora_te2_text_model_encoder_layers_31_self_attn_k_proj', 'conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_weight', { offset: 1280, count: 1280 }],
    ['sdxl', 'lora_te2_text_model_encoder_layers_0_mlp_fc2', 'conditioner.embedders.1.model.transformer.resblocks.0.mlp.c_proj.weight', null],
    // LCM/Lightning-style SDXL files: diffusers paths in kohya spelling
    ['sdxl', 'lora_unet_down_blocks_2_attentions_1_transformer_blocks_9_attn2_to_k', `${U}input_blocks.8.1.transformer_blocks.9.attn2.to_k.weight`, null],
    ['sdxl', 'lora_unet_up_blocks_0_attentions_2_proj_out', `${U}output_blocks.2.1.proj_out.weight`, null],
    ['sdxl', 'lora_unet_up_blocks_0_upsamplers_0_conv', `${U}output_blocks.2.2.conv.weight`, null],
    ['sdxl', 'lora_unet_up_blocks_2_resnets_0_conv_shortcut', `${U}output_blocks.6.0.skip_connection.weight`, null],
    ['sdxl', 'lora_unet_down_blocks_1_downsamplers_0_conv', `${U}input_blocks.6.0.op.weight`, null],
    ['sdxl', 'lora_unet_mid_block_attentions_0_proj_in', `${U}middle_block.1.proj_in.weight`, null],
    ['sdxl', 'lora_unet_mid_block_resnets_1_time_emb_proj', `${U}middle_block.2.emb_layers.1.weight`, null],
    ['sdxl', 'lora_unet_add_embedding_linear_1', `${U}label_emb.0.0.weight`, null],
    ['sdxl', 'lora_unet_conv_in', `${U}input_blocks.0.0.weight`, null],
    ['sdxl', 'lora_unet_conv_out', `${U}out.2.weight`, null],
    // kohya SD1.5 files: diffusers paths
    ['sd15', 'lora_unet_down_blocks_3_resnets_1_conv2', `${U}input_blocks.11.0.out_layers.3.weight`, null],
    ['sd15', 'lora_unet_up_blocks_0_upsamplers_0_conv', `${U}output_blocks.2.1.conv.weight`, null],
    ['sd15', 'lora_unet_up_blocks_1_upsamplers_0_conv', `${U}output_blocks.5.2.conv.weight`, null],
    ['sd15', 'lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_out_0', `${U}output_blocks.11.1.transformer_blocks.0.attn2.to_out.0.weight`, null],
    ['sd15', 'lora_unet_down_blocks_0_resnets_0_conv1', `${U}input_blocks.1.0.in_layers.2.weight`, null],
    ['sd15', 'lora_unet_time_embedding_linear_2', `${U}time_embed.2.weight`, null],
    ['sd15', 'lora_te_text_model_encoder_layers_11_self_attn_out_proj', 'cond_stage_model.transformer.text_model.encoder.layers.11.self_attn.out_proj.weight', null],
  ];
  const targets = new Map<ReferenceFamily, ReturnType<typeof listAdapterTargets>>();
  const targetsOf = (family: ReferenceFamily) => targets.get(family) ?? targets.set(family, listAdapterTargets(layoutHeader(family), referenceArchitecture(family))).get(family)!;

  for (const [family, name, key, rows] of cases) {
    test(`${family}: ${name}`, () => {
      const target = targetsOf(family).get(name);
      assert.ok(target !== undefined, `${name} has no target`);
      assert.equal(target.key, key);
      assert.deepEqual(target.rows, rows);
    });
  }

  test('every SDXL linear and conv weight of the UNet is reachable under its LDM and its diffusers name', () => {
    const header = layoutHeader('sdxl');
    const byKey = new Map<string, number>();
    for (const t of targetsOf('sdxl').values()) if (t.component === 'unet') byKey.set(t.key, (byKey.get(t.key) ?? 0) + 1);
    const weights = [...header.tensors.values()].filter((t) => t.name.startsWith(U) && t.name.endsWith('.weight') && (t.shape.length === 2 || t.shape.length === 4));
    assert.ok(weights.length > 700);
    for (const w of weights) assert.equal(byKey.get(w.name), 2, `${w.name}: expected one LDM and one diffusers name`);
  });
});

describe('canonical module names', () => {
  const cases: [string, string][] = [
    ['unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0', 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0'],
    ['base_model.model.up_blocks.0.attentions.1.proj_in', 'lora_unet_up_blocks_0_attentions_1_proj_in'],
    ['text_encoder_2.text_model.encoder.layers.3.mlp.fc1', 'lora_te2_text_model_encoder_layers_3_mlp_fc1'],
    ['text_encoder.text_model.encoder.layers.3.self_attn.q_proj', 'lora_te1_text_model_encoder_layers_3_self_attn_q_proj'],
    ['unet.mid_block.attentions.0.transformer_blocks.0.attn2.processor.to_k_lora', 'lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k'],
    ['unet.mid_block.attentions.0.transformer_blocks.0.attn2.processor.to_out_lora', 'lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_out_0'],
    ['lora_unet_conv_in', 'lora_unet_conv_in'],
  ];
  for (const [input, expected] of cases) test(input, () => assert.equal(canonicalModuleName(input), expected));
});

describe('LoRA files the engine cannot apply are refused by key name', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-lora-files-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const f32 = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });
  const m = 'lora_unet_conv_in';
  const cases: [string, ReturnType<typeof f32>[], RegExp][] = [
    ['LoHa', [f32(`${m}.hada_w1_a`, [4, 2])], /"lora_unet_conv_in\.hada_w1_a" LoHa/],
    ['LoKr', [f32(`${m}.lokr_w1`, [4, 2])], /"lora_unet_conv_in\.lokr_w1" LoKr/],
    ['DoRA', [f32(`${m}.lora_down.weight`, [2, 4]), f32(`${m}.lora_up.weight`, [4, 2]), f32(`${m}.dora_scale`, [4, 1])], /dora_scale" DoRA/],
    ['CP LoCon', [f32(`${m}.lora_mid.weight`, [2, 2, 3, 3])], /lora_mid\.weight" CP-decomposed/],
    ['a stray key', [f32(`${m}.lora_down.weight`, [2, 4]), f32(`${m}.lora_up.weight`, [4, 2]), f32('something_else', [1])], /"something_else" is not a LoRA tensor/],
    ['down without up', [f32(`${m}.lora_down.weight`, [2, 4])], /"lora_unet_conv_in\.lora_down\.weight" has no matching up/],
    ['ranks that disagree', [f32(`${m}.lora_down.weight`, [2, 4]), f32(`${m}.lora_up.weight`, [4, 3])], /lora_up\.weight" has rank 3 but .* has rank 2/],
    ['a 3-D tensor', [f32(`${m}.lora_down.weight`, [2, 4, 1]), f32(`${m}.lora_up.weight`, [4, 2])], /have shapes \[2,4,1\] and \[4,2\]/],
    ['an alpha that is not one number', [f32(`${m}.lora_down.weight`, [2, 4]), f32(`${m}.lora_up.weight`, [4, 2]), f32(`${m}.alpha`, [2])], /alpha" must be one finite number/],
    ['the same module twice', [f32(`${m}.lora_down.weight`, [2, 4]), f32(`${m}.lora_up.weight`, [4, 2]), f32('unet.conv_in.lora_A.weight', [2, 4])], /"unet\.conv_in\.lora_A\.weight" names the same module/],
    ['no tensors', [], /holds no LoRA tensors/],
  ];
  for (const [what, tensors, message] of cases) {
    test(what, async () => {
      const file = path.join(dir, `${what.replace(/\W+/g, '-')}.safetensors`);
      await writeSafetensors(file, tensors);
      await assert.rejects(readLoraFile(file), (err: unknown) => err instanceof LoraFormatError && message.test(err.message));
    });
  }

  test('a NaN weight is refused by key', async () => {
    const file = path.join(dir, 'nan.safetensors');
    const down = f32(`${m}.lora_down.weight`, [2, 4]);
    down.data[3] = Number.NaN;
    await writeSafetensors(file, [down, f32(`${m}.lora_up.weight`, [4, 2])]);
    await assert.rejects(readLoraFile(file), /lora_down\.weight" holds NaN or infinite values/);
  });
});
