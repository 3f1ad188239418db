import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PromptSyntaxError, WildcardDepthError, WildcardFileError } from '../../../src/app/creative/creative-errors.ts';
import { extractLoraTokens } from '../../../src/app/creative/lora-tokens.ts';
import { createDirectoryWildcardReader, createMemoryWildcardReader } from '../../../src/app/creative/wildcard-reader.ts';
import { applyArrays, expandPromptSyntax, expandWildcards } from '../../../src/app/creative/wildcards.ts';

const reader = createMemoryWildcardReader({
  'color.txt': '# colours we like\nred\n\n  green  \nblue\n',
  'animal.txt': 'a __color__ fox\na __size__ owl',
  'size.txt': 'tiny\nhuge',
  'scene/forest.txt': 'pine forest\nbirch grove',
  'loop.txt': 'again __loop__',
  'a.txt': '__b__',
  'b.txt': '__a__',
  'empty.txt': '# nothing here\n\n',
  'deep1.txt': '__deep2__',
  'deep2.txt': '__deep3__',
  'deep3.txt': 'bottom',
});
const opts = (seed: bigint, imageIndex = 0) => ({ reader, seed, imageIndex });
const syntaxError = (token: string) => (err: unknown) => err instanceof PromptSyntaxError && err.token === token;

describe('expandWildcards', () => {
  it('picks a trimmed, non-comment line, the same for the same image seed', () => {
    const seen = new Set<string>();
    for (let seed = 0n; seed < 30n; seed++) {
      const out = expandWildcards('a __color__ car', opts(seed));
      assert.equal(out, expandWildcards('a __color__ car', opts(seed)));
      if (seed > 0n) assert.equal(out, expandWildcards('a __color__ car', opts(seed - 1n, 1)), 'image 1 of seed - 1 is image 0 of seed');
      seen.add(out);
    }
    assert.deepEqual([...seen].sort(), ['a blue car', 'a green car', 'a red car']);
  });

  it('expands nested wildcards and subfolder names', () => {
    const out = expandWildcards('__animal__ in a __scene/forest__', opts(7n));
    assert.match(out, /^a (red|green|blue|tiny|huge) (fox|owl) in a (pine forest|birch grove)$/);
    assert.ok(!out.includes('__'));
  });

  it('reads lines in order with order: sequential (imageIndex % count)', () => {
    const picks = [0, 1, 2, 3, 4].map((i) => expandWildcards('__color__', { reader, seed: 99n, imageIndex: i, order: 'sequential' }));
    assert.deepEqual(picks, ['red', 'green', 'blue', 'red', 'green']);
  });

  it('stops runaway nesting with an error naming the chain', () => {
    assert.throws(
      () => expandWildcards('__loop__', opts(1n)),
      (err: unknown) => err instanceof WildcardDepthError && err.chain.length === 9 && err.chain.every((n) => n === 'loop') && /__loop__ -> __loop__/.test(err.message),
    );
    assert.throws(() => expandWildcards('__a__', opts(1n)), (err: unknown) => err instanceof WildcardDepthError && /__a__ -> __b__ -> __a__/.test(err.message));
    assert.equal(expandWildcards('__deep1__', { ...opts(1n), maxDepth: 3 }), 'bottom');
    assert.throws(() => expandWildcards('__deep1__', { ...opts(1n), maxDepth: 2 }), (err: unknown) => err instanceof WildcardDepthError && err.chain.join('>') === 'deep1>deep2>deep3');
  });

  const refused: { label: string; text: string; token: string }[] = [
    { label: 'unknown name', text: 'a __nope__ cat', token: '__nope__' },
    { label: 'file without usable lines', text: '__empty__', token: '__empty__' },
    { label: 'parent traversal', text: '__../x__', token: '__../x__' },
    { label: 'absolute path', text: '__/etc/passwd__', token: '__/etc/passwd__' },
    { label: 'traversal inside a path', text: '__scene/../../x__', token: '__scene/../../x__' },
    { label: 'dots and spaces', text: '__my file.txt__', token: '__my file.txt__' },
  ];
  for (const r of refused) {
    it(`refuses ${r.label} with a PromptSyntaxError naming the token`, () => {
      assert.throws(() => expandWildcards(r.text, opts(1n)), syntaxError(r.token));
    });
  }

  it('refuses an unbalanced __', () => {
    assert.throws(() => expandWildcards('a __color cat', opts(1n)), (err: unknown) => err instanceof PromptSyntaxError && /unbalanced "__"/.test(err.message));
  });

  it('enforces the size cap of the reader', () => {
    const big = createMemoryWildcardReader({ 'big.txt': 'x\n'.repeat(100) });
    assert.throws(() => expandWildcards('__big__', { reader: big, seed: 0n, imageIndex: 0, maxFileBytes: 50 }), WildcardFileError);
  });
});

describe('createDirectoryWildcardReader', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-wildcards-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'wildcards');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'sub', 'mood.txt'), 'calm\n');
  writeFileSync(path.join(root, 'secret.txt'), 'secret\n');
  symlinkSync(path.join(root, 'secret.txt'), path.join(dir, 'escape.txt'));

  it('reads files under the folder, returns undefined for missing ones, refuses symlinks that leave it', () => {
    const fsReader = createDirectoryWildcardReader(dir);
    assert.equal(expandWildcards('__sub/mood__', { reader: fsReader, seed: 0n, imageIndex: 0 }), 'calm');
    assert.equal(fsReader.read('missing.txt', 1000), undefined);
    assert.throws(() => fsReader.read('escape.txt', 1000), (err: unknown) => err instanceof WildcardFileError && /outside/.test(err.message));
    assert.throws(() => fsReader.read('sub/mood.txt', 2), (err: unknown) => err instanceof WildcardFileError && /limit is 2/.test(err.message));
  });
});

describe('applyArrays', () => {
  it('picks by image index, wrapping around', () => {
    assert.deepEqual([0, 1, 2, 3].map((i) => applyArrays('a [[red, green , blue]] car', i)), ['a red car', 'a green car', 'a blue car', 'a red car']);
  });

  it('steps through every combination of several arrays, the first changing fastest', () => {
    const out = [0, 1, 2, 3, 4, 5, 6].map((i) => applyArrays('[[a, b]]-[[x, y, z]]', i));
    assert.deepEqual(out, ['a-x', 'b-x', 'a-y', 'b-y', 'a-z', 'b-z', 'a-x']);
  });

  const bad: { text: string; rule: RegExp }[] = [
    { text: 'a [[red, blue car', rule: /unbalanced "\[\["/ },
    { text: 'a red]] car', rule: /unbalanced "\]\]"/ },
    { text: '[[a, [[b]]', rule: /nested/ },
    { text: '[[ , ]]', rule: /at least one option/ },
  ];
  for (const b of bad) {
    it(`refuses ${JSON.stringify(b.text)}`, () => {
      assert.throws(() => applyArrays(b.text, 0), (err: unknown) => err instanceof PromptSyntaxError && b.rule.test(err.message));
    });
  }
});

describe('extractLoraTokens', () => {
  const cases: { text: string; clean: string; loras: { name: string; weight: number }[] }[] = [
    { text: 'a cat <lora:film_grain:0.6>', clean: 'a cat', loras: [{ name: 'film_grain', weight: 0.6 }] },
    { text: '<lora:detail> a cat, <LORA:ink.safetensors:-1.5>, at night', clean: 'a cat, at night', loras: [{ name: 'detail', weight: 1 }, { name: 'ink.safetensors', weight: -1.5 }] },
    { text: 'line one <lora:a:2>\nline two', clean: 'line one\nline two', loras: [{ name: 'a', weight: 2 }] },
    { text: 'no tokens here', clean: 'no tokens here', loras: [] },
  ];
  for (const c of cases) {
    it(`parses ${JSON.stringify(c.text)}`, () => {
      assert.deepEqual(extractLoraTokens(c.text), { text: c.clean, loras: c.loras });
    });
  }

  const refused = ['<lora:a:2.5>', '<lora:a:-3>', '<lora:a:heavy>', '<lora::1>'];
  for (const token of refused) {
    it(`refuses ${token} naming it`, () => {
      assert.throws(() => extractLoraTokens(`a cat ${token}`), syntaxError(token));
    });
  }

  it('refuses an unclosed token', () => {
    assert.throws(() => extractLoraTokens('a cat <lora:x:1'), (err: unknown) => err instanceof PromptSyntaxError && /unclosed/.test(err.message));
  });
});

describe('expandPromptSyntax', () => {
  it('runs wildcards, then arrays, then LoRA tokens, so a wildcard line may carry either', () => {
    const r = createMemoryWildcardReader({ 'look.txt': '[[ink, chalk]] <lora:grain:0.5>' });
    assert.deepEqual(expandPromptSyntax('a cat, __look__', { reader: r, seed: 0n, imageIndex: 1 }), { text: 'a cat, chalk', loras: [{ name: 'grain', weight: 0.5 }] });
  });
});
