/**
 * A file the daemon writes beside its real work (`--record` traces,
 * `--log-file`): it never throws. When the file cannot be opened (read-only
 * path, missing directory) or a write fails (disk full, I/O error), the
 * problem is reported once through `onProblem`, lines are counted as dropped,
 * a half-written line is cut off again, and writing is retried at most every
 * `retryMs`; when it works again, `onProblem` hears how many lines were lost.
 *
 * @module
 */

import { ioReason } from "./read_file.ts";
import { showValue } from "./show_value.ts";

/** What {@linkcode SideFile} reports. */
export interface SideFileProblem {
  /** `open` (could not open), `write` (a write failed), `resumed` (writing works again). */
  kind: "open" | "write" | "resumed";
  /** One printable line naming the path, the reason and the count of lost lines. */
  message: string;
  /** Lines dropped so far in this episode. */
  dropped: number;
}

/** Options for {@linkcode SideFile}. */
export interface SideFileOptions {
  /** `append` keeps what is there (logs); `truncate` starts empty (traces). */
  mode: "append" | "truncate";
  /** What the file is, for messages ("trace", "log file"). */
  what: string;
  /** Called once when a problem starts and once when it ends. */
  onProblem?: (problem: SideFileProblem) => void;
  /** Least time between retries after a failure (default 30 s). */
  retryMs?: number;
  /** File mode when created (default 0o640). */
  fileMode?: number;
  /** Clock for retries (default `Date.now`). */
  now?: () => number;
}

/** An append-only line file that degrades instead of failing. */
export class SideFile {
  readonly #path: string;
  readonly #opts: SideFileOptions;
  #file: Deno.FsFile | null = null;
  #size = 0;
  #failing: string | null = null;
  #dropped = 0;
  #lostTotal = 0;
  #retryAt = 0;
  #opened = false;

  /** Opens `path`; on failure the problem is reported and writes are dropped. */
  constructor(path: string, opts: SideFileOptions) {
    this.#path = path;
    this.#opts = opts;
    this.#open();
  }

  /** Whether the file is open and the last write worked. */
  get healthy(): boolean {
    return this.#file !== null && this.#failing === null;
  }

  /** Bytes in the file as far as this writer knows. */
  get size(): number {
    return this.#size;
  }

  /** Lines lost since the file was opened (all episodes). */
  get lost(): number {
    return this.#lostTotal + this.#dropped;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  #report(kind: SideFileProblem["kind"], message: string): void {
    try {
      this.#opts.onProblem?.({ kind, message, dropped: this.#dropped });
    } catch {
      // A broken reporter must not break the writer.
    }
  }

  #open(): boolean {
    try {
      // After a failed first open, a retry must still truncate (a stale trace is not ours).
      const truncate = this.#opts.mode === "truncate" && !this.#opened;
      this.#file = Deno.openSync(this.#path, {
        write: true,
        create: true,
        ...(truncate ? { truncate: true } : { append: true }),
        mode: this.#opts.fileMode ?? 0o640,
      });
      this.#opened = true;
      this.#size = this.#file.statSync().size;
      if (!truncate) this.#file.seekSync(0, Deno.SeekMode.End);
      return true;
    } catch (err) {
      this.#file = null;
      this.#fail("open", err);
      return false;
    }
  }

  #fail(kind: "open" | "write", err: unknown): void {
    this.#retryAt = this.#now() + (this.#opts.retryMs ?? 30_000);
    const reason = ioReason(err);
    if (this.#failing !== null) return;
    this.#failing = reason;
    const path = showValue(this.#path, 200);
    this.#report(
      kind,
      kind === "open"
        ? `cannot open the ${this.#opts.what} ${path}: ${reason}; running without it ` +
          `(retrying every ${Math.round((this.#opts.retryMs ?? 30_000) / 1000)} s)`
        : `cannot write the ${this.#opts.what} ${path}: ${reason}; lines are dropped ` +
          `and counted until it has room again`,
    );
  }

  /**
   * Writes one line (a newline is added). Never throws; returns false when the
   * line was dropped.
   */
  writeLine(line: string): boolean {
    const bytes = new TextEncoder().encode(line + "\n");
    if (this.#failing !== null && this.#now() < this.#retryAt) {
      this.#dropped++;
      return false;
    }
    if (this.#file === null && !this.#open()) {
      this.#dropped++;
      return false;
    }
    const file = this.#file!;
    let off = 0;
    try {
      while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
    } catch (err) {
      if (off > 0) this.#cutTo(file, this.#size);
      this.#dropped++;
      this.#fail("write", err);
      return false;
    }
    this.#size += bytes.length;
    if (this.#failing !== null) {
      const dropped = this.#dropped;
      this.#failing = null;
      this.#report(
        "resumed",
        `the ${this.#opts.what} ${showValue(this.#path, 200)} is writable again; ` +
          `${dropped} lines were lost`,
      );
      this.#lostTotal += dropped;
      this.#dropped = 0;
    }
    return true;
  }

  /** Cuts a half-written line off so the file holds whole lines only. */
  #cutTo(file: Deno.FsFile, size: number): void {
    try {
      file.truncateSync(size);
      file.seekSync(size, Deno.SeekMode.Start);
    } catch {
      // Nothing more can be done; the reader skips or reports the broken line.
    }
  }

  /** Closes the file and opens it again (SIGHUP, after rotation). */
  reopen(): void {
    this.close();
    this.#open();
  }

  /** Renames the file to `PATH.1` and starts a new one (size-capped logs). */
  rotate(): void {
    this.close();
    try {
      Deno.renameSync(this.#path, `${this.#path}.1`);
    } catch {
      // Someone else moved or removed it (logrotate); start a new file anyway.
    }
    this.#open();
  }

  /** Closes the file; reports lines still being dropped. */
  close(): void {
    if (this.#failing !== null && this.#dropped > 0) {
      this.#report(
        "write",
        `the ${this.#opts.what} ${showValue(this.#path, 200)}: ${this.#dropped} lines were ` +
          `not written (${this.#failing})`,
      );
      this.#lostTotal += this.#dropped;
      this.#dropped = 0;
    }
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
  }
}
