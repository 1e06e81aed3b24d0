/**
 * One reading of input files (config, replay traces, secrets): the path must
 * name a regular file (a FIFO, a device such as /dev/zero, a directory or a
 * socket is refused before it is opened, so nothing blocks or reads forever),
 * the file must fit a size cap, and every failure is a {@linkcode FileReadError}
 * with one printable line naming the path and a sysexits code.
 *
 * @module
 */

import { showValue } from "./show_value.ts";

/** Largest config file read (256 KiB; a real one is a few KiB). */
export const CONFIG_MAX_BYTES = 256 * 1024;

/**
 * Largest replay trace read whole ({@linkcode readFileBounded}; 64 MiB: about a day of 1 Hz
 * samples from 8 members). `starfail replay` streams the file instead and has no size cap.
 */
export const TRACE_MAX_BYTES = 64 * 1024 * 1024;

/** Largest secret/token file read (64 KiB). */
export const SECRET_MAX_BYTES = 64 * 1024;

/** Why a file could not be read. */
export type FileReadKind = "missing" | "not_regular" | "permission" | "too_large" | "io";

/** Exit code (sysexits.h) for each kind: 66 no input, 65 data error, 74 I/O error. */
export const FILE_READ_EXIT: Readonly<Record<FileReadKind, number>> = {
  missing: 66,
  not_regular: 66,
  permission: 66,
  too_large: 65,
  io: 74,
};

/** A file that could not be read; `message` is one printable line naming the path. */
export class FileReadError extends Error {
  /** What went wrong. */
  readonly kind: FileReadKind;
  /** The path as given. */
  readonly path: string;
  /** The exit code a command should end with ({@linkcode FILE_READ_EXIT}). */
  readonly exitCode: number;
  /** Creates the error. */
  constructor(kind: FileReadKind, path: string, message: string) {
    super(message);
    this.name = "FileReadError";
    this.kind = kind;
    this.path = path;
    this.exitCode = FILE_READ_EXIT[kind];
  }
}

/** Options for {@linkcode readTextFileBounded}. */
export interface ReadOptions {
  /** Size cap in bytes. */
  maxBytes: number;
  /** What the file is, for messages ("config file", "trace"). */
  what?: string;
}

function typeName(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO (named pipe)";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/**
 * Short printable reason of an OS error, without Deno's "(os error N): stat
 * 'path'" tail: "No space left on device", "Read-only file system".
 */
export function ioReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return showValue(text.replace(/ \(os error \d+\).*$/s, "").replace(/: \w+ '.*$/s, ""), 80);
}

/** Turns an error of `Deno.stat`/`open`/`read` into a {@linkcode FileReadError}. */
export function fileErrorOf(err: unknown, path: string, what: string): FileReadError {
  if (err instanceof FileReadError) return err;
  const shown = showValue(path, 200);
  if (err instanceof Deno.errors.NotFound) {
    return new FileReadError("missing", path, `${shown}: no such ${what}`);
  }
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return new FileReadError("permission", path, `${shown}: permission denied reading the ${what}`);
  }
  if (err instanceof Deno.errors.IsADirectory) {
    return new FileReadError("not_regular", path, `${shown}: is a directory, expected a ${what}`);
  }
  if (err instanceof Deno.errors.FilesystemLoop) {
    return new FileReadError("io", path, `${shown}: symbolic link loop; point it at a real file`);
  }
  return new FileReadError("io", path, `${shown}: cannot read the ${what}: ${ioReason(err)}`);
}

/**
 * Opens `path` for reading after the same checks as
 * {@linkcode readFileBounded} (a regular file, before and after opening) but
 * without a size cap: for readers that stream the file in chunks (a replayed
 * trace) and so hold only a chunk at a time. The caller closes the file.
 * Throws {@linkcode FileReadError} (a sandbox denial as Deno's `NotCapable`).
 */
export function openRegularFileSync(path: string, what = "file"): Deno.FsFile {
  const shown = showValue(path, 200);
  let file: Deno.FsFile | undefined;
  try {
    // stat first: opening a FIFO would block and /dev/zero never ends.
    const info = Deno.statSync(path);
    if (!info.isFile) {
      throw new FileReadError(
        "not_regular",
        path,
        `${shown}: is ${typeName(info)}, expected a ${what}`,
      );
    }
    file = Deno.openSync(path, { read: true });
    // The path may have been swapped between stat and open: check what was opened.
    const opened = file.statSync();
    if (!opened.isFile) {
      throw new FileReadError(
        "not_regular",
        path,
        `${shown}: is ${typeName(opened)}, expected a ${what}`,
      );
    }
    return file;
  } catch (err) {
    try {
      file?.close();
    } catch {
      // already closed
    }
    if (err instanceof Deno.errors.NotCapable) throw err;
    throw fileErrorOf(err, path, what);
  }
}

/**
 * Reads `path` as UTF-8 text (bad bytes become U+FFFD) after checking that it
 * is a regular file of at most `maxBytes`. Throws {@linkcode FileReadError}.
 *
 * @example
 * ```ts
 * import { CONFIG_MAX_BYTES, readTextFileBounded } from "./read_file.ts";
 * const text = await readTextFileBounded("/etc/config/starfail", { maxBytes: CONFIG_MAX_BYTES });
 * ```
 */
export async function readTextFileBounded(path: string, opts: ReadOptions): Promise<string> {
  const bytes = await readFileBounded(path, opts);
  return new TextDecoder().decode(bytes);
}

/** {@linkcode readTextFileBounded} without the decoding. */
export async function readFileBounded(path: string, opts: ReadOptions): Promise<Uint8Array> {
  const what = opts.what ?? "file";
  const shown = showValue(path, 200);
  const tooLarge = (size: number | string) =>
    new FileReadError(
      "too_large",
      path,
      `${shown}: the ${what} is ${size} bytes, above the limit of ${opts.maxBytes} bytes`,
    );
  let file: Deno.FsFile | undefined;
  try {
    // stat first: opening a FIFO would block and /dev/zero never ends.
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new FileReadError(
        "not_regular",
        path,
        `${shown}: is ${typeName(info)}, expected a ${what}`,
      );
    }
    if (info.size > opts.maxBytes) throw tooLarge(info.size);
    file = await Deno.open(path, { read: true });
    // The path may have been swapped between stat and open: check what was opened.
    const opened = await file.stat();
    if (!opened.isFile) {
      throw new FileReadError(
        "not_regular",
        path,
        `${shown}: is ${typeName(opened)}, expected a ${what}`,
      );
    }
    // Read at most maxBytes + 1 bytes, whatever stat said (procfs/sysfs files say 0).
    const chunks: Uint8Array[] = [];
    let used = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(64 * 1024, opts.maxBytes + 1 - used));
      const n = await file.read(chunk);
      if (n === null) break;
      used += n;
      if (used > opts.maxBytes) throw tooLarge(`more than ${opts.maxBytes}`);
      chunks.push(chunk.subarray(0, n));
    }
    const out = new Uint8Array(used);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  } catch (err) {
    // A sandbox denial is the binary's, not the file's: the CLI names it as such (exit 77).
    if (err instanceof Deno.errors.NotCapable) throw err;
    throw fileErrorOf(err, path, what);
  } finally {
    try {
      file?.close();
    } catch {
      // already closed
    }
  }
}
