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

describe('layer rules (dependency-cruiser)', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the real source tree has no violations', () => {
    const r = cruise(root);
    assert.equal(r.status, 0, r.output);
  });

  const violations: [string, Record<string, string>, string][] = [
    [
      'engine importing app',
      { 'src/engine/model.ts': "import { x } from '../app/jobs.ts';\nexport const y = x;\n", 'src/app/jobs.ts': 'export const x = 1;\n' },
      'engine-is-a-library',
    ],
    [
      'app importing server',
      { 'src/app/jobs.ts': "import { s } from '../server/routes.ts';\nexport const x = s;\n", 'src/server/routes.ts': 'export const s = 1;\n' },
      'app-below-server',
    ],
    [
      'ui importing app',
      { 'src/ui/page.ts': "import { x } from '../app/jobs.ts';\nexport const p = x;\n", 'src/app/jobs.ts': 'export const x = 1;\n' },
      'ui-only-through-http',
    ],
    [
      'engine/models importing a graph builder',
      { 'src/engine/models/load.ts': "import { g } from '../graphs/unet.ts';\nexport const l = g;\n", 'src/engine/graphs/unet.ts': 'export const g = 1;\n' },
      'models-below-graphs-and-lora',
    ],
    [
      'engine/models importing LoRA code',
      { 'src/engine/models/load.ts': "import { p } from '../lora/lora-plan.ts';\nexport const l = p;\n", 'src/engine/lora/lora-plan.ts': 'export const p = 1;\n' },
      'models-below-graphs-and-lora',
    ],
    [
      'server importing cli',
      { 'src/server/main.ts': "import { c } from '../cli/cli.ts';\nexport const m = c;\n", 'src/cli/cli.ts': 'export const c = 1;\n' },
      'server-below-cli',
    ],
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
