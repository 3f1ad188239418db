/**
 * `fooocus generate` through the creative layer: presets (explicit options win), styles, expansion, performance
 * modes, wildcards, arrays and LoRA tokens, and the refusals that name the bad value and the choices.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { parseGenerationMetadata, readImageMetadata, type GenerationParameters } from '../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { writeTinyLora } from '../fixtures/loras.ts';
import { runCli as run } from './cli-run.ts';

/** The metadata of every image a run saved, in order. */
async function savedImages(out: string): Promise<GenerationParameters[]> {
  const saved = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; path?: string })
    .filter((e) => e.event === 'saved');
  return Promise.all(
    saved.map(async (e) => {
      const meta = await readImageMetadata(new Uint8Array(readFileSync(e.path!)));
      return parseGenerationMetadata(meta.parameters!, meta.fooocus_scheme);
    }),
  );
}

describe('fooocus generate with the creative layer', () => {
  let dir: string;
  let models: string;
  let model: string;
  let outCount = 0;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-creative-'));
    models = path.join(dir, 'models');
    mkdirSync(models, { mode: 0o755 });
    const store = await openModelStore(models);
    const checkpoint = await writeTinyCheckpoint(dir, 'sd15');
    model = (await importModel(store, checkpoint, { kind: 'checkpoints' })).name;
    const lora = path.join(dir, 'tiny-detail.safetensors');
    await writeTinyLora(lora, checkpoint, {
      dialect: 'kohya',
      seed: 5,
      modules: [{ module: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', target: 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight', rank: 2, alpha: 2 }],
    });
    await importModel(store, lora, { kind: 'loras' });
    await importModel(store, await writeTinyCheckpoint(path.join(dir, 'sdxl'), 'sdxl'), { kind: 'checkpoints', name: 'tiny-sdxl.safetensors' });
    mkdirSync(path.join(dir, 'wildcards'));
    writeFileSync(path.join(dir, 'wildcards', 'animal.txt'), 'fox\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const out = () => path.join(dir, `out${outCount++}`);
  const base = () => ['generate', '--models', models, '--size', '64x64', '--steps', '2', '--json'];

  it('prints its help with the creative options', async () => {
    const r = await run(['generate', '--help']);
    assert.equal(r.code, 0, r.err);
    for (const option of ['--preset', '--style', '--performance', '--no-expansion', '--aspect-ratio', '<lora:name:weight>', '__name__', '[[red, blue]]']) assert.ok(r.out.includes(option), option);
  });

  it('applies styles, expansion, wildcards and arrays per image, and records them in the metadata', async () => {
    const r = await run([...base(), 'a __animal__ in [[snow, rain]]', '--model', model, '--out', out(), '--seed', '11', '--n', '2', '--style', 'anime key visual', '--style', 'FooocusTS Expansion']);
    assert.equal(r.code, 0, r.err);
    const images = await savedImages(r.out);
    assert.deepEqual(images.map((p) => p.prompt), ['a fox in snow', 'a fox in rain']);
    assert.deepEqual(images.map((p) => p.seed), ['11', '12']);
    for (const p of images) {
      assert.deepEqual(p.styles, ['FooocusTS Expansion', 'Anime Key Visual']);
      assert.match(p.fullPrompt![0]!, /^anime key visual of a fox in /);
      assert.equal(p.fullPrompt!.length, 2, 'the style part, then the expansion part');
    }
  });

  it('writes the expansion it used, the ADM guidance and a non-default adaptive CFG in the Fooocus scheme, as Fooocus does', async () => {
    const r = await run([...base(), 'a red boat', '--model', model, '--out', out(), '--seed', '4', '--style', 'FooocusTS Expansion', '--adaptive-cfg', '5']);
    assert.equal(r.code, 0, r.err);
    const file = (JSON.parse(r.out.trim().split('\n').at(-1)!) as { path: string }).path;
    const written = JSON.parse((await readImageMetadata(new Uint8Array(readFileSync(file)))).parameters!) as Record<string, unknown>;
    const [p] = await savedImages(r.out);
    assert.ok(typeof written.prompt_expansion === 'string' && written.prompt_expansion.startsWith('a red boat, '), String(written.prompt_expansion));
    assert.equal(written.prompt_expansion, p!.fullPrompt!.at(-1), 'the expansion part the prompt was encoded with');
    assert.equal(written.adm_guidance, '(1.5, 0.8, 0.3)');
    assert.equal(written.adaptive_cfg, 5);
  });

  it('starts from a preset; explicit options override it', async () => {
    const r = await run([...base(), 'a lighthouse', '--preset', 'SD15', '--model', model, '--out', out(), '--seed', '3']);
    assert.equal(r.code, 0, r.err);
    const [p, more] = await savedImages(r.out);
    assert.equal(more, undefined, 'the preset makes one image');
    assert.equal(p!.cfg, 7);
    assert.equal(p!.sampler, 'dpmpp_2m');
    assert.equal(p!.scheduler, 'karras');
    assert.equal(p!.performance, 'Speed');
    assert.deepEqual(p!.styles, ['FooocusTS Expansion']);

    const o = await run([...base(), 'a lighthouse', '--preset', 'sd15', '--model', model, '--out', out(), '--cfg', '5', '--sampler', 'euler', '--no-expansion', '--n', '2']);
    assert.equal(o.code, 0, o.err);
    const overridden = await savedImages(o.out);
    assert.equal(overridden.length, 2);
    assert.equal(overridden[0]!.cfg, 5);
    assert.equal(overridden[0]!.sampler, 'euler');
    assert.deepEqual(overridden[0]!.styles, []);
    assert.deepEqual(overridden[0]!.fullPrompt, ['a lighthouse']);
  });

  it("names a preset's missing models and the command that pulls them, and writes nothing", async () => {
    const target = out();
    const r = await run([...base(), 'x', '--preset', 'sd15', '--out', target]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /preset "sd15" needs checkpoint v1-5-pruned-emaonly\.safetensors \(catalog id sd15-v1-5-pruned-emaonly\), not in the model store: run `npm run fooocus -- models pull --preset sd15`/);
    assert.equal(existsSync(target), false);
  });

  it('takes the performance mode in any case and records its name', async () => {
    const r = await run([...base(), 'a boat', '--model', model, '--out', out(), '--performance', 'quality']);
    assert.equal(r.code, 0, r.err);
    const [p] = await savedImages(r.out);
    assert.equal(p!.performance, 'Quality');
    assert.equal(p!.steps, 2, 'explicit --steps still wins');
  });

  it('applies a LoRA named by a prompt token and records it', async () => {
    const r = await run([...base(), 'a cat <lora:tiny-detail:0.7>', '--model', model, '--out', out()]);
    assert.equal(r.code, 0, r.err);
    const [p] = await savedImages(r.out);
    assert.equal(p!.prompt, 'a cat');
    assert.deepEqual(p!.loras?.map((l) => [l.name, l.weight]), [['tiny-detail', 0.7]]);
  });

  const refusals: [string, string[], RegExp][] = [
    ['an unknown preset, listing the presets', ['--preset', 'fancy'], /--preset: unknown preset "fancy"; presets: .*realistic.*sd15/],
    ['an unknown style, suggesting the nearest names only', ['--style', 'Anime Key Visuals'], /--style: unknown style "Anime Key Visuals"; did you mean "Anime Key Visual"[^;]*\?$/m],
    ['an unknown performance mode, listing the modes', ['--performance', 'turbo'], /--performance: unknown mode "turbo"; modes: Quality, Speed, Extreme Speed, Lightning, Hyper-SD/],
    ['a fast mode without its LoRA, saying how to pull it', ['--performance', 'LIGHTNING', '--model', 'tiny-sdxl.safetensors'], /--performance: .*needs the LoRA sdxl_lightning_4step_lora\.safetensors: run `npm run fooocus -- models pull sdxl-lightning-4step-lora`/],
    ['Lightning on an SD 1.5 model, not naming the SDXL LoRA', ['--performance', 'lightning'], /--performance: performance "Lightning" needs an SDXL LoRA and is not available for tiny-sd15\S* \(SD 1\.5\).*choose performance Speed or Quality/],
    ['a LoRA the store does not hold', ['--negative', 'blur', 'prompt:<lora:nowhere:0.5>'], /LoRA "nowhere" is not in the model store/],
    ['a LoRA token in the negative prompt', ['--negative', '<lora:tiny-detail:1>'], /LoRA tokens belong in the prompt/],
    ['a wildcard nesting into itself', ['prompt:__loop__'], /wildcards nest deeper than/],
    ['an image count out of range', ['--n', '0'], /--n: must be an integer in 1\.\.32, got 0/],
    ['two size options', ['--aspect-ratio', '64*64'], /give one of --size, --aspect-ratio and --aspect/],
  ];
  for (const [label, extra, message] of refusals) {
    it(`refuses ${label} (exit 2), writing nothing`, async () => {
      writeFileSync(path.join(dir, 'wildcards', 'loop.txt'), '__loop__\n');
      const prompt = extra.find((a) => a.startsWith('prompt:'))?.slice('prompt:'.length) ?? 'a cat';
      const target = out();
      const r = await run([...base(), prompt, '--model', model, '--out', target, ...extra.filter((a) => !a.startsWith('prompt:'))]);
      assert.equal(r.code, 2, r.out + r.err);
      assert.match(r.err, message);
      assert.equal(existsSync(target) && readdirSync(target, { recursive: true }).some((f) => String(f).includes('.')), false);
    });
  }
});
