/**
 * The image route serves only real files inside the outputs directory, of the three image types, under a strict
 * id pattern. Traversal payloads never reach the port; paths the port answers are checked again on disk.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createFixture, HOST, type Fixture } from './server-fixture.ts';

const SECRET = 'TOP-SECRET root:x:0:0';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000020000000308060000009d6e8e24', 'hex'), Buffer.from('pixels')]);

const TRAVERSALS = [
  '..%2F..%2Fetc%2Fpasswd',
  '..%2f..%2f..%2fsecret.txt',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%252e%252e%252fetc%252fpasswd',
  '..%252f..%252fsecret.txt',
  '..%5C..%5Cetc%5Cpasswd',
  '..%5csecret.txt',
  '%2Fetc%2Fpasswd',
  '%2F%2Fetc%2Fpasswd',
  'C%3A%5CWindows%5Cwin.ini',
  'file%3A%2F%2F%2Fetc%2Fpasswd',
  'okimage%00',
  'okimage%00.png',
  '%00',
  '%C0%AE%C0%AE%2Fsecret.txt',
  '%c0%2e%c0%2e%c0%af',
  '%E2%80%A4%E2%80%A4%2Fsecret.txt',
  '%EF%BC%8E%EF%BC%8E%EF%BC%8Fsecret.txt',
  '%E2%88%95etc%E2%88%95passwd',
  '..',
  '.',
  '...',
  '%2e%2e',
  '....%2F%2F....%2F%2Fsecret.txt',
  'secret.txt',
  'ok.png',
  '~root',
  `${'a'.repeat(65)}`,
  '%20okimage',
];

describe('image route', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
    await writeFile(path.join(f.root, 'secret.txt'), SECRET);
    await writeFile(path.join(f.root, 'outside.png'), Buffer.concat([PNG, Buffer.from(SECRET)]));
    await writeFile(path.join(f.outputsDir, 'ok.png'), PNG);
    await writeFile(path.join(f.outputsDir, 'page.html'), `<script>alert(1)</script>${SECRET}`);
    await writeFile(path.join(f.outputsDir, 'fake.png'), `<html><script>alert(1)</script>`);
    await mkdir(path.join(f.outputsDir, 'subdir'));
    await symlink(path.join(f.root, 'outside.png'), path.join(f.outputsDir, 'link.png'));
    await symlink(f.root, path.join(f.outputsDir, 'dirlink'));
    await symlink(path.join(f.outputsDir, 'ok.png'), path.join(f.outputsDir, 'inner-link.png'));
    f.studio.addImage('local', 'okimage', 'ok.png');
    f.studio.addImage('local', 'innerlink', 'inner-link.png');
    f.studio.addImage('local', 'symlinked', 'link.png');
    f.studio.addImage('local', 'viaDirLink', 'dirlink/outside.png');
    f.studio.addImage('local', 'absoluteOutside', path.join(f.root, 'outside.png'));
    f.studio.addImage('local', 'dotdot', '../outside.png');
    f.studio.addImage('local', 'outputsRoot', '.');
    f.studio.addImage('local', 'directory', 'subdir');
    f.studio.addImage('local', 'missing', 'missing.png');
    f.studio.addImage('local', 'htmlFile', 'page.html', 'text/html');
    f.studio.addImage('local', 'svgType', 'ok.png', 'image/svg+xml');
    f.studio.addImage('local', 'pngButHtml', 'fake.png', 'image/png');
    f.studio.addImage('local', 'relativePath', 'relative/ok.png');
    f.studio.images.set('relativePath', { owner: 'local', absolutePath: 'ok.png', contentType: 'image/png' });
  });
  after(() => f.close());

  it('serves an image inside outputs with its type and nosniff', async () => {
    const response = await f.app.inject({ url: '/api/v1/images/okimage', headers: { host: HOST } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'image/png');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.ok(response.rawPayload.equals(PNG));
    const viaInnerLink = await f.app.inject({ url: '/api/v1/images/innerlink', headers: { host: HOST } });
    assert.equal(viaInnerLink.statusCode, 200, 'a symlink that stays inside outputs is fine');
  });

  it(`has at least 20 traversal payloads`, () => assert.ok(TRAVERSALS.length >= 20));

  for (const payload of TRAVERSALS) {
    it(`refuses /api/v1/images/${payload} before the port and without reading outside`, async () => {
      const before = f.studio.calls.filter((c) => c.method === 'openImage').length;
      const response = await f.app.inject({ url: `/api/v1/images/${payload}`, headers: { host: HOST } });
      assert.ok([400, 404].includes(response.statusCode), `${response.statusCode} ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.doesNotMatch(response.body, /TOP-SECRET|root:x|script/);
      assert.equal(f.studio.calls.filter((c) => c.method === 'openImage').length, before, 'the port was asked');
      if (response.statusCode === 400) assert.ok(['imageId', 'url'].includes(response.json().field), response.body);
    });
  }

  for (const raw of ['/api/v1/images/../../../etc/passwd', '/api/v1/images/a/../../secret.txt', '/api/v1/images//etc/passwd', '/api/v1/images/okimage/..%2F..%2Fsecret.txt']) {
    it(`refuses the unencoded path ${raw}`, async () => {
      const response = await f.app.inject({ url: raw, headers: { host: HOST } });
      assert.ok([400, 404].includes(response.statusCode), String(response.statusCode));
      assert.doesNotMatch(response.body, /TOP-SECRET|root:x/);
    });
  }

  for (const id of ['symlinked', 'viaDirLink', 'absoluteOutside', 'dotdot', 'outputsRoot', 'directory', 'missing', 'htmlFile', 'svgType', 'pngButHtml', 'relativePath']) {
    it(`refuses the port's answer for ${id} with 404 and logs why`, async () => {
      const response = await f.app.inject({ url: `/api/v1/images/${id}`, headers: { host: HOST } });
      assert.equal(response.statusCode, 404, response.body);
      assert.deepEqual(response.json(), { error: 'not_found', message: 'image not found' });
      assert.ok(f.logs.some((line) => line.msg === 'image refused' && line.imageId === id));
    });
  }
});
