import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CertificatePinMismatchError,
  ChecksumMismatchError,
  DownloadInterruptedError,
  DownloadTooLargeError,
  ForbiddenAddressError,
  HostNotAllowedError,
  InsecureUrlError,
  InvalidDownloadRequestError,
  TooManyRedirectsError,
  UntrustedCertificateError,
} from '../../../src/app/downloads/download-errors.ts';
import { downloadFile, type DownloadPolicy, type DownloadRequest } from '../../../src/app/downloads/downloader.ts';
import { computeSpkiPin } from '../../../src/app/downloads/guarded-request.ts';
import {
  serveWithRanges,
  startConnectionCounter,
  startHttpsTestServer,
  type ConnectionCounter,
  type HttpsTestServer,
} from './https-test-server.ts';

const BODY = randomBytes(256 * 1024);
const BODY_SHA256 = createHash('sha256').update(BODY).digest('hex');

let server: HttpsTestServer;
let counter: ConnectionCounter;
let root: string;
let caseNumber = 0;

before(async () => {
  server = await startHttpsTestServer();
  counter = await startConnectionCounter();
  root = await mkdtemp(join(tmpdir(), 'fooocus-downloader-'));
  server.route('/model.bin', serveWithRanges(BODY));
});

after(async () => {
  await server.close();
  await counter.close();
  await rm(root, { recursive: true, force: true });
});

function testPolicy(extra: Partial<DownloadPolicy> = {}): DownloadPolicy {
  return { allowedHosts: ['127.0.0.1'], allowPrivateAddresses: true, ca: server.caCert, timeoutMs: 5_000, ...extra };
}

/** A fresh, empty destination directory per test, so "nothing was written" is a directory listing. */
async function freshDestination(): Promise<{ dir: string; destination: string }> {
  const dir = join(root, `case-${++caseNumber}`);
  await mkdir(dir);
  return { dir, destination: join(dir, 'model.safetensors') };
}

function request(url: string, destination: string, extra: Partial<DownloadRequest> = {}): DownloadRequest {
  return { url, destination, expectedSha256: BODY_SHA256, expectedSize: BODY.length, policy: testPolicy(), ...extra };
}

function requestsFor(path: string): number {
  return server.requests.filter((r) => r.path === path).length;
}

describe('downloadFile: verified, atomic downloads', () => {
  it('downloads the expected bytes, renames only after the hash matches, and reports progress with speed', async () => {
    const { dir, destination } = await freshDestination();
    const progress: Array<[number, number, number]> = [];
    let finalNameSeenDuringTransfer = false;
    const result = await downloadFile(
      request(`${server.origin}/model.bin`, destination, {
        onProgress: (received, total, speed) => {
          progress.push([received, total, speed]);
          if (existsSync(destination)) finalNameSeenDuringTransfer = true;
        },
      }),
    );
    assert.deepEqual(await readFile(destination), BODY);
    assert.equal(result.sha256, BODY_SHA256);
    assert.equal(result.resumedFrom, 0);
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    assert.equal(finalNameSeenDuringTransfer, false);
    assert.ok(progress.length > 0);
    const last = progress.at(-1)!;
    assert.equal(last[0], BODY.length);
    assert.equal(last[1], BODY.length);
    assert.ok(progress.every(([, , speed]) => Number.isFinite(speed) && speed >= 0));
  });

  it('refuses a same-size file with one byte changed: ChecksumMismatchError names both hashes, nothing is kept', async () => {
    const tampered = Buffer.from(BODY);
    tampered[1000] = tampered[1000]! ^ 0xff;
    const tamperedSha256 = createHash('sha256').update(tampered).digest('hex');
    server.route('/tampered.bin', serveWithRanges(tampered));
    const { dir, destination } = await freshDestination();
    const error = await downloadFile(request(`${server.origin}/tampered.bin`, destination)).catch((e: unknown) => e);
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.expected, BODY_SHA256);
    assert.equal(error.found, tamperedSha256);
    assert.match(error.message, new RegExp(BODY_SHA256));
    assert.match(error.message, new RegExp(tamperedSha256));
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses a destination whose directory does not exist, before any request', async () => {
    const before = server.requests.length;
    const destination = join(root, 'missing-dir', 'model.safetensors');
    await assert.rejects(downloadFile(request(`${server.origin}/model.bin`, destination)), InvalidDownloadRequestError);
    assert.equal(server.requests.length, before);
  });

  it('refuses malformed requests (hash, size, redirect limit) before any request', async () => {
    const before = server.requests.length;
    const { dir, destination } = await freshDestination();
    const url = `${server.origin}/model.bin`;
    for (const extra of [
      { expectedSha256: 'abc' },
      { expectedSize: 0 },
      { expectedSize: 1.5 },
      { policy: testPolicy({ maxRedirects: Number.NaN }) },
      { policy: testPolicy({ timeoutMs: -1 }) },
    ]) {
      await assert.rejects(downloadFile(request(url, destination, extra)), InvalidDownloadRequestError);
    }
    assert.equal(server.requests.length, before);
    assert.deepEqual(await readdir(dir), []);
  });

  it('never follows a .part symlink out of the destination directory', async () => {
    const { dir, destination } = await freshDestination();
    const outside = join(root, `outside-${caseNumber}.bin`);
    await writeFile(outside, 'untouched');
    await symlink(outside, `${destination}.part`);
    await assert.rejects(downloadFile(request(`${server.origin}/model.bin`, destination)), InvalidDownloadRequestError);
    assert.equal(await readFile(outside, 'utf8'), 'untouched');
    assert.deepEqual(await readdir(dir), ['model.safetensors.part']);
  });

  it('never appends to a .part that is a hard link to another file', async () => {
    const { destination } = await freshDestination();
    const outside = join(root, `outside-${caseNumber}.bin`);
    await writeFile(outside, 'untouched');
    await link(outside, `${destination}.part`);
    await assert.rejects(downloadFile(request(`${server.origin}/model.bin`, destination)), InvalidDownloadRequestError);
    assert.equal(await readFile(outside, 'utf8'), 'untouched');
  });
});

describe('downloadFile: URL and redirect rules', () => {
  it('refuses an http:// URL before any connection', async () => {
    const { dir, destination } = await freshDestination();
    const url = `http://127.0.0.1:${counter.port}/model.bin`;
    await assert.rejects(downloadFile(request(url, destination)), InsecureUrlError);
    assert.equal(counter.connections(), 0);
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses a redirect from https to http without contacting the http target', async () => {
    server.route('/to-http', (_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${counter.port}/model.bin` }).end();
    });
    const { dir, destination } = await freshDestination();
    await assert.rejects(downloadFile(request(`${server.origin}/to-http`, destination)), InsecureUrlError);
    assert.equal(counter.connections(), 0);
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses a redirect to a host that is not on the allowlist', async () => {
    server.route('/to-elsewhere', (_req, res) => {
      res.writeHead(301, { location: 'https://models.attacker.example/model.bin' }).end();
    });
    const { dir, destination } = await freshDestination();
    const error = await downloadFile(request(`${server.origin}/to-elsewhere`, destination)).catch((e: unknown) => e);
    assert.ok(error instanceof HostNotAllowedError);
    assert.equal(error.host, 'models.attacker.example');
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses a redirect to an allowlisted name that resolves to loopback; the target is never requested', async () => {
    server.route('/never-fetched.bin', serveWithRanges(BODY));
    server.route('/to-localhost', (_req, res) => {
      res.writeHead(307, { location: `https://localhost:${server.port}/never-fetched.bin` }).end();
    });
    const { dir, destination } = await freshDestination();
    const policy = testPolicy({ allowedHosts: ['127.0.0.1', 'localhost'] });
    const error = await downloadFile(request(`${server.origin}/to-localhost`, destination, { policy })).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ForbiddenAddressError);
    assert.equal(error.stage, 'dns');
    assert.equal(error.address, '127.0.0.1');
    assert.equal(requestsFor('/to-localhost'), 1);
    assert.equal(requestsFor('/never-fetched.bin'), 0);
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses a redirect to the cloud metadata address even when private addresses are allowed', async () => {
    server.route('/to-metadata', (_req, res) => {
      res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
    });
    const { destination } = await freshDestination();
    const policy = testPolicy({ allowedHosts: ['127.0.0.1', '169.254.169.254'] });
    const error = await downloadFile(request(`${server.origin}/to-metadata`, destination, { policy })).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ForbiddenAddressError);
    assert.equal(error.stage, 'url');
  });

  it('stops after maxRedirects hops', async () => {
    server.route('/loop', (_req, res) => {
      res.writeHead(302, { location: '/loop' }).end();
    });
    const { dir, destination } = await freshDestination();
    const policy = testPolicy({ maxRedirects: 3 });
    await assert.rejects(downloadFile(request(`${server.origin}/loop`, destination, { policy })), TooManyRedirectsError);
    assert.equal(requestsFor('/loop'), 4);
    assert.deepEqual(await readdir(dir), []);
  });

  it('follows an allowed redirect and re-checks it', async () => {
    server.route('/moved', (_req, res) => {
      res.writeHead(308, { location: '/model.bin' }).end();
    });
    const { destination } = await freshDestination();
    const result = await downloadFile(request(`${server.origin}/moved`, destination));
    assert.equal(result.finalUrl, `${server.origin}/model.bin`);
    assert.deepEqual(await readFile(destination), BODY);
  });
});

describe('downloadFile: certificates', () => {
  it('refuses a server whose certificate is not from a trusted CA (verification cannot be skipped)', async () => {
    const { dir, destination } = await freshDestination();
    const policy = testPolicy({ ca: undefined });
    await assert.rejects(downloadFile(request(`${server.origin}/model.bin`, destination, { policy })), UntrustedCertificateError);
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses a certificate that matches none of the pins for its host', async () => {
    const { dir, destination } = await freshDestination();
    const wrongPin = createHash('sha256').update('some other key').digest('base64');
    const policy = testPolicy({ pins: { '127.0.0.1': [wrongPin] } });
    const error = await downloadFile(request(`${server.origin}/model.bin`, destination, { policy })).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof CertificatePinMismatchError);
    assert.equal(error.host, '127.0.0.1');
    assert.ok(error.found.includes(computeSpkiPin(server.serverCert)));
    assert.deepEqual(await readdir(dir), []);
  });

  it('accepts the right leaf pin, and a pin of the issuing CA', async () => {
    for (const pin of [computeSpkiPin(server.serverCert), `sha256/${computeSpkiPin(server.caCert)}`]) {
      const { destination } = await freshDestination();
      const policy = testPolicy({ pins: { '127.0.0.1': ['bm90IHRoaXMgb25l', pin] } });
      await downloadFile(request(`${server.origin}/model.bin`, destination, { policy }));
      assert.deepEqual(await readFile(destination), BODY);
    }
  });
});

describe('downloadFile: size limits', () => {
  it('refuses a Content-Length above the expected size before reading the body', async () => {
    server.route('/announced-too-large', (_req, res) => {
      res.writeHead(200, { 'content-length': String(BODY.length + 1) }).end(Buffer.concat([BODY, Buffer.from([0])]));
    });
    const { dir, destination } = await freshDestination();
    const error = await downloadFile(request(`${server.origin}/announced-too-large`, destination)).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof DownloadTooLargeError);
    assert.equal(error.announcedOrReceived, BODY.length + 1);
    assert.deepEqual(await readdir(dir), []);
  });

  it('stops a body without Content-Length as soon as it exceeds the expected size', async () => {
    server.route('/endless', (_req, res) => {
      res.writeHead(200); // chunked: the length is not announced
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * BODY.length && !res.destroyed) {
          sent += 16 * 1024;
          if (!res.write(randomBytes(16 * 1024))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const { dir, destination } = await freshDestination();
    const error = await downloadFile(request(`${server.origin}/endless`, destination)).catch((e: unknown) => e);
    assert.ok(error instanceof DownloadTooLargeError);
    assert.ok(error.announcedOrReceived > BODY.length);
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('downloadFile: interruption, resume and abort', () => {
  it('resumes a cut transfer with a Range request and verifies the whole file', async () => {
    server.route('/flaky.bin', (req, res) => {
      if (req.headers.range !== undefined) return serveWithRanges(BODY)(req, res);
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, BODY.length / 2), () => setTimeout(() => req.socket.destroy(), 50));
    });
    const { dir, destination } = await freshDestination();
    const url = `${server.origin}/flaky.bin`;
    const cut = await downloadFile(request(url, destination)).catch((e: unknown) => e);
    assert.ok(cut instanceof DownloadInterruptedError);
    assert.ok(cut.bytesReceived > 0 && cut.bytesReceived <= BODY.length / 2, `got ${cut.bytesReceived}`);
    assert.deepEqual(await readdir(dir), ['model.safetensors.part']);

    const result = await downloadFile(request(url, destination));
    assert.equal(result.resumedFrom, cut.bytesReceived);
    assert.deepEqual(await readFile(destination), BODY);
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const ranged = server.requests.filter((r) => r.path === '/flaky.bin' && r.headers.range !== undefined);
    assert.deepEqual(ranged.map((r) => r.headers.range), [`bytes=${cut.bytesReceived}-`]);
  });

  it('restarts cleanly when the server ignores the Range request (200)', async () => {
    server.route('/no-ranges.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': String(BODY.length) }).end(BODY);
    });
    const { destination } = await freshDestination();
    await writeFile(`${destination}.part`, randomBytes(1000)); // wrong bytes: only a restart can still succeed
    const result = await downloadFile(request(`${server.origin}/no-ranges.bin`, destination));
    assert.deepEqual(await readFile(destination), BODY);
    assert.equal(result.resumedFrom, 1000);
  });

  it('restarts when a 206 does not continue where the part ends', async () => {
    server.route('/bad-range.bin', (req, res) => {
      if (req.headers.range === undefined) return serveWithRanges(BODY)(req, res);
      res.writeHead(206, { 'content-range': `bytes 0-${BODY.length - 1}/${BODY.length}` }).end(BODY);
    });
    const { destination } = await freshDestination();
    await writeFile(`${destination}.part`, BODY.subarray(0, 5000));
    await downloadFile(request(`${server.origin}/bad-range.bin`, destination));
    assert.deepEqual(await readFile(destination), BODY);
    assert.equal(requestsFor('/bad-range.bin'), 2);
  });

  it('hashes resumed bytes too: a corrupted part fails the checksum and is removed', async () => {
    const { dir, destination } = await freshDestination();
    await writeFile(`${destination}.part`, randomBytes(5000));
    await assert.rejects(downloadFile(request(`${server.origin}/model.bin`, destination)), ChecksumMismatchError);
    assert.deepEqual(await readdir(dir), []);
  });

  it('turns an idle connection into a resumable interruption after timeoutMs', async () => {
    server.route('/stall.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 1000));
    });
    const { dir, destination } = await freshDestination();
    const policy = testPolicy({ timeoutMs: 300 });
    const error = await downloadFile(request(`${server.origin}/stall.bin`, destination, { policy })).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof DownloadInterruptedError, String(error));
    assert.equal(error.bytesReceived, 1000);
    assert.deepEqual(await readdir(dir), ['model.safetensors.part']);
  });

  it('aborts through the signal, keeping the .part and writing no final file', async () => {
    server.route('/slow.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 64 * 1024)); // then nothing: only the abort ends this download
    });
    const { dir, destination } = await freshDestination();
    const controller = new AbortController();
    const error = await downloadFile(
      request(`${server.origin}/slow.bin`, destination, {
        signal: controller.signal,
        onProgress: (received) => {
          if (received > 0) controller.abort();
        },
      }),
    ).catch((e: unknown) => e);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'AbortError');
    assert.deepEqual(await readdir(dir), ['model.safetensors.part']);
  });
});
