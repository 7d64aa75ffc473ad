import { createHash } from 'node:crypto';
import { open, rename, mkdir } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

/**
 * Writes `bytes` to `path` so that a reader sees either nothing or the whole file: temp name in the same
 * directory, fsync, rename, fsync of the directory. Returns the sha256 (hex) of what was written.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<string> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
  return createHash('sha256').update(bytes).digest('hex');
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
