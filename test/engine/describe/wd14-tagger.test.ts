import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadWd14Tagger, parseTagList, prepareWd14Input, TagListFormatError, UnsafeOnnxModelError, WD14_INPUT_SIZE, type RgbImage } from '../../../src/engine/index.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { buildTinyTagger, formatTinyTagList, scoreTinyTagger, TINY_TAGS, writeTinyTagger } from '../../fixtures/wd14-taggers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wd14-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function solidImage(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, rgb: data };
}

/** Writes a spoiled model beside the good tag list, under its own name. */
function writeModel(name: string, model: OnnxModel, tagList = formatTinyTagList()): { model: string; tags: string } {
  const files = { model: path.join(dir, `${name}.onnx`), tags: path.join(dir, `${name}.csv`) };
  writeFileSync(files.model, encodeOnnxModel(model));
  writeFileSync(files.tags, tagList);
  return files;
}

async function assertRefused(files: { model: string; tags: string }, type: new (...args: never[]) => Error, rule: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadWd14Tagger(files), (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.equal((err as { rule?: string }).rule, rule);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('WD14 tagger input', () => {
  it('scales the longer side to 448, centres the image on white and orders channels B, G, R', () => {
    const input = prepareWd14Input(solidImage(200, 100, [250, 20, 5]), WD14_INPUT_SIZE);
    assert.deepEqual(input.dims, [1, 448, 448, 3]);
    const at = (x: number, y: number): number[] => [...input.data.subarray((y * 448 + x) * 3, (y * 448 + x) * 3 + 3)];
    // 200x100 -> 448x224, pasted at top (448 - 224) / 2 = 112
    assert.deepEqual(at(10, 111), [255, 255, 255]);
    assert.deepEqual(at(10, 112), [5, 20, 250]);
    assert.deepEqual(at(447, 335), [5, 20, 250]);
    assert.deepEqual(at(0, 336), [255, 255, 255]);
  });

  it('truncates sides as Fooocus does and keeps a one-pixel side', () => {
    const input = prepareWd14Input(solidImage(3000, 1, [0, 0, 0]), WD14_INPUT_SIZE);
    // height int(1 * 448 / 3000) = 0 -> 1 row at (448 - 1) // 2 = 223
    assert.deepEqual([...input.data.subarray(223 * 448 * 3, 223 * 448 * 3 + 3)], [0, 0, 0]);
    assert.deepEqual([...input.data.subarray(222 * 448 * 3, 222 * 448 * 3 + 3)], [255, 255, 255]);
  });
});

describe('WD14 tagger', () => {
  it('keeps character tags above 0.85 then general tags above 0.35, drops ratings, escapes and spaces the text', async () => {
    const tagger = await loadWd14Tagger(writeTinyTagger(dir));
    try {
      const image = solidImage(96, 96, [255, 0, 0]);
      const description = await tagger.describe(image);
      assert.equal(description.text, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
      const reference = scoreTinyTagger(prepareWd14Input(image, WD14_INPUT_SIZE).data);
      for (const tag of description.tags!) {
        const i = TINY_TAGS.findIndex((t) => t.name === tag.name);
        assert.ok(Math.abs(tag.score - reference[i]!) <= 1e-4, `${tag.name}: ${tag.score} vs ${reference[i]}`);
      }
      // rem_(re:zero) scores sigmoid(1) = 0.73: above the general threshold, below the character one
      assert.ok(reference[7]! > 0.35 && reference[7]! < 0.85);
      assert.deepEqual(description.tags!.map((t) => t.category), ['character', 'general', 'general', 'general']);
      const blue = await tagger.describe(solidImage(64, 64, [0, 0, 255]));
      assert.doesNotMatch(blue.text, /red theme|miku/);
      assert.match(blue.text, /^blue sky, simple background$/);
    } finally {
      await tagger.release();
    }
  });

  it('reports progress and stops before the run when cancelled', async () => {
    const tagger = await loadWd14Tagger(writeTinyTagger(dir, 'progress'));
    try {
      const phases: string[] = [];
      await tagger.describe(solidImage(8, 8, [9, 9, 9]), { onProgress: (p) => phases.push(`${p.phase}:${p.step}/${p.total}`) });
      assert.deepEqual(phases, ['prepare:0/1', 'run:0/1', 'decode:0/1', 'decode:1/1']);
      const stop = new AbortController();
      stop.abort();
      await assert.rejects(tagger.describe(solidImage(8, 8, [9, 9, 9]), { signal: stop.signal }), /cancelled/);
    } finally {
      await tagger.release();
    }
  });

  it('refuses a graph with a custom operator, naming the file and the node', async () => {
    const model = buildTinyTagger();
    model.graph.nodes = model.graph.nodes.map((n) => (n.opType === 'Sigmoid' ? { ...n, opType: 'FastSigmoid', domain: 'com.example' } : n));
    await assertRefused(writeModel('custom-op', model), UnsafeOnnxModelError, 'operator-domain', /^custom-op\.onnx: node "Sigmoid_0" \(FastSigmoid\) is in domain "com\.example"/);
  });

  it('refuses weights stored outside the file, naming the file and the tensor', async () => {
    const model = buildTinyTagger();
    const [first] = model.graph.initializers;
    model.graph.initializers = [{ ...first!, data: { kind: 'external', location: 'weights.bin', offset: 0, length: 4 } }, ...model.graph.initializers.slice(1)];
    await assertRefused(writeModel('external', model), UnsafeOnnxModelError, 'external-data', /^external\.onnx: tensor "const_0" refers to data outside the file/);
  });

  it('refuses an oversized initializer', async () => {
    const files = writeModel('oversized', buildTinyTagger());
    await assert.rejects(loadWd14Tagger(files, { onnxLimits: { maxTensorBytes: 64 } }), (err: unknown) => err instanceof UnsafeOnnxModelError && err.rule === 'tensor-size' && /^oversized\.onnx: tensor "const_\d" of shape \[3, 8\]/.test(err.message));
  });

  it('refuses an input that is not [batch, 448, 448, 3] (an NCHW graph, another size)', async () => {
    await assertRefused(writeModel('nchw', buildTinyTagger({ inputShape: ['N', 3, 448, 448] })), UnsafeOnnxModelError, 'signature', /^nchw\.onnx: input "input_1:0" is float32 \[N, 3, 448, 448\], expected float32 \[\?, 448, 448, 3\]/);
    await assertRefused(writeModel('small', buildTinyTagger({ inputShape: ['N', 224, 224, 3] })), UnsafeOnnxModelError, 'signature', /^small\.onnx: input "input_1:0"/);
  });

  it('refuses a tag list whose rows do not match the output width, naming both files', async () => {
    await assertRefused(writeModel('short-list', buildTinyTagger(), formatTinyTagList(TINY_TAGS.slice(0, 7))), UnsafeOnnxModelError, 'tag-count', /^short-list\.onnx: scores 8 tags, but its tag list short-list\.csv has 7 rows/);
    await assertRefused(writeModel('wide', buildTinyTagger({ outputWidth: 9 })), UnsafeOnnxModelError, 'tag-count', /scores 9 tags, but its tag list wide\.csv has 8 rows/);
  });

  it('reads the tag list before the graph, so a broken list is named even with a good graph', async () => {
    await assertRefused(writeModel('bad-header', buildTinyTagger(), 'id,name\n1,a\n'), TagListFormatError, 'header', /^bad-header\.csv: line 1 should be "tag_id,name,category,count"/);
  });
});

describe('tag list', () => {
  const parse = (text: string): ReturnType<typeof parseTagList> => parseTagList(Buffer.from(text), 'tags.csv');
  const refused = (text: string, rule: string, pattern: RegExp, limits = {}): void =>
    assert.throws(() => parseTagList(Buffer.from(text), 'tags.csv', limits), (err: unknown) => err instanceof TagListFormatError && err.rule === rule && pattern.test(err.message));

  it('reads quoted names, CRLF lines and a byte-order mark', () => {
    const tags = parse('\uFEFFtag_id,name,category,count\r\n1,"a,b",0,5\r\n2,"say ""hi""",4,1\r\n3,^_^,0,2\r\n');
    assert.deepEqual(tags, [
      { name: 'a,b', category: 'general' },
      { name: 'say "hi"', category: 'character' },
      { name: '^_^', category: 'general' },
    ]);
  });

  it('refuses broken rows, unknown categories, bad quoting and oversized lists, naming file and line', () => {
    refused('tag_id,name,category,count\n1,a,0\n', 'columns', /^tags\.csv: line 2 has 3 columns, expected 4/);
    refused('tag_id,name,category,count\n1,a,0,1\n\n', 'columns', /line 3 has 1 columns/);
    refused('tag_id,name,category,count\n1,a,3,1\n', 'category', /line 2: category "3" is not 9 \(rating\), 0 \(general\) or 4 \(character\)/);
    refused('tag_id,name,category,count\n1,"a,0,1\n', 'quoting', /line 2: a quoted field is not closed/);
    refused('tag_id,name,category,count\n1,a"b,0,1\n', 'quoting', /line 2: a quote inside an unquoted field/);
    refused('tag_id,name,category,count\n1,,0,1\n', 'name', /line 2: a tag name must be/);
    refused('tag_id,name,category,count\n', 'empty', /lists no tags/);
    refused('tag_id,name,category,count\n1,a,0,1\n2,b,0,1\n', 'tag-count', /lists 2 tags; the limit is 1/, { maxTags: 1 });
    refused('tag_id,name,category,count\n1,a,0,1\n', 'file-size', /is 35 bytes; the limit is 10/, { maxFileBytes: 10 });
    assert.throws(() => parseTagList(Uint8Array.from([0xff, 0xfe]), 'tags.csv'), /tags\.csv: is not UTF-8 text/);
  });
});
