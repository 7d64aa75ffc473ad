import { createHash, randomBytes } from 'node:crypto';
import { open, rename, mkdir, readFile, rm } from 'node:fs/promises';
import { SluiceError } from '../../../engine/errors.ts';
import { dirname, join, basename } from 'node:path';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Writes `bytes` to `path` so that a reader sees either nothing or the whole file: a temp name of its own in the
 * same directory, fsync, rename, fsync of the directory. Returns the sha256 (hex) of the file.
 *
 * A delivered file is never replaced by different bytes: when `path` already exists (a re-run after a crash) with
 * the same content nothing is written; with other content the write is refused — the inputs of the delivery
 * changed between the crash and the re-run (e.g. its configuration), and a subscriber may already hold the file.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<string> {
  const tmp = await tempPathFor(path);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return publishAtomic(tmp, path, sha256(bytes));
}

/** A temp name of its own beside `path` (its directory created). */
export async function tempPathFor(path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Renames a written and fsynced temp file (content `want`, sha256 hex) to `path`, and fsyncs the directory. When
 * `path` exists with the same content the temp file is dropped; with other content the rename is refused.
 */
export async function publishAtomic(tmp: string, path: string, want: string): Promise<string> {
  const existing = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (existing) {
    await rm(tmp, { force: true });
    const have = sha256(existing);
    if (have === want) return want;
    throw new SluiceError(
      'DELIVERY_FAILED',
      `refusing to replace delivered file ${path} with different content (sha256 ${have} → ${want}); did the subscription's configuration change after a crash?`,
      {
        details: { path, have, want },
      },
    );
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
  return want;
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
