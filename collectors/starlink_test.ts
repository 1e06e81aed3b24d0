import assert from "node:assert/strict";
import fc from "fast-check";
import { startDishSim } from "../sim/dish_sim.ts";
import {
  detectDrift,
  type DishEvent,
  type DishHistoryState,
  gpsNsToUnixMs,
  type HistoryCursor,
  mapStatus,
  StarlinkCollector,
  takeHistory,
  TESTED_API_VERSION,
} from "./starlink.ts";
import { messageOf } from "./protowire.ts";
import { decodeResponse, STARLINK_SCHEMA } from "./starlink_proto.ts";
import { ALERT_EFFECTS } from "../engine/predictive.ts";
import type { Observation } from "../engine/types.ts";

const REF = new URL("./testdata/starlink/", import.meta.url);
const net = { sanitizeOps: false, sanitizeResources: false };

function statusOf(bin: string): Record<string, unknown> {
  const response = decodeResponse(Deno.readFileSync(new URL(`bin/${bin}`, REF)));
  return (response as unknown as Record<string, Record<string, unknown>>).dish_get_status;
}

// --- pure mapping ------------------------------------------------------------

Deno.test("mapStatus: a healthy capture maps latency, drop, obstruction and alerts", () => {
  const obs = mapStatus(statusOf("nuwins_status.bin"), { t: 5, member: "starlink" });
  assert.equal(obs.t, 5);
  assert.equal(obs.member, "starlink");
  assert.ok(Math.abs(obs.latency_ms! - 26.808062) < 1e-5);
  assert.equal(obs.loss_pct, 0);
  assert.ok(Math.abs(obs.obstruction_pct! - 13.378248) < 1e-4);
  assert.equal(obs.currently_obstructed, false);
  assert.equal(obs.outage_cause, "");
  assert.deepEqual(obs.alerts, ["is_heating", "roaming"]);
  assert.equal(obs.seconds_to_first_nonempty_slot, 0);
  assert.equal(obs.swupdate_reboot_ready, false);
});

Deno.test("mapStatus: the BOOTING capture gives no latency, no slot, total loss and the cause", () => {
  const obs = mapStatus(statusOf("nuwins_boot.bin"), { t: 1, member: "starlink" });
  assert.equal(obs.latency_ms, undefined, "-1 latency while booting is not a value");
  assert.equal(obs.seconds_to_first_nonempty_slot, undefined, "-1 slot means unknown");
  assert.equal(obs.loss_pct, 100);
  assert.equal(obs.outage_cause, "BOOTING");
  assert.deepEqual(obs.alerts, []);
});

Deno.test("mapStatus: zero latency (firmware bug) and unknown causes", () => {
  const obs = mapStatus({ pop_ping_latency_ms: 0, outage: { cause: 15 } }, { t: 0, member: "s" });
  assert.equal(obs.latency_ms, undefined);
  assert.equal(obs.outage_cause, "CAUSE_15");
});

Deno.test("gpsNsToUnixMs converts from the GPS epoch with leap seconds", () => {
  // First outage of the NUWiNS history capture (May 2024).
  assert.equal(gpsNsToUnixMs("1399245304801994822"), 1715210086801);
  assert.equal(
    new Date(gpsNsToUnixMs("1399245304801994822")!).toISOString(),
    "2024-05-08T23:14:46.801Z",
  );
  assert.equal(gpsNsToUnixMs("-1"), undefined);
  assert.equal(gpsNsToUnixMs(undefined), undefined);
});

Deno.test("detectDrift: missing fields, newer api_version, firmware change, unknown cause", () => {
  const ok = statusOf("leoviz_status.bin");
  assert.deepEqual(detectDrift(ok, 31, undefined), []);
  assert.match(detectDrift({ ...ok, alerts: undefined }, 31, undefined)[0], /lacks alerts/);
  assert.match(
    detectDrift(ok, TESTED_API_VERSION + 1, undefined)[0],
    /newer than the newest tested/,
  );
  const changed = detectDrift(ok, 31, { software_version: "2025.01.01.old", api_version: 30 });
  assert.equal(changed.length, 2);
  assert.match(changed.join(";"), /firmware changed from 2025.01.01.old to 2025.04.08.cr53207/);
  assert.match(
    detectDrift({ ...ok, outage: { cause: 15 } }, 31, undefined)[0],
    /unknown outage cause 15/,
  );
});

// --- pure history ring -------------------------------------------------------

function ring(length: number, current: number, valueOf: (k: number) => number) {
  const drops = new Array<number>(length).fill(0);
  const latencies = new Array<number>(length).fill(0);
  for (let k = Math.max(0, current - length); k < current; k++) {
    drops[k % length] = valueOf(k) % 3 === 0 ? 1 : 0;
    latencies[k % length] = 20 + valueOf(k);
  }
  return { current: String(current), pop_ping_drop_rate: drops, pop_ping_latency_ms: latencies };
}

Deno.test("takeHistory reads the real 900-sample capture from `current`", () => {
  const response = decodeResponse(Deno.readFileSync(new URL("bin/nuwins_history.bin", REF)));
  const history = (response as unknown as Record<string, Record<string, unknown>>).dish_get_history;
  const take = takeHistory(undefined, history, 0);
  assert.equal(take.samples.length, 900);
  assert.equal(take.samples[0].index, 13547 - 900);
  assert.equal(take.samples[899].index, 13546);
  assert.equal(take.samples[899].age_s, 0);
  const drops = history.pop_ping_drop_rate as number[];
  assert.equal(take.samples[899].drop, drops[13546 % 900]);
  for (const s of take.samples) {
    if (s.drop >= 1) {
      assert.equal(s.latency, undefined, "latency of a fully dropped second is ignored");
    }
  }
});

Deno.test("takeHistory: each second exactly once across reads, reboots and overruns", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ step: fc.integer({ min: 0, max: 1000 }), reboot: fc.boolean() }), {
        minLength: 1,
        maxLength: 30,
      }),
      fc.integer({ min: 5, max: 50 }),
      (steps, length) => {
        let boot = 0;
        let current = 0;
        let cursor: HistoryCursor | undefined;
        const seen = new Set<string>();
        let lost = 0;
        let written = 0;
        let notInRingAtFirstRead = 0;
        for (const { step, reboot } of steps) {
          if (reboot) {
            boot++;
            current = 0;
          }
          current += step;
          written += step;
          if (cursor === undefined) notInRingAtFirstRead = Math.max(0, current - length);
          const take = takeHistory(cursor, ring(length, current, (k) => k), boot);
          cursor = take.cursor;
          lost += take.lost;
          let previous = -1;
          for (const s of take.samples) {
            const key = `${boot}:${s.index}`;
            assert.ok(!seen.has(key), `second ${key} delivered twice`);
            seen.add(key);
            assert.ok(s.index > previous, "oldest first");
            previous = s.index;
            assert.ok(s.index < current);
            if (s.drop < 1) assert.equal(s.latency, 20 + s.index);
            else assert.equal(s.latency, undefined);
          }
          if (take.samples.length > 0) {
            assert.equal(
              take.samples[take.samples.length - 1].index,
              current - 1,
              "newest included",
            );
          }
        }
        // Without reboots nothing may be missing except what overran the ring
        // (the first read only catches up on what the ring holds).
        if (steps.every((s) => !s.reboot)) {
          assert.equal(seen.size + lost + notInRingAtFirstRead, written);
        }
      },
    ),
    { seed: 4242, numRuns: 300 },
  );
});

Deno.test("takeHistory: an overrun is reported as lost seconds", () => {
  const first = takeHistory(undefined, ring(10, 5, (k) => k), 0);
  assert.equal(first.samples.length, 5);
  const second = takeHistory(first.cursor, ring(10, 30, (k) => k), 0);
  assert.equal(second.lost, 15);
  assert.deepEqual(second.samples.map((s) => s.index), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
});

// --- collector against the simulator ------------------------------------------

interface Harness {
  collector: StarlinkCollector;
  observations: Observation[];
  history: Observation[];
  events: DishEvent[];
  close(): Promise<void>;
}

async function harness(
  scenario: Parameters<typeof startDishSim>[0],
  clock: { t: number },
  extra: Partial<ConstructorParameters<typeof StarlinkCollector>[0]> = {},
): Promise<Harness & { sim: Awaited<ReturnType<typeof startDishSim>> }> {
  const sim = await startDishSim({ ...scenario, clock: () => clock.t });
  const collector = new StarlinkCollector({
    member: "starlink",
    host: sim.hostname,
    port: sim.port,
    grpc_web_port: sim.grpcWebPort,
    timeout_ms: 500,
    history_interval_ms: 0,
    clock: () => clock.t,
    ...extra,
  });
  const observations: Observation[] = [];
  const history: Observation[] = [];
  const events: DishEvent[] = [];
  collector.onObservation((o) => observations.push(o));
  collector.onHistory((h) => history.push(...h));
  collector.onEvent((e) => events.push(e));
  return {
    sim,
    collector,
    observations,
    history,
    events,
    async close() {
      await sim.close();
      await collector.stop();
    },
  };
}

Deno.test({
  name:
    "collector: history seconds arrive exactly once with the simulator's values, across reboots",
  ...net,
  async fn() {
    const clock = { t: 30 };
    const h = await harness({ scenario: "rebooting" }, clock);
    try {
      const steps = [1, 1, 7, 40, 1, 200, 3, 120, 5, 300, 2, 60];
      await h.collector.pollOnce();
      for (const step of steps) {
        clock.t += step;
        await h.collector.pollOnce();
      }
      const ts = h.history.map((o) => o.t);
      assert.equal(new Set(ts).size, ts.length, "no second delivered twice");
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i] > ts[i - 1], "in time order");
      // The sample of simulated second s is stamped t = s + 1 (the end of that second).
      for (const obs of h.history) {
        const sample = h.sim.sampleAt(obs.t - 1);
        assert.equal(obs.pop_drop_pct, sample.drop * 100);
        if (sample.drop >= 1 || sample.latency <= 0) assert.equal(obs.pop_latency_ms, undefined);
        else assert.equal(obs.pop_latency_ms, Math.fround(sample.latency));
      }
      assert.ok(h.events.some((e) => e.kind === "reboot"), "the reboot was noticed");
      // Within the last boot every second since boot was delivered.
      const lastBootStart = Math.floor(clock.t / 300) * 300;
      const expected = [];
      for (let s = lastBootStart; s < clock.t; s++) expected.push(s + 1);
      assert.deepEqual(ts.filter((t) => t > lastBootStart), expected);
    } finally {
      await h.close();
    }
  },
});

Deno.test({
  name:
    "collector: a rebuilt collector sharing the history state (config reload) neither repeats nor skips a second",
  ...net,
  async fn() {
    const clock = { t: 30 };
    const shared: DishHistoryState = { read: false };
    const first = await harness({ scenario: "healthy" }, clock, { history_state: shared });
    let h2: Harness | null = null;
    try {
      await first.collector.pollOnce();
      clock.t += 20;
      await first.collector.pollOnce();
      await first.collector.stop();
      h2 = await harness({ scenario: "healthy" }, clock, { history_state: shared });
      clock.t += 15;
      await h2.collector.pollOnce();
      const ts = [...first.history, ...h2.history].map((o) => o.t);
      assert.ok(h2.history.length > 0, "the rebuilt collector delivers new seconds");
      assert.equal(new Set(ts).size, ts.length, "no second delivered twice");
      for (let i = 1; i < ts.length; i++) assert.equal(ts[i] - ts[i - 1], 1, "no second skipped");
      // The dish's own view, never mistaken for a probe round.
      assert.ok(h2.history.every((o) => o.loss_pct === undefined && o.pop_drop_pct !== undefined));
    } finally {
      await first.close();
      await h2?.close();
    }
  },
});

Deno.test({
  name: "collector: status observations follow the scenario (obstruction burst)",
  ...net,
  async fn() {
    const clock = { t: 20 };
    const h = await harness({ scenario: "obstructed" }, clock, { history: false });
    try {
      await h.collector.pollOnce();
      clock.t = 32;
      await h.collector.pollOnce();
      const [before, during] = h.observations;
      assert.equal(before.outage_cause, "");
      assert.equal(before.currently_obstructed, false);
      assert.ok(before.latency_ms! > 0);
      assert.equal(during.outage_cause, "OBSTRUCTED");
      assert.equal(during.currently_obstructed, true);
      assert.equal(during.loss_pct, 100);
      assert.equal(during.latency_ms, undefined);
      assert.ok(Math.abs(during.obstruction_pct! - 8) < 1e-4);
      assert.equal(h.sim.requests.get_history, undefined, "history off: never asked");
    } finally {
      await h.close();
    }
  },
});

Deno.test({
  name: "collector: an unreachable dish yields no observation, one event, and recovery",
  ...net,
  async fn() {
    const clock = { t: 10 };
    const h = await harness({ scenario: "healthy" }, clock, { timeout_ms: 200 });
    try {
      await h.collector.pollOnce();
      h.sim.setScenario(() => ({ hang_every: 1 }));
      for (let i = 0; i < 3; i++) {
        clock.t += 1;
        const r = await h.collector.pollOnce();
        assert.equal(r.observation, undefined, "no invented values");
      }
      assert.equal(h.events.filter((e) => e.kind === "unreachable").length, 1);
      assert.equal(h.collector.health().reachable, false);
      assert.equal(h.collector.health().consecutive_failures, 3);
      h.sim.setScenario("healthy");
      clock.t += 1;
      const back = await h.collector.pollOnce();
      assert.ok(back.observation);
      assert.equal(h.events.filter((e) => e.kind === "reachable").length, 1);
      assert.equal(h.collector.health().reachable, true);
      assert.equal(h.observations.length, 2);
    } finally {
      await h.close();
    }
  },
});

Deno.test({
  name: "collector: API drift raises one event per firmware version",
  ...net,
  async fn() {
    const clock = { t: 10 };
    const h = await harness({ scenario: "unknown_fields" }, clock, { history: false });
    try {
      for (let i = 0; i < 5; i++) {
        await h.collector.pollOnce();
        clock.t += 1;
      }
      const drift = h.events.filter((e) => e.kind === "api_changed");
      assert.equal(drift.length, 1);
      assert.match(drift[0].message, /^dish API changed: /);
      assert.match(drift[0].message, /api_version 99/);
      assert.equal(h.observations.length, 5, "drift never stops the observations");
      assert.match(drift[0].message, /unknown alert fields 30 set/);
      assert.deepEqual(
        h.observations[0].alerts,
        ["alert_30"],
        "a new alert is passed on by number",
      );
      h.sim.setScenario(() => ({
        unknown_fields: true,
        api_version: 99,
        software_version: "2027.02.02.mr1",
      }));
      await h.collector.pollOnce();
      assert.equal(h.events.filter((e) => e.kind === "api_changed").length, 2);
    } finally {
      await h.close();
    }
  },
});

Deno.test({
  name: "collector: location PERMISSION_DENIED is reported once, quietly, with a hint",
  ...net,
  async fn() {
    const clock = { t: 10 };
    const h = await harness({ scenario: "healthy" }, clock, {
      history: false,
      location: true,
      diagnostics: true,
      slow_interval_ms: 0,
    });
    try {
      for (let i = 0; i < 4; i++) {
        await h.collector.pollOnce();
        clock.t += 1;
      }
      const denied = h.events.filter((e) => e.kind === "permission_denied");
      assert.equal(denied.length, 1);
      assert.match(denied[0].message, /Starlink app/);
      assert.equal(h.sim.requests.get_location, 1, "not asked again right away");
      assert.equal(h.collector.snapshot()?.diagnostics?.location_enabled, false);
      h.sim.setScenario(() => ({ location_allowed: true }));
      clock.t += 600;
      await h.collector.pollOnce();
      assert.equal(h.collector.snapshot()?.location?.lat, 47.6062);
    } finally {
      await h.close();
    }
  },
});

Deno.test({
  name: "collector: outages from the history arrive once with Unix times",
  ...net,
  async fn() {
    const clock = { t: 100 };
    const epochUnixS = 1_750_000_000;
    const sim = await startDishSim({
      scenario: "outage_no_schedule",
      clock: () => clock.t,
      epochUnixS,
    });
    const options = {
      member: "starlink",
      host: sim.hostname,
      port: sim.port,
      grpc_web_port: 0,
      timeout_ms: 500,
      history_interval_ms: 0,
      clock: () => clock.t,
    };
    const collector = new StarlinkCollector(options);
    try {
      const first = await collector.pollOnce();
      assert.deepEqual(first.outages.map((o) => o.cause), ["NO_SCHEDULE"]);
      assert.equal(first.outages[0].start_unix_ms, (epochUnixS + 40) * 1000);
      assert.equal(first.outages[0].duration_s, 10);
      assert.equal(first.outages[0].backlog, true, "found in the first history read");
      clock.t = 105; // the outage that began at 100 is still going
      assert.deepEqual((await collector.pollOnce()).outages, []);
      clock.t = 110; // … and now it is over
      const third = await collector.pollOnce();
      assert.deepEqual(third.outages.map((o) => o.start_unix_ms), [(epochUnixS + 100) * 1000]);
      assert.equal(third.outages[0].backlog, false, "seen while watching");
      clock.t = 111;
      assert.deepEqual((await collector.pollOnce()).outages, [], "not delivered twice");
      // A replacement collector (config reload) sharing the history state re-reads the
      // dish's list, but nothing in it is backlog any more.
      const shared = { read: false };
      const a = new StarlinkCollector({ ...options, history_state: shared });
      const b = new StarlinkCollector({ ...options, history_state: shared });
      try {
        assert.ok((await a.pollOnce()).outages.every((o) => o.backlog));
        const reread = (await b.pollOnce()).outages;
        assert.equal(reread.length, 2);
        assert.ok(reread.every((o) => !o.backlog));
      } finally {
        await a.stop();
        await b.stop();
      }
    } finally {
      await sim.close();
      await collector.stop();
    }
  },
});

Deno.test({
  name: "collector: start() polls on its own and stop() ends it",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "healthy" });
    const collector = new StarlinkCollector({
      member: "starlink",
      host: sim.hostname,
      port: sim.port,
      poll_interval_ms: 20,
      history: false,
    });
    const seen = Promise.withResolvers<void>();
    let count = 0;
    collector.onObservation(() => {
      if (++count === 3) seen.resolve();
    });
    try {
      collector.start();
      await seen.promise;
      await collector.stop();
      const after = count;
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(count, after, "no polls after stop()");
    } finally {
      await sim.close();
      await collector.stop();
    }
  },
});

Deno.test({
  name: "collector: collect(now) returns the status observation and throws while unreachable",
  ...net,
  async fn() {
    const clock = { t: 10 };
    const h = await harness({ scenario: "healthy" }, clock, { history: false, timeout_ms: 200 });
    try {
      const got = await h.collector.collect(500);
      assert.equal(got.length, 1);
      assert.equal(got[0].t, 500, "stamped with the scheduler's clock");
      h.sim.setScenario(() => ({ hang_every: 1 }));
      await assert.rejects(h.collector.collect(501), /Dish unreachable \(DEADLINE_EXCEEDED/);
      const calls = h.sim.requests.get_status;
      await assert.rejects(h.collector.collect(501.5), /next try in/);
      assert.equal(h.sim.requests.get_status, calls, "no call during the back-off");
      h.sim.setScenario("healthy");
      assert.equal((await h.collector.collect(503)).length, 1, "recovers after the back-off");
    } finally {
      await h.close();
    }
  },
});

Deno.test("every dish alert has a documented effect in the engine (ALERT_EFFECTS)", () => {
  const fields = messageOf(STARLINK_SCHEMA, "DishAlerts").fields.map((f) => f.name);
  assert.ok(fields.length >= 20);
  const missing = fields.filter((f) => ALERT_EFFECTS[f] === undefined);
  assert.deepEqual(missing, [], `alerts without an effect: ${missing.join(", ")}`);
  for (const [name, e] of Object.entries(ALERT_EFFECTS)) {
    assert.ok(fields.includes(name), `${name} is not a DishAlerts field`);
    assert.ok(e.why.length > 10, `${name}: say why`);
  }
});

Deno.test("mapStatus: the scheduled update reboot becomes swupdate_reboot_in_s (seconds, ms or ns)", () => {
  const wall = Date.UTC(2026, 0, 1);
  for (const at of [wall / 1000 + 600, wall + 600_000, (wall + 600_000) * 1e6]) {
    const obs = mapStatus(
      { swupdate_reboot_ready: true, software_update_stats: { reboot_scheduled_utc_time: at } },
      { t: 0, member: "s", wall_ms: wall },
    );
    assert.equal(Math.round(obs.swupdate_reboot_in_s!), 600);
  }
  // No time, or no update waiting: no field (the flag alone does not act).
  assert.equal(
    mapStatus({ swupdate_reboot_ready: true }, { t: 0, member: "s", wall_ms: wall })
      .swupdate_reboot_in_s,
    undefined,
  );
  assert.equal(
    mapStatus(
      { software_update_stats: { reboot_scheduled_utc_time: wall / 1000 + 5 } },
      { t: 0, member: "s", wall_ms: wall },
    ).swupdate_reboot_in_s,
    undefined,
  );
});
