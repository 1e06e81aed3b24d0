import assert from "node:assert/strict";
import { parseInterfaceEvent, parseInterfaceStatus } from "./netifd.ts";
import { parseIwinfoInfo, parseIwinfoText, wifiObservation } from "./iwinfo.ts";
import {
  cellularObservation,
  detectCellular,
  parseGsmctlSignal,
  parseGsmctlValue,
  parseGsmInfo,
  parseGsmSignalQuery,
  parseMmcliList,
  parseMmcliModem,
  parseMmcliSignal,
  parseUqmiServing,
  parseUqmiSignal,
  type RunFn,
} from "./cellular.ts";
import { mwan3Usable, parseMwan3Runtime, policyShares } from "./mwan3_status.ts";

const dir = new URL("./testdata/", import.meta.url);
function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(name, dir));
}
function json(name: string): unknown {
  return JSON.parse(fixture(name));
}

Deno.test("netifd: DHCP wan status (REAL) parses up, uptime, l3_device, default route", () => {
  const s = parseInterfaceStatus(json("netifd_wan_status_dhcp.json"));
  assert.equal(s.up, true);
  assert.equal(s.uptime_s, 132);
  assert.equal(s.l3_device, "eth1");
  assert.equal(s.proto, "dhcp");
  assert.deepEqual(s.ipv4, ["10.0.2.4/24"]);
  assert.deepEqual(s.routes, [{ target: "0.0.0.0", mask: 0, nexthop: "10.0.2.1" }]);
  assert.equal(s.default_route, true);
});

Deno.test("netifd: awg status (REAL) has no routes and no default route", () => {
  const s = parseInterfaceStatus(json("netifd_awg_status.json"));
  assert.equal(s.up, true);
  assert.equal(s.default_route, false);
  assert.deepEqual(s.ipv4, ["172.16.0.2/32"]);
});

Deno.test("netifd: a down interface has only flags and errors", () => {
  const s = parseInterfaceStatus(json("netifd_wwan_status_down_errors.json"));
  assert.equal(s.up, false);
  assert.equal(s.uptime_s, undefined);
  assert.equal(s.l3_device, undefined);
  assert.deepEqual(s.errors, ["qmi/NETWORK_REGISTRATION_FAILED"]);
});

Deno.test("netifd: the ubus listen lines parse as ifup/ifdown events", () => {
  const lines = fixture("netifd_listen_events.txt").split("\n")
    .filter((l) => l.startsWith('{ "network.interface"'));
  const events = lines.map((l) => parseInterfaceEvent(JSON.parse(l)["network.interface"]));
  assert.deepEqual(events, [
    { action: "ifdown", interface: "wan" },
    { action: "ifup", interface: "wan" },
    { action: "ifup", interface: "wwan_4" },
  ]);
  assert.equal(parseInterfaceEvent({ action: "ifupdate", interface: "wan" }), null);
});

Deno.test("iwinfo: ubus info (REAL) gives signal, noise, bitrate, quality", () => {
  const i = parseIwinfoInfo(json("iwinfo_info_mesh_5ghz.json"));
  assert.equal(i.signal_dbm, -76);
  assert.equal(i.noise_dbm, -87);
  assert.equal(i.bitrate_kbps, 195100);
  assert.equal(i.quality, 34);
  assert.equal(i.quality_max, 70);
  assert.deepEqual(wifiObservation("wifi", i, 5), {
    t: 5,
    member: "wifi",
    signal_dbm: -76,
    noise_dbm: -87,
  });
});

Deno.test("iwinfo: noise 0 means unknown and is left out", () => {
  const i = parseIwinfoInfo(json("iwinfo_info_mesh_2ghz_noise_unknown.json"));
  assert.equal(i.signal_dbm, -67);
  assert.equal(i.noise_dbm, undefined);
  assert.equal(i.bitrate_kbps, 6500);
  const c = parseIwinfoInfo(json("iwinfo_info_client_abridged.json"));
  assert.equal(c.mode, "Client");
  assert.equal(c.bitrate_kbps, undefined);
});

Deno.test("iwinfo: text output (REAL) including unknown values and long names", () => {
  const a = parseIwinfoText(fixture("iwinfo_text_ap_signal.txt"));
  assert.equal(a.signal_dbm, -46);
  assert.equal(a.noise_dbm, -95);
  assert.equal(a.bitrate_kbps, 117000);
  assert.equal(a.quality, 64);
  assert.equal(a.ssid, "AIRTIMEFAIRTEST2");
  assert.equal(a.frequency_mhz, 2412);
  const u = parseIwinfoText(fixture("iwinfo_text_ap_unknown.txt"));
  assert.equal(u.signal_dbm, undefined);
  assert.equal(u.noise_dbm, undefined);
  assert.equal(u.bitrate_kbps, undefined);
  assert.equal(u.mode, "Master");
  const m = parseIwinfoText(fixture("iwinfo_text_mesh_long_name.txt"));
  assert.equal(m.signal_dbm, -20);
  assert.equal(m.bitrate_kbps, 40600);
  assert.equal(m.mode, "Mesh Point");
});

Deno.test("mmcli: modem list, modem (REAL) and LTE signal (REAL)", () => {
  assert.deepEqual(
    parseMmcliList('{"modem-list":["/org/freedesktop/ModemManager1/Modem/3"]}'),
    ["3"],
  );
  const m = parseMmcliModem(fixture("mmcli_modem_em12g.json"));
  assert.deepEqual(m, {
    technology: "hsdpa,hsupa",
    operator: "OperatorName",
    registration: "home",
    roaming: false,
  });
  assert.deepEqual(parseMmcliSignal(fixture("mmcli_signal_lte.json")), {
    rsrp_dbm: -92,
    rsrq_db: -9,
    sinr_db: 19.2,
    rssi_dbm: -64,
  });
});

Deno.test("mmcli: UMTS sample has no LTE values; NSA line prefers the LTE anchor", () => {
  assert.deepEqual(parseMmcliSignal(fixture("mmcli_signal_umts.json")), {});
  assert.deepEqual(parseMmcliSignal(fixture("mmcli_signal_nsa.json")), {
    rsrp_dbm: -92,
    rsrq_db: -9,
    sinr_db: 19.2,
    rssi_dbm: -64,
  });
  const sa =
    '{"modem":{"signal":{"5g":{"rsrp":"-101.00","rsrq":"-12.00","snr":"8.50"},"lte":{"rsrp":"--"}}}}';
  assert.deepEqual(parseMmcliSignal(sa), { rsrp_dbm: -101, rsrq_db: -12, sinr_db: 8.5 });
});

Deno.test("uqmi: LTE object, EN-DC array, serving system, QMI error string", () => {
  assert.deepEqual(parseUqmiSignal(fixture("uqmi_get_signal_info_lte.json")), {
    rsrp_dbm: -92,
    rsrq_db: -9,
    sinr_db: 19.2,
    rssi_dbm: -64,
    technology: "lte",
  });
  assert.deepEqual(parseUqmiSignal(fixture("uqmi_get_signal_info_endc.json")), {
    rsrp_dbm: -70,
    rsrq_db: -5,
    sinr_db: 30,
    rssi_dbm: -47,
    technology: "lte,5gnr",
  });
  assert.deepEqual(parseUqmiServing(fixture("uqmi_get_serving_system.json")), {
    registration: "registered",
    operator: "Telia FI",
    roaming: false,
  });
  assert.throws(() => parseUqmiSignal('"Out of call"\n'), /Out of call/);
});

Deno.test("RutOS: gsm.modem0 get_signal_query, info cache, gsmctl 7.x and legacy", () => {
  assert.deepEqual(parseGsmSignalQuery(json("gsm_modem0_get_signal_query.json")), {
    rsrp_dbm: -105,
    rsrq_db: -20,
    sinr_db: -13,
    rssi_dbm: -57,
    technology: "LTE",
  });
  assert.deepEqual(parseGsmInfo(json("gsmctl_info_cache_rutm50.json")), {
    rsrp_dbm: -90,
    rsrq_db: -8,
    sinr_db: 18,
    rssi_dbm: -63,
    technology: "LTE",
    operator: "Verizon Wireless",
    registration: "Registered, home",
    roaming: false,
  });
  assert.deepEqual(parseGsmctlSignal(fixture("gsmctl_q_7x_lte.txt")), {
    legacy: false,
    rssi_dbm: -44,
    rsrp_dbm: -75,
    sinr_db: 23,
    rsrq_db: -7,
  });
  const legacy = fixture("gsmctl_legacy_rut9xx.txt");
  const after = (flag: string) => legacy.split(`$ gsmctl ${flag}\n`)[1].split("\n")[0];
  assert.deepEqual(parseGsmctlSignal(after("-q")), { rssi_dbm: -73, legacy: true });
  assert.equal(parseGsmctlValue(after("-W")), -110);
  assert.equal(parseGsmctlValue(after("-Z")), -1.1);
  assert.equal(parseGsmctlValue(after("-X")), undefined);
});

function fakeRun(
  table: Record<string, { code?: number; stdout?: string; stderr?: string }>,
): RunFn {
  return (cmd, args) => {
    const key = [cmd, ...args].join(" ");
    const hit = table[key];
    if (!hit) {
      return Promise.resolve({
        code: 127,
        stdout: "",
        stderr: `${cmd}: command not found`,
        timedOut: false,
      });
    }
    return Promise.resolve({
      code: hit.code ?? 0,
      stdout: hit.stdout ?? "",
      stderr: hit.stderr ?? "",
      timedOut: false,
    });
  };
}

Deno.test("detectCellular picks ModemManager and reads a full observation", async () => {
  const run = fakeRun({
    "mmcli -L -J": { stdout: '{"modem-list":["/org/freedesktop/ModemManager1/Modem/0"]}' },
    "mmcli -m 0 --signal-setup=10": {
      stdout: "Successfully setup signal quality information polling",
    },
    "mmcli -m 0 -J": { stdout: fixture("mmcli_modem_em12g.json") },
    "mmcli -m 0 --signal-get -J": { stdout: fixture("mmcli_signal_lte.json") },
  });
  const src = await detectCellular({ run, qmiDevice: "/dev/none" });
  assert.equal(src?.backend, "modemmanager");
  const reading = await src!.read();
  assert.deepEqual(cellularObservation("cell", reading, 9), {
    t: 9,
    member: "cell",
    rsrp_dbm: -92,
    rsrq_db: -9,
    sinr_db: 19.2,
    roaming: false,
  });
  assert.equal(reading.operator, "OperatorName");
});

Deno.test("detectCellular picks legacy gsmctl and asks -W/-Z for RSRP/SINR", async () => {
  const run = fakeRun({
    "gsmctl -q": { stdout: "-73\n" },
    "gsmctl -W": { stdout: "-110\n" },
    "gsmctl -Z": { stdout: "-1.1\n" },
    "gsmctl -t": { stdout: "LTE\n" },
    "gsmctl -g": { stdout: "registered (roaming)\n" },
    "gsmctl -o": { stdout: "Operator\n" },
  });
  const src = await detectCellular({ run });
  assert.equal(src?.backend, "gsmctl");
  assert.deepEqual(await src!.read(), {
    backend: "gsmctl",
    rssi_dbm: -73,
    rsrp_dbm: -110,
    sinr_db: -1.1,
    technology: "LTE",
    registration: "registered (roaming)",
    roaming: true,
    operator: "Operator",
  });
});

Deno.test("detectCellular picks uqmi on a QMI device; null when nothing answers", async () => {
  const run = fakeRun({
    "uqmi -s -d /dev/cdc-wdm0 --get-signal-info": {
      stdout: fixture("uqmi_get_signal_info_endc.json"),
    },
    "uqmi -s -d /dev/cdc-wdm0 --get-serving-system": {
      stdout: fixture("uqmi_get_serving_system.json"),
    },
  });
  const src = await detectCellular({ run, qmiDevice: "/dev/cdc-wdm0" });
  assert.equal(src?.backend, "uqmi");
  const r = await src!.read();
  assert.equal(r.rsrp_dbm, -70);
  assert.equal(r.roaming, false);
  assert.equal(await detectCellular({ run: fakeRun({}), qmiDevice: "/dev/cdc-wdm9" }), null);
});

Deno.test("mwan3: 2.11 (REAL) tracking and policy shares; RutOS standby is usable", () => {
  const s = parseMwan3Runtime(json("mwan3_status_2.11.json"));
  assert.equal(s.interfaces.wan.status, "online");
  assert.equal(s.interfaces.wan.tracking, "active");
  assert.equal(s.interfaces.wan_starlink.status, "disabled");
  assert.equal(s.interfaces.wan.track_ip[1].status, "up");
  assert.deepEqual(policyShares(s, "wt_split"), [
    { interface: "wan_tether", percent: 1 },
    { interface: "wan", percent: 99 },
  ]);
  assert.deepEqual(policyShares(s, "starlink_only"), []);
  const r = parseMwan3Runtime(json("mwan3_status_rutos_7.20.json"));
  assert.equal(r.interfaces.mob1s1a1.status, "standby");
  assert.equal(r.interfaces.mob1s1a1.tracking, undefined);
  assert.equal(mwan3Usable(r.interfaces.mob1s1a1), true);
  assert.equal(mwan3Usable(r.interfaces.mob1s2a1), false);
  assert.deepEqual(policyShares(r, "mwan_default"), [{ interface: "wan", percent: 100 }]);
});

Deno.test("mwan3: 2.10 excerpt (REAL) without tracking key parses the wan entry", () => {
  const text = fixture("mwan3_status_2.10_excerpt.txt");
  // The excerpt is cut inside "wanb"; take the complete "wan" object.
  const start = text.indexOf('"wan": {');
  const end = text.indexOf('"wanb": {');
  const wanText = text.slice(start + 7, end).trim().replace(/,$/, "");
  const s = parseMwan3Runtime({ interfaces: { wan: JSON.parse(wanText) } });
  assert.equal(s.interfaces.wan.online_s, 79205);
  assert.equal(s.interfaces.wan.tracking, undefined);
  assert.equal(s.interfaces.wan.track_ip.length, 4);
});
