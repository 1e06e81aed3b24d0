/**
 * One escaping of untrusted values for messages (config errors, CLI errors,
 * ubus error replies, log lines): every control byte, NUL, DEL, C1 control,
 * line/paragraph separator, bidi override and lone surrogate becomes a
 * visible escape, and a long value is cut with its size in bytes, so a
 * message built from input is always one printable line of bounded length.
 *
 * @module
 */

/** Characters a value may show in a message (default for {@linkcode showValue}). */
export const SHOW_VALUE_MAX_CHARS = 64;

/** Longest message line {@linkcode oneLine} returns by default, in characters. */
export const MESSAGE_MAX_CHARS = 512;

const ENCODER = new TextEncoder();

// C0 controls, DEL, C1 controls, U+2028/U+2029, bidi embeddings/overrides/isolates,
// zero-width and BOM characters, and UTF-16 surrogates (only lone ones survive in a JS string).
const UNSAFE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\\/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case "\\":
      return "\\\\";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  const code = ch.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Escapes every unsafe character of `text` (see the module doc); nothing is
 * cut. Backslashes are doubled unless `keepBackslash` (for text that holds
 * values escaped already).
 */
export function escapeText(text: string, keepBackslash = false): string {
  return text.replace(UNSAFE, (ch) => (keepBackslash && ch === "\\" ? ch : escapeChar(ch)));
}

/** Size of `text` in UTF-8 bytes. */
export function byteLength(text: string): number {
  return ENCODER.encode(text).length;
}

/**
 * Cuts `text` to about `maxChars` characters without splitting a surrogate
 * pair; the cut part is replaced by `... (N bytes)`, N being the whole value's
 * UTF-8 size.
 */
function cut(escaped: string, original: string, maxChars: number): string {
  if (escaped.length <= maxChars) return escaped;
  let end = Math.max(0, maxChars);
  const code = escaped.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  // Do not leave half an escape such as `\x1` behind.
  const tail = /\\(x[0-9a-f]?|u[0-9a-f]{0,3})?$/.exec(escaped.slice(Math.max(0, end - 6), end));
  if (tail !== null) end -= tail[0].length;
  return `${escaped.slice(0, end)}... (${byteLength(original)} bytes)`;
}

/**
 * A value as it may appear inside a message: escaped (see the module doc)
 * and cut to `maxChars` characters with its size in bytes.
 *
 * @example
 * ```ts
 * import { showValue } from "./show_value.ts";
 * showValue("a\u0000b\nc"); // "a\\x00b\\nc"
 * showValue("x".repeat(3_000_000)).length < 100; // true: "xxx... (3000000 bytes)"
 * ```
 */
export function showValue(value: string, maxChars: number = SHOW_VALUE_MAX_CHARS): string {
  return show(value, maxChars, false);
}

function show(value: string, maxChars: number, keepBackslash: boolean): string {
  // Escape only the part that can be shown: a 3 MB value costs no 3 MB copy.
  const head = value.length > maxChars * 2 + 8 ? value.slice(0, maxChars * 2 + 8) : value;
  const escaped = escapeText(head, keepBackslash);
  if (head.length < value.length) return cut(escaped, value, Math.min(maxChars, escaped.length));
  return cut(escaped, value, maxChars);
}

/** `showValue` in single quotes, the way messages quote a value. */
export function quoteValue(value: string, maxChars: number = SHOW_VALUE_MAX_CHARS): string {
  return `'${showValue(value, maxChars)}'`;
}

/**
 * A whole message made safe for one terminal or log line: escaped (backslashes
 * kept, so values already shown stay as they are) and cut to `maxChars`
 * characters (default {@linkcode MESSAGE_MAX_CHARS}).
 *
 * @example
 * ```ts
 * import { oneLine } from "./show_value.ts";
 * oneLine("bad\nvalue"); // "bad\\nvalue"
 * ```
 */
export function oneLine(message: string, maxChars: number = MESSAGE_MAX_CHARS): string {
  return show(message, maxChars, true);
}
