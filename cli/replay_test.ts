import assert from "node:assert/strict";
import { CliError, EXIT, UsageError } from "./args.ts";
import { clock, run } from "./replay.ts";

const HEADER =
  '{"starfail_trace":1,"members":[{"name":"starlink","class":"starlink","weight":100},' +
  '{"name":"cell","class":"cellular","weight":80}]}';

function traceText(): string {
  const lines = [HEADER];
  for (let t = 0; t < 200; t++) {
    const out = t >= 50 && t < 70;
    lines.push(JSON.stringify(
      out
        ? { t, member: "starlink", loss_pct: 100, outage_cause: "NO_SCHEDULE" }
        : { t, member: "starlink", latency_ms: 40, loss_pct: 0, obstruction_pct: 0.5 },
    ));
    lines.push(JSON.stringify({ t, member: "cell", latency_ms: 70, loss_pct: 0 }));
  }
  return lines.join("\n") + "\n";
}

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const orig = console.log;
  const chunks: string[] = [];
  console.log = (...a: unknown[]) => chunks.push(a.map(String).join(" "));
  try {
    const code = await fn();
    return { code, out: chunks.join("\n") };
  } finally {
    console.log = orig;
  }
}

Deno.test("replay --json prints one line per change of primary, then the summary", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/t.jsonl`, traceText());
    const { code, out } = await capture(() => run([`${dir}/t.jsonl`, "--json"]));
    assert.equal(code, EXIT.OK);
    const lines = out.split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines[0].primary, "starlink");
    assert.equal(lines[0].from, null);
    assert.equal(lines[1].primary, "cell");
    assert.equal(lines[1].from, "starlink");
    assert.match(lines[1].reason, /NO_SCHEDULE/);
    assert.equal(lines.at(-1).summary.switches, lines.length - 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay prints a readable timeline and summary", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/t.jsonl`, traceText());
    const { out } = await capture(() => run([`${dir}/t.jsonl`]));
    assert.match(out, /Replay of .*t\.jsonl: 2 members \(starlink, cell\)/);
    assert.match(
      out,
      /0:00:51 {2}starlink → cell\s+\[hard\] starlink down: dish reports outage NO_SCHEDULE/,
    );
    assert.match(out, /Summary\n {2}switches {9}2 \(hard 1, failback 1\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay --config applies the config's engine and member options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/t.jsonl`, traceText());
    await Deno.writeTextFile(
      `${dir}/starfail`,
      "config starfail 'main'\n\toption poll_interval_ms '1000'\n\toption restore_min_duration_s '300'\n" +
        "config member 'starlink'\n\toption class 'starlink'\n\toption weight '50'\n",
    );
    const { out } = await capture(() =>
      run([`${dir}/t.jsonl`, "--config", `${dir}/starfail`, "--json"])
    );
    const lines = out.split("\n").map((l) => JSON.parse(l));
    // The member section put starlink (50) below cell (80): cell from the start, no switch;
    // main's poll_interval_ms 1000 gives a tick a second over the 200 s.
    assert.equal(lines.length, 2);
    assert.equal(lines[0].primary, "cell");
    assert.equal(lines[1].summary.switches, 0);
    assert.equal(lines[1].summary.ticks, 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad trace input: one line with file and line number, exit 65; missing file exit 66", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/bad.jsonl`,
      `${HEADER}\n{"t":0,"member":"starlink"}\n{"t":1,"member":"dsl"}\n`,
    );
    const { out } = await capture(async () => {
      await assert.rejects(run([`${dir}/bad.jsonl`, "--json"]), (e: unknown) => {
        return e instanceof CliError && e.code === EXIT.DATAERR &&
          /bad\.jsonl: line 3: "member" 'dsl' is not in the header/.test(e.message);
      });
      return 0;
    });
    assert.equal(out, "", "nothing partial is printed");
    await assert.rejects(
      run([`${dir}/none.jsonl`]),
      (e: unknown) => e instanceof CliError && e.code === EXIT.NOINPUT,
    );
    await assert.rejects(run([]), (e: unknown) => e instanceof UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("clock formats seconds as H:MM:SS", () => {
  assert.equal(clock(0), "0:00:00");
  assert.equal(clock(3725.5), "1:02:05.5");
});
