import assert from "node:assert/strict";
import { classify, isCgnat, resolveMembers } from "./discovery.ts";

Deno.test("CGNAT range is 100.64.0.0/10 only", () => {
  assert.ok(isCgnat("100.64.0.2"));
  assert.ok(isCgnat("100.127.255.1"));
  assert.ok(!isCgnat("100.128.0.1"));
  assert.ok(!isCgnat("100.63.0.1"));
  assert.ok(!isCgnat("10.64.0.2"));
});

Deno.test("classification takes the strongest evidence first", () => {
  assert.equal(
    classify({ member: "wan", iface: "wan", dishReachable: true, proto: "qmi" }).class,
    "starlink",
  );
  assert.equal(classify({ member: "m1", iface: "mob1s1a1", proto: "qmi" }).class, "cellular");
  assert.equal(classify({ member: "x", iface: "x", proto: "modemmanager" }).class, "cellular");
  assert.equal(classify({ member: "w", iface: "wwan", wireless: true }).class, "wifi");
  assert.equal(classify({ member: "wan_starlink", iface: "wan" }).class, "starlink");
  assert.equal(classify({ member: "wan", iface: "wan", ipv4: ["100.72.1.9"] }).class, "starlink");
  assert.equal(classify({ member: "mob1s2a1_m1_w1", iface: "mob1s2a1" }).class, "cellular");
  assert.equal(classify({ member: "wan", iface: "wan", ipv4: ["192.0.2.7"] }).class, "lan");
});

Deno.test("overrides force the class and weight, disable drops, force adds", () => {
  const members = resolveMembers(
    [
      { member: "wan_m1", iface: "wan", ipv4: ["100.64.0.2"], metric: 1 },
      { member: "mob1_m2", iface: "mob1s1a1", proto: "qmi", metric: 2 },
      { member: "mob2_m3", iface: "mob1s2a1", proto: "qmi", metric: 3 },
      { member: "lan_m4", iface: "wan2", metric: 4 },
    ],
    [
      { name: "mob2_m3", detect: "disable" },
      { name: "lan_m4", class: "wifi", weight: 33 },
      { name: "spare", iface: "wan9", detect: "force", class: "lan", metered: true },
      { name: "mob1s1a1", metered: true },
    ],
  );
  assert.deepEqual(members.map((m) => [m.name, m.class, m.weight]), [
    ["wan_m1", "starlink", 100],
    ["mob1_m2", "cellular", 80],
    ["lan_m4", "wifi", 33],
    ["spare", "lan", 40],
  ]);
  assert.equal(
    members[1].metered,
    true,
    "an override may name the interface instead of the member",
  );
  assert.equal(members[2].class_reason, "set in /etc/config/starfail");
  assert.equal(members[3].metered, true);
});
