// docs/config.md must describe exactly the options the schema knows, with the same defaults and
// ranges; these tests read its tables and hold them against the code.
import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema, DEFAULT_CONFIG, MEMBER_OPTIONS, SECTION_OPTIONS } from "./schema.ts";
import { parseConfigText, UPSTREAM_ALIASES } from "./load.ts";

const DOC = Deno.readTextFileSync(new URL("../docs/config.md", import.meta.url));

interface Row {
  section: string;
  option: string;
  type: string;
  fallback: string;
  range: string;
}

const ROWS: Row[] = DOC.split("\n")
  .filter((line) =>
    /^\| (main|scoring|starlink|notifications|remote|http|mqtt|hook|member) \|/.test(line)
  )
  .map((line) => {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    return {
      section: cells[0],
      option: cells[1],
      type: cells[2],
      fallback: cells[3],
      range: cells[4],
    };
  });

function input(row: Row, value: string): Record<string, unknown> {
  if (row.section === "member") return { members: [{ name: "m", [row.option]: value }] };
  return { [row.section]: { [row.option]: value } };
}

Deno.test("docs/config.md lists every option exactly once", () => {
  const documented = ROWS.map((r) => `${r.section}.${r.option}`).sort();
  const known = [
    ...Object.entries(SECTION_OPTIONS).flatMap(([s, opts]) => opts.map((o) => `${s}.${o}`)),
    ...MEMBER_OPTIONS.map((o) => `member.${o}`),
  ].sort();
  assert.deepEqual(documented, known);
});

Deno.test("docs/config.md defaults are the schema's defaults", () => {
  for (const row of ROWS) {
    if (row.section === "member") continue;
    const actual = (DEFAULT_CONFIG as unknown as Record<string, Record<string, unknown>>)[
      row.section
    ][row.option];
    const shown = typeof actual === "boolean"
      ? (actual ? "1" : "0")
      : actual === ""
      ? "''"
      : String(actual);
    assert.equal(row.fallback, shown, `${row.section}.${row.option}`);
  }
  const member = v.parse(ConfigSchema, { members: [{ name: "m" }] }).members[0];
  for (const row of ROWS.filter((r) => r.section === "member")) {
    if (
      row.fallback.startsWith("(") || row.fallback.startsWith("by class") || row.option === "iface"
    ) {
      continue;
    }
    const actual = (member as Record<string, unknown>)[row.option];
    const shown = typeof actual === "boolean"
      ? (actual ? "1" : "0")
      : Array.isArray(actual)
      ? actual.join(" ")
      : String(actual);
    assert.equal(row.fallback, shown, `member.${row.option}`);
  }
});

Deno.test("docs/config.md numeric ranges are the schema's ranges", () => {
  let checked = 0;
  for (const row of ROWS) {
    const m = /^(-?[\d.]+)–(-?[\d.]+)$/.exec(row.range);
    if (m === null || (row.type !== "integer" && row.type !== "number")) continue;
    const [min, max] = [Number(m[1]), Number(m[2])];
    const step = row.type === "integer" ? 1 : 0.001;
    // Cross-field checks (e.g. restore vs fail) may object to an extreme value; only the
    // option's own range is checked here.
    const accepts = (x: number) =>
      (v.safeParse(ConfigSchema, input(row, String(x))).issues ?? []).every((i) =>
        i.type === "partial_check"
      );
    const rejects = (x: number) => !v.safeParse(ConfigSchema, input(row, String(x))).success;
    assert.ok(accepts(min), `${row.section}.${row.option} accepts ${min}`);
    assert.ok(accepts(max), `${row.section}.${row.option} accepts ${max}`);
    assert.ok(
      rejects(Math.round((min - step) * 1000) / 1000),
      `${row.option} rejects below ${min}`,
    );
    assert.ok(
      rejects(Math.round((max + step) * 1000) / 1000),
      `${row.option} rejects above ${max}`,
    );
    checked++;
  }
  const numeric = ROWS.filter((r) => r.type === "integer" || r.type === "number");
  // All but member.probe_reliability, whose upper bound is the number of probe targets.
  assert.equal(checked, numeric.length - 1);
});

Deno.test("docs/config.md enum values are the schema's values", () => {
  for (const row of ROWS.filter((r) => r.type === "enum")) {
    for (const value of row.range.split(", ")) {
      assert.ok(v.safeParse(ConfigSchema, input(row, value)).success, `${row.option}=${value}`);
    }
    assert.ok(!v.safeParse(ConfigSchema, input(row, "nonsense")).success, row.option);
  }
});

Deno.test("docs/config.md upstream-name table covers every alias", () => {
  for (const [section, aliases] of Object.entries(UPSTREAM_ALIASES)) {
    for (const name of Object.keys(aliases)) {
      assert.match(
        DOC,
        new RegExp(`\\| \`${name}\` \\([^)]*${section}[^)]*\\)`),
        `${section}.${name}`,
      );
    }
  }
});

Deno.test("the example in docs/config.md validates without warnings", () => {
  const block = /## Example[\s\S]*?```\n([\s\S]*?)```/.exec(DOC);
  assert.ok(block);
  const { warnings, config } = parseConfigText(block[1], "docs/config.md");
  assert.deepEqual(warnings, []);
  assert.equal(config.members.length, 5);
});
