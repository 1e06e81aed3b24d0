// Fake `mwan3` (2.12 CLI text formats) for tests and the demo. Reads the mwan3
// UCI config through the fake uci core ($UCI_CONFDIR / $UCI_SAVEDIR, committed
// file plus staged changes, like config_load) and a small JSON state file
// ($FAKE_MWAN3_STATE, default <confdir>/../mwan3_state.json):
//   { "interfaces": { "wan": { "status": "online", "tracking": "active",
//                              "online_s": 132, "uptime_s": 3567 } },
//     "connected": { "ipv4": ["192.168.1.0/24"], "ipv6": [] },
//     "calls": [["ifup", "wan"], ["restart"]] }
// Commands: status, interfaces, policies, connected, rules, restart, start,
// stop, ifup <iface>, ifdown <iface>. Mutating commands are appended to
// "calls" so tests can see which reload the controller chose.
//
// The whole program as one function, so the same code runs as the `mwan3` executable
// (node) and in-process (sim/fakebin/inproc.ts: the demo under the compiled binary's
// permissions, which may not spawn it): `process`, `setTimeout` and `require` are given.
"use strict";

function main(process, _setTimeout, require) {
  const fs = require("node:fs");
  const path = require("node:path");
  const core = require("./uci_core.cjs");

  const confdir = process.env.UCI_CONFDIR || "/etc/config";
  const savedir = process.env.UCI_SAVEDIR || "/tmp/.uci";
  const stateFile = process.env.FAKE_MWAN3_STATE || path.join(confdir, "..", "mwan3_state.json");

  function readState() {
    try {
      return JSON.parse(fs.readFileSync(stateFile, "utf8"));
    } catch {
      return { interfaces: {}, connected: { ipv4: [], ipv6: [] }, calls: [] };
    }
  }

  function writeState(state) {
    core.writeAtomic(stateFile, JSON.stringify(state, null, 2) + "\n");
  }

  function loadConfig() {
    const pkg = core.loadPackage(confdir, savedir, "mwan3");
    if (!pkg) {
      process.stderr.write("uci: Entry not found\n");
      process.exit(1);
    }
    return pkg;
  }

  function hms(total) {
    const s = Math.max(0, Math.floor(total));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(h)}h:${pad(m)}m:${pad(s % 60)}s`;
  }

  function ifaceState(state, name, section) {
    const st = state.interfaces?.[name] ?? {};
    const enabled = section.options.get("enabled") === "1";
    return {
      status: st.status ?? (enabled ? "unknown" : "disabled"),
      tracking: st.tracking ?? (enabled ? "active" : "disabled"),
      online_s: st.online_s ?? 0,
      uptime_s: st.uptime_s ?? 0,
    };
  }

  function interfaces(pkg, state) {
    const lines = ["Interface status:"];
    for (const s of pkg.sections.filter((x) => x.type === "interface")) {
      const st = ifaceState(state, s.name, s);
      if (st.status === "online") {
        lines.push(
          ` interface ${s.name} is online ${hms(st.online_s)}, uptime ${
            hms(st.uptime_s)
          } and tracking is ${st.tracking}`,
        );
      } else {
        lines.push(` interface ${s.name} is ${st.status} and tracking is ${st.tracking}`);
      }
    }
    lines.push("");
    return lines;
  }

  /** mwan3_set_policy: online members with the lowest metric share by weight. */
  function policyShares(pkg, state, policy, family) {
    const members = policy.options.get("use_member");
    const list = Array.isArray(members) ? members : members === undefined ? [] : [members];
    const candidates = [];
    for (const name of list) {
      const m = pkg.sections.find((s) => s.name === name && s.type === "member");
      if (!m) continue;
      const ifName = m.options.get("interface");
      const iface = pkg.sections.find((s) => s.name === ifName && s.type === "interface");
      if (!iface) continue;
      if ((iface.options.get("family") ?? "ipv4") !== family) continue;
      const metric = Number(m.options.get("metric") ?? "1");
      if (metric > 256) continue;
      if (ifaceState(state, ifName, iface).status !== "online") continue;
      candidates.push({ iface: ifName, metric, weight: Number(m.options.get("weight") ?? "1") });
    }
    if (candidates.length === 0) return [];
    const best = Math.min(...candidates.map((c) => c.metric));
    const tier = candidates.filter((c) => c.metric === best);
    const total = tier.reduce((a, c) => a + c.weight, 0);
    return tier.map((c) => ({ iface: c.iface, percent: Math.floor((c.weight * 100) / total) }))
      .reverse();
  }

  function policies(pkg, state) {
    const lines = [];
    const list = pkg.sections.filter((s) => s.type === "policy").sort((a, b) =>
      a.name.localeCompare(b.name)
    );
    for (const family of ["ipv4", "ipv6"]) {
      lines.push(`Current ${family} policies:`);
      for (const p of list) {
        lines.push(`${p.name}:`);
        const shares = policyShares(pkg, state, p, family);
        if (shares.length === 0) lines.push(` ${p.options.get("last_resort") ?? "unreachable"}`);
        for (const s of shares) lines.push(` ${s.iface} (${s.percent}%)`);
      }
      lines.push("");
    }
    return lines;
  }

  function connected(state) {
    const c = state.connected ?? {};
    return [
      "Directly connected ipv4 networks:",
      ...(c.ipv4 ?? []),
      "",
      "Directly connected ipv6 networks:",
      ...(c.ipv6 ?? []),
      "",
    ];
  }

  function rules() {
    return ["Active ipv4 user rules:", "", "Active ipv6 user rules:", ""];
  }

  function print(lines) {
    process.stdout.write(lines.join("\n") + "\n");
  }

  function record(state, call) {
    state.calls = [...(state.calls ?? []), call];
    writeState(state);
  }

  const [command, arg, extra] = process.argv.slice(2);
  const state = readState();
  switch (command) {
    case "status": {
      const pkg = loadConfig();
      print([...interfaces(pkg, state), ...policies(pkg, state), ...connected(state), ...rules()]);
      break;
    }
    case "interfaces":
      print(interfaces(loadConfig(), state));
      break;
    case "policies":
      print(policies(loadConfig(), state));
      break;
    case "connected":
      print(connected(state));
      break;
    case "rules":
      print(rules());
      break;
    case "start":
    case "stop":
    case "restart":
      loadConfig();
      record(state, [command]);
      break;
    case "ifup":
    case "ifdown": {
      if (!arg) {
        const prefix = command === "ifdown" ? "Error: " : "";
        process.stdout.write(`${prefix}Expecting interface. Usage: mwan3 ${command} <interface>\n`);
        break;
      }
      if (extra) {
        const prefix = command === "ifdown" ? "Error: " : "";
        process.stdout.write(`${prefix}Too many arguments. Usage: mwan3 ${command} <interface>\n`);
        break;
      }
      const pkg = loadConfig();
      const iface = pkg.sections.find((s) => s.name === arg && s.type === "interface");
      if (command === "ifdown" && iface) {
        state.interfaces = state.interfaces ?? {};
        state.interfaces[arg] = {
          ...(state.interfaces[arg] ?? {}),
          status: "offline",
          online_s: 0,
        };
      }
      record(state, [command, arg]);
      break;
    }
    default:
      process.stdout.write(
        "Syntax: mwan3 [command]\n\nAvailable commands:\n" +
          "start                    Load iptables rules, ip rules and ip routes\n" +
          "stop                     Unload iptables rules, ip rules and ip routes\n" +
          "restart                  Reload iptables rules, ip rules and ip routes\n" +
          "ifup <iface>             Load rules and routes for specific interface\n" +
          "ifdown <iface>           Unload rules and routes for specific interface\n" +
          "interfaces               Show interfaces status\n" +
          "policies                 Show currently active policy\n" +
          "connected                Show directly connected networks\n" +
          "rules                    Show active rules\n" +
          "status                   Show all status\n",
      );
  }
  process.exit(0);
}

module.exports = { main };
