/**
 * A reader and writer for OpenWrt UCI files (`/etc/config/*`) that follows
 * the real libuci parser rule by rule (see the project's uci-syntax notes):
 * quoting, escapes, line continuation, the `;` quirk, anonymous section
 * names, merging of repeated sections and list/option merge rules.
 *
 * Unlike libuci, which stops at the first error, the reader collects every
 * error with its line number; a file with any error is to be rejected
 * (strict mode). Every section and option keeps the line it came from, so
 * validation messages can point at it.
 *
 * Two writers: {@linkcode exportUci} prints a whole document in the format of
 * `uci export`, and {@linkcode editUciOption} changes one option inside an
 * existing file while leaving every other line (comments, blank lines, order,
 * indentation) exactly as it was.
 *
 * @module
 */

import { quoteValue } from "../io/show_value.ts";

/** One option of a section: a single value or a list of items. */
export interface UciOption {
  /** Option name (`[A-Za-z0-9_]+`). */
  name: string;
  /** The value; an array for a `list`. */
  value: string | string[];
  /** Line of the statement that last set the value (for a list: its first item). */
  line: number;
}

/** One section (`config <type> [name]`). */
export interface UciSection {
  /** Section type, any printable ASCII 33–126. */
  type: string;
  /** Section name; for an anonymous section the generated `cfgXXYYYY` name. */
  name: string;
  /** True when the file gave no name. */
  anonymous: boolean;
  /** Line of the `config` statement that created the section. */
  line: number;
  /** Options in the order they were first set. */
  options: UciOption[];
}

/** A parsed UCI file: its sections in file order. */
export interface UciDocument {
  /** Sections in the order they were created. */
  sections: UciSection[];
}

/** A syntax or structure error, with the line where the statement started. */
export interface UciParseError {
  /** 1-based line number. */
  line: number;
  /** What was wrong, in libuci's words where libuci has words for it. */
  message: string;
}

/** Where one statement sits in the text; used by the editing writer. */
export interface UciStatement {
  /** The command. */
  kind: "package" | "config" | "option" | "list";
  /** First physical line (1-based). */
  firstLine: number;
  /** Last physical line (a quoted value or a continuation can span lines). */
  lastLine: number;
  /** Name of the section the statement belongs to (generated name if anonymous). */
  section?: string;
  /** Option name for `option` and `list`. */
  option?: string;
  /** Offset in the text just after the statement's last argument. */
  end: number;
}

/** The result of {@linkcode parseUci}. */
export interface UciParseResult {
  /** The document; only trustworthy when `errors` is empty. */
  document: UciDocument;
  /** Every error found, in line order. */
  errors: UciParseError[];
  /** Every statement that parsed without error, in text order. */
  statements: UciStatement[];
}

/** Thrown by {@linkcode editUciOption} when a file cannot be edited safely. */
export class UciEditError extends Error {
  /** Creates the error with a one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "UciEditError";
  }
}

const NAME_RE = /^[A-Za-z0-9_]+$/;
const PACKAGE_RE = /^[A-Za-z0-9_-]+$/;

/** True for a valid section or option name: `[A-Za-z0-9_]+`. */
export function isValidUciName(name: string): boolean {
  return NAME_RE.test(name);
}

/** True for a valid section type: one or more printable ASCII characters 33–126. */
export function isValidUciType(type: string): boolean {
  if (type.length === 0) return false;
  for (let i = 0; i < type.length; i++) {
    const c = type.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/**
 * The name libuci gives an anonymous section: `cfg` + `%02x` of the 1-based
 * section counter (named sections count too) + `%04x` of djb2(type) mod 65536.
 *
 * @example
 * ```ts
 * import { anonymousSectionName } from "./uci.ts";
 * anonymousSectionName("a", 1); // "cfg01b606"
 * anonymousSectionName("zone", 6); // "cfg06dc81"
 * ```
 */
export function anonymousSectionName(type: string, counter: number): string {
  let hash = 5381;
  for (let i = 0; i < type.length; i++) {
    hash = ((hash << 5) + hash + type.charCodeAt(i)) & 0x7fffffff;
  }
  const counterHex = counter.toString(16).padStart(2, "0");
  const hashHex = (hash % 65536).toString(16).padStart(4, "0");
  return `cfg${counterHex}${hashHex}`;
}

/** Whitespace as C `isspace`, except `\n`, which ends a line. */
function isBlank(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\v" || c === "\f";
}

/** A parse error inside one statement; caught per line. */
class LineError extends Error {}

/** The cursor over the text, with libuci's tokenizing rules. */
class Tokenizer {
  readonly text: string;
  pos = 0;
  line = 1;
  /** Set when a `#` or a swallowed `;` ends the rest of the line. */
  cut = false;

  constructor(text: string) {
    this.text = text;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** End of the current command line (text end, newline or a cut). */
  atEol(): boolean {
    return this.cut || this.pos >= this.text.length || this.text[this.pos] === "\n";
  }

  /** Moves past the rest of the physical line, including its newline. */
  skipLine(): void {
    const nl = this.text.indexOf("\n", this.pos);
    if (nl < 0) {
      this.pos = this.text.length;
    } else {
      this.pos = nl + 1;
      this.line++;
    }
    this.cut = false;
  }

  /**
   * After a backslash at `pos`: returns true when the next character is to be
   * taken literally (and leaves `pos` on it), false when the backslash ended the
   * line (continuation: backslash and newline are dropped) or the text.
   */
  backslash(): boolean {
    this.pos++;
    const c = this.text[this.pos];
    if (c === undefined) return false;
    if (c === "\n") {
      this.pos++;
      this.line++;
      return false;
    }
    if (c === "\r" && this.text[this.pos + 1] === "\n") {
      this.pos += 2;
      this.line++;
      return false;
    }
    return true;
  }

  skipWhitespace(): void {
    while (!this.atEol()) {
      const c = this.text[this.pos];
      if (isBlank(c)) {
        this.pos++;
      } else if (c === "\\" && this.continuesLine(this.pos + 1)) {
        this.backslash();
      } else {
        return;
      }
    }
  }

  private continuesLine(at: number): boolean {
    const c = this.text[at];
    return c === undefined || c === "\n" || (c === "\r" && this.text[at + 1] === "\n");
  }

  /** The command word: raw characters up to whitespace. */
  commandWord(): string {
    const start = this.pos;
    while (!this.atEol() && !isBlank(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * One argument (libuci `next_arg`): empty at the end of the line; a `;`
   * standing alone ends the command and yields an empty argument.
   */
  nextArg(): string {
    this.skipWhitespace();
    if (this.atEol()) return "";
    if (this.text[this.pos] === ";") {
      this.pos++;
      return "";
    }
    return this.parseStr();
  }

  private parseStr(): string {
    let out = "";
    let afterQuote = false;
    while (!this.atEol()) {
      const c = this.text[this.pos];
      if (isBlank(c)) break;
      if (c === "'") {
        out += this.singleQuoted();
        afterQuote = true;
      } else if (c === '"') {
        out += this.doubleQuoted();
        afterQuote = true;
      } else if (c === "#") {
        this.cut = true;
        break;
      } else if (c === ";") {
        // The quirk: libuci overwrites this `;` with the string terminator
        // unless a closing quote (or whitespace, handled in nextArg) is
        // before it, so the rest of the line is silently lost.
        if (!afterQuote) this.cut = true;
        break;
      } else if (c === "\\") {
        if (this.backslash()) {
          out += this.text[this.pos];
          this.pos++;
        }
        afterQuote = false;
      } else {
        out += c;
        this.pos++;
        afterQuote = false;
      }
    }
    return out;
  }

  private singleQuoted(): string {
    this.pos++;
    const close = this.text.indexOf("'", this.pos);
    if (close < 0) throw new LineError("unterminated '");
    const piece = this.text.slice(this.pos, close);
    this.line += countNewlines(piece);
    this.pos = close + 1;
    return piece;
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = "";
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === "\\") {
        if (this.backslash()) {
          const literal = this.text[this.pos];
          if (literal === "\n") this.line++;
          out += literal;
          this.pos++;
        }
        continue;
      }
      if (c === "\n") this.line++;
      out += c;
      this.pos++;
    }
    throw new LineError('unterminated "');
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] === "\n") n++;
  return n;
}

/** Builds the document while the parser walks the statements. */
class Builder {
  readonly sections: UciSection[] = [];
  private readonly byName = new Map<string, UciSection>();
  private counter = 0;
  /** The open section; `null` before the first `config`; `"discard"` after a bad one. */
  current: UciSection | null | "discard" = null;

  openSection(type: string, name: string, line: number): void {
    if (name !== "") {
      const existing = this.byName.get(name);
      if (existing !== undefined) {
        if (existing.type !== type) {
          throw new LineError(
            `section of different type overwrites prior section with same name ` +
              `('${name}' is '${existing.type}', not '${type}')`,
          );
        }
        this.current = existing;
        return;
      }
    }
    this.counter++;
    const section: UciSection = {
      type,
      name: name !== "" ? name : anonymousSectionName(type, this.counter),
      anonymous: name === "",
      line,
      options: [],
    };
    this.sections.push(section);
    this.byName.set(section.name, section);
    this.current = section;
  }

  setOption(section: UciSection, name: string, value: string, line: number): void {
    if (value === "") return;
    const existing = section.options.find((o) => o.name === name);
    if (existing === undefined) {
      section.options.push({ name, value, line });
    } else {
      existing.value = value;
      existing.line = line;
    }
  }

  addListItem(section: UciSection, name: string, value: string, line: number): void {
    const existing = section.options.find((o) => o.name === name);
    if (existing === undefined) {
      section.options.push({ name, value: [value], line });
    } else if (Array.isArray(existing.value)) {
      existing.value.push(value);
    } else {
      existing.value = [existing.value, value];
    }
  }
}

/**
 * Parses UCI text. Never throws: errors are collected with their line
 * numbers, and a non-empty `errors` means the file must be rejected.
 *
 * @example
 * ```ts
 * import { parseUci } from "./uci.ts";
 * const { document, errors } = parseUci("config starfail 'main'\n\toption cooldown_s '30'\n");
 * // errors.length === 0; document.sections[0].options[0].value === "30"
 * ```
 */
export function parseUci(text: string): UciParseResult {
  const tok = new Tokenizer(text);
  const builder = new Builder();
  const errors: UciParseError[] = [];
  const statements: UciStatement[] = [];

  while (!tok.atEnd()) {
    tok.skipWhitespace();
    while (!tok.atEol()) {
      const firstLine = tok.line;
      const word = tok.commandWord();
      if (word.startsWith("#")) {
        tok.cut = true;
        break;
      }
      try {
        const statement = parseStatement(tok, builder, word, firstLine);
        statement.lastLine = tok.line;
        statements.push(statement);
      } catch (err) {
        if (!(err instanceof LineError)) throw err;
        errors.push({ line: firstLine, message: err.message });
        if (word === "config" || word === "c") builder.current = "discard";
        tok.cut = true;
        break;
      }
      tok.skipWhitespace();
    }
    tok.skipLine();
  }
  return { document: { sections: builder.sections }, errors, statements };
}

function parseStatement(
  tok: Tokenizer,
  builder: Builder,
  word: string,
  firstLine: number,
): UciStatement {
  const kind = commandKind(word);
  if (kind === null) throw new LineError(`invalid command ${quoteValue(word)}`);
  if (kind === "package") {
    const name = tok.nextArg();
    if (name === "") throw new LineError("insufficient arguments");
    if (!PACKAGE_RE.test(name)) {
      throw new LineError(`invalid character in name field ${quoteValue(name)}`);
    }
    const end = tok.pos;
    assertEol(tok);
    return { kind, firstLine, lastLine: firstLine, end };
  }
  if (kind === "config") {
    const type = tok.nextArg();
    if (type === "") throw new LineError("insufficient arguments");
    if (!isValidUciType(type)) {
      throw new LineError(`invalid character in type field ${quoteValue(type)}`);
    }
    const name = tok.nextArg();
    const end = tok.pos;
    if (name !== "" && !isValidUciName(name)) {
      throw new LineError(`invalid character in name field ${quoteValue(name)}`);
    }
    assertEol(tok);
    builder.openSection(type, name, firstLine);
    const section = builder.current as UciSection;
    return { kind, firstLine, lastLine: firstLine, section: section.name, end };
  }
  if (builder.current === null) {
    throw new LineError("option/list command found before the first section");
  }
  const name = tok.nextArg();
  if (name === "") throw new LineError("insufficient arguments");
  if (!isValidUciName(name)) {
    throw new LineError(`invalid character in name field ${quoteValue(name)}`);
  }
  const value = tok.nextArg();
  const end = tok.pos;
  assertEol(tok);
  const section = builder.current;
  if (section === "discard") {
    return { kind, firstLine, lastLine: firstLine, option: name, end };
  }
  if (kind === "list") builder.addListItem(section, name, value, firstLine);
  else builder.setOption(section, name, value, firstLine);
  return { kind, firstLine, lastLine: firstLine, section: section.name, option: name, end };
}

function commandKind(word: string): UciStatement["kind"] | null {
  switch (word) {
    case "package":
    case "p":
      return "package";
    case "config":
    case "c":
      return "config";
    case "option":
    case "o":
      return "option";
    case "list":
    case "l":
      return "list";
    default:
      return null;
  }
}

function assertEol(tok: Tokenizer): void {
  tok.skipWhitespace();
  if (tok.nextArg() !== "") throw new LineError("too many arguments");
}

/**
 * Quotes a value the way `uci export` does: in single quotes, with every `'`
 * written as `'\''`.
 */
export function quoteUci(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** Options for {@linkcode exportUci}. */
export interface ExportUciOptions {
  /** Write a `package <name>` line first. */
  packageName?: string;
  /** Also write the generated names of anonymous sections (`uci export -n`). */
  exportNames?: boolean;
}

/**
 * Prints a document in the format of `uci export`: for each section a blank
 * line, `config <type> '<name>'`, then `\toption <name> '<value>'` or one
 * `\tlist <name> '<item>'` per item, and a final newline.
 *
 * A type holding a character the parser would not read back literally
 * (`'`, `"`, `\`, `#`, `;`) is quoted; libuci would print it bare and lose it.
 *
 * @example
 * ```ts
 * import { exportUci } from "./uci.ts";
 * exportUci({ sections: [{ type: "starfail", name: "main", anonymous: false, line: 0,
 *   options: [{ name: "cooldown_s", value: "30", line: 0 }] }] });
 * // "\nconfig starfail 'main'\n\toption cooldown_s '30'\n\n"
 * ```
 */
export function exportUci(doc: UciDocument, opts: ExportUciOptions = {}): string {
  let out = "";
  if (opts.packageName !== undefined) out += `package ${opts.packageName}\n`;
  for (const section of doc.sections) {
    out += `\nconfig ${formatType(section.type)}`;
    if (!section.anonymous || opts.exportNames === true) out += ` ${quoteUci(section.name)}`;
    out += "\n";
    for (const option of section.options) out += formatOptionLines(option.name, option.value, "\t");
  }
  return out + "\n";
}

function formatType(type: string): string {
  return /['"\\#;]/.test(type) ? quoteUci(type) : type;
}

function formatOptionLines(name: string, value: string | string[], indent: string): string {
  if (Array.isArray(value)) {
    return value.map((item) => `${indent}list ${name} ${quoteUci(item)}\n`).join("");
  }
  return `${indent}option ${name} ${quoteUci(value)}\n`;
}

/** Finds a section by name in a document. */
export function findSection(doc: UciDocument, name: string): UciSection | undefined {
  return doc.sections.find((s) => s.name === name);
}

/** Finds an option by name in a section. */
export function findOption(section: UciSection, name: string): UciOption | undefined {
  return section.options.find((o) => o.name === name);
}

/** What {@linkcode editUciOption} should do. */
export interface UciOptionEdit {
  /** Section name (the generated name for an anonymous section). */
  section: string;
  /** Type used when the section does not exist yet and must be appended. */
  sectionType: string;
  /** Option name. */
  option: string;
  /** New value; an array writes a list; `null` removes the option. */
  value: string | string[] | null;
}

/**
 * Changes, adds or removes one option in existing UCI text and returns the
 * new text. Every line that does not hold the option stays byte for byte
 * as it was. A changed option takes the place (and indentation) of its first
 * old statement and keeps a trailing `# comment`; a new option goes after the
 * section's last line; a missing section is appended at the end.
 *
 * Throws {@linkcode UciEditError} when the text has parse errors or the
 * option shares a line with another statement (`;`).
 *
 * @example
 * ```ts
 * import { editUciOption } from "./uci.ts";
 * editUciOption("config starfail 'main'\n\toption cooldown_s '30' # s\n",
 *   { section: "main", sectionType: "starfail", option: "cooldown_s", value: "45" });
 * // "config starfail 'main'\n\toption cooldown_s '45' # s\n"
 * ```
 */
export function editUciOption(text: string, edit: UciOptionEdit): string {
  if (!isValidUciName(edit.option)) {
    throw new UciEditError(`invalid option name '${edit.option}': use letters, digits and _`);
  }
  const parsed = parseUci(text);
  if (parsed.errors.length > 0) {
    const first = parsed.errors[0];
    throw new UciEditError(
      `cannot edit a file with syntax errors (line ${first.line}: ${first.message}); fix it first`,
    );
  }
  const lines = text.split("\n");
  const perLine = new Map<number, number>();
  for (const st of parsed.statements) {
    for (let l = st.firstLine; l <= st.lastLine; l++) perLine.set(l, (perLine.get(l) ?? 0) + 1);
  }
  const targets = parsed.statements.filter((st) =>
    (st.kind === "option" || st.kind === "list") && st.section === edit.section &&
    st.option === edit.option
  );
  for (const st of targets) {
    for (let l = st.firstLine; l <= st.lastLine; l++) {
      if ((perLine.get(l) ?? 0) > 1) {
        throw new UciEditError(
          `line ${l} holds several statements separated by ';'; edit option '${edit.option}' by hand`,
        );
      }
    }
  }
  const eol = text.includes("\r\n") ? "\r" : "";
  const newLinesFor = (indent: string, tail: string): string[] => {
    if (edit.value === null) return [];
    const body = formatOptionLines(edit.option, edit.value, indent).slice(0, -1).split("\n");
    body[body.length - 1] += tail;
    return body.map((line) => line + eol);
  };

  if (targets.length > 0) {
    const first = targets[0];
    const firstText = lines[first.firstLine - 1];
    const indent = /^[ \t]*/.exec(firstText)?.[0] ?? "\t";
    const lastTarget = targets[targets.length - 1];
    const tail = trailingComment(text, lastTarget);
    const drop = new Set<number>();
    for (const st of targets) {
      for (let l = st.firstLine; l <= st.lastLine; l++) drop.add(l);
    }
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const lineNo = i + 1;
      if (lineNo === first.firstLine) out.push(...newLinesFor(indent, tail));
      if (!drop.has(lineNo)) out.push(lines[i]);
    }
    return out.join("\n");
  }
  if (edit.value === null) return text;

  const owned = parsed.statements.filter((st) => st.section === edit.section);
  if (owned.length === 0) {
    let base = text;
    if (base !== "" && !base.endsWith("\n")) base += "\n";
    if (base !== "" && !base.endsWith("\n\n")) base += "\n";
    const header = `config ${formatType(edit.sectionType)} ${quoteUci(edit.section)}`;
    return base + [header + eol, ...newLinesFor("\t", "")].join("\n") + "\n";
  }
  const last = owned[owned.length - 1];
  const optionLine = [...owned].reverse().find((st) => st.kind !== "config");
  const indent = optionLine === undefined
    ? "\t"
    : /^[ \t]*/.exec(lines[optionLine.firstLine - 1])?.[0] ?? "\t";
  const out = [
    ...lines.slice(0, last.lastLine),
    ...newLinesFor(indent === "" ? "\t" : indent, ""),
    ...lines.slice(last.lastLine),
  ];
  return out.join("\n");
}

/** A `# comment` after a statement on its last line, with the space before it. */
function trailingComment(text: string, st: UciStatement): string {
  const nl = text.indexOf("\n", st.end);
  const rest = text.slice(st.end, nl < 0 ? text.length : nl);
  const m = /^([ \t]*#.*?)\r?$/.exec(rest);
  return m === null ? "" : m[1];
}
