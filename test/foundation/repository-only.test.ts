import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

function listSources(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js|cjs|mjs)$/.test(f) && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(dir, f));
}

describe('the repository is self-contained', () => {
  it('no test, benchmark, script or source reads a folder beside the checkout', () => {
    // A path that climbs out of the checkout only works on a machine that has that folder; CI and users do not.
    const outside = /['"`]\.\.['"`],\s*['"`]\.\.['"`],\s*['"`]\.\.['"`],\s*['"`]\.\.['"`]|\.\.\/\.\.\/\.\.\/\.\.\/|['"`]\.\.\/shared\b|['"`]shared['"`],\s*['"`]data['"`]/;
    const offenders = ['test', 'bench', 'scripts', 'src']
      .flatMap(listSources)
      .filter((file) => outside.test(readFileSync(path.join(repoRoot, file), 'utf8')));
    assert.deepEqual(offenders, []);
  });
});
