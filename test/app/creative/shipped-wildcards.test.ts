import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadCreativeData, SHIPPED_DATA_DIR } from '../../../src/app/creative/creative-data.ts';
import { PromptSyntaxError } from '../../../src/app/creative/creative-errors.ts';
import { expandPromptSyntax, expandWildcards } from '../../../src/app/creative/wildcards.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';

const shippedDir = path.join(SHIPPED_DATA_DIR, 'wildcards');
const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-shipped-wildcards-'));
after(() => rmSync(root, { recursive: true, force: true }));

function usableLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Creative data over a fresh models folder, with `userFiles` in the user's wildcards folder beside it. */
async function loadWith(userFiles: Record<string, string>): Promise<Awaited<ReturnType<typeof loadCreativeData>>> {
  const base = mkdtempSync(path.join(root, 'home-'));
  mkdirSync(path.join(base, 'models'));
  mkdirSync(path.join(base, 'wildcards'));
  for (const [name, text] of Object.entries(userFiles)) writeFileSync(path.join(base, 'wildcards', name), text);
  return loadCreativeData({ store: await openModelStore(path.join(base, 'models')), catalog: null });
}

describe('the shipped wildcards', () => {
  it('cover colours, animals, lighting, art media and places, a few hundred distinct lines', () => {
    const files = readdirSync(shippedDir).sort();
    assert.deepEqual(files, ['animal.txt', 'art_medium.txt', 'color.txt', 'lighting.txt', 'place.txt']);
    let total = 0;
    for (const file of files) {
      const lines = usableLines(path.join(shippedDir, file));
      assert.ok(lines.length >= 40, `${file}: ${lines.length} lines`);
      assert.equal(new Set(lines).size, lines.length, `${file} has no duplicate lines`);
      assert.ok(lines.every((l) => !l.includes('__') && !l.includes('[[') && !l.includes('<lora:')), `${file} holds plain text only`);
      total += lines.length;
    }
    assert.ok(total >= 300, `${total} lines`);
  });

  it("make the README's example prompt work with no wildcards folder of the user's", async () => {
    const readme = readFileSync(path.resolve(SHIPPED_DATA_DIR, '..', 'README.md'), 'utf8');
    const example = /generate "(a __animal__ in \[\[snow, rain\]\])"/.exec(readme)?.[1];
    assert.equal(example, 'a __animal__ in [[snow, rain]]');
    const base = mkdtempSync(path.join(root, 'bare-'));
    const data = await loadCreativeData({ store: await openModelStore(path.join(base, 'models')), catalog: null });
    const animals = usableLines(path.join(shippedDir, 'animal.txt'));
    for (const imageIndex of [0, 1]) {
      const { text } = expandPromptSyntax(example!, { reader: data.context.wildcards, seed: 7n, imageIndex });
      const match = /^a (.+) in (snow|rain)$/.exec(text);
      assert.ok(match !== null && animals.includes(match[1]!), text);
      assert.equal(match[2], imageIndex === 0 ? 'snow' : 'rain');
    }
  });

  it("are replaced by the user's file of the same name, and the others stay available", async () => {
    const data = await loadWith({ 'animal.txt': 'axolotl\n' });
    assert.equal(expandWildcards('__animal__', { reader: data.context.wildcards, seed: 1n, imageIndex: 0 }), 'axolotl');
    assert.ok(usableLines(path.join(shippedDir, 'color.txt')).includes(expandWildcards('__color__', { reader: data.context.wildcards, seed: 1n, imageIndex: 0 })));
  });

  it('an unknown wildcard names both folders it looked in, without an absolute path', async () => {
    const data = await loadWith({});
    assert.throws(
      () => expandWildcards('a __unicorn__', { reader: data.context.wildcards, seed: 1n, imageIndex: 0 }),
      (err: unknown) => {
        assert.ok(err instanceof PromptSyntaxError);
        assert.match(err.message, /unknown wildcard: no file unicorn\.txt in wildcards\/ beside the models folder or the application's data\/wildcards$/);
        assert.ok(!err.message.includes(root) && !err.message.includes(SHIPPED_DATA_DIR), err.message);
        return true;
      },
    );
  });
});
