import assert from "node:assert/strict";
import { engineConfig } from "./config.ts";
import { createEngine, observe, tick } from "./engine.ts";
import type { EngineState, MemberStateName } from "./state.ts";
import type { Observation } from "./types.ts";

const cfg = engineConfig({ fast_failback_max_outage_s: 0, poll_interval_ms: 1000 });
type Fields = Omit<Observation, "t" | "member">;
const GOOD: Fields = { latency_ms: 40, loss_pct: 0, jitter_ms: 2 };

/** Feeds `fields(t)` for member `a` every second from t0 to t1 (inclusive) and ticks each second. */
function drive(
  s: EngineState,
  t0: number,
  t1: number,
  fields: (t: number) => Fields | null,
): EngineState {
  for (let t = t0; t <= t1; t++) {
    const f = fields(t);
    if (f !== null) s = observe(s, { t, member: "a", ...f });
    s = tick(s, t, cfg).state;
  }
  return s;
}

function stateOf(s: EngineState): MemberStateName {
  return s.members[0].state;
}

function fresh(): EngineState {
  return createEngine([{ name: "a", class: "lan", weight: 40 }], cfg, 0);
}

Deno.test("unknown until the first measurement, then up", () => {
  let s = drive(fresh(), 0, 2, () => null);
  assert.equal(stateOf(s), "unknown");
  s = drive(s, 3, 3, () => GOOD);
  assert.equal(stateOf(s), "up");
  assert.equal(s.members[0].reason, "first measurement within thresholds");
});

Deno.test("link down fails at once", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 6, () => ({ ...GOOD, link_up: false }));
  assert.equal(stateOf(s), "down");
  assert.equal(s.members[0].reason, "link down");
});

Deno.test("a dish outage fails at once and its cause is the reason", () => {
  let s = drive(fresh(), 0, 5, () => ({ ...GOOD, obstruction_pct: 0 }));
  s = drive(s, 6, 6, () => ({ ...GOOD, outage_cause: "NO_SCHEDULE" }));
  assert.equal(stateOf(s), "down");
  assert.equal(s.members[0].reason, "dish reports outage NO_SCHEDULE");
});

Deno.test("a dish status without outage_cause clears the outage", () => {
  let s = drive(fresh(), 0, 2, () => ({ ...GOOD, outage_cause: "OBSTRUCTED" }));
  assert.equal(stateOf(s), "down");
  s = drive(s, 3, 5, () => ({ ...GOOD, obstruction_pct: 1 }));
  assert.equal(stateOf(s), "recovering");
});

Deno.test("all of the last hard_fail_probes rounds lost → down, not before", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 7, () => ({ loss_pct: 100 }));
  assert.notEqual(stateOf(s), "down");
  s = drive(s, 8, 8, () => ({ loss_pct: 100 }));
  assert.equal(stateOf(s), "down");
  assert.equal(s.members[0].reason, "all of the last 3 probe rounds lost");
});

Deno.test("no fresh probe result for stale_after_s → down", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 15, () => null);
  assert.equal(stateOf(s), "up");
  s = drive(s, 16, 16, () => null);
  assert.equal(stateOf(s), "down");
  assert.match(s.members[0].reason, /no probe result/);
});

Deno.test("soft failure degrades at once and is down only after fail_min_duration_s", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 6, () => ({ ...GOOD, latency_ms: 1500 }));
  assert.equal(stateOf(s), "degraded");
  s = drive(s, 7, 15, () => ({ ...GOOD, latency_ms: 1500 }));
  assert.equal(stateOf(s), "degraded");
  s = drive(s, 16, 16, () => ({ ...GOOD, latency_ms: 1500 }));
  assert.equal(stateOf(s), "down");
  assert.match(
    s.members[0].reason,
    /latency 1500 ms over the last 10 s ≥ 1200 ms; not restored for 10 s/,
  );
});

Deno.test("noisy loss: rounds that get through do not reset the hold; the window mean decides", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  // Every other round loses half its pings: mean loss 25 %, yet single rounds show 0 %.
  s = drive(s, 6, 15, (t) => ({ ...GOOD, loss_pct: t % 2 === 0 ? 50 : 0 }));
  assert.equal(stateOf(s), "degraded");
  s = drive(s, 16, 17, (t) => ({ ...GOOD, loss_pct: t % 2 === 0 ? 50 : 0 }));
  assert.equal(stateOf(s), "down");
  assert.match(s.members[0].reason, /^loss 2\d(\.\d)?% over the last 10 s ≥ 5%/);
});

Deno.test("a restore pass ends the soft failure; a new breach starts a new hold", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 13, () => ({ ...GOOD, latency_ms: 1500 }));
  s = drive(s, 14, 14, () => ({ ...GOOD, latency_ms: 500 }));
  assert.equal(stateOf(s), "up");
  s = drive(s, 15, 23, () => ({ ...GOOD, latency_ms: 1500 }));
  assert.equal(stateOf(s), "degraded");
  s = drive(s, 24, 25, () => ({ ...GOOD, latency_ms: 1500 }));
  assert.equal(stateOf(s), "down");
});

Deno.test("values between the restore and fail thresholds keep a member degraded", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 6, () => ({ ...GOOD, latency_ms: 1500 }));
  s = drive(s, 7, 60, () => ({ ...GOOD, latency_ms: 1000 }));
  assert.equal(stateOf(s), "degraded");
});

Deno.test("degraded returns to up once within restore thresholds", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 8, () => ({ ...GOOD, latency_ms: 1500 }));
  s = drive(s, 9, 9, () => GOOD);
  assert.equal(stateOf(s), "up");
});

Deno.test("recovery needs restore thresholds held for restore_min_duration_s", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 6, () => ({ ...GOOD, link_up: false }));
  s = drive(s, 7, 7, () => ({ ...GOOD, link_up: true }));
  assert.equal(stateOf(s), "recovering");
  const since = s.members[0].since;
  s = drive(s, 8, since + 29, () => GOOD);
  assert.equal(stateOf(s), "recovering");
  s = drive(s, since + 30, since + 30, () => GOOD);
  assert.equal(stateOf(s), "up");
  assert.match(s.members[0].reason, /restore thresholds held for 30 s/);
});

Deno.test("recovery is interrupted by a sample outside the restore thresholds", () => {
  let s = drive(fresh(), 0, 5, () => GOOD);
  s = drive(s, 6, 6, () => ({ ...GOOD, link_up: false }));
  s = drive(s, 7, 15, () => ({ ...GOOD, link_up: true }));
  assert.equal(stateOf(s), "recovering");
  s = drive(s, 16, 16, () => ({ ...GOOD, latency_ms: 900 }));
  assert.equal(stateOf(s), "down");
  assert.match(s.members[0].reason, /recovery interrupted: latency 900 ms > 800 ms/);
});

Deno.test("every transition is an event with from, to and reason", () => {
  let s = fresh();
  const events = [];
  for (let t = 0; t <= 8; t++) {
    s = observe(s, { t, member: "a", ...GOOD, link_up: t < 5 });
    const r = tick(s, t, cfg);
    s = r.state;
    events.push(...r.events.filter((e) => e.type === "member_state"));
  }
  assert.deepEqual(events.map((e) => [e.from, e.to]), [["unknown", "up"], ["up", "down"]]);
  assert.ok(events.every((e) => e.reason.length > 0));
});
