import assert from "node:assert/strict";
import { inReconfigWindow } from "./reconfig.ts";
import { engineConfig } from "./config.ts";
import { createEngine, observe, tick } from "./engine.ts";
import type { EngineState } from "./state.ts";
import type { MemberClass } from "./types.ts";

Deno.test("reconfiguration windows sit at :12, :27, :42, :57 (−300/+200 ms)", () => {
  for (const t of [12, 11.75, 12.15, 27, 42.1, 56.8, 72, 3600 + 57]) {
    assert.ok(inReconfigWindow(t), String(t));
  }
  for (const t of [0, 11.6, 12.25, 20, 30, 59]) assert.ok(!inReconfigWindow(t), String(t));
});

Deno.test("the windows follow Unix time: 2025-11-25 00:00:12 UTC is a boundary", () => {
  const minute = Date.UTC(2025, 10, 25) / 1000;
  for (const s of [12, 27, 42, 57]) {
    assert.ok(inReconfigWindow(minute + s - 0.29), `${s} − 0.29 s`);
    assert.ok(inReconfigWindow(minute + s + 0.19), `${s} + 0.19 s`);
    assert.ok(!inReconfigWindow(minute + s - 0.31), `${s} − 0.31 s`);
    assert.ok(!inReconfigWindow(minute + s + 0.21), `${s} + 0.21 s`);
  }
});

/** Unix time of engine second 0: a minute boundary, so engine second 12 is a boundary. */
const EPOCH = Date.UTC(2025, 10, 25) / 1000;

/**
 * One member probed every 2 s (engine seconds 0, 2, 4, …) and ticked every
 * second up to `until`; `loss(t)` gives each round's loss. Returns the final
 * state and the member's state after every tick.
 */
function run(
  cls: MemberClass,
  until: number,
  loss: (t: number) => number,
  opts: { guard?: boolean; wallClock?: boolean } = {},
): { s: EngineState; states: string[] } {
  const cfg = engineConfig({ poll_interval_ms: 1000, reconfig_guard: opts.guard ?? true });
  let s = createEngine([{ name: "m", class: cls, weight: 50 }], cfg, 0);
  const states: string[] = [];
  for (let t = 0; t <= until; t++) {
    if (t % 2 === 0) {
      const l = loss(t);
      s = observe(s, {
        t,
        member: "m",
        loss_pct: l,
        ...(l < 100 ? { latency_ms: 40, jitter_ms: 2 } : {}),
        ...(opts.wallClock === false ? {} : { sent_unix_s: EPOCH + t }),
      });
    }
    s = tick(s, t, cfg).state;
    states.push(s.members[0].state);
  }
  return { s, states };
}

const halfAt12 = (t: number) => (t === 12 ? 50 : 0);

Deno.test("a Starlink round lost in a reconfiguration window is not soft loss", () => {
  const { s, states } = run("starlink", 20, halfAt12);
  assert.deepEqual([...new Set(states)], ["up"]);
  assert.equal(s.members[0].probes.find((p) => p.t === 12)?.reconfig, true);
  assert.equal(s.members[0].probes.filter((p) => p.reconfig).length, 1);
});

Deno.test("the same loss degrades a member of another class, or with the guard off, or without a send time", () => {
  for (
    const [cls, opts] of [
      ["cellular", {}],
      ["starlink", { guard: false }],
      ["starlink", { wallClock: false }],
    ] as const
  ) {
    const { states } = run(cls, 20, halfAt12, opts);
    assert.equal(states[12], "degraded", `${cls} ${JSON.stringify(opts)}`);
    assert.equal(states[20], "up", `${cls} ${JSON.stringify(opts)}`);
  }
});

Deno.test("rounds in a window still count towards 'all of the last N rounds lost'", () => {
  const { s, states } = run("starlink", 12, (t) => (t >= 8 ? 100 : 0));
  assert.equal(states[11], "degraded");
  assert.equal(states[12], "down");
  assert.equal(s.members[0].reason, "all of the last 3 probe rounds lost");
});

Deno.test("loss that goes on outside the windows still takes a Starlink member down", () => {
  const { s, states } = run("starlink", 40, (t) => (t >= 20 ? 50 : 0));
  assert.equal(states[20], "degraded");
  assert.equal(states[40], "down");
  assert.match(s.members[0].reason, /^loss 50% over the last 10 s ≥ 5%/);
});
