/**
 * The browser UI: the files of the built UI directory, read once at start into an allowlist. A request names a
 * file only by its key in that map, so no request path ever reaches the file system.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

async function collect(dir: string, prefix = ''): Promise<Map<string, { type: string; body: Buffer }>> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) for (const [k, v] of await collect(path.join(dir, entry.name), relative)) files.set(k, v);
    else if (entry.isFile() && TYPES[path.extname(entry.name)] !== undefined && !entry.name.endsWith('.map')) {
      files.set(relative, { type: TYPES[path.extname(entry.name)]!, body: await readFile(path.join(dir, entry.name)) });
    }
  }
  return files;
}

/**
 * Serves `uiDir` at `/` (index.html) with each built file at `/<path>`, one route per file found at start (no
 * wildcard route, so unknown paths are plain 404s). Without a built UI, `/` says how to build it.
 */
export async function registerUiRoutes(app: FastifyInstance, uiDir: string | undefined): Promise<void> {
  const files = uiDir === undefined ? new Map<string, { type: string; body: Buffer }>() : await collect(uiDir).catch(() => new Map<string, { type: string; body: Buffer }>());
  const publicRoute = { config: { access: 'public' }, schema: { hide: true } } as const;
  const index = files.get('index.html');
  app.get('/', publicRoute, async (_request, reply) => {
    if (index === undefined) return reply.code(503).type('text/plain; charset=utf-8').send('The web UI is not built. Run `npm run build:ui` (npm start does it), or use the API at /api/docs.');
    return reply.type(index.type).header('cache-control', 'no-cache').send(index.body);
  });
  for (const [name, file] of files) {
    if (name === 'index.html') continue;
    app.get(`/${name}`, publicRoute, async (_request, reply) => reply.type(file.type).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(file.body));
  }
}
