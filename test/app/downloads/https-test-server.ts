/**
 * A throwaway HTTPS server for downloader tests. At start it generates, with the system `openssl`, a CA and a
 * server certificate for `IP:127.0.0.1, IP:::1, DNS:localhost` in a temp directory, listens on 127.0.0.1 port 0,
 * serves the routes the test defines, and records every request so a test can prove a path was never asked for.
 * Everything stays on the loopback interface.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpsTestServer {
  /** `https://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** PEM of the test CA, for `policy.ca`. */
  caCert: string;
  /** PEM of the server (leaf) certificate and of the CA, for computing pins. */
  serverCert: string;
  requests: RecordedRequest[];
  route(path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

/** Creates the CA and a server certificate signed by it; returns their PEMs and the server key. */
async function createCertificates(): Promise<{ caCert: string; serverCert: string; serverKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fooocus-https-test-'));
  try {
    const run = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
    };
    const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run('req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=fooocus-ts test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    run('req', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    await writeFile(
      join(dir, 'server.ext'),
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
    );
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out',
      'server.crt', '-days', '2', '-extfile', 'server.ext');
    const [caCert, serverCert, serverKey] = await Promise.all(
      ['ca.crt', 'server.crt', 'server.key'].map((name) => readFile(join(dir, name), 'utf8')),
    );
    return { caCert: caCert!, serverCert: serverCert!, serverKey: serverKey! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startHttpsTestServer(): Promise<HttpsTestServer> {
  const { caCert, serverCert, serverKey } = await createCertificates();
  const routes = new Map<string, RouteHandler>();
  const requests: RecordedRequest[] = [];
  const server: Server = createHttpsServer({ key: serverKey, cert: serverCert }, (req, res) => {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    const handler = routes.get(path.split('?')[0]!);
    if (handler === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    caCert,
    serverCert,
    requests,
    route: (path, handler) => routes.set(path, handler),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves `body` with Range support (`bytes=N-`), as a well-behaved file server would. */
export function serveWithRanges(body: Buffer): RouteHandler {
  return (req, res) => {
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = match === null ? 0 : Number(match[1]);
    if (match !== null && start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const headers = { 'content-length': String(body.length - start), 'accept-ranges': 'bytes' };
    if (match === null) res.writeHead(200, headers);
    else res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
  };
}

export interface ConnectionCounter {
  port: number;
  /** TCP connections accepted on 127.0.0.1 (and ::1 when that could be bound on the same port). */
  connections(): number;
  close(): Promise<void>;
}

/** A bare TCP listener that only counts connections: proof that a refused URL was never contacted. */
export async function startConnectionCounter(): Promise<ConnectionCounter> {
  let count = 0;
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket): void => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.destroy();
  };
  const v4 = createTcpServer(onConnection);
  await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve));
  const port = (v4.address() as { port: number }).port;
  const servers: TcpServer[] = [v4];
  const v6 = createTcpServer(onConnection);
  const v6Listening = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(port, '::1', () => resolve(true));
  });
  if (v6Listening) servers.push(v6);
  return {
    port,
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
