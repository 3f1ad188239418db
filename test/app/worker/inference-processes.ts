/**
 * Finds the inference processes a test's studio started: their command line names the studio's folders. Linux only
 * (it reads /proc); the tests that use it skip elsewhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Why a test that needs the inference process's pid cannot run here, or false. */
export const skipWithoutProc = existsSync('/proc') ? false : 'needs /proc to find the inference process';

/** The pids of the inference processes started for `dir`. */
export function findInferencePids(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        return cmdline.includes(dir) && cmdline.includes('worker-main');
      } catch {
        return false;
      }
    })
    .map(Number);
}
