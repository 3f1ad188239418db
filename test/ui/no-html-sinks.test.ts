/**
 * Static checks over every file under src/ui and every engine module it imports (the page runs those too): no API
 * that parses strings as markup or code, and a page that fits its Content-Security-Policy (no inline script, no
 * inline style, no inline event handlers).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const UI = path.join(import.meta.dirname, '..', '..', 'src', 'ui');

function uiFiles(dir = UI): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? uiFiles(full) : [full];
  });
}

/** Modules outside src/ui that the page's scripts import, followed transitively. */
function sharedFiles(roots: string[]): string[] {
  const seen = new Set<string>();
  const queue = roots.filter((f) => f.endsWith('.ts'));
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), specifier!);
      if (seen.has(target) || target.startsWith(UI + path.sep)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return [...seen];
}

const FORBIDDEN: [string, RegExp][] = [
  ['innerHTML', /innerHTML/],
  ['outerHTML', /outerHTML/],
  ['insertAdjacentHTML', /insertAdjacentHTML/],
  ['document.write', /document\s*\.\s*write/],
  ['eval(', /\beval\s*\(/],
  ['new Function', /new\s+Function\b/],
  ['setTimeout with a string', /setTimeout\s*\(\s*['"`]/],
  ['createContextualFragment', /createContextualFragment/],
  ['DOMParser', /DOMParser/],
  ['the srcdoc property', /\.srcdoc\b/],
];

describe('src/ui has no markup or code sinks', () => {
  const files = uiFiles();
  const shared = sharedFiles(files);

  it('finds the UI sources, and the engine metadata readers the page shares', () => {
    assert.ok(shared.some((f) => f.endsWith(path.join('engine', 'output', 'generation-metadata.ts'))), 'the shared metadata reader is followed');
    const names = files.map((f) => path.relative(UI, f));
    for (const expected of ['index.html', 'styles.css', 'main.ts', 'dom.ts', 'api-client.ts', 'events.ts', 'state.ts', 'metadata-drop.ts']) {
      assert.ok(names.includes(expected), `${expected} exists`);
    }
    assert.ok(names.some((n) => n.startsWith(`views${path.sep}`)), 'views/ exists');
  });

  for (const [name, pattern] of FORBIDDEN) {
    it(`no file uses ${name}`, () => {
      const offenders = [...files, ...shared].filter((file) => pattern.test(readFileSync(file, 'utf8')));
      assert.deepEqual(offenders.map((f) => path.relative(UI, f)), []);
    });
  }

  it('sets attributes only through dom.ts, which refuses style and on* names', () => {
    const setters = files.filter((file) => /\.setAttribute\s*\(/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(setters.map((f) => path.relative(UI, f)), ['dom.ts']);
    const dom = readFileSync(path.join(UI, 'dom.ts'), 'utf8');
    assert.match(dom, /\/\^on\/i/);
    assert.match(dom, /'style'/);
  });

  it('index.html loads only same-origin files: no inline script, style or handler', () => {
    const html = readFileSync(path.join(UI, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]![1]!, /type="module"/);
    assert.match(scripts[0]![1]!, /src="\.\/ui\/main\.js"/);
    assert.equal(scripts[0]![2]!.trim(), '', 'the script element is empty');
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle\s*=/i);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from another origin');
    assert.match(html, /<link rel="stylesheet" href="\.\/styles\.css">/);
    assert.match(html, /<link rel="icon" href="\.\/favicon\.ico"/);
  });

  it('styles.css pulls nothing from elsewhere', () => {
    const css = readFileSync(path.join(UI, 'styles.css'), 'utf8');
    assert.doesNotMatch(css, /@import|url\(\s*['"]?(https?:)?\/\//i);
  });
});
