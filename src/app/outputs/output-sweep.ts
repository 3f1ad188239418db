/**
 * Files a job's process wrote but no job records: a temporary file or a finished image left by an inference
 * process killed between writing and reporting, or the images of a history entry whose deletion was cut short by a
 * crash. Only files named for a job (output-writer's JOB_TAGGED_OUTPUT) are candidates, so images the CLI wrote into
 * the same folder are never touched. Run it only while no job is writing: at start, and after a killed process
 * while its job is still the running one.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { JOB_TAGGED_OUTPUT } from './output-writer.ts';

/** Day folders as output-writer names them; uploads and anything else in outputs are left alone. */
const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/;

/** Removes job-tagged files under `outputsDir` whose relative path is not in `recorded`; returns what it removed. */
export async function sweepJobOutputs(outputsDir: string, recorded: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  const days = await readdir(outputsDir, { withFileTypes: true }).catch(() => []);
  for (const day of days) {
    if (!day.isDirectory() || !DAY_FOLDER.test(day.name)) continue;
    for (const entry of await readdir(path.join(outputsDir, day.name), { withFileTypes: true })) {
      const relative = `${day.name}/${entry.name}`;
      if (!entry.isFile() || !JOB_TAGGED_OUTPUT.test(entry.name) || recorded.has(relative)) continue;
      await rm(path.join(outputsDir, relative), { force: true });
      removed.push(relative);
    }
  }
  return removed;
}
