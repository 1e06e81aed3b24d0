/**
 * Replacing a file so that a reader (or a power cut) sees either the old or
 * the new content, never half of it: write a temporary file in the same
 * directory, fsync it, rename it over the target, then fsync the directory.
 *
 * @module
 */

/** Options for {@linkcode writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode for a newly created file (default: the old file's mode, else 0o644). */
  mode?: number;
}

/**
 * Atomically replaces `path` with `text`. On any failure the original file is
 * untouched and the temporary file is removed.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/starfail`, "config starfail 'main'\n");
 * ```
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const base = slash < 0 ? path : path.slice(slash + 1);
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const temp = `${dir}/.${base}.${suffix}.tmp`;
  let mode = opts.mode;
  if (mode === undefined) {
    try {
      mode = (await Deno.stat(path)).mode ?? 0o644;
    } catch {
      mode = 0o644;
    }
  }
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: mode & 0o7777 });
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
    file.close();
    file = undefined;
    await Deno.rename(temp, path);
  } catch (err) {
    if (file !== undefined) {
      try {
        file.close();
      } catch {
        // already closed
      }
    }
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await syncDirectory(dir);
}

/** Makes the rename durable; some file systems refuse to open a directory, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Not every platform lets a directory be opened or synced; the rename itself is atomic.
  } finally {
    handle?.close();
  }
}
