import { createHash, randomBytes } from 'node:crypto';
import { open, rename, mkdir, readFile } from 'node:fs/promises';
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
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const want = sha256(bytes);
  const existing = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (existing) {
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
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
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
