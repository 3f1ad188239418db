import assert from 'node:assert/strict';
import dns from 'node:dns';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkDownloadUrl,
  classifyAddress,
  isForbiddenAddress,
  normaliseHost,
} from '../../../src/app/downloads/address-policy.ts';
import {
  ForbiddenAddressError,
  HostNotAllowedError,
  InsecureUrlError,
} from '../../../src/app/downloads/download-errors.ts';
import { downloadFile } from '../../../src/app/downloads/downloader.ts';
import { startConnectionCounter, type ConnectionCounter } from './https-test-server.ts';

type Refusal = typeof ForbiddenAddressError | typeof HostNotAllowedError | typeof InsecureUrlError;

/**
 * SSRF forms, each with the port of a local listener appended so that, were a check to fail, the connection would
 * land on the listener. `allowlisted` puts the URL's own host on the allowlist, so the address rule has to refuse it.
 */
const SSRF_CASES: ReadonlyArray<{ url: string; allowlisted: boolean; refusal: Refusal }> = [
  { url: 'https://127.0.0.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://localhost:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://localhost.:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[::1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[::ffff:127.0.0.1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[::ffff:7f00:1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[64:ff9b::7f00:1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[2002:7f00:1::]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://2130706433:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://0177.0.0.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://0x7f000001:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://0x7f.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://127.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://127.0.0.2:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://0.0.0.0:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://0:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[::]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://169.254.169.254:PORT/latest/meta-data/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[::ffff:169.254.169.254]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://10.0.0.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://172.16.0.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://192.168.1.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://100.64.0.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://255.255.255.255:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://224.0.0.1:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[fe80::1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[fd00::1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://[ff02::1]:PORT/', allowlisted: true, refusal: ForbiddenAddressError },
  { url: 'https://127.0.0.1.nip.io:PORT/', allowlisted: false, refusal: HostNotAllowedError },
  { url: 'https://localtest.me:PORT/', allowlisted: false, refusal: HostNotAllowedError },
  { url: 'https://127.0.0.1:PORT/', allowlisted: false, refusal: HostNotAllowedError },
  { url: 'https://allowed.example.attacker.example:PORT/', allowlisted: false, refusal: HostNotAllowedError },
  { url: 'https://user:pass@allowed.example:PORT/', allowlisted: true, refusal: InsecureUrlError },
  { url: 'http://allowed.example:PORT/', allowlisted: true, refusal: InsecureUrlError },
  { url: 'file:///etc/passwd', allowlisted: true, refusal: InsecureUrlError },
  { url: 'ftp://allowed.example:PORT/', allowlisted: true, refusal: InsecureUrlError },
];

let counter: ConnectionCounter;
let dir: string;
const lookedUp: string[] = [];
const realLookup = dns.lookup;

before(async () => {
  counter = await startConnectionCounter();
  dir = await mkdtemp(join(tmpdir(), 'fooocus-ssrf-'));
  // Record every name the downloader resolves, to prove names off the allowlist are never even looked up.
  const recordingLookup = ((hostname: string, ...rest: unknown[]) => {
    lookedUp.push(hostname);
    return (realLookup as (...args: unknown[]) => void)(hostname, ...rest);
  }) as typeof dns.lookup;
  dns.lookup = recordingLookup;
  syncBuiltinESMExports();
});

after(async () => {
  dns.lookup = realLookup;
  syncBuiltinESMExports();
  await counter.close();
  await rm(dir, { recursive: true, force: true });
});

describe('downloadFile refuses SSRF URL forms without contacting anything', () => {
  for (const { url: template, allowlisted, refusal } of SSRF_CASES) {
    it(`${template} -> ${refusal.name}`, async () => {
      const url = template.replace('PORT', String(counter.port));
      const host = normaliseHost(new URL(url).hostname);
      const lookupsBefore = lookedUp.length;
      const error = await downloadFile({
        url,
        destination: join(dir, 'model.safetensors'),
        expectedSha256: 'a'.repeat(64),
        expectedSize: 1024,
        policy: { allowedHosts: allowlisted ? [host, 'allowed.example'] : ['allowed.example'], timeoutMs: 2_000 },
      }).catch((e: unknown) => e);
      assert.ok(error instanceof refusal, `${url}: ${String(error)}`);
      if (error instanceof ForbiddenAddressError) assert.notEqual(error.stage, 'connect');
      if (!allowlisted) assert.equal(lookedUp.length, lookupsBefore, `${host} was resolved`);
      assert.equal(counter.connections(), 0);
      assert.deepEqual(await readdir(dir), []);
    });
  }

  it('covers at least 20 forms', () => {
    assert.ok(SSRF_CASES.length >= 20);
  });

  it('resolved an allowlisted name (localhost) and refused it at the DNS stage', async () => {
    assert.ok(lookedUp.includes('localhost'));
  });

  it('never echoes URL credentials in the error', () => {
    const error = (() => {
      try {
        checkDownloadUrl('https://user:hunter2@allowed.example/', { allowedHosts: ['allowed.example'] });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof InsecureUrlError);
    assert.doesNotMatch(error.message, /hunter2/);
  });
});

describe('isForbiddenAddress', () => {
  const forbidden = [
    '127.0.0.1', '127.255.255.254', '0.0.0.0', '0.1.2.3', '10.1.2.3', '100.64.0.1', '100.127.255.255',
    '169.254.169.254', '172.16.0.1', '172.31.255.255', '192.168.0.1', '192.0.2.1', '198.51.100.7', '203.0.113.9',
    '198.18.0.1', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
    '::', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe',
    '::ffff:0:7f00:1', '::127.0.0.1', '64:ff9b::10.0.0.1', '64:ff9b::7f00:1', '64:ff9b:1::1', '2002:a00:1::1',
    '2002:7f00:1::', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', 'fec0::1',
    '2001:db8::1', '2001::1', '3fff::1', '100::1', 'not an address', '', '1.2.3', '::ffff:1.2.3.256',
  ];
  const allowed = [
    '8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.169.0.1',
    '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::1',
  ];
  for (const ip of forbidden) {
    it(`forbids ${JSON.stringify(ip)}`, () => assert.equal(isForbiddenAddress(ip), true, classifyAddress(ip)));
  }
  for (const ip of allowed) {
    it(`allows ${ip}`, () => assert.equal(isForbiddenAddress(ip), false, classifyAddress(ip)));
  }

  it('with allowPrivateAddresses lets loopback and private through, never link-local or unspecified', () => {
    const options = { allowPrivateAddresses: true };
    assert.equal(isForbiddenAddress('127.0.0.1', options), false);
    assert.equal(isForbiddenAddress('192.168.1.1', options), false);
    assert.equal(isForbiddenAddress('169.254.169.254', options), true);
    assert.equal(isForbiddenAddress('0.0.0.0', options), true);
    assert.equal(isForbiddenAddress('::', options), true);
    assert.equal(isForbiddenAddress('ff02::1', options), true);
  });
});

describe('checkDownloadUrl allowlist matching', () => {
  const policy = { allowedHosts: ['huggingface.co', '*.hf.co', 'Models.Example.'] };

  it('matches exactly, case-insensitively and without a trailing dot', () => {
    assert.equal(checkDownloadUrl('https://huggingface.co/x', policy).host, 'huggingface.co');
    assert.equal(checkDownloadUrl('https://HUGGINGFACE.CO./x', policy).host, 'huggingface.co');
    assert.equal(checkDownloadUrl('https://models.example/x', policy).host, 'models.example');
  });

  it('treats *.domain as subdomains only', () => {
    assert.equal(checkDownloadUrl('https://cdn-lfs.hf.co/x', policy).host, 'cdn-lfs.hf.co');
    assert.equal(checkDownloadUrl('https://a.b.hf.co/x', policy).host, 'a.b.hf.co');
    assert.throws(() => checkDownloadUrl('https://hf.co/x', policy), HostNotAllowedError);
    assert.throws(() => checkDownloadUrl('https://evilhf.co/x', policy), HostNotAllowedError);
  });

  it('refuses look-alike hosts', () => {
    for (const url of [
      'https://huggingface.co.attacker.example/',
      'https://attacker.example/huggingface.co',
      'https://huggingface.co@attacker.example/',
      'https://xn--huggingface-xyz.co/',
    ]) {
      assert.throws(() => checkDownloadUrl(url, policy), (e: unknown) => e instanceof HostNotAllowedError || e instanceof InsecureUrlError, url);
    }
  });

  it('refuses a URL that does not parse', () => {
    assert.throws(() => checkDownloadUrl('not a url', policy), InsecureUrlError);
  });
});
