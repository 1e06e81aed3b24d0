// Shared core of the fake `uci` and `mwan3` (test doubles; see sim/fakebin/README.md).
// Plain CommonJS so it runs with `node` alone on a fresh machine.
//
// Follows /etc/config syntax and the uci CLI as implemented by openwrt/uci:
// quoting ('…' literal, "…" with backslash escapes, backslash outside quotes,
// unquoted # comments), anonymous names cfgNNHHHH (djb2 of the type), the
// export format written on commit, and staged changes ("deltas") kept in a
// save directory until `uci commit`, in uci's delta line format:
//   pkg.sec='type' | pkg.sec.opt='v' | +pkg.sec='type' | -pkg.sec[.opt] | |pkg.sec.opt='v'
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const NAME_RE = /^[A-Za-z0-9_]+$/;

function djb2(text) {
  let hash = 5381;
  for (let i = 0; i < text.length; i++) {
    hash = (((hash << 5) + hash) + text.charCodeAt(i)) >>> 0;
  }
  return hash & 0x7fffffff;
}

/** uci's generated name for the counter-th section (1-based) of `type`. */
function anonymousName(counter, type) {
  const c = (counter & 0xff).toString(16).padStart(2, "0");
  const h = (djb2(type) % 65536).toString(16).padStart(4, "0");
  return `cfg${c}${h}`;
}

/** Splits one logical line (with continuations already joined) into tokens. */
function tokenize(text) {
  // Returns an array of commands, each an array of tokens; handles ';' between
  // commands only when preceded by whitespace or a closing quote (uci quirk).
  const commands = [];
  let tokens = [];
  let cur = null; // current token string or null when between tokens
  let i = 0;
  let lastWasQuote = false;
  function endToken() {
    if (cur !== null) tokens.push(cur);
    cur = null;
  }
  while (i < text.length) {
    const ch = text[i];
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error("unterminated '");
      cur = (cur ?? "") + text.slice(i + 1, end);
      i = end + 1;
      lastWasQuote = true;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let val = "";
      for (;;) {
        if (j >= text.length) throw new Error('unterminated "');
        const c = text[j];
        if (c === "\\") {
          if (text[j + 1] === "\n") {
            j += 2;
            continue;
          }
          val += text[j + 1] ?? "";
          j += 2;
          continue;
        }
        if (c === '"') break;
        val += c;
        j++;
      }
      cur = (cur ?? "") + val;
      i = j + 1;
      lastWasQuote = true;
      continue;
    }
    if (ch === "\\") {
      if (text[i + 1] === "\n") {
        i += 2;
        continue;
      }
      cur = (cur ?? "") + (text[i + 1] ?? "");
      i += 2;
      lastWasQuote = false;
      continue;
    }
    if (ch === "#") {
      // A comment runs to the end of the line.
      endToken();
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (ch === ";" && (cur === null || lastWasQuote)) {
      endToken();
      if (tokens.length) commands.push(tokens);
      tokens = [];
      i++;
      continue;
    }
    if (ch === "\n") {
      endToken();
      if (tokens.length) commands.push(tokens);
      tokens = [];
      i++;
      lastWasQuote = false;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\r") {
      endToken();
      i++;
      lastWasQuote = false;
      continue;
    }
    cur = (cur ?? "") + ch;
    lastWasQuote = false;
    i++;
  }
  endToken();
  if (tokens.length) commands.push(tokens);
  return commands;
}

/** A new empty package. */
function emptyPackage(name) {
  return { name, sections: [], counter: 0 };
}

function addSection(pkg, type, name) {
  pkg.counter++;
  const anonymous = !name;
  const section = {
    name: anonymous ? anonymousName(pkg.counter, type) : name,
    type,
    anonymous,
    options: new Map(),
  };
  pkg.sections.push(section);
  return section;
}

function findSection(pkg, name) {
  return pkg.sections.find((s) => s.name === name);
}

/** Parses the text of /etc/config/<name>. Throws with a line-free message on a parse error. */
function parseConfig(name, text) {
  const pkg = emptyPackage(name);
  let section = null;
  for (const cmd of tokenize(text)) {
    const [word, a, b, ...extra] = cmd;
    if (extra.length) throw new Error(`too many arguments in ${word}`);
    switch (word) {
      case "package":
      case "p":
        break;
      case "config":
      case "c": {
        if (a === undefined) throw new Error("config without a type");
        if (b !== undefined && b !== "" && !NAME_RE.test(b)) {
          throw new Error(`invalid section name ${b}`);
        }
        const existing = b ? findSection(pkg, b) : undefined;
        section = existing ?? addSection(pkg, a, b || "");
        break;
      }
      case "option":
      case "o": {
        if (!section) throw new Error("option before any config");
        if (!a || !NAME_RE.test(a)) throw new Error(`invalid option name ${a}`);
        if (b === undefined || b === "") break;
        section.options.set(a, b);
        break;
      }
      case "list":
      case "l": {
        if (!section) throw new Error("list before any config");
        if (!a || !NAME_RE.test(a)) throw new Error(`invalid option name ${a}`);
        const old = section.options.get(a);
        const items = Array.isArray(old) ? old : old === undefined ? [] : [old];
        items.push(b ?? "");
        section.options.set(a, items);
        break;
      }
      default:
        throw new Error(`unknown command ${word}`);
    }
  }
  return pkg;
}

function quote(value) {
  return `'${String(value).replace(/'/g, "'\\''")}'`;
}

/** The uci export format, as `uci commit` writes it (no package line). */
function exportPackage(pkg) {
  let out = "";
  for (const s of pkg.sections) {
    out += `\nconfig ${s.type}`;
    if (!s.anonymous) out += ` ${quote(s.name)}`;
    out += "\n";
    for (const [opt, val] of s.options) {
      if (Array.isArray(val)) { for (const item of val) out += `\tlist ${opt} ${quote(item)}\n`; }
      else out += `\toption ${opt} ${quote(val)}\n`;
    }
  }
  return out + "\n";
}

function writeAtomic(file, text) {
  const tmp = `${file}.tmp${process.pid}`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function readDeltas(savedir, name) {
  try {
    return fs.readFileSync(path.join(savedir, name), "utf8").split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

function appendDelta(savedir, name, line) {
  fs.mkdirSync(savedir, { recursive: true });
  fs.appendFileSync(path.join(savedir, name), `${line}\n`);
}

/** Parses one delta line into {op, sec, opt, value}. */
function parseDelta(line) {
  let op = "";
  let rest = line;
  if ("+-|~@^".includes(rest[0])) {
    op = rest[0];
    rest = rest.slice(1);
  }
  const eq = rest.indexOf("=");
  const keyPart = eq < 0 ? rest : rest.slice(0, eq);
  const value = eq < 0 ? undefined : tokenize(rest.slice(eq + 1))[0]?.[0] ?? "";
  const [, sec, opt] = keyPart.split(".");
  return { op, sec, opt, value };
}

/** Applies a delta to a package in memory (uci_apply_delta subset). */
function applyDelta(pkg, d) {
  const section = findSection(pkg, d.sec);
  switch (d.op) {
    case "":
    case "+":
      if (d.opt === undefined) {
        if (section) section.type = d.value;
        else {
          const s = addSection(pkg, d.value, d.op === "+" ? "" : d.sec);
          s.name = d.sec;
        }
      } else if (section) {
        section.options.set(d.opt, d.value);
      }
      break;
    case "|":
      if (section) {
        const old = section.options.get(d.opt);
        const items = Array.isArray(old) ? old : old === undefined ? [] : [old];
        items.push(d.value);
        section.options.set(d.opt, items);
      }
      break;
    case "-":
      if (!section) break;
      if (d.opt === undefined) pkg.sections.splice(pkg.sections.indexOf(section), 1);
      else section.options.delete(d.opt);
      break;
    default:
      break;
  }
}

/** Loads /etc/config/<name> plus staged changes. Returns null when the file does not exist. */
function loadPackage(confdir, savedir, name, withDeltas = true) {
  let text;
  try {
    text = fs.readFileSync(path.join(confdir, name), "utf8");
  } catch {
    return null;
  }
  const pkg = parseConfig(name, text);
  if (withDeltas) {
    for (const line of readDeltas(savedir, name)) {
      applyDelta(pkg, parseDelta(line));
    }
  }
  return pkg;
}

/** Resolves `@type[N]` (N may be negative) or a plain section name. */
function resolveSection(pkg, ref) {
  const m = /^@([^[\]]+)\[(-?\d+)\]$/.exec(ref);
  if (!m) return findSection(pkg, ref);
  const ofType = pkg.sections.filter((s) => s.type === m[1]);
  const idx = Number(m[2]);
  return ofType[idx < 0 ? ofType.length + idx : idx];
}

/** The display name of a section in `uci show` (anonymous → @type[N] unless -X). */
function displayName(pkg, section, extended) {
  if (!section.anonymous || extended) return section.name;
  const ofType = pkg.sections.filter((s) => s.type === section.type);
  return `@${section.type}[${ofType.indexOf(section)}]`;
}

function showValue(val, delim) {
  return Array.isArray(val) ? val.map(quote).join(delim) : quote(val);
}

module.exports = {
  anonymousName,
  tokenize,
  parseConfig,
  exportPackage,
  writeAtomic,
  readDeltas,
  appendDelta,
  parseDelta,
  applyDelta,
  loadPackage,
  resolveSection,
  displayName,
  showValue,
  quote,
  emptyPackage,
  addSection,
  NAME_RE,
};
