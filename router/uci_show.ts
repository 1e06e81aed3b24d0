/**
 * Parser for `uci show` / `uci -q show` output:
 * `pkg.section=type` and `pkg.section.option='value'` lines, list items
 * space-separated and each single-quoted, `'` written as `'\''`.
 *
 * @module
 */

/** One section as `uci show` prints it. */
export interface ShownSection {
  /** Section name (`@type[N]` for anonymous sections without `-X`). */
  name: string;
  /** Section type. */
  type: string;
  /** Option values; a list has several items, a plain option one. */
  options: Map<string, string[]>;
}

/** A package as `uci show <pkg>` printed it, sections in order. */
export interface ShownPackage {
  /** Package name. */
  name: string;
  /** Sections in print order. */
  sections: ShownSection[];
}

/**
 * Splits a shown value into its items: `'a' 'b'` → `["a", "b"]`,
 * `'it'\''s'` → `["it's"]`. Unquoted text (older uci for simple values)
 * is taken as is.
 *
 * @example
 * ```ts
 * parseShownValue("'1.1.1.1' '8.8.8.8'"); // ["1.1.1.1", "8.8.8.8"]
 * ```
 */
export function parseShownValue(text: string): string[] {
  const items: string[] = [];
  let cur: string | null = null;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError(`unterminated quote in uci value ${JSON.stringify(text)}`);
      cur = (cur ?? "") + text.slice(i + 1, end);
      i = end + 1;
    } else if (ch === "\\" && i + 1 < text.length) {
      cur = (cur ?? "") + text[i + 1];
      i += 2;
    } else if (ch === " ") {
      if (cur !== null) items.push(cur);
      cur = null;
      i++;
    } else {
      cur = (cur ?? "") + ch;
      i++;
    }
  }
  if (cur !== null) items.push(cur);
  return items;
}

/**
 * Parses `uci show <pkg>` output. Lines of other packages are ignored.
 *
 * @example
 * ```ts
 * const pkg = parseUciShow("mwan3.wan_m1_w3=member\nmwan3.wan_m1_w3.metric='1'\n", "mwan3");
 * pkg.sections[0].options.get("metric"); // ["1"]
 * ```
 */
export function parseUciShow(text: string, pkgName: string): ShownPackage {
  const byName = new Map<string, ShownSection>();
  const sections: ShownSection[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const m = /^([^.]+)\.([^.]+)(?:\.([^.]+))?$/.exec(key);
    if (!m || m[1] !== pkgName) continue;
    const [, , secName, opt] = m;
    if (opt === undefined) {
      const type = parseShownValue(value)[0] ?? value;
      const section = byName.get(secName) ?? { name: secName, type, options: new Map() };
      section.type = type;
      if (!byName.has(secName)) {
        byName.set(secName, section);
        sections.push(section);
      }
      continue;
    }
    let section = byName.get(secName);
    if (!section) {
      section = { name: secName, type: "", options: new Map() };
      byName.set(secName, section);
      sections.push(section);
    }
    section.options.set(opt, parseShownValue(value));
  }
  return { name: pkgName, sections };
}

/**
 * The first value of an option, or undefined.
 *
 * @example
 * ```ts
 * optionValue(section, "metric"); // "1"
 * ```
 */
export function optionValue(section: ShownSection, option: string): string | undefined {
  return section.options.get(option)?.[0];
}
