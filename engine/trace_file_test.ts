import assert from "node:assert/strict";
import { engineConfig } from "./config.ts";
import { replay, replayObservations } from "./replay.ts";
import { formatTrace, parseTrace, type Trace } from "./trace.ts";
import { openTraceFile, TraceFileError } from "./trace_file.ts";
import type { Observation } from "./types.ts";

function dayTrace(seconds: number): Trace {
  const observations: Observation[] = [];
  for (let t = 0; t < seconds; t++) {
    const out = t % 600 >= 300 && t % 600 < 330;
    observations.push(
      out
        ? { t, member: "sl", loss_pct: 100, outage_cause: "OBSTRUCTED" }
        : { t, member: "sl", latency_ms: 40 + (t % 7), loss_pct: 0 },
      { t: t + 0.5, member: "cell", latency_ms: 70, loss_pct: t % 97 === 0 ? 100 : 0 },
    );
  }
  return {
    members: [
      { name: "sl", class: "starlink", weight: 100 },
      { name: "cell", class: "cellular", weight: 80 },
    ],
    observations,
  };
}

Deno.test("a trace file replayed as it is read gives the same result as replaying it whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_trace_file_test_" });
  try {
    const trace = dayTrace(3600);
    const path = `${dir}/t.jsonl`;
    // Larger than one 64 KiB read, so lines cross chunk boundaries.
    const text = formatTrace(trace);
    assert.ok(text.length > 200_000);
    await Deno.writeTextFile(path, text);
    const cfg = engineConfig();
    const whole = replay(parseTrace(text), cfg);
    const stream = openTraceFile(path);
    assert.deepEqual(stream.members, trace.members);
    const streamed = replayObservations(stream.members, stream.observations, cfg);
    assert.deepEqual(streamed.changes, whole.changes);
    assert.deepEqual(streamed.summary, whole.summary);
    assert.ok(whole.summary.switches > 0, "the trace makes the engine switch");
    // Edge cases agree too: header only, one observation.
    for (const n of [0, 1]) {
      const small: Trace = { members: trace.members, observations: trace.observations.slice(0, n) };
      await Deno.writeTextFile(path, formatTrace(small));
      const s = openTraceFile(path);
      assert.deepEqual(
        replayObservations(s.members, s.observations, cfg).summary,
        replay(small, cfg).summary,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a streamed trace names the file and line of a bad line, and a missing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_trace_file_test_" });
  try {
    const trace = dayTrace(5);
    const lines = formatTrace(trace).split("\n");
    lines.splice(4, 0, '{"t":1,"member":"nope","loss_pct":0}');
    const path = `${dir}/bad.jsonl`;
    await Deno.writeTextFile(path, lines.join("\n"));
    const s = openTraceFile(path);
    assert.throws(
      () => [...s.observations],
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
    assert.throws(
      () => openTraceFile(`${dir}/none.jsonl`),
      (e: unknown) => e instanceof TraceFileError && e.kind === "missing",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
