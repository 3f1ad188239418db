/**
 * The built page as the server serves it: built into a temporary folder (scripts/build-ui.ts, what `npm run
 * build:ui` runs), every module the page imports, the engine's shared metadata readers included, is reachable
 * from index.html under its own path with a JavaScript type, the favicon is our ICO, and paths outside the built
 * files are plain 404s.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodePng } from '../../src/engine/output/png.ts';
import { buildUi } from '../../scripts/build-ui.ts';
import { createFixture, HOST, type Fixture } from './server-fixture.ts';

describe('the built page, served', { timeout: 120_000 }, () => {
  let dir: string;
  let f: Fixture;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fooocus-ui-build-'));
    await buildUi(dir);
    f = await createFixture({ uiDir: dir });
  });
  after(async () => {
    await f?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const get = (url: string) => f.app.inject({ url, headers: { host: HOST } });

  it('serves every module the page imports, following index.html, the shared engine modules included', async () => {
    const index = await get('/');
    assert.equal(index.statusCode, 200);
    assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
    const entry = /<script type="module" src="\.\/([^"]+)">/.exec(index.body)?.[1];
    assert.equal(entry, 'ui/main.js');
    const seen = new Set<string>();
    const queue = [`/${entry}`];
    while (queue.length > 0) {
      const url = queue.pop()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const response = await get(url);
      assert.equal(response.statusCode, 200, `${url} is served`);
      assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8', `${url} is JavaScript`);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.doesNotMatch(response.body, /from ['"]node:|require\(/, `${url} needs nothing from Node`);
      for (const [, specifier] of response.body.matchAll(/\b(?:from|import)\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        queue.push(new URL(specifier!, `http://page${url}`).pathname);
      }
    }
    assert.ok(seen.has('/engine/output/generation-metadata.js'), 'the page loads the server\'s metadata reader');
    assert.ok(seen.has('/engine/output/fooocus-metadata-scheme.js') && seen.has('/engine/output/a1111-metadata-scheme.js'));
    assert.ok(![...seen].some((url) => /engine\/(pipeline|sampling|runtime)/.test(url)), 'and nothing else of the engine');
  });

  it('answers /favicon.ico with our 32 x 32 icon as image/x-icon', async () => {
    const response = await get('/favicon.ico');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'image/x-icon');
    const body = response.rawPayload;
    assert.deepEqual([...body.subarray(0, 6)], [0, 0, 1, 0, 1, 0], 'an ICO directory with one image');
    const png = decodePng(new Uint8Array(body.subarray(body.readUInt32LE(18))));
    assert.deepEqual([png.width, png.height], [32, 32]);
    assert.deepEqual(body, await readFile(path.join(import.meta.dirname, '..', '..', 'src', 'ui', 'favicon.ico')));
  });

  it('serves no source maps, sources or paths outside the build', async () => {
    assert.equal((await get('/ui/main.js.map')).statusCode, 404);
    assert.equal((await get('/ui/main.ts')).statusCode, 404);
    assert.equal((await get('/engine/output/png.js')).statusCode, 404, 'only what the page imports is built');
    assert.equal((await get('/ui/../../package.json')).statusCode, 404);
  });
});
