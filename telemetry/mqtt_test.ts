import assert from "node:assert/strict";
import { discoveryMessages, stateMessages, topicSafe } from "./mqtt.ts";
import type { StatusResult } from "../ubus/starfail_object.ts";

function status(members: { name: string; state: string; primary: boolean }[]): StatusResult {
  return {
    version: "t",
    uptime_s: 1,
    primary: members.find((m) => m.primary)?.name ?? null,
    primary_since: 0,
    why: "",
    override: null,
    cooldown_left_s: 0,
    ride_through: null,
    dry_run: false,
    decisions: [],
    collectors: [],
    members: members.map((m) => ({
      name: m.name,
      class: "lan",
      iface: m.name,
      weight: 1,
      state: m.state as "up",
      since: 0,
      reason: "",
      eligible: true,
      primary: m.primary,
      score: {
        instant: null,
        ewma: null,
        window: null,
        final: m.state === "up" ? 91.26 : null,
        explanation: [],
        penalties: { metered: 0, roaming: 0 },
        member_weight: 1,
      },
      metrics: { at: 0, latency_ms: 31.6, loss_pct: 0 },
      risks: [],
    })),
  };
}

Deno.test("mqtt state topics: values rounded, absent scores left out, dish only with a dish", () => {
  const m = stateMessages("sf", {
    status: status([
      { name: "wan.2", state: "up", primary: true },
      { name: "lte", state: "down", primary: false },
    ]),
    dish: null,
    dishMember: null,
  });
  assert.equal(m.get("sf/primary"), "wan.2");
  assert.equal(m.get("sf/member/wan_2/score"), "91.3");
  assert.equal(m.get("sf/member/wan_2/latency_ms"), "32");
  assert.equal(m.get("sf/member/lte/up"), "OFF");
  assert.equal(m.has("sf/member/lte/score"), false);
  assert.equal([...m.keys()].some((k) => k.startsWith("sf/dish/")), false);
  assert.equal(topicSafe("a b/c#"), "a_b_c_");
});

Deno.test("mqtt discovery: one device, availability on every entity, dish entities only with a dish", () => {
  const d = discoveryMessages(
    { topic: "sf", discovery_prefix: "ha" },
    {
      nodeId: "starfail_r1",
      version: "1",
    },
    ["wan"],
    null,
  );
  assert.deepEqual([...d.keys()].sort(), [
    "ha/binary_sensor/starfail_r1/wan_up/config",
    "ha/sensor/starfail_r1/primary/config",
    "ha/sensor/starfail_r1/wan_latency/config",
    "ha/sensor/starfail_r1/wan_loss/config",
    "ha/sensor/starfail_r1/wan_score/config",
    "ha/sensor/starfail_r1/wan_state/config",
  ]);
  for (const c of d.values()) {
    assert.equal(c.availability_topic, "sf/availability");
    assert.deepEqual((c.device as { identifiers: string[] }).identifiers, ["starfail_r1"]);
  }
  const withDish = discoveryMessages(
    { topic: "sf", discovery_prefix: "ha" },
    {
      nodeId: "starfail_r1",
      version: "1",
    },
    ["wan"],
    "wan",
  );
  assert.equal(
    withDish.get("ha/binary_sensor/starfail_r1/dish_obstructed/config")?.state_topic,
    "sf/dish/obstructed",
  );
  assert.equal(
    withDish.get("ha/binary_sensor/starfail_r1/dish_update_pending/config")?.device_class,
    "update",
  );
});
