import assert from "node:assert/strict";
import { AlertTracker, publishEvent, ubusEventFor, UPDATE_REBOOT_ALERT } from "./ubus_events.ts";
import type { DaemonEvent } from "./runtime.ts";

const base = { t: 10, wall_ms: 1_764_000_000_000, reason: "because" };

Deno.test("starfail.switch carries from, to, reason, kind and whether an operator caused it", () => {
  const sw: DaemonEvent = { ...base, type: "switch", member: "lte", from: "wan", to: "lte" };
  assert.deepEqual(ubusEventFor(sw, "override"), {
    id: "starfail.switch",
    data: {
      from: "wan",
      to: "lte",
      reason: "because",
      kind: "override",
      manual: true,
      time: 1_764_000_000,
    },
  });
  assert.equal(ubusEventFor(sw, "hard")?.data.manual, false);
  assert.equal(ubusEventFor(sw, "override_end")?.data.manual, true);
  assert.equal(ubusEventFor({ ...sw, from: null }, undefined)?.data.kind, "initial");
});

Deno.test("starfail.member carries the member, old and new state and why; other events send nothing", () => {
  const ms: DaemonEvent = { ...base, type: "member_state", member: "wan", from: "up", to: "down" };
  assert.deepEqual(ubusEventFor(ms, undefined)?.data, {
    member: "wan",
    old: "up",
    new: "down",
    reason: "because",
    time: 1_764_000_000,
  });
  assert.equal(ubusEventFor({ ...ms, type: "config" }, undefined), null);
  assert.equal(ubusEventFor({ ...ms, type: "drift" }, undefined), null);
});

Deno.test("starfail.alert: dish alerts and the update reboot each start once and end once", () => {
  const a = new AlertTracker();
  const names = (evs: ReturnType<AlertTracker["observe"]>) =>
    evs.map((e) => `${e.data.alert}:${e.data.active ? "start" : "end"}`);
  assert.deepEqual(names(a.observe({ t: 1, member: "wan", latency_ms: 30 }, 0)), []);
  assert.deepEqual(names(a.observe({ t: 1, member: "wan", alerts: [] }, 0)), []);
  assert.deepEqual(
    names(a.observe({ t: 2, member: "wan", alerts: ["thermal_throttle"] }, 0)),
    ["thermal_throttle:start"],
  );
  assert.deepEqual(
    names(a.observe({ t: 3, member: "wan", alerts: ["thermal_throttle"] }, 0)),
    [],
  );
  const reboot = a.observe(
    { t: 4, member: "wan", alerts: ["thermal_throttle"], swupdate_reboot_ready: true },
    0,
  );
  assert.deepEqual(names(reboot), [`${UPDATE_REBOOT_ALERT}:start`]);
  assert.equal(reboot[0].data.kind, "update_reboot");
  // A probe round without dish fields changes nothing.
  assert.deepEqual(names(a.observe({ t: 5, member: "wan", loss_pct: 0 }, 0)), []);
  assert.deepEqual(
    names(a.observe({ t: 6, member: "wan", alerts: [], swupdate_reboot_ready: false }, 0)),
    ["thermal_throttle:end", `${UPDATE_REBOOT_ALERT}:end`],
  );
});

Deno.test("publishEvent returns before the send settles, and drops events while disconnected", async () => {
  let settle!: () => void;
  const sent: string[] = [];
  const sender = {
    connected: true,
    sendEvent(id: string) {
      sent.push(id);
      return new Promise<void>((r) => (settle = r));
    },
  };
  publishEvent(sender, { id: "starfail.switch", data: {} });
  assert.deepEqual(sent, ["starfail.switch"]);
  settle();
  sender.connected = false;
  publishEvent(sender, { id: "starfail.member", data: {} });
  assert.deepEqual(sent, ["starfail.switch"]);
  // A failed send is logged, never thrown.
  const failing = { connected: true, sendEvent: () => Promise.reject(new Error("gone")) };
  publishEvent(failing, { id: "starfail.alert", data: {} });
  await new Promise((r) => setTimeout(r, 0));
});
