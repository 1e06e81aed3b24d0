import assert from "node:assert/strict";
import { type EngineConfig, engineConfig } from "./config.ts";
import {
  addMember,
  applyCommand,
  createEngine,
  observe,
  removeMember,
  snapshot,
  tick,
  type TickResult,
} from "./engine.ts";
import type { Decision, EngineState } from "./state.ts";
import type { MemberSpec, Observation } from "./types.ts";

type Fields = Omit<Observation, "t" | "member">;
const SL: MemberSpec = { name: "sl", class: "starlink", weight: 100 };
const CELL: MemberSpec = { name: "cell", class: "cellular", weight: 80 };
const GOOD: Fields = { latency_ms: 40, loss_pct: 0, jitter_ms: 2 };
const DISH_OK: Fields = { ...GOOD, obstruction_pct: 0.5, currently_obstructed: false };
const CELL_OK: Fields = { ...GOOD, latency_ms: 60, rsrp_dbm: -90, sinr_db: 15 };

interface Run {
  state: EngineState;
  decisions: Decision[];
  results: TickResult[];
}

/** Drives both members every second from t0 to t1 inclusive. */
function drive(
  run: Run,
  t0: number,
  t1: number,
  sl: (t: number) => Fields | null,
  cell: (t: number) => Fields | null,
  cfg: EngineConfig,
): Run {
  let s = run.state;
  for (let t = t0; t <= t1; t++) {
    const a = sl(t);
    const b = cell(t);
    if (a !== null) s = observe(s, { t, member: "sl", ...a });
    if (b !== null) s = observe(s, { t, member: "cell", ...b });
    const r = tick(s, t, cfg);
    s = r.state;
    run.results.push(r);
    if (r.decision.changed) run.decisions.push(r.decision);
  }
  run.state = s;
  return run;
}

function start(cfg: EngineConfig, specs: MemberSpec[] = [SL, CELL]): Run {
  const run = { state: createEngine(specs, cfg, 0), decisions: [], results: [] };
  return drive(run, 0, 60, () => DISH_OK, () => CELL_OK, cfg);
}

const cfg = engineConfig({ fast_failback_max_outage_s: 0, poll_interval_ms: 1000 });

Deno.test("the initial primary is the best member, chosen at once", () => {
  const run = start(cfg);
  assert.equal(run.decisions[0].t, 0);
  assert.equal(run.decisions[0].primary, "sl");
  assert.equal(run.decisions[0].from, null);
  assert.equal(run.decisions[0].kind, "initial");
  assert.equal(run.decisions.length, 1);
});

Deno.test("a dish outage switches at the next tick, ignoring the cooldown", () => {
  const run = start(cfg);
  drive(run, 61, 61, () => ({ ...GOOD, outage_cause: "OBSTRUCTED" }), () => CELL_OK, cfg);
  const d = run.decisions.at(-1)!;
  assert.equal(d.t, 61);
  assert.equal(d.primary, "cell");
  assert.equal(d.kind, "hard");
  assert.match(d.reason, /sl down: dish reports outage OBSTRUCTED; switching to cell/);
  const sw = run.results.at(-1)!.events.filter((e) => e.type === "switch");
  assert.equal(sw.length, 1);
});

Deno.test("failback waits for recovery, warm-up and a held margin", () => {
  const run = start(cfg);
  drive(run, 61, 70, () => ({ outage_cause: "NO_SCHEDULE", loss_pct: 100 }), () => CELL_OK, cfg);
  drive(run, 71, 200, () => DISH_OK, () => CELL_OK, cfg);
  const back = run.decisions.at(-1)!;
  assert.equal(back.primary, "sl");
  assert.equal(back.kind, "failback");
  // loss of the last 3 rounds clears at 73; recovering 30 s → up at 103; lead held 10 s.
  assert.ok(back.t >= 71 + cfg.restore_min_duration_s + cfg.fail_min_duration_s, `t=${back.t}`);
  assert.ok(
    back.t <= 71 + 3 + cfg.restore_min_duration_s + cfg.fail_min_duration_s + 1,
    `t=${back.t}`,
  );
});

Deno.test("no switch to a member that is not better by switch_margin", () => {
  const run = start(cfg);
  // Starlink mildly worse: latency 300 ms costs ~5 points; cell (weight 80) is far below anyway.
  drive(run, 61, 200, () => ({ ...DISH_OK, latency_ms: 300 }), () => CELL_OK, cfg);
  assert.equal(run.decisions.length, 1);
});

Deno.test("a discretionary switch waits for the cooldown after the last switch", () => {
  const c = engineConfig({
    fast_failback_max_outage_s: 0,
    poll_interval_ms: 1000,
    cooldown_s: 120,
    restore_min_duration_s: 5,
  });
  const run = start(c);
  drive(run, 61, 62, () => ({ link_up: false }), () => CELL_OK, c);
  drive(run, 63, 400, () => DISH_OK, () => CELL_OK, c);
  const [, away, back] = run.decisions;
  assert.equal(away.primary, "cell");
  assert.equal(back.primary, "sl");
  assert.ok(back.t - away.t >= 120, `failback after ${back.t - away.t} s`);
});

Deno.test("min_uptime_s keeps a freshly recovered member from being chosen by score", () => {
  const c = engineConfig({
    fast_failback_max_outage_s: 0,
    poll_interval_ms: 1000,
    min_uptime_s: 90,
    restore_min_duration_s: 5,
  });
  const run = start(c);
  drive(run, 61, 61, () => ({ link_up: false }), () => CELL_OK, c);
  drive(run, 62, 300, () => DISH_OK, () => CELL_OK, c);
  const back = run.decisions.at(-1)!;
  assert.equal(back.primary, "sl");
  assert.ok(back.t >= 62 + 90, `t=${back.t}`);
});

Deno.test("all members down: keep the primary and say so", () => {
  const run = start(cfg);
  drive(run, 61, 65, () => ({ link_up: false }), () => ({ link_up: false }), cfg);
  assert.equal(run.state.primary, "sl");
  assert.match(run.results.at(-1)!.decision.reason, /no other member is usable/);
});

Deno.test("predictive: currently_obstructed leaves Starlink before an outage", () => {
  const run = start(cfg);
  drive(run, 61, 61, () => ({ ...DISH_OK, currently_obstructed: true }), () => CELL_OK, cfg);
  const d = run.decisions.at(-1)!;
  assert.equal(d.kind, "predictive");
  assert.match(d.reason, /^predictive dish_obstructed: /);
  assert.ok(run.results.at(-1)!.events.some((e) => e.type === "predictive"));
});

Deno.test("predictive rules are rate-limited per rule", () => {
  const c = engineConfig({ fast_failback_max_outage_s: 0, poll_interval_ms: 1000, cooldown_s: 0 });
  const run = start(c, [SL, { ...CELL, weight: 100 }]);
  // No healthy alternative: cell is down, so each firing is a warning only.
  const preds: number[] = [];
  for (let t = 61; t <= 200; t++) {
    drive(
      run,
      t,
      t,
      () => ({ ...DISH_OK, alerts: ["thermal_shutdown"] }),
      () => ({ link_up: false }),
      c,
    );
    if (run.results.at(-1)!.events.some((e) => e.type === "predictive" && e.to === "thermal")) {
      preds.push(t);
    }
  }
  assert.ok(preds.length >= 2);
  for (let i = 1; i < preds.length; i++) assert.ok(preds[i] - preds[i - 1] >= 50);
});

Deno.test("a member at risk is not a failback target", () => {
  const run = start(cfg);
  drive(run, 61, 61, () => ({ link_up: false }), () => CELL_OK, cfg);
  drive(
    run,
    62,
    300,
    () => ({ ...DISH_OK, swupdate_reboot_ready: true, swupdate_reboot_in_s: 5 }),
    () => CELL_OK,
    cfg,
  );
  assert.equal(run.state.primary, "cell");
  assert.equal(run.state.members[0].risks[0].rule, "swupdate_reboot");
});

Deno.test("predictive off: currently_obstructed alone does not switch", () => {
  const c = engineConfig({
    fast_failback_max_outage_s: 0,
    poll_interval_ms: 1000,
    predictive: false,
  });
  const run = start(c);
  drive(run, 61, 90, () => ({ ...DISH_OK, currently_obstructed: true }), () => CELL_OK, c);
  assert.equal(run.decisions.length, 1);
});

Deno.test("cellular RSRP falling fast triggers rsrp_fall on the primary", () => {
  const run = start(cfg, [{ ...CELL, weight: 100 }, { ...SL, weight: 60 }]);
  assert.equal(run.state.primary, "cell");
  drive(run, 61, 90, () => DISH_OK, (t) => ({ ...CELL_OK, rsrp_dbm: -95 - (t - 61) * 0.5 }), cfg);
  const d = run.decisions.at(-1)!;
  assert.equal(d.primary, "sl");
  assert.match(d.reason, /predictive rsrp_fall: RSRP/);
});

Deno.test("latency trend triggers latency_trend", () => {
  const run = start(cfg);
  drive(run, 61, 100, (t) => ({ ...DISH_OK, latency_ms: 40 + (t - 61) * 20 }), () => CELL_OK, cfg);
  const d = run.decisions.at(-1)!;
  assert.equal(d.primary, "cell");
  assert.match(d.reason, /latency_trend/);
});

Deno.test("override forces a member until its expiry, then automatic resumes", () => {
  const run = start(cfg);
  run.state = applyCommand(run.state, { type: "failover", member: "cell", until_t: 100 }, 61);
  drive(run, 61, 99, () => DISH_OK, () => CELL_OK, cfg);
  assert.equal(run.state.primary, "cell");
  assert.equal(run.decisions.at(-1)!.kind, "override");
  assert.match(run.decisions.at(-1)!.reason, /manual override to cell until t=100/);
  drive(run, 100, 200, () => DISH_OK, () => CELL_OK, cfg);
  assert.equal(run.state.override, null);
  assert.equal(run.state.primary, "sl");
});

Deno.test("restore ends an override without expiry", () => {
  const run = start(cfg);
  run.state = applyCommand(run.state, { type: "failover", member: "cell" }, 61);
  drive(run, 61, 300, () => DISH_OK, () => CELL_OK, cfg);
  assert.equal(run.state.primary, "cell");
  run.state = applyCommand(run.state, { type: "restore" }, 301);
  drive(run, 301, 400, () => DISH_OK, () => CELL_OK, cfg);
  assert.equal(run.state.primary, "sl");
});

Deno.test("failover to an unknown member throws a sentence naming the members", () => {
  const run = start(cfg);
  assert.throws(
    () => applyCommand(run.state, { type: "failover", member: "wifi" }, 61),
    /no such member \(known: sl, cell\)/,
  );
});

Deno.test("adding and removing members at runtime", () => {
  const run = start(cfg);
  let s = addMember(run.state, { name: "wifi", class: "wifi", weight: 60 }, 61);
  assert.equal(s.members.length, 3);
  assert.equal(s.members[2].state, "unknown");
  s = removeMember(s, "sl", 62);
  assert.equal(s.primary, null);
  const r = tick(observe(s, { t: 62, member: "cell", ...CELL_OK }), 62, cfg);
  assert.equal(r.decision.primary, "cell");
  assert.equal(r.decision.kind, "initial");
  assert.equal(observe(r.state, { t: 63, member: "sl", ...GOOD }), r.state);
});

Deno.test("duplicate member names are rejected", () => {
  assert.throws(() => createEngine([SL, SL], cfg, 0), /listed twice/);
});

Deno.test("snapshot shows states, scores, primary and recent decisions", () => {
  const run = start(cfg);
  const snap = snapshot(run.state, { config: cfg });
  assert.equal(snap.primary, "sl");
  assert.match(snap.primary_reason, /initial selection/);
  assert.equal(snap.members.length, 2);
  assert.equal(snap.members[0].state, "up");
  assert.equal(snap.members[0].eligible, true);
  assert.ok(snap.members[0].score.final! > snap.members[1].score.final!);
  assert.equal(snap.decisions.length, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
});

Deno.test("ride-through: a dish outage predicted to end within ride_through_s keeps the primary", () => {
  const run = start(cfg);
  const out = (t: number): Fields =>
    t < 64
      ? { loss_pct: 100, outage_cause: "NO_SCHEDULE", seconds_to_first_nonempty_slot: 64 - t }
      : { ...DISH_OK, seconds_to_first_nonempty_slot: 0 };
  drive(run, 61, 120, out, () => CELL_OK, cfg);
  assert.equal(run.decisions.length, 1, "no switch: only the initial choice");
  const first = run.results.find((r) => r.decision.t === 61)!;
  assert.equal(first.state.primary, "sl");
  assert.ok(first.events.some((e) => e.type === "member_state" && e.to === "down"));
  assert.match(first.decision.reason, /riding through: dish reports outage NO_SCHEDULE/);
  assert.equal(first.state.ride?.member, "sl");
  assert.equal(first.state.ride?.until, 61 + 3 + cfg.ride_through_s);
  assert.equal(run.state.ride, null);
});

Deno.test("ride-through ends at its deadline: a longer outage than predicted is left", () => {
  const run = start(cfg);
  const out = (): Fields => ({
    loss_pct: 100,
    outage_cause: "NO_SCHEDULE",
    seconds_to_first_nonempty_slot: 2,
  });
  drive(run, 61, 80, out, () => CELL_OK, cfg);
  const d = run.decisions.at(-1)!;
  assert.equal(d.primary, "cell");
  assert.equal(d.kind, "hard");
  // The dish keeps predicting 2 s; the first prediction allowed 61 + 2 + ride_through_s.
  assert.ok(d.t <= 61 + 2 + cfg.ride_through_s, `left at ${d.t}`);
});

Deno.test("no ride-through without a short prediction, with the link down, or when turned off", () => {
  const cases: { name: string; sl: Fields; c: EngineConfig }[] = [
    { name: "no prediction", sl: { loss_pct: 100, outage_cause: "OBSTRUCTED" }, c: cfg },
    {
      name: "long prediction",
      sl: { loss_pct: 100, outage_cause: "NO_SCHEDULE", seconds_to_first_nonempty_slot: 12 },
      c: cfg,
    },
    {
      name: "link down",
      sl: {
        link_up: false,
        outage_cause: "NO_SCHEDULE",
        seconds_to_first_nonempty_slot: 2,
      },
      c: cfg,
    },
    {
      name: "off",
      sl: { loss_pct: 100, outage_cause: "NO_SCHEDULE", seconds_to_first_nonempty_slot: 2 },
      c: engineConfig({ fast_failback_max_outage_s: 0, poll_interval_ms: 1000, ride_through_s: 0 }),
    },
  ];
  for (const k of cases) {
    const run = start(k.c);
    drive(run, 61, 61, () => k.sl, () => CELL_OK, k.c);
    const d = run.decisions.at(-1)!;
    assert.equal(d.primary, "cell", k.name);
    assert.equal(d.kind, "hard", k.name);
    assert.equal(run.state.ride, null, k.name);
  }
});

Deno.test("no ride-through for a member that had not been usable for restore_min_duration_s", () => {
  const run = start(cfg);
  // A first outage is ridden through; the member recovers (state recovering, usable since ~64).
  const first = (t: number): Fields =>
    t < 64
      ? { loss_pct: 100, outage_cause: "NO_SCHEDULE", seconds_to_first_nonempty_slot: 64 - t }
      : { ...DISH_OK, seconds_to_first_nonempty_slot: 0 };
  drive(run, 61, 75, first, () => CELL_OK, cfg);
  assert.equal(run.state.primary, "sl");
  // A second short outage 10 s after the first: too soon, so the member is left.
  drive(
    run,
    76,
    76,
    () => ({ loss_pct: 100, outage_cause: "NO_SCHEDULE", seconds_to_first_nonempty_slot: 2 }),
    () => CELL_OK,
    cfg,
  );
  assert.equal(run.decisions.at(-1)!.primary, "cell");
  assert.equal(run.decisions.at(-1)!.kind, "hard");
});

Deno.test("a primary whose recovery a lost probe round interrupts is kept; a sustained loss is left", () => {
  const gap = (t: number): Fields | null =>
    t < 64
      ? { loss_pct: 100, outage_cause: "NO_SCHEDULE", seconds_to_first_nonempty_slot: 64 - t }
      : { ...DISH_OK, seconds_to_first_nonempty_slot: 0 };
  // One probe round loses half its pings while the primary is recovering after a ride-through.
  const blip = start(cfg);
  drive(blip, 61, 74, gap, () => CELL_OK, cfg);
  assert.equal(blip.state.members[0].state, "recovering");
  drive(blip, 75, 75, () => ({ ...DISH_OK, loss_pct: 50 }), () => CELL_OK, cfg);
  const kept = blip.results.at(-1)!;
  assert.equal(kept.state.members[0].state, "down");
  assert.equal(kept.state.members[0].down_from, "recovering");
  assert.equal(kept.state.primary, "sl");
  assert.match(kept.decision.reason, /sl recovery interrupted without a hard signal/);
  drive(blip, 76, 160, () => DISH_OK, () => CELL_OK, cfg);
  assert.equal(blip.decisions.length, 1, "no switch at all");
  assert.equal(blip.state.members[0].state, "up");

  // The same, but the loss stays: left once it has lasted fail_min_duration_s.
  const lossy = start(cfg);
  drive(lossy, 61, 74, gap, () => CELL_OK, cfg);
  drive(lossy, 75, 100, () => ({ ...DISH_OK, loss_pct: 50 }), () => CELL_OK, cfg);
  const d = lossy.decisions.at(-1)!;
  assert.equal(d.primary, "cell");
  assert.equal(d.kind, "hard");
  assert.ok(d.t >= 75 + cfg.fail_min_duration_s, `left at ${d.t}`);
});

Deno.test("flap suppression: a member that went down three times is not failed back to until its count decays", () => {
  const outages = (t: number) =>
    [61, 81, 101].some((s) => t >= s && t < s + 5)
      ? { outage_cause: "OBSTRUCTED", loss_pct: 100 }
      : DISH_OK;
  const runWith = (c: EngineConfig) => drive(start(c), 61, 700, outages, () => CELL_OK, c);
  const on = runWith(cfg);
  const back = on.decisions.find((d) => d.t > 106 && d.primary === "sl");
  assert.ok(back !== undefined, "fails back in the end");
  // Three downs ≈ 2.9, halving every 600 s: at or below 2 after about 330 s.
  assert.ok(back.t >= 101 + 300, `failback at ${back.t}`);
  assert.equal(back.kind, "failback");
  const held = on.results.find((r) => r.decision.t === 300)!.decision;
  assert.equal(held.primary, "cell");
  assert.match(held.reason, /sl leads by \d+ points \(flap-suppressed: 2\.\d recent downs\)/);
  // Without suppression only the (shorter) stability hold applies.
  const off = runWith(
    engineConfig({ fast_failback_max_outage_s: 0, poll_interval_ms: 1000, flap_suppress: 0 }),
  );
  const early = off.decisions.find((d) => d.t > 106 && d.primary === "sl");
  assert.ok(early !== undefined && early.t < back.t - 100, `without: ${early?.t}`);
});

Deno.test("flap suppression does not stop a member from taking over when the primary is down", () => {
  const run = start(cfg);
  const sl = (t: number) =>
    [61, 81, 101].some((s) => t >= s && t < s + 5)
      ? { outage_cause: "OBSTRUCTED", loss_pct: 100 }
      : DISH_OK;
  drive(run, 61, 200, sl, () => CELL_OK, cfg);
  assert.equal(run.state.primary, "cell");
  drive(run, 201, 205, () => DISH_OK, () => ({ link_up: false }), cfg);
  assert.equal(run.state.primary, "sl");
  assert.equal(run.decisions.at(-1)!.kind, "hard");
});

Deno.test("fast failback: a short dish outage that is over is failed back within seconds; off, the 30 s recovery applies", () => {
  const outage = (t: number): Fields =>
    t < 70 ? { loss_pct: 100, obstruction_pct: 0.5, outage_cause: "OBSTRUCTED" } : DISH_OK;
  const fast = engineConfig({ poll_interval_ms: 1000 });
  const on = drive(start(fast), 61, 140, outage, () => CELL_OK, fast);
  const back = on.decisions.find((d) => d.primary === "sl" && d.t > 61);
  assert.ok(back !== undefined, "failed back");
  assert.ok(back.t <= 80, `fast failback at t=${back.t}`);
  assert.match(back.reason, /^fast failback to sl .*dish outage OBSTRUCTED over after/);
  // A gap the dish still announces keeps it out of the fast path.
  const gap = drive(
    start(fast),
    61,
    90,
    (t) => t < 70 ? outage(t) : { ...DISH_OK, seconds_to_first_nonempty_slot: 30 },
    () => CELL_OK,
    fast,
  );
  assert.equal(gap.state.primary, "cell");
  const off = drive(start(cfg), 61, 140, outage, () => CELL_OK, cfg);
  const slow = off.decisions.find((d) => d.primary === "sl" && d.t > 61);
  assert.ok(slow === undefined || slow.t >= 100, `slow failback at t=${slow?.t}`);
});

Deno.test("flap suppression is released after flap_release_s of clean time", () => {
  const c = engineConfig({ poll_interval_ms: 1000, fast_failback_max_outage_s: 0 });
  const run = start(c);
  // Five short outages a minute apart: suppressed.
  for (let k = 0; k < 5; k++) {
    const t0 = 61 + 60 * k;
    drive(run, t0, t0 + 5, () => ({ loss_pct: 100, outage_cause: "OBSTRUCTED" }), () => CELL_OK, c);
    drive(run, t0 + 6, t0 + 59, () => DISH_OK, () => CELL_OK, c);
  }
  assert.equal(run.state.primary, "cell");
  // Clean since the last outage ended (t≈307): released 300 s later, far sooner than the count decays.
  drive(run, 361, 720, () => DISH_OK, () => CELL_OK, c);
  const back = run.decisions.find((d) => d.primary === "sl" && d.t > 361);
  assert.ok(back !== undefined && back.t <= 700, `failback at t=${back?.t}`);
  assert.ok(back.t >= 306 + 300, `released at t=${back.t}, before 300 s clean`);
});

Deno.test("swupdate_reboot acts on the dish's reboot time, not on the flag", () => {
  const c = engineConfig({ poll_interval_ms: 1000 });
  const flagOnly = drive(
    start(c),
    61,
    400,
    () => ({ ...DISH_OK, swupdate_reboot_ready: true }),
    () => CELL_OK,
    c,
  );
  assert.equal(flagOnly.state.primary, "sl");
  const timed = drive(
    start(c),
    61,
    400,
    (t) => ({ ...DISH_OK, swupdate_reboot_ready: true, swupdate_reboot_in_s: 400 - t }),
    () => CELL_OK,
    c,
  );
  const leave = timed.decisions.find((d) => d.kind === "predictive");
  assert.ok(leave !== undefined && leave.t >= 390, `left at t=${leave?.t}`);
  assert.match(leave.reason, /reboots for a software update in/);
});

Deno.test("a 'hold' dish alert keeps a member from being failed back to but does not leave it", () => {
  const c = engineConfig({ poll_interval_ms: 1000 });
  const stuck = { ...DISH_OK, alerts: ["motors_stuck"] };
  const kept = drive(start(c), 61, 200, () => stuck, () => CELL_OK, c);
  assert.equal(kept.state.primary, "sl");
  assert.equal(kept.state.members[0].risks[0].rule, "dish_alert");
  const run = start(c);
  drive(run, 61, 61, () => ({ link_up: false }), () => CELL_OK, c);
  drive(run, 62, 300, () => ({ ...stuck, link_up: true }), () => CELL_OK, c);
  assert.equal(run.state.primary, "cell");
  // An alert the engine ignores changes nothing.
  const ignored = start(c);
  drive(ignored, 61, 61, () => ({ link_up: false }), () => CELL_OK, c);
  drive(
    ignored,
    62,
    300,
    () => ({ ...DISH_OK, link_up: true, alerts: ["roaming"] }),
    () => CELL_OK,
    c,
  );
  assert.equal(ignored.state.primary, "sl");
});
