import assert from "node:assert/strict";
import { engineConfig } from "./config.ts";
import { replay, replayEntries } from "./replay.ts";
import { formatTrace, parseTrace, type Trace, type TraceTick } from "./trace.ts";
import { openTraceFile, TRACE_MAX_LINE_CHARS, TraceFileError } from "./trace_file.ts";
import type { Observation } from "./types.ts";

/** A trace of `seconds` s: sl drops out 30 s every 10 min; with `ticks`, recorded ticks at x.5 s. */
function dayTrace(seconds: number, ticks = false): Trace {
  const observations: Observation[] = [];
  const recorded: TraceTick[] = [];
  for (let t = 0; t < seconds; t++) {
    const out = t % 600 >= 300 && t % 600 < 330;
    observations.push(
      out
        ? { t, member: "sl", loss_pct: 100, outage_cause: "OBSTRUCTED" }
        : { t, member: "sl", latency_ms: 40 + (t % 7), loss_pct: 0 },
      { t: t + 0.25, member: "cell", latency_ms: 70, loss_pct: t % 97 === 0 ? 100 : 0 },
    );
    if (ticks) recorded.push({ t: t + 0.5, after: observations.length });
  }
  return {
    members: [
      { name: "sl", class: "starlink", weight: 100 },
      { name: "cell", class: "cellular", weight: 80, metered: true },
    ],
    observations,
    ...(ticks ? { config: { poll_interval_ms: 1000 }, start_t: 0, ticks: recorded } : {}),
  };
}

function streamed(path: string, cfg = engineConfig()) {
  const s = openTraceFile(path);
  return { s, result: replayEntries(s.members, s.entries, cfg, s.start) };
}

Deno.test("a trace file replayed as it is read gives the same result as replaying it whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_trace_file_test_" });
  try {
    for (const ticks of [false, true]) {
      const trace = dayTrace(3600, ticks);
      const path = `${dir}/t.jsonl`;
      // Larger than one 64 KiB read, so lines cross chunk boundaries.
      const text = formatTrace(trace);
      assert.ok(text.length > 200_000);
      await Deno.writeTextFile(path, text);
      const cfg = engineConfig(trace.config ?? {});
      const whole = replay(parseTrace(text), cfg);
      const { s, result } = streamed(path, cfg);
      assert.deepEqual(s.members, trace.members);
      assert.deepEqual(s.config, trace.config);
      assert.equal(s.start.recorded, ticks);
      assert.deepEqual(result.changes, whole.changes);
      assert.deepEqual(result.summary, whole.summary);
      assert.ok(whole.summary.switches > 0, "the trace makes the engine switch");
      if (ticks) {
        assert.equal(whole.summary.ticks, 3600, "recorded ticks are honoured");
        assert.ok(result.changes.every((c) => c.t % 1 === 0.5), "switches at recorded tick times");
      }
      // Edge cases agree too: header only, one observation, a tick before any observation.
      const edges: Trace[] = [
        { ...trace, observations: [], ticks: undefined },
        { ...trace, observations: trace.observations.slice(0, 1), ticks: undefined },
        { ...trace, start_t: undefined, observations: [], ticks: [{ t: 3, after: 0 }] },
        {
          ...trace,
          start_t: undefined,
          observations: trace.observations.slice(0, 3),
          ticks: [{ t: 0.1, after: 1 }, { t: 2, after: 3 }],
        },
      ];
      for (const small of edges) {
        await Deno.writeTextFile(path, formatTrace(small));
        const c = engineConfig(small.config ?? {});
        assert.deepEqual(streamed(path, c).result.summary, replay(small, c).summary);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a streamed trace names the file and line of a bad line, and a missing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_trace_file_test_" });
  try {
    const lines = formatTrace(dayTrace(5, true)).split("\n");
    lines.splice(4, 0, '{"t":1,"member":"nope","loss_pct":0}');
    const path = `${dir}/bad.jsonl`;
    await Deno.writeTextFile(path, lines.join("\n"));
    const s = openTraceFile(path);
    assert.throws(
      () => [...s.entries],
      (e: unknown) =>
        e instanceof TraceFileError && e.kind === "invalid" &&
        e.message.startsWith(`${path}: line 5:`) &&
        /not in the header/.test(e.message),
    );
    await Deno.writeTextFile(path, "\n\n");
    assert.throws(
      () => openTraceFile(path),
      (e: unknown) =>
        e instanceof TraceFileError && e.kind === "invalid" && /empty/.test(e.message),
    );
    // One line longer than the cap is refused, not buffered without end.
    const header = formatTrace({ members: dayTrace(1).members, observations: [] });
    await Deno.writeTextFile(path, header + "x".repeat(TRACE_MAX_LINE_CHARS + 70_000));
    assert.throws(
      () => [...openTraceFile(path).entries],
      (e: unknown) =>
        e instanceof TraceFileError && e.kind === "invalid" && /line 2 is longer/.test(e.message),
    );
    assert.throws(
      () => openTraceFile(`${dir}/none.jsonl`),
      (e: unknown) => e instanceof TraceFileError && e.kind === "missing",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a streamed trace refuses a FIFO, a device and a symlink loop in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_trace_file_test_" });
  try {
    const fifo = `${dir}/fifo.jsonl`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(mk.success, "mkfifo");
    const loop = `${dir}/loop.jsonl`;
    await Deno.symlink(loop, loop);
    const cases: [string, string, RegExp][] = [
      [fifo, "missing", /is a FIFO \(named pipe\), expected a trace file$/],
      ["/dev/zero", "missing", /is a character device, expected a trace file$/],
      [dir, "missing", /is a directory, expected a trace file$/],
      [loop, "unreadable", /symbolic link loop/],
    ];
    for (const [path, kind, re] of cases) {
      assert.throws(
        () => openTraceFile(path),
        (e: unknown) =>
          e instanceof TraceFileError && e.kind === kind && re.test(e.message) &&
          !e.message.includes("\n"),
        path,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
