/**
 * Builds the browser page into a folder (default dist/ui): the TypeScript of src/ui and the engine's shared
 * metadata readers it imports (tsconfig.ui.json keeps their src/ layout, so the page loads `ui/main.js` and
 * `engine/output/*.js` from the same origin), then the static files. The folder is emptied first, so a file
 * removed from the sources is never served from an old build.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Files served as they are, beside the compiled scripts. */
export const STATIC_FILES = ['index.html', 'styles.css', 'favicon.ico'];

export async function buildUi(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.ui.json'), '--outDir', outDir], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.ui.json failed:\n${result.stdout}${result.stderr}`);
  await mkdir(outDir, { recursive: true });
  for (const file of STATIC_FILES) await copyFile(path.join(ROOT, 'src', 'ui', file), path.join(outDir, file));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = path.resolve(ROOT, process.argv[2] ?? 'dist/ui');
  try {
    await buildUi(outDir);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
