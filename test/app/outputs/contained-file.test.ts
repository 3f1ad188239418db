/**
 * The contained-file reader: only regular, singly linked files whose real path is inside the root are opened;
 * symlinks (to a file or a directory), hard links, FIFOs and directories are refused, and a directory swapped for a
 * link while files are being opened never yields the file outside.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContainedFileError, openContainedFile, readContainedFile } from '../../../src/app/outputs/contained-file.ts';

const INSIDE = 'inside bytes';
const SECRET = 'outside secret';

describe('contained-file reader', () => {
  let dir: string;
  let root: string;
  let outside: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-contained-'));
    root = path.join(dir, 'outputs');
    outside = path.join(dir, 'outside');
    await mkdir(path.join(root, 'uploads', 'owner'), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.png'), SECRET);
    await writeFile(path.join(root, 'uploads', 'owner', 'plain.png'), INSIDE);
    await symlink(path.join(outside, 'secret.png'), path.join(root, 'uploads', 'owner', 'link.png'));
    await symlink(outside, path.join(root, 'uploads', 'elsewhere'));
    await writeFile(path.join(outside, 'hard.png'), SECRET);
    await link(path.join(outside, 'hard.png'), path.join(root, 'uploads', 'owner', 'hard.png'));
    await mkdir(path.join(root, 'uploads', 'owner', 'folder.png'));
    execFileSync('mkfifo', [path.join(root, 'uploads', 'owner', 'fifo.png')]);
    await symlink(path.join(root, 'uploads', 'owner', 'plain.png'), path.join(root, 'uploads', 'owner', 'inner-link.png'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const read = (target: string, exact = false) => readContainedFile(root, target, 1024, { exact });
  const refusal = async (target: string, reason: ContainedFileError['reason'], exact = false) => {
    await assert.rejects(read(target, exact), (error: unknown) => error instanceof ContainedFileError && error.reason === reason, `${target} should be refused as ${reason}`);
  };

  it('reads a plain file inside the root, by relative or absolute path', async () => {
    assert.equal((await read('uploads/owner/plain.png')).toString(), INSIDE);
    assert.equal((await read(path.join(root, 'uploads', 'owner', 'plain.png'))).toString(), INSIDE);
  });

  it('refuses a symlink to a file outside, and a path through a symlinked directory', async () => {
    await refusal('uploads/owner/link.png', 'outside');
    await refusal('uploads/elsewhere/secret.png', 'outside');
    await refusal('../outside/secret.png', 'outside');
  });

  it('refuses a hard link to a file outside (same inode, so only the link count tells)', async () => {
    await refusal('uploads/owner/hard.png', 'hard-link');
  });

  it('refuses a FIFO without blocking, and a directory', async () => {
    await refusal('uploads/owner/fifo.png', 'not-regular');
    await refusal('uploads/owner/folder.png', 'not-regular');
    await refusal('uploads', 'not-regular');
  });

  it('in exact mode refuses even a link that stays inside; a missing file is "missing"', async () => {
    assert.equal((await read('uploads/owner/inner-link.png')).toString(), INSIDE);
    await refusal('uploads/owner/inner-link.png', 'outside', true);
    await refusal('uploads/owner/none.png', 'missing');
    await refusal('', 'missing');
    await refusal('uploads/owner/plain.png\0', 'missing');
  });

  it('refuses a file larger than the caller allows before reading it', async () => {
    await assert.rejects(readContainedFile(root, 'uploads/owner/plain.png', 3), (e: unknown) => e instanceof ContainedFileError && e.reason === 'too-large');
  });

  it('never returns the outside file while a directory on the way is swapped for a link, and back, over and over', async () => {
    const raceDir = path.join(root, 'race');
    const parked = path.join(root, 'race-parked');
    await mkdir(raceDir);
    await writeFile(path.join(raceDir, 'secret.png'), INSIDE);
    let swapping = true;
    let swaps = 0;
    const swapper = (async () => {
      while (swapping) {
        // The real directory steps aside and a link to the outside directory (which has a secret.png) takes its name.
        await rename(raceDir, parked);
        await symlink(outside, raceDir);
        await new Promise((r) => setImmediate(r));
        await rm(raceDir);
        await rename(parked, raceDir);
        swaps++;
      }
    })();
    const outcomes = { inside: 0, refused: 0 };
    try {
      for (let i = 0; i < 400; i++) {
        try {
          const file = await openContainedFile(root, 'race/secret.png');
          const bytes = Buffer.alloc(64);
          const { bytesRead } = await file.handle.read(bytes, 0, 64, 0);
          await file.handle.close();
          assert.equal(bytes.toString('utf8', 0, bytesRead), INSIDE, 'read the file outside the root');
          outcomes.inside++;
        } catch (error) {
          if (!(error instanceof ContainedFileError)) throw error;
          outcomes.refused++;
        }
      }
    } finally {
      swapping = false;
      await swapper;
    }
    assert.ok(swaps > 0 && outcomes.refused > 0, `the race ran (${swaps} swaps, ${JSON.stringify(outcomes)})`);
  });
});
