/**
 * Listening and shutting down: the only part of the server that touches the network and the process. Binding a
 * non-loopback address without auth is refused, since everyone who can reach the port would own every job.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { formatCliCommand } from '../app/cli-invocation.ts';
import { buildServer } from './build-server.ts';
import type { ServerOptions } from './server-options.ts';
import type { StudioPort } from './studio-port.ts';
import { FooocusError } from '../engine/index.ts';

export class UnsafeBindError extends FooocusError {
  constructor(readonly host: string, readonly reason: string) {
    super('invalid', `refusing to listen on ${host}: ${reason}`, { field: 'host' });
  }
}

/** Another process (often a studio started earlier) already listens on the port. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    const other = port >= 65535 ? 7866 : port + 1;
    super(
      `port ${port} on ${host} is already in use (a studio started earlier, or another program): stop that one, or ` +
        `choose another port: ${formatCliCommand(`serve --port ${other}`)}`,
    );
  }
}

const CONNECTION_GRACE_MS = 5000;

export interface RunningServer {
  app: FastifyInstance;
  /** `http://host:port` as bound. */
  url: string;
  /**
   * Closes the HTTP server (ending event streams; connections still busy after 5 s are cut), then the studio
   * behind the port. Safe to call twice.
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  listenPort: number;
  /** Stop on SIGINT and SIGTERM (default true). */
  handleSignals?: boolean;
  /** Where shutdown says what it is waiting for (the connections it lets finish, the ones it cuts). */
  log?: (line: string) => void;
}

function countConnections(app: FastifyInstance): Promise<number> {
  return new Promise((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

export async function startServer(port: StudioPort, options: ServerOptions, start: StartOptions): Promise<RunningServer> {
  if (!isLoopbackHost(options.host) && options.auth === null) {
    throw new UnsafeBindError(options.host, 'not a loopback address and no auth is configured (add users or tokens)');
  }
  const app = await buildServer(port, options);
  try {
    await app.listen({ host: options.host, port: start.listenPort });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(options.host, start.listenPort);
    throw error;
  }
  const address = app.server.address();
  const boundPort = address !== null && typeof address === 'object' ? address.port : start.listenPort;
  const hostText = isIP(options.host) === 6 ? `[${options.host}]` : options.host;

  let stopping: Promise<void> | undefined;
  const log = start.log ?? (() => undefined);
  const onSignal = (signal: NodeJS.Signals): void => {
    app.log.info({ signal }, 'shutting down');
    log(`${signal}: shutting down`);
    void stop().catch((error: unknown) => app.log.error({ err: error }, 'shutdown failed'));
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // New connections are refused at once; a client still downloading or uploading gets a few seconds.
      const open = await countConnections(app);
      log(`stopping: new connections refused${open > 0 ? `; ${open} open connection${open === 1 ? '' : 's'} may finish for up to ${CONNECTION_GRACE_MS / 1000} s` : ''}`);
      const force = setTimeout(() => {
        void countConnections(app).then((left) => left > 0 && log(`stopping: cutting ${left} connection${left === 1 ? '' : 's'} still open after ${CONNECTION_GRACE_MS / 1000} s`));
        app.server.closeAllConnections();
      }, CONNECTION_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
      await port.close();
    })();
    return stopping;
  };
  if (start.handleSignals ?? true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { app, url: `http://${hostText}:${boundPort}`, stop };
}
