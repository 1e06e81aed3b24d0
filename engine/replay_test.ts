import assert from "node:assert/strict";
import { engineConfig } from "./config.ts";
import { replay } from "./replay.ts";
import { formatTrace, parseTrace, type Trace } from "./trace.ts";
import type { Observation } from "./types.ts";

function outageTrace(): Trace {
  const observations: Observation[] = [];
  for (let t = 0; t < 300; t++) {
    const out = t >= 100 && t < 130;
    observations.push(
      out
        ? { t, member: "starlink", loss_pct: 100, outage_cause: "OBSTRUCTED" }
        : { t, member: "starlink", latency_ms: 40, loss_pct: 0, obstruction_pct: 1 },
      { t, member: "cell", latency_ms: 70, loss_pct: 0, rsrp_dbm: -95, sinr_db: 10 },
    );
  }
  return {
    members: [
      { name: "starlink", class: "starlink", weight: 100 },
      { name: "cell", class: "cellular", weight: 80, metered: true },
    ],
    observations,
  };
}

Deno.test("replay ticks at the poll interval and reports each change of primary", () => {
  const r = replay(outageTrace(), engineConfig({ poll_interval_ms: 1500 }));
  assert.deepEqual(r.changes.map((c) => [c.primary, c.from, c.kind]), [
    ["starlink", null, "initial"],
    ["cell", "starlink", "hard"],
    ["starlink", "cell", "failback"],
  ]);
  assert.equal(r.changes[1].t, 100.5);
  assert.equal(r.summary.ticks, 201); // 0, 1.5, …, 300: the last tick covers the observation at 299
  assert.equal(r.summary.switches, 2);
  assert.deepEqual(r.summary.switches_by_kind, { hard: 1, failback: 1 });
  assert.deepEqual(r.summary.downs, { starlink: 1 });
  assert.equal(r.summary.final_primary, "starlink");
  const total = Object.values(r.summary.primary_s).reduce((a, b) => a + b, 0);
  assert.equal(total, r.summary.duration_s);
});

Deno.test("replay of an empty observation list chooses nothing", () => {
  const r = replay({ members: outageTrace().members, observations: [] }, engineConfig());
  assert.deepEqual(r.changes, []);
  assert.equal(r.summary.ticks, 1);
});

Deno.test("replay ticks at once when a member's link goes down, as the daemon does", () => {
  const observations: Observation[] = [];
  for (let t = 0; t < 60; t++) {
    if (t < 30) observations.push({ t, member: "wifi", latency_ms: 20, loss_pct: 0 });
    observations.push({ t, member: "cell", latency_ms: 70, loss_pct: 0 });
  }
  observations.push({ t: 30.2, member: "wifi", link_up: false });
  observations.push({ t: 30.4, member: "wifi", link_up: false });
  observations.sort((a, b) => a.t - b.t);
  const trace: Trace = {
    members: [
      { name: "wifi", class: "wifi", weight: 80 },
      { name: "cell", class: "cellular", weight: 60 },
    ],
    observations,
  };
  const r = replay(trace, engineConfig({ poll_interval_ms: 1500 }));
  assert.equal(r.changes[1].primary, "cell");
  assert.equal(r.changes[1].t, 30.2, "at the link-down observation, not the next tick (31.5)");
  // One extra tick for the first link-down report only; a repeated "down" adds none.
  assert.equal(r.summary.ticks, 41 + 1);
});

Deno.test("a trace with recorded ticks and config is replayed at exactly those ticks with that config", () => {
  const text = [
    JSON.stringify({
      starfail_trace: 1,
      members: [{ name: "a", class: "lan", weight: 100 }, { name: "b", class: "lan", weight: 50 }],
      config: { poll_interval_ms: 1000 },
      start_t: 0,
    }),
    JSON.stringify({ t: 0.4, member: "a", latency_ms: 10, loss_pct: 0 }),
    JSON.stringify({ t: 0.5, member: "b", latency_ms: 10, loss_pct: 0 }),
    JSON.stringify({ tick: 0.7 }),
    JSON.stringify({ t: 1.2, member: "a", link_up: false }),
    JSON.stringify({ tick: 1.25 }),
    JSON.stringify({ tick: 2.9 }),
  ].join("\n");
  const trace = parseTrace(text);
  assert.deepEqual(trace.ticks, [{ t: 0.7, after: 2 }, { t: 1.25, after: 3 }, {
    t: 2.9,
    after: 3,
  }]);
  assert.deepEqual(trace.config, { poll_interval_ms: 1000 });
  assert.equal(parseTrace(formatTrace(trace)).ticks?.length, 3);
  const r = replay(trace, engineConfig(trace.config));
  assert.deepEqual(r.changes.map((c) => [c.t, c.primary]), [[0.7, "a"], [1.25, "b"]]);
  assert.equal(r.summary.ticks, 3);
});
