/** Listening: loopback only without auth, default Host allowlist at the bound port. (A SIGTERM shutdown test is still to be written.) */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { isLoopbackHost, PortInUseError, startServer, UnsafeBindError } from '../../src/server/serve.ts';
import { FakeStudio } from './fake-studio.ts';

function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: host === undefined ? {} : { host } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

describe('startServer', () => {
  it('tells loopback addresses apart', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.com', 'localhost.example.com', '::ffff:10.0.0.1', '']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  for (const host of ['0.0.0.0', '::', '192.168.1.5', 'studio.example.com']) {
    it(`refuses to listen on ${host} without auth`, async () => {
      const studio = new FakeStudio('/tmp');
      await assert.rejects(startServer(studio, { host, auth: null, outputsDir: '/tmp' }, { listenPort: 0, handleSignals: false }), (error: unknown) => {
        assert.ok(error instanceof UnsafeBindError);
        assert.equal(error.host, host);
        assert.match(error.reason, /no auth is configured/);
        return true;
      });
      assert.equal(studio.calls.length, 0);
    });
  }

  it('listens on 0.0.0.0 when auth is configured', async () => {
    const auth = { users: [], tokens: [{ name: 't', tokenHash: createHash('sha256').update('x'.repeat(20)).digest('hex'), owner: 'ops' }] };
    const server = await startServer(new FakeStudio('/tmp'), { host: '0.0.0.0', auth, outputsDir: '/tmp' }, { listenPort: 0, handleSignals: false });
    await server.stop();
  });

  it('answers only its own loopback Host names at the bound port by default', async () => {
    const server = await startServer(new FakeStudio('/tmp'), { host: '127.0.0.1', auth: null, outputsDir: '/tmp' }, { listenPort: 0, handleSignals: false });
    try {
      const port = new URL(server.url).port;
      assert.equal((await get(`${server.url}/api/v1/styles`)).status, 200);
      assert.equal((await get(`${server.url}/api/v1/styles`, `localhost:${port}`)).status, 200);
      assert.equal((await get(`${server.url}/api/v1/styles`, `rebind.example:${port}`)).status, 421);
      assert.equal((await get(`${server.url}/api/v1/styles`, `127.0.0.1:${Number(port) + 1}`)).status, 421);
    } finally {
      await server.stop();
    }
  });

  it('says a busy port is in use and gives the command with another --port', async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const busy = (other.address() as net.AddressInfo).port;
    try {
      const studio = new FakeStudio('/tmp');
      await assert.rejects(startServer(studio, { host: '127.0.0.1', auth: null, outputsDir: '/tmp' }, { listenPort: busy, handleSignals: false }), (error: unknown) => {
        assert.ok(error instanceof PortInUseError);
        assert.equal(error.message, `port ${busy} on 127.0.0.1 is already in use (a studio started earlier, or another program): stop that one, or choose another port: npm run fooocus -- serve --port ${busy + 1}`);
        return true;
      });
      // Nothing stays open: the same server can start on a free port at once.
      const server = await startServer(studio, { host: '127.0.0.1', auth: null, outputsDir: '/tmp' }, { listenPort: 0, handleSignals: false });
      await server.stop();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('says what shutdown waits for: the open connections, and that new ones are refused', async () => {
    const lines: string[] = [];
    const server = await startServer(new FakeStudio('/tmp'), { host: '127.0.0.1', auth: null, outputsDir: '/tmp' }, { listenPort: 0, handleSignals: false, log: (l) => lines.push(l) });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`${server.url}/api/v1/styles`, { agent }, (response) => response.resume().on('end', resolve)).on('error', reject);
    });
    await server.stop();
    agent.destroy();
    assert.deepEqual(lines, ['stopping: new connections refused; 1 open connection may finish for up to 5 s']);
    const idle: string[] = [];
    const quiet = await startServer(new FakeStudio('/tmp'), { host: '127.0.0.1', auth: null, outputsDir: '/tmp' }, { listenPort: 0, handleSignals: false, log: (l) => idle.push(l) });
    await quiet.stop();
    assert.deepEqual(idle, ['stopping: new connections refused']);
  });
});
