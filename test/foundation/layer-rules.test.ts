import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, after } from 'node:test';

const root = path.resolve(import.meta.dirname, '..', '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(depcruise, ['src', '--config', config], { cwd, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** Writes a throwaway tree with the same layout and the given files. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-layers-'));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true } }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** The two files of a tree where `from` imports the one value `to` exports (paths from the tree's root). */
function importOf(from: string, to: string): Record<string, string> {
  const specifier = path.posix.relative(path.posix.dirname(from), to);
  return { [from]: `import { x } from '${specifier.startsWith('.') ? specifier : `./${specifier}`}';\nexport const y = x;\n`, [to]: 'export const x = 1;\n' };
}

describe('layer rules (dependency-cruiser)', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the real source tree has no violations', () => {
    const r = cruise(root);
    assert.equal(r.status, 0, r.output);
  });

  const violations: [string, Record<string, string>, string][] = [
    ['engine importing app', importOf('src/engine/model.ts', 'src/app/jobs.ts'), 'engine-is-a-library'],
    ['app importing server', importOf('src/app/jobs.ts', 'src/server/routes.ts'), 'app-below-server'],
    ['ui importing app', importOf('src/ui/page.ts', 'src/app/jobs.ts'), 'ui-only-through-http'],
    ['engine/models importing a graph builder', importOf('src/engine/models/load.ts', 'src/engine/graphs/unet.ts'), 'models-below-graphs-and-lora'],
    ['engine/models importing LoRA code', importOf('src/engine/models/load.ts', 'src/engine/lora/lora-plan.ts'), 'models-below-graphs-and-lora'],
    ['server importing cli', importOf('src/server/main.ts', 'src/cli/cli.ts'), 'server-below-cli'],
  ];
  for (const [label, files, rule] of violations) {
    it(`fails on ${label}`, () => {
      const dir = tree(files);
      dirs.push(dir);
      const r = cruise(dir);
      assert.notEqual(r.status, 0, `expected a violation:\n${r.output}`);
      assert.match(r.output, new RegExp(rule));
    });
  }
});
