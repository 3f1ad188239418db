/**
 * Static checks over every file under src/ui: no API that parses strings as markup or code, and a page that
 * fits its Content-Security-Policy (no inline script, no inline style, no inline event handlers).
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

  it('finds the UI sources', () => {
    const names = files.map((f) => path.relative(UI, f));
    for (const expected of ['index.html', 'styles.css', 'main.ts', 'dom.ts', 'api-client.ts', 'events.ts', 'state.ts', 'metadata-drop.ts']) {
      assert.ok(names.includes(expected), `${expected} exists`);
    }
    assert.ok(names.some((n) => n.startsWith(`views${path.sep}`)), 'views/ exists');
  });

  for (const [name, pattern] of FORBIDDEN) {
    it(`no file uses ${name}`, () => {
      const offenders = files.filter((file) => pattern.test(readFileSync(file, 'utf8')));
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
    assert.match(scripts[0]![1]!, /src="\.\/main\.js"/);
    assert.equal(scripts[0]![2]!.trim(), '', 'the script element is empty');
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle\s*=/i);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from another origin');
    assert.match(html, /<link rel="stylesheet" href="\.\/styles\.css">/);
  });

  it('styles.css pulls nothing from elsewhere', () => {
    const css = readFileSync(path.join(UI, 'styles.css'), 'utf8');
    assert.doesNotMatch(css, /@import|url\(\s*['"]?(https?:)?\/\//i);
  });
});
