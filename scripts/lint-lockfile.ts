/** `npm run lockfile-lint`: checks package-lock.json against scripts/lockfile-rules.ts. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lintLockfile } from './lockfile-rules.ts';

const registry =
  process.env.npm_config_registry ?? execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
const lock: unknown = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const problems = lintLockfile(lock, registry);
const count = Object.keys((lock as { packages?: object }).packages ?? {}).length - 1;
if (problems.length > 0) {
  for (const p of problems) console.error(`lockfile: ${p.entry}: ${p.rule}`);
  console.error(`lockfile-lint: ${problems.length} problem(s) in ${count} packages`);
  process.exit(1);
}
console.log(`lockfile-lint: ${count} packages, all with sha512 integrity, none outside the https registry`);
