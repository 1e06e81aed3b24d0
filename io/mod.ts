/**
 * Untrusted input, read and shown safely: {@linkcode readTextFileBounded}
 * (regular files only, with a size cap) and {@linkcode showValue} (one
 * printable, bounded line for every value echoed in a message).
 *
 * @module
 */

export {
  CONFIG_MAX_BYTES,
  FILE_READ_EXIT,
  fileErrorOf,
  FileReadError,
  type FileReadKind,
  ioReason,
  openRegularFileSync,
  readFileBounded,
  type ReadOptions,
  readTextFileBounded,
  SECRET_MAX_BYTES,
  TRACE_MAX_BYTES,
} from "./read_file.ts";
export {
  byteLength,
  escapeText,
  MESSAGE_MAX_CHARS,
  oneLine,
  quoteValue,
  SHOW_VALUE_MAX_CHARS,
  showValue,
} from "./show_value.ts";
export { SideFile, type SideFileOptions, type SideFileProblem } from "./side_file.ts";
