/**
 * Read-modify-write of a config file under the same lock libuci takes: an
 * exclusive `flock` on the file itself (libuci's `uci_open_stream` locks the
 * file it commits with `LOCK_EX`, and the file it reads with `LOCK_SH`). So
 * `starfail config set` and `uci commit starfail` never interleave, and two
 * `config set` calls never lose one another's change.
 *
 * Our writes replace the file by rename (see `atomic_write.ts`), which leaves a
 * waiter holding the old inode. After the lock is granted the path is checked
 * to still name the locked inode; if not, the lock is taken again on the new
 * file.
 *
 * @module
 */

/** The lock was not granted in time. */
export class FileLockTimeout extends Error {
  /** Creates the error. */
  constructor(path: string, timeoutMs: number) {
    super(
      `${path}: still locked by another writer (uci or starfail) after ${timeoutMs} ms; ` +
        "try again when it has finished",
    );
    this.name = "FileLockTimeout";
  }
}

/** Options for {@linkcode withFileLock}. */
export interface FileLockOptions {
  /** Give up waiting for the lock after this long (default 10 000 ms). */
  timeoutMs?: number;
}

/**
 * Runs `fn` while holding an exclusive `flock` on `path`. A missing file is
 * not locked (there is nothing to lock yet; `fn` may create it). The lock is
 * released when `fn` settles.
 *
 * @example
 * ```ts
 * import { withFileLock } from "./file_lock.ts";
 * const path = await Deno.makeTempFile();
 * await withFileLock(path, async () => {
 *   const text = await Deno.readTextFile(path);
 *   await Deno.writeTextFile(path, text + "x");
 * });
 * ```
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return await fn();
      throw err;
    }
    let locked = false;
    try {
      locked = await lockBefore(file, deadline - performance.now());
      if (!locked) throw new FileLockTimeout(path, timeoutMs);
      if (await sameInode(file, path)) return await fn();
      // Replaced while we waited: lock the file that is there now.
    } finally {
      if (locked) {
        try {
          await file.unlock();
        } catch {
          // Closing releases it as well.
        }
      }
      try {
        file.close();
      } catch {
        // Already closed.
      }
    }
  }
}

/** Waits for the lock at most `ms`; false when it was not granted in time. */
async function lockBefore(file: Deno.FsFile, ms: number): Promise<boolean> {
  if (ms <= 0) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = file.lock(true).then(() => true);
  try {
    return await Promise.race([
      pending,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // A lock granted after we gave up is dropped when the file is closed.
    pending.catch(() => undefined);
  }
}

async function sameInode(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    const [held, named] = await Promise.all([file.stat(), Deno.stat(path)]);
    return held.ino === named.ino && held.dev === named.dev;
  } catch {
    return false;
  }
}
