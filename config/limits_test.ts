import assert from "node:assert/strict";
import { checkConfigText, MAX_MEMBERS, MAX_REPORTED_PROBLEMS } from "./load.ts";
import { MAX_NAME_LENGTH, MAX_PROBE_TARGETS } from "./schema.ts";

function problemsOf(text: string): string[] {
  return checkConfigText(text, "f").problems;
}

Deno.test(`more than ${MAX_MEMBERS} members is one problem naming the limit`, () => {
  const text = Array.from({ length: 5_000 }, (_, i) => `config member 'm${i}'\n`).join("");
  const problems = problemsOf(text);
  assert.deepEqual(problems, [
    `f: 5000 member sections, above the limit of ${MAX_MEMBERS}; describe only the WAN ` +
    `interfaces starfail should choose between`,
  ]);
  assert.deepEqual(problemsOf(`config member 'm'\n`.repeat(1)), []);
});

Deno.test(`a member name above ${MAX_NAME_LENGTH} characters is refused`, () => {
  assert.deepEqual(problemsOf(`config member '${"a".repeat(MAX_NAME_LENGTH)}'\n`), []);
  const problems = problemsOf(`config member '${"a".repeat(MAX_NAME_LENGTH + 1)}'\n`);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /expected a member name of 1 to 63/);
});

Deno.test("probe_target '[::1]:0', host '::::' and too many targets are refused", () => {
  const member = (target: string) => `config member 'wan'\n\toption probe_target '${target}'\n`;
  assert.match(problemsOf(member("[::1]:0"))[0], /'\[::1\]:0' is not an IP address/);
  assert.match(problemsOf(member("::::"))[0], /'::::' is not an IP address/);
  assert.deepEqual(problemsOf(member("[::1]:53 2606:4700::1111 1.1.1.1:53")), []);
  const many = Array.from({ length: MAX_PROBE_TARGETS + 1 }, (_, i) => `10.0.0.${i + 1}`);
  assert.match(problemsOf(member(many.join(" ")))[0], /17 probe targets, above the limit of 16/);
  assert.match(
    problemsOf("config starfail 'starlink'\n\toption host '::::'\n")[0],
    /expected an IP address or host name/,
  );
});

Deno.test("a file with hundreds of problems reports a bounded number of lines", () => {
  const text = "config starfail 'main'\n" + "\toption cooldown_s 'x'\n\tbad line\n".repeat(300);
  const problems = problemsOf(text);
  assert.equal(problems.length, MAX_REPORTED_PROBLEMS);
  assert.match(problems.at(-1)!, /^\.\.\. and \d+ more problems$/);
});
