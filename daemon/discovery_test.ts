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
  assert.equal(classify({ member: "wan", iface: "wan", ipv4: ["100.72.1.9"] }).class, "lan");
  assert.equal(classify({ member: "mob1s2a1_m1_w1", iface: "mob1s2a1" }).class, "cellular");
  assert.equal(classify({ member: "wan", iface: "wan", ipv4: ["192.0.2.7"] }).class, "lan");
});

Deno.test("overrides force the class and weight, disable drops, force adds", () => {
  const members = resolveMembers(
    [
      { member: "wan_m1", iface: "wan", ipv4: ["100.64.0.2"], dishReachable: true, metric: 1 },
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

Deno.test("real OpenWrt/RutOS names: wwan, phy0-sta0 and wlan* are Wi-Fi; wwan0, rmnet and mob1s1a1 are modems", () => {
  const cls = (f: Parameters<typeof classify>[0]) => classify(f).class;
  // LuCI's "Join network" makes interface 'wwan' (proto dhcp) on the station device phy0-sta0.
  assert.equal(cls({ member: "wwan", iface: "wwan", proto: "dhcp" }), "wifi");
  assert.equal(cls({ member: "wwan_m2_w2", iface: "wwan", proto: "dhcp" }), "wifi");
  assert.equal(cls({ member: "wan2", iface: "wan2", device: "phy0-sta0", proto: "dhcp" }), "wifi");
  assert.equal(cls({ member: "wan2", iface: "wan2", device: "phy1-sta1" }), "wifi");
  assert.equal(cls({ member: "wan1", iface: "wan1", device: "wlan0" }), "wifi");
  assert.equal(cls({ member: "wan1", iface: "ifWan1", device: "apcli0" }), "wifi");
  // A modem interface called wwan still says so through its protocol or device.
  assert.equal(cls({ member: "wwan", iface: "wwan", proto: "qmi" }), "cellular");
  assert.equal(cls({ member: "wwan", iface: "wwan", device: "wwan0" }), "cellular");
  assert.equal(cls({ member: "lte", iface: "lte", device: "rmnet_data0" }), "cellular");
  assert.equal(cls({ member: "mob1s1a1_m1_w1", iface: "mob1s1a1", proto: "wwan" }), "cellular");
  assert.equal(cls({ member: "mob1s2a1_m2_w1", iface: "mob1s2a1" }), "cellular");
});

Deno.test("a CGNAT address is not Starlink by itself: the dish answering or the class option decide", () => {
  // A USB modem with a carrier's CGNAT address.
  const modem = classify({
    member: "usbwan",
    iface: "usbwan",
    device: "usb0",
    ipv4: ["100.72.3.4"],
  });
  assert.equal(modem.class, "cellular");
  const wired = classify({ member: "wan", iface: "wan", device: "eth1", ipv4: ["100.64.0.2"] });
  assert.equal(wired.class, "lan");
  assert.match(wired.reason, /CGNAT address alone/);
  assert.equal(
    classify({ member: "wan", iface: "wan", ipv4: ["100.64.0.2"], dishReachable: true }).class,
    "starlink",
  );
  const [forced] = resolveMembers(
    [{ member: "wan", iface: "wan", device: "eth1", ipv4: ["100.64.0.2"] }],
    [{ name: "wan", class: "starlink" }],
  );
  assert.equal(forced.class, "starlink");
  assert.equal(forced.class_reason, "set in /etc/config/starfail");
});
