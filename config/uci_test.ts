import assert from "node:assert/strict";
import fc from "fast-check";
import {
  anonymousSectionName,
  editUciOption,
  exportUci,
  parseUci,
  type UciDocument,
  type UciSection,
} from "./uci.ts";

const SAMPLES = new URL("../test/fixtures/router_tools", import.meta.url).pathname;

/** Parses and asserts there were no errors. */
function ok(text: string): UciDocument {
  const result = parseUci(text);
  assert.deepEqual(result.errors, []);
  return result.document;
}

/** Section by name. */
function sec(doc: UciDocument, name: string): UciSection {
  const s = doc.sections.find((x) => x.name === name);
  assert.ok(s, `section ${name} missing`);
  return s;
}

/** Value of an option. */
function val(doc: UciDocument, section: string, option: string): string | string[] | undefined {
  return sec(doc, section).options.find((o) => o.name === option)?.value;
}

function errorsOf(text: string): { line: number; message: string }[] {
  return parseUci(text).errors;
}

// ---- Lines and commands ----

Deno.test("leading whitespace is skipped, including \\r (CRLF files parse)", () => {
  const doc = ok("  \t config t 's'\r\n\r\n\t\toption a 'b'\r\n   \r\n");
  assert.equal(val(doc, "s", "a"), "b");
  assert.equal(sec(doc, "s").options.length, 1);
});

Deno.test("command words: package/config/option/list and p/c/o/l", () => {
  const doc = ok("p starfail\nc t 's'\no a 1\nl b 2\nl b 3\n");
  assert.equal(val(doc, "s", "a"), "1");
  assert.deepEqual(val(doc, "s", "b"), ["2", "3"]);
});

Deno.test("an unknown command word is an error", () => {
  assert.deepEqual(errorsOf("config t s\nopt a b\n"), [
    { line: 2, message: "invalid command 'opt'" },
  ]);
  assert.equal(errorsOf("configs t s\n").length, 1);
});

Deno.test("a word starting with # makes the line a comment; blank lines are ignored", () => {
  const doc = ok("# head\n\n#config x y\nconfig t s\n\t#option a b\n\t# option c d\n\n");
  assert.equal(doc.sections.length, 1);
  assert.equal(sec(doc, "s").options.length, 0);
});

// ---- Quoting and escapes ----

Deno.test("tokens are split on whitespace", () => {
  const doc = ok("config\tt\t s\noption  a \t value\n");
  assert.equal(val(doc, "s", "a"), "value");
});

Deno.test("'…' is literal and may span lines, keeping the newline", () => {
  const doc = ok("config t s\noption a 'x\\y \"z\" #w;\nsecond'\noption b 'c'\n");
  assert.equal(val(doc, "s", "a"), 'x\\y "z" #w;\nsecond');
  assert.equal(val(doc, "s", "b"), "c");
  assert.equal(sec(doc, "s").options[1].line, 4);
});

Deno.test('"…" lets a backslash make the next character literal, no C escapes', () => {
  const doc = ok('config t s\noption a "q\\"uote \\\\ \\n \\t"\n');
  assert.equal(val(doc, "s", "a"), 'q"uote \\ n t');
});

Deno.test('"…" may span lines and keeps the newline', () => {
  const doc = ok('config t s\noption a "one\ntwo"\n');
  assert.equal(val(doc, "s", "a"), "one\ntwo");
});

Deno.test("outside quotes a backslash makes the next character literal", () => {
  const doc = ok("config t s\noption a x\\ y\\#z\\'q\\;r\n");
  assert.equal(val(doc, "s", "a"), "x y#z'q;r");
});

Deno.test("backslash at end of line continues the line, unquoted and in double quotes", () => {
  const doc = ok('config t s\noption a abc\\\ndef\noption b "ghi\\\njkl"\noption \\\nc d\n');
  assert.equal(val(doc, "s", "a"), "abcdef");
  assert.equal(val(doc, "s", "b"), "ghijkl");
  assert.equal(val(doc, "s", "c"), "d");
});

Deno.test("backslash-CRLF also continues the line", () => {
  const doc = ok("config t s\r\noption a abc\\\r\ndef\r\n");
  assert.equal(val(doc, "s", "a"), "abcdef");
});

Deno.test("adjacent pieces concatenate", () => {
  const doc = ok(`config t s\noption a 'con'"cat"x\n`);
  assert.equal(val(doc, "s", "a"), "concatx");
});

Deno.test("an unquoted # starts a comment even inside a token", () => {
  const doc = ok("config t s\noption a 2#c\noption b 'x'#y z\noption c '#kept'\n");
  assert.equal(val(doc, "s", "a"), "2");
  assert.equal(val(doc, "s", "b"), "x");
  assert.equal(val(doc, "s", "c"), "#kept");
});

Deno.test("'it'\\''s' gives it's", () => {
  const doc = ok("config t s\noption a 'it'\\''s'\n");
  assert.equal(val(doc, "s", "a"), "it's");
});

Deno.test("unterminated quotes are errors", () => {
  assert.deepEqual(errorsOf("config t s\noption a 'x\n"), [
    { line: 2, message: "unterminated '" },
  ]);
  assert.deepEqual(errorsOf('config t s\noption a "x\n'), [
    { line: 2, message: 'unterminated "' },
  ]);
});

// ---- the ; quirk ----

Deno.test("; right after an unquoted value silently drops the rest of the line", () => {
  const doc = ok("config t s\noption p 1; option q 2\n");
  assert.equal(val(doc, "s", "p"), "1");
  assert.equal(val(doc, "s", "q"), undefined);
});

Deno.test("; after whitespace separates commands", () => {
  const doc = ok("config t s\noption p 1 ; option q 2\n");
  assert.equal(val(doc, "s", "p"), "1");
  assert.equal(val(doc, "s", "q"), "2");
});

Deno.test("; after a closing quote separates commands", () => {
  const doc = ok('config t s\noption p "1";option q 2\nconfig t u;option r 3\n');
  assert.equal(val(doc, "s", "p"), "1");
  assert.equal(val(doc, "s", "q"), "2");
  assert.equal(sec(doc, "u").options.length, 0);
});

Deno.test("; after an escaped character drops the rest (only whitespace or a quote separate)", () => {
  const doc = ok("config t s\noption p 1\\x; option q 2\n");
  assert.equal(val(doc, "s", "p"), "1x");
  assert.equal(val(doc, "s", "q"), undefined);
});

Deno.test("config t s ; option … applies the option to the new section", () => {
  const doc = ok("config t s ; option a 1 ; list b 2\n");
  assert.equal(val(doc, "s", "a"), "1");
  assert.deepEqual(val(doc, "s", "b"), ["2"]);
});

// ---- config ----

Deno.test("config type may be any printable ASCII 33–126", () => {
  const doc = ok("config a.b s\nconfig 'x!~@' u\n");
  assert.equal(sec(doc, "s").type, "a.b");
  assert.equal(sec(doc, "u").type, "x!~@");
  assert.equal(errorsOf("config 'a b' s\n").length, 1);
  assert.match(errorsOf("config 'a\u00e9' s\n")[0].message, /invalid character in type/);
});

Deno.test("config without a type is an error", () => {
  assert.deepEqual(errorsOf("config\n"), [{ line: 1, message: "insufficient arguments" }]);
});

Deno.test("section names must match [A-Za-z0-9_]+", () => {
  ok("config t A_z09\n");
  assert.deepEqual(errorsOf("config t x-y\n"), [
    { line: 1, message: "invalid character in name field 'x-y'" },
  ]);
});

Deno.test("a missing or '' name makes an anonymous section", () => {
  const doc = ok("config t\nconfig t ''\n");
  assert.equal(doc.sections.length, 2);
  assert.ok(doc.sections.every((s) => s.anonymous));
});

Deno.test("repeating config t name merges into the existing section", () => {
  const doc = ok("config t s\noption a 1\nconfig u x\nconfig t s\noption b 2\n");
  assert.equal(doc.sections.length, 2);
  assert.equal(doc.sections[0].name, "s");
  assert.deepEqual(sec(doc, "s").options.map((o) => [o.name, o.value]), [["a", "1"], ["b", "2"]]);
});

Deno.test("repeating a name with a different type is an error (strict)", () => {
  const errors = errorsOf("config t s\nconfig u s\noption a 1\n");
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, 2);
  assert.match(errors[0].message, /different type/);
});

// ---- option ----

Deno.test("option names match [A-Za-z0-9_]+ and may start with a digit", () => {
  const doc = ok("config t s\noption 9lives x\n");
  assert.equal(val(doc, "s", "9lives"), "x");
  assert.deepEqual(errorsOf("config t s\noption a-b x\n"), [
    { line: 2, message: "invalid character in name field 'a-b'" },
  ]);
});

Deno.test("option with a missing or empty value creates nothing and keeps the old value", () => {
  const doc = ok("config t s\noption a\noption b ''\noption c 1\noption c ''\noption c\n");
  assert.deepEqual(sec(doc, "s").options.map((o) => [o.name, o.value]), [["c", "1"]]);
});

Deno.test("option without a name is an error", () => {
  assert.deepEqual(errorsOf("config t s\noption\n"), [
    { line: 2, message: "insufficient arguments" },
  ]);
});

// ---- list ----

Deno.test("list appends; empty items are allowed", () => {
  const doc = ok("config t s\nlist a x\nlist a ''\nlist a y\n");
  assert.deepEqual(val(doc, "s", "a"), ["x", "", "y"]);
});

Deno.test("list after an option of the same name makes a list, old value first", () => {
  const doc = ok("config t s\noption a old\nlist a new\n");
  assert.deepEqual(val(doc, "s", "a"), ["old", "new"]);
});

Deno.test("option after a list replaces the list", () => {
  const doc = ok("config t s\nlist a x\nlist a y\noption a z\n");
  assert.equal(val(doc, "s", "a"), "z");
});

// ---- errors ----

Deno.test("extra arguments raise 'too many arguments'", () => {
  assert.deepEqual(errorsOf("config t s extra\n"), [{ line: 1, message: "too many arguments" }]);
  assert.deepEqual(errorsOf("config t s\noption a b c\n"), [
    { line: 2, message: "too many arguments" },
  ]);
  assert.deepEqual(errorsOf("package p q\n"), [{ line: 1, message: "too many arguments" }]);
});

Deno.test("an option before any config is an error", () => {
  assert.deepEqual(errorsOf("option a b\nconfig t s\n"), [
    { line: 1, message: "option/list command found before the first section" },
  ]);
  assert.equal(errorsOf("list a b\n").length, 1);
});

Deno.test("every error is reported, each with its line", () => {
  const text = "option a b\nconfig t s\noption x-y 1\nbogus\noption ok 1\nconfig t 'a b'\n";
  assert.deepEqual(errorsOf(text).map((e) => e.line), [1, 3, 4, 6]);
});

Deno.test("options after a rejected config line do not cascade into more errors", () => {
  const result = parseUci("config t x-y\noption a 1\noption b 2\n");
  assert.equal(result.errors.length, 1);
  assert.equal(result.document.sections.length, 0);
});

Deno.test("a package line is ignored (single-package mode)", () => {
  const doc = ok("package starfail\nconfig t s\npackage other\noption a 1\n");
  assert.equal(doc.sections.length, 1);
  assert.equal(val(doc, "s", "a"), "1");
});

// ---- anonymous names ----

Deno.test("anonymous names: verified values cfg01b606 and cfg06dc81", () => {
  assert.equal(anonymousSectionName("a", 1), "cfg01b606");
  assert.equal(anonymousSectionName("zone", 6), "cfg06dc81");
});

Deno.test("anonymous names count named sections, and options never affect them", () => {
  const doc = ok(
    "config a\nconfig x n1\nconfig y n2\nconfig x n3\nconfig y n4\nconfig zone\noption name lan\n",
  );
  assert.equal(doc.sections[0].name, "cfg01b606");
  assert.equal(doc.sections[5].name, "cfg06dc81");
});

Deno.test("a merged (repeated) named section does not advance the counter", () => {
  const doc = ok("config t s\nconfig t s\nconfig a\n");
  assert.equal(doc.sections[1].name, "cfg02b606");
});

// ---- line numbers ----

Deno.test("sections and options keep their line numbers", () => {
  const doc = ok("\n# c\nconfig t s\n\toption a 1\n\n\tlist b x\n\tlist b y\n\toption a 2\n");
  assert.equal(sec(doc, "s").line, 3);
  const [a, b] = sec(doc, "s").options;
  assert.equal(a.line, 8);
  assert.equal(b.line, 6);
});

// ---- writer ----

Deno.test("exportUci writes the uci export format", () => {
  const doc = ok("config t s\noption a 'it'\\''s'\nlist b x\nlist b y\nconfig u\noption c 1\n");
  assert.equal(
    exportUci(doc),
    "\nconfig t 's'\n\toption a 'it'\\''s'\n\tlist b 'x'\n\tlist b 'y'\n\nconfig u\n\toption c '1'\n\n",
  );
  assert.ok(exportUci(doc, { packageName: "starfail" }).startsWith("package starfail\n\n"));
  assert.match(exportUci(doc, { exportNames: true }), /config u 'cfg02/);
});

Deno.test("exportUci quotes a type that would not read back", () => {
  const doc: UciDocument = {
    sections: [{ type: "a#b", name: "s", anonymous: false, line: 0, options: [] }],
  };
  assert.equal(ok(exportUci(doc)).sections[0].type, "a#b");
});

// ---- real files ----

for (const file of Deno.readDirSync(SAMPLES)) {
  if (!file.name.endsWith(".uci")) continue;
  Deno.test(`parses the real sample ${file.name.slice(0, 40)}…`, () => {
    const text = Deno.readTextFileSync(`${SAMPLES}/${file.name}`);
    const doc = ok(text);
    assert.ok(doc.sections.length > 0);
    assert.deepEqual(stripLines(ok(exportUci(doc))), stripLines(doc));
  });
}

function stripLines(doc: UciDocument): UciDocument {
  return JSON.parse(JSON.stringify(doc), (k, v) => (k === "line" ? undefined : v));
}

Deno.test("the mwan3 2.12.2 default: lists, named sections, comments", () => {
  const name = [...Deno.readDirSync(SAMPLES)].find((f) => f.name.startsWith("etc_config_mwan3"));
  const doc = ok(Deno.readTextFileSync(`${SAMPLES}/${name!.name}`));
  assert.deepEqual(val(doc, "wan", "track_ip"), [
    "1.0.0.1",
    "1.1.1.1",
    "208.67.222.222",
    "208.67.220.220",
  ]);
  assert.equal(val(doc, "globals", "mmx_mask"), "0x3F00");
  assert.equal(sec(doc, "wan").line, 7);
});

Deno.test("the RutOS default: an anonymous condition section matches `uci show` values", () => {
  const name = [...Deno.readDirSync(SAMPLES)].find((f) => f.name.startsWith("rutos_etc_config"));
  const doc = ok(Deno.readTextFileSync(`${SAMPLES}/${name!.name}`));
  const condition = doc.sections.find((s) => s.type === "condition")!;
  assert.ok(condition.anonymous);
  // The composed `uci show mwan3` sample prints @condition[0] with these values.
  const show = [...Deno.readDirSync(SAMPLES)].find((f) => f.name.startsWith("rutos_uci_show"));
  const showText = Deno.readTextFileSync(`${SAMPLES}/${show!.name}`);
  for (const opt of condition.options) {
    const printed = Array.isArray(opt.value)
      ? opt.value.map((v) => `'${v}'`).join(" ")
      : `'${opt.value}'`;
    assert.ok(
      showText.includes(`mwan3.@condition[0].${opt.name}=${printed}`),
      `${opt.name}=${printed}`,
    );
  }
  // The section is the 3rd of the file: cfg03 + djb2("condition").
  assert.equal(condition.name, anonymousSectionName("condition", 3));
});

// ---- round trip ----

const nameArb = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);
const textArb = fc.string({
  unit: fc.constantFrom("a", "Z", "0", " ", "'", '"', "\\", "\n", "#", ";", "\t", "é", "$"),
  maxLength: 12,
});

Deno.test("property: exportUci → parseUci round-trips sections, options and lists", () => {
  const sectionArb = fc.record({
    type: fc.stringMatching(/^[!-~]{1,6}$/),
    anonymous: fc.boolean(),
    options: fc.uniqueArray(
      fc.record({
        name: nameArb,
        value: fc.oneof(
          textArb.filter((s) => s !== ""),
          fc.array(textArb, { minLength: 1, maxLength: 3 }),
        ),
      }),
      { selector: (o) => o.name, maxLength: 5 },
    ),
  });
  fc.assert(
    fc.property(fc.array(sectionArb, { maxLength: 5 }), (specs) => {
      const sections: UciSection[] = specs.map((s, i) => ({
        type: s.type,
        name: s.anonymous ? anonymousSectionName(s.type, i + 1) : `s${i}`,
        anonymous: s.anonymous,
        line: 0,
        options: s.options.map((o) => ({ ...o, line: 0 })),
      }));
      const doc: UciDocument = { sections };
      const back = ok(exportUci(doc));
      assert.deepEqual(stripLines(back), stripLines(doc));
    }),
    { numRuns: 300 },
  );
});

// ---- editing writer ----

const FILE = [
  "# starfail test file",
  "",
  "config starfail 'main'",
  "    option cooldown_s '30'   # seconds",
  "    option dry_run '0'",
  "",
  "# members",
  "config member 'wan'",
  "\tlist probe_target '1.1.1.1'",
  "\tlist probe_target '8.8.8.8'",
  "",
].join("\n");

Deno.test("edit: changing an option keeps every other line, indentation and the comment", () => {
  const out = editUciOption(FILE, {
    section: "main",
    sectionType: "starfail",
    option: "cooldown_s",
    value: "45",
  });
  assert.equal(out, FILE.replace("option cooldown_s '30'", "option cooldown_s '45'"));
});

Deno.test("edit: adding an option puts it after the section's last line", () => {
  const out = editUciOption(FILE, {
    section: "main",
    sectionType: "starfail",
    option: "predictive",
    value: "0",
  });
  assert.equal(
    out,
    FILE.replace("    option dry_run '0'\n", "    option dry_run '0'\n    option predictive '0'\n"),
  );
});

Deno.test("edit: removing an option removes only its lines", () => {
  const out = editUciOption(FILE, {
    section: "main",
    sectionType: "starfail",
    option: "dry_run",
    value: null,
  });
  assert.equal(out, FILE.replace("    option dry_run '0'\n", ""));
});

Deno.test("edit: replacing a list writes list lines in place", () => {
  const out = editUciOption(FILE, {
    section: "wan",
    sectionType: "member",
    option: "probe_target",
    value: ["9.9.9.9", "it's"],
  });
  assert.equal(
    out,
    FILE.replace(
      "\tlist probe_target '1.1.1.1'\n\tlist probe_target '8.8.8.8'\n",
      "\tlist probe_target '9.9.9.9'\n\tlist probe_target 'it'\\''s'\n",
    ),
  );
  assert.deepEqual(val(ok(out), "wan", "probe_target"), ["9.9.9.9", "it's"]);
});

Deno.test("edit: a missing section is appended", () => {
  const out = editUciOption(FILE, {
    section: "lte",
    sectionType: "member",
    option: "class",
    value: "cellular",
  });
  assert.equal(out, FILE + "\nconfig member 'lte'\n\toption class 'cellular'\n");
  assert.equal(
    editUciOption("", { section: "main", sectionType: "starfail", option: "a", value: "1" }),
    "config starfail 'main'\n\toption a '1'\n",
  );
});

Deno.test("edit: a multi-line value and duplicates are replaced entirely", () => {
  const text = "config t s\n\toption a 'x\ny'\n\toption b 1\n\toption a 'z'\n";
  const out = editUciOption(text, { section: "s", sectionType: "t", option: "a", value: "w" });
  assert.equal(out, "config t s\n\toption a 'w'\n\toption b 1\n");
});

Deno.test("edit: refuses files with errors and lines shared through ;", () => {
  assert.throws(
    () =>
      editUciOption("config t x-y\n", { section: "s", sectionType: "t", option: "a", value: "1" }),
    /syntax errors/,
  );
  assert.throws(
    () =>
      editUciOption("config t s\noption a 1 ; option b 2\n", {
        section: "s",
        sectionType: "t",
        option: "a",
        value: "3",
      }),
    /several statements/,
  );
});

Deno.test("edit: CRLF files get CRLF lines", () => {
  const text = "config t s\r\n\toption a '1'\r\n";
  const out = editUciOption(text, { section: "s", sectionType: "t", option: "b", value: "2" });
  assert.equal(out, "config t s\r\n\toption a '1'\r\n\toption b '2'\r\n");
});
