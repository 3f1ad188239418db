import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { applyStyles, pickRandomStyle } from '../../../src/app/creative/apply-styles.ts';
import { InvalidDataFileError, UnknownStyleError } from '../../../src/app/creative/creative-errors.ts';
import { loadStyleLibrary, type StyleEntry, type StyleLibrary } from '../../../src/app/creative/style-library.ts';
import { EXPANSION_STYLE_NAME, RANDOM_STYLE_NAME } from '../../../src/app/creative/style-names.ts';

const builtinDir = path.resolve(import.meta.dirname, '..', '..', '..', 'data', 'styles');
const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-styles-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (files: Record<string, string>): string => {
  const dir = mkdtempSync(path.join(root, `d${counter++}-`));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
};

function makeLibrary(styles: { name: string; prompt: string; negative: string }[]): StyleLibrary {
  return new Map(styles.map((s): [string, StyleEntry] => [s.name, { ...s, source: 'builtin', file: 'test.json' }]));
}

const library = makeLibrary([
  { name: 'Wrap', prompt: 'oil painting of {prompt}, brushwork', negative: 'photo' },
  { name: 'Wrap Two', prompt: '{prompt}, golden light', negative: 'flat light' },
  { name: 'Suffix Only', prompt: 'film grain, muted', negative: 'digital' },
  { name: 'Two Lines', prompt: 'poster of {prompt}\nbold type', negative: 'blurry\nnoisy' },
  { name: 'No Negative', prompt: 'ink of {prompt}', negative: '' },
]);

describe('applyStyles', () => {
  const cases: { label: string; prompt: string; negative: string; styles: string[]; positive: string[]; negativeParts: string[] }[] = [
    { label: 'no styles: the prompt alone', prompt: 'a cat', negative: 'dogs', styles: [], positive: ['a cat'], negativeParts: ['dogs'] },
    {
      label: 'a {prompt} style replaces the prompt; style negative before the user negative',
      prompt: 'a cat',
      negative: 'dogs',
      styles: ['Wrap'],
      positive: ['oil painting of a cat, brushwork'],
      negativeParts: ['photo', 'dogs'],
    },
    {
      label: 'two {prompt} styles: two parts, no raw prompt',
      prompt: 'a cat',
      negative: '',
      styles: ['Wrap', 'Wrap Two'],
      positive: ['oil painting of a cat, brushwork', 'a cat, golden light'],
      negativeParts: ['photo', 'flat light'],
    },
    {
      label: 'no selected style consumes {prompt}: raw prompt goes first',
      prompt: 'a cat',
      negative: '',
      styles: ['Suffix Only'],
      positive: ['a cat', 'film grain, muted'],
      negativeParts: ['digital'],
    },
    {
      label: 'one {prompt} style among others: no raw prompt part',
      prompt: 'a cat',
      negative: '',
      styles: ['Suffix Only', 'Wrap'],
      positive: ['film grain, muted', 'oil painting of a cat, brushwork'],
      negativeParts: ['digital', 'photo'],
    },
    {
      label: 'extra prompt lines are separate parts after the styles',
      prompt: 'a cat\n\n  sitting on a wall  \nat dusk',
      negative: 'dogs\nbirds',
      styles: ['Wrap'],
      positive: ['oil painting of a cat, brushwork', 'sitting on a wall', 'at dusk'],
      negativeParts: ['photo', 'dogs', 'birds'],
    },
    {
      label: 'style template lines become separate parts; empty parts dropped',
      prompt: 'a cat',
      negative: '',
      styles: ['Two Lines', 'No Negative'],
      positive: ['poster of a cat', 'bold type', 'ink of a cat'],
      negativeParts: ['blurry', 'noisy'],
    },
    {
      label: 'the expansion toggle is not a style',
      prompt: 'a cat',
      negative: '',
      styles: [EXPANSION_STYLE_NAME, 'Wrap Two'],
      positive: ['a cat, golden light'],
      negativeParts: ['flat light'],
    },
    { label: 'empty prompt and negative: one empty part each', prompt: '', negative: '', styles: [], positive: [''], negativeParts: [''] },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const out = applyStyles({ prompt: c.prompt, negative: c.negative, styleNames: c.styles, library, seed: 1n, imageIndex: 0 });
      assert.deepEqual(out.positiveParts, c.positive);
      assert.deepEqual(out.negativeParts, c.negativeParts);
    });
  }

  it('refuses an unknown style by name', () => {
    assert.throws(
      () => applyStyles({ prompt: 'x', negative: '', styleNames: ['Nope'], library, seed: 0n, imageIndex: 0 }),
      (err: unknown) => err instanceof UnknownStyleError && err.style === 'Nope',
    );
  });

  it('resolves Random Style from the image seed: same seed same style, seeds spread over the library', () => {
    const run = (seed: bigint, imageIndex = 0) =>
      applyStyles({ prompt: 'a cat', negative: '', styleNames: [RANDOM_STYLE_NAME], library, seed, imageIndex }).appliedStyles[0];
    assert.equal(run(42n), run(42n));
    assert.equal(run(41n, 1), run(42n, 0), 'image 1 of seed 41 is image 0 of seed 42');
    const picked = new Set(Array.from({ length: 40 }, (_, i) => run(BigInt(i))));
    assert.ok(picked.size >= 4, `40 seeds picked only ${[...picked].join(', ')}`);
    const out = applyStyles({ prompt: 'a cat', negative: '', styleNames: [RANDOM_STYLE_NAME], library, seed: 42n, imageIndex: 0 });
    assert.equal(out.appliedStyles[0], pickRandomStyle(library, 42n, 0));
    assert.ok(library.has(out.appliedStyles[0] as string));
  });
});

describe('built-in styles', () => {
  it('load, are at least 120, uniquely named, each with {prompt} and a negative', async () => {
    const { styles, problems } = await loadStyleLibrary({ builtinDir });
    assert.deepEqual(problems, []);
    assert.ok(styles.size >= 120, `only ${styles.size} built-in styles`);
    for (const style of styles.values()) {
      assert.ok(style.prompt.includes('{prompt}'), `${style.name} has no {prompt}`);
      assert.equal(style.prompt.split('{prompt}').length, 2, `${style.name} uses {prompt} once`);
      assert.ok(style.negative.length > 0, `${style.name} has no negative`);
      assert.match(style.name, /^[A-Z0-9][A-Za-z0-9 '-]+$/, `${style.name} is a plain English name`);
    }
  });

  it('a built-in file that does not validate is a release bug and throws with file and line', async () => {
    const dir = freshDir({ 'a.json': '[\n  {"name": "A", "prompt": "{prompt}", "negative": ""},\n  {"name": "A", "prompt": "{prompt}", "negative": ""}\n]\n' });
    await assert.rejects(loadStyleLibrary({ builtinDir: dir }), (err: unknown) => err instanceof InvalidDataFileError && /styles\/a\.json: line 3: duplicate/.test(err.message));
  });
});

describe('loadStyleLibrary with a user folder', () => {
  const builtins = freshDir({ 'base.json': JSON.stringify([{ name: 'Base', prompt: 'base {prompt}', negative: 'n' }, { name: 'Keep', prompt: 'k {prompt}', negative: '' }]) });

  it('reports a broken user file by name and line, skips it, and keeps the rest', async () => {
    const user = freshDir({
      '1-broken.json': '[\n  {"name": "Mine", "prompt": "{prompt}"\n  "negative": ""}\n]\n',
      '2-good.json': '[{"name": "Good", "prompt": "good {prompt}", "negative": ""}]',
      '3-bad-entry.json': '[\n  {"name": "Fine", "prompt": "{prompt}", "negative": ""},\n  {"name": "Broken", "prompt": 7, "negative": ""}\n]',
      '4-not-array.json': '{"name": "x"}',
    });
    const { styles, problems } = await loadStyleLibrary({ builtinDir: builtins, userDir: user });
    assert.deepEqual([...styles.keys()], ['Base', 'Keep', 'Good', 'Fine']);
    assert.equal(problems.length, 3);
    assert.deepEqual({ ...problems[0], message: undefined }, { file: '1-broken.json', line: 3, message: undefined });
    assert.match(problems[0]?.message ?? '', /invalid JSON/);
    assert.equal(problems[1]?.file, '3-bad-entry.json');
    assert.equal(problems[1]?.line, 3);
    assert.match(problems[1]?.message ?? '', /style 2: prompt/);
    assert.equal(problems[2]?.file, '4-not-array.json');
  });

  it('a user style replaces a built-in of the same name, and says so', async () => {
    const user = freshDir({ 'mine.json': '[\n  {"name": "Base", "prompt": "my {prompt}", "negative": "mine"}\n]' });
    const { styles, problems } = await loadStyleLibrary({ builtinDir: builtins, userDir: user });
    assert.equal(styles.get('Base')?.prompt, 'my {prompt}');
    assert.equal(styles.get('Base')?.source, 'user');
    assert.deepEqual(problems, [{ file: 'mine.json', line: 2, message: 'style "Base" replaces the built-in style' }]);
  });

  it('reads Fooocus-format files, refuses reserved names and oversized files, and tolerates a missing folder', async () => {
    const user = freshDir({
      'fooocus.json': JSON.stringify([{ name: 'Ported', prompt: 'ported {prompt}', negative_prompt: 'bad' }, { name: 'Only Negative', negative_prompt: 'x' }]),
      'reserved.json': JSON.stringify([{ name: RANDOM_STYLE_NAME, prompt: '{prompt}', negative: '' }]),
      'huge.json': `[${' '.repeat(2000)}]`,
    });
    const { styles, problems } = await loadStyleLibrary({ builtinDir: builtins, userDir: user, maxFileBytes: 1000 });
    assert.deepEqual(styles.get('Ported'), { name: 'Ported', prompt: 'ported {prompt}', negative: 'bad', source: 'user', file: 'fooocus.json' });
    assert.equal(styles.get('Only Negative')?.prompt, '');
    assert.deepEqual(
      problems.map((p) => p.file),
      ['huge.json', 'reserved.json'],
    );
    assert.match(problems[1]?.message ?? '', /reserved/);
    const missing = await loadStyleLibrary({ builtinDir: builtins, userDir: path.join(root, 'does-not-exist') });
    assert.deepEqual(missing.problems, []);
  });
});
