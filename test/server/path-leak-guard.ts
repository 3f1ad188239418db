/**
 * API responses never name the server's folders: models by store name, fields by name, absolute paths only in the
 * server log. Every test server built over a temporary data folder installs this guard, so each response of the
 * suite (bodies and event streams alike, as inject() collects them) is checked, and a leak fails the test that
 * made the request.
 */
import { AssertionError } from 'node:assert';
import { realpathSync } from 'node:fs';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

/** The folder names to look for: each as given and as its real path (a temp folder may sit behind a symlink). */
function spellingsOf(dirs: readonly string[]): string[] {
  const spellings = new Set<string>();
  for (const dir of dirs) {
    spellings.add(dir);
    try {
      spellings.add(realpathSync(dir));
    } catch {
      // Not created yet: the given spelling is the only one.
    }
  }
  return [...spellings].filter((d) => d.length > 1);
}

/** The first folder `body` names, or null. */
export function findLeakedPath(body: string, dirs: readonly string[]): string | null {
  return spellingsOf(dirs).find((dir) => body.includes(dir)) ?? null;
}

/** Wraps `app.inject` so every response is checked for `dirs` (the data, models, outputs and cache folders). */
export function guardAgainstPathLeaks(app: FastifyInstance, dirs: readonly string[]): void {
  const inject = app.inject.bind(app) as (options: InjectOptions | string) => Promise<LightMyRequestResponse>;
  const guarded = async (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const response = await inject(options);
    const leaked = findLeakedPath(response.body, dirs);
    if (leaked !== null) {
      const url = typeof options === 'string' ? options : String(options.url ?? options.path ?? '');
      throw new AssertionError({ message: `response to ${url} (${response.statusCode}) names the server folder ${leaked}: ${response.body.slice(0, 500)}` });
    }
    return response;
  };
  Object.assign(app, { inject: guarded });
}
