// Fake `uci` for tests and the demo: a faithful subset of the openwrt/uci CLI
// working on REAL files. Config dir: -c DIR, else $UCI_CONFDIR, else /etc/config.
// Save dir for staged changes: -P DIR, else $UCI_SAVEDIR, else /tmp/.uci.
// Commands: show, get, set, add, add_list, delete, rename, commit, changes, revert, export.
// Flags: -q (quiet), -X (show cfgXXXX names), -d DELIM (list delimiter), -c, -P, -p.
//
// The whole program as one function, so the same code runs as the `uci` executable
// (node) and in-process (sim/fakebin/inproc.ts: the demo under the compiled binary's
// permissions, which may not spawn it): `process`, `setTimeout` and `require` are given.
"use strict";

function main(process, _setTimeout, require) {
  const fs = require("node:fs");
  const path = require("node:path");
  const core = require("./uci_core.cjs");

  const args = process.argv.slice(2);
  let quiet = false;
  let extended = false;
  let delim = " ";
  let confdir = process.env.UCI_CONFDIR || "/etc/config";
  let savedir = process.env.UCI_SAVEDIR || "/tmp/.uci";

  while (args.length && args[0].startsWith("-") && args[0] !== "-") {
    const flag = args.shift();
    if (flag === "-q") quiet = true;
    else if (flag === "-X") extended = true;
    else if (flag === "-c") confdir = args.shift();
    else if (flag === "-P" || flag === "-p" || flag === "-t") savedir = args.shift();
    else if (flag === "-d") delim = args.shift();
    else if (flag === "-s" || flag === "-S" || flag === "-n" || flag === "-N") continue;
    else usage();
  }

  function usage() {
    process.stderr.write(
      "Usage: uci [<options>] <command> [<arguments>]\n\nCommands:\n" +
        "\tcommit     [<config>]\n\tchanges    [<config>]\n\tshow       [<config>[.<section>[.<option>]]]\n" +
        "\tget        <config>.<section>[.<option>]\n\tset        <config>.<section>[.<option>]=<value>\n" +
        "\tdelete     <config>[.<section>[[.<option>][=<id>]]]\n\tadd        <config> <section-type>\n" +
        "\tadd_list   <config>.<section>.<option>=<string>\n\trevert     <config>[.<section>[.<option>]]\n",
    );
    process.exit(255);
  }

  function fail(message) {
    if (!quiet) process.stderr.write(`uci: ${message}\n`);
    process.exit(1);
  }

  function configNames() {
    try {
      return fs.readdirSync(confdir).filter((n) => !n.startsWith(".") && !n.includes(".tmp"))
        .sort();
    } catch {
      return [];
    }
  }

  function load(name) {
    if (!core.NAME_RE.test(name)) fail("Invalid argument");
    let pkg;
    try {
      pkg = core.loadPackage(confdir, savedir, name);
    } catch (err) {
      fail(`Parse error (${err.message}) in ${name}`);
    }
    if (!pkg) fail("Entry not found");
    return pkg;
  }

  /** Splits "cfg.sec.opt=value" into parts; value is everything after the first '='. */
  function splitRef(ref) {
    const eq = ref.indexOf("=");
    const key = eq < 0 ? ref : ref.slice(0, eq);
    const value = eq < 0 ? undefined : ref.slice(eq + 1);
    const parts = key.split(".");
    if (parts.length > 3 || parts.some((p) => p === "")) fail("Invalid argument");
    return { pkgName: parts[0], sec: parts[1], opt: parts[2], value };
  }

  function showPackage(pkg, onlySection, onlyOpt) {
    const lines = [];
    for (const s of pkg.sections) {
      if (onlySection && s !== onlySection) continue;
      const name = core.displayName(pkg, s, extended);
      if (!onlyOpt) lines.push(`${pkg.name}.${name}=${s.type}`);
      for (const [opt, val] of s.options) {
        if (onlyOpt && opt !== onlyOpt) continue;
        lines.push(`${pkg.name}.${name}.${opt}=${core.showValue(val, delim)}`);
      }
    }
    return lines;
  }

  function cmdShow(ref) {
    if (!ref) {
      const out = [];
      for (const name of configNames()) out.push(...showPackage(load(name)));
      if (out.length) process.stdout.write(out.join("\n") + "\n");
      return;
    }
    const { pkgName, sec, opt } = splitRef(ref);
    const pkg = load(pkgName);
    let section;
    if (sec) {
      section = core.resolveSection(pkg, sec);
      if (!section) fail("Entry not found");
      if (opt && !section.options.has(opt)) fail("Entry not found");
    }
    const lines = showPackage(pkg, section, opt);
    if (lines.length) process.stdout.write(lines.join("\n") + "\n");
  }

  function cmdGet(ref) {
    const { pkgName, sec, opt } = splitRef(ref);
    if (!sec) fail("Invalid argument");
    const pkg = load(pkgName);
    const section = core.resolveSection(pkg, sec);
    if (!section) fail("Entry not found");
    if (!opt) {
      process.stdout.write(`${section.type}\n`);
      return;
    }
    const val = section.options.get(opt);
    if (val === undefined) fail("Entry not found");
    process.stdout.write(`${Array.isArray(val) ? val.join(delim) : val}\n`);
  }

  function stage(pkg, line) {
    core.appendDelta(savedir, pkg.name, line);
  }

  function cmdSet(ref) {
    const { pkgName, sec, opt, value } = splitRef(ref);
    if (!sec || value === undefined) fail("Invalid argument");
    const pkg = load(pkgName);
    const existing = core.resolveSection(pkg, sec);
    if (opt === undefined) {
      if (!core.NAME_RE.test(sec) || !/^[\x21-\x7e]+$/.test(value)) fail("Invalid argument");
      stage(pkg, `${pkg.name}.${sec}=${core.quote(value)}`);
      return;
    }
    if (!existing) fail("Invalid argument");
    if (!core.NAME_RE.test(opt)) fail("Invalid argument");
    if (value === "") {
      stage(pkg, `-${pkg.name}.${existing.name}.${opt}`);
      return;
    }
    stage(pkg, `${pkg.name}.${existing.name}.${opt}=${core.quote(value)}`);
  }

  function cmdAddList(ref) {
    const { pkgName, sec, opt, value } = splitRef(ref);
    if (!sec || !opt || value === undefined) fail("Invalid argument");
    const pkg = load(pkgName);
    const existing = core.resolveSection(pkg, sec);
    if (!existing || !core.NAME_RE.test(opt)) fail("Invalid argument");
    stage(pkg, `|${pkg.name}.${existing.name}.${opt}=${core.quote(value)}`);
  }

  function cmdAdd(pkgName, type) {
    if (!type) fail("Invalid argument");
    const pkg = load(pkgName);
    const name = core.anonymousName(pkg.counter + 1, type);
    stage(pkg, `+${pkg.name}.${name}=${core.quote(type)}`);
    process.stdout.write(`${name}\n`);
  }

  function cmdDelete(ref) {
    const { pkgName, sec, opt } = splitRef(ref);
    if (!sec) fail("Invalid argument");
    const pkg = load(pkgName);
    const section = core.resolveSection(pkg, sec);
    if (!section) fail("Entry not found");
    if (opt !== undefined && !section.options.has(opt)) fail("Entry not found");
    stage(pkg, `-${pkg.name}.${section.name}${opt === undefined ? "" : `.${opt}`}`);
  }

  function cmdRename(ref) {
    const { pkgName, sec, opt, value } = splitRef(ref);
    if (!sec || !value || opt !== undefined) fail("Invalid argument");
    const pkg = load(pkgName);
    const section = core.resolveSection(pkg, sec);
    if (!section) fail("Entry not found");
    // Rename through delete + recreate deltas keeps the delta grammar small.
    stage(pkg, `${pkg.name}.${value}=${core.quote(section.type)}`);
    for (const [o, v] of section.options) {
      if (Array.isArray(v)) {
        for (const item of v) stage(pkg, `|${pkg.name}.${value}.${o}=${core.quote(item)}`);
      } else stage(pkg, `${pkg.name}.${value}.${o}=${core.quote(v)}`);
    }
    stage(pkg, `-${pkg.name}.${section.name}`);
  }

  function packagesFor(name) {
    if (name) return [name];
    let staged = [];
    try {
      staged = fs.readdirSync(savedir).sort();
    } catch {
      staged = [];
    }
    return staged.filter((n) => core.NAME_RE.test(n));
  }

  function cmdChanges(name) {
    const out = [];
    for (const pkgName of packagesFor(name)) {
      for (const line of core.readDeltas(savedir, pkgName)) {
        const d = core.parseDelta(line);
        const op = d.op === "|" ? "+" : d.op;
        let text = `${op}${pkgName}.${d.sec}${d.opt === undefined ? "" : `.${d.opt}`}`;
        if (d.value !== undefined) text += `=${core.quote(d.value)}`;
        out.push(text);
      }
    }
    if (out.length) process.stdout.write(out.join("\n") + "\n");
  }

  function cmdCommit(name) {
    for (const pkgName of packagesFor(name)) {
      const deltas = core.readDeltas(savedir, pkgName);
      if (deltas.length === 0) continue;
      const pkg = load(pkgName);
      core.writeAtomic(path.join(confdir, pkgName), core.exportPackage(pkg));
      fs.rmSync(path.join(savedir, pkgName), { force: true });
    }
  }

  function cmdRevert(ref) {
    const { pkgName } = splitRef(ref);
    fs.rmSync(path.join(savedir, pkgName), { force: true });
  }

  function cmdExport(name) {
    const names = name ? [name] : configNames();
    let out = "";
    for (const n of names) out += `package ${n}\n` + core.exportPackage(load(n));
    process.stdout.write(out);
  }

  const [command, a1, a2] = args;
  switch (command) {
    case "show":
      cmdShow(a1);
      break;
    case "get":
      if (!a1) usage();
      cmdGet(a1);
      break;
    case "set":
      if (!a1) usage();
      cmdSet(a1);
      break;
    case "add_list":
      if (!a1) usage();
      cmdAddList(a1);
      break;
    case "add":
      if (!a1) usage();
      cmdAdd(a1, a2);
      break;
    case "delete":
      if (!a1) usage();
      cmdDelete(a1);
      break;
    case "rename":
      if (!a1) usage();
      cmdRename(a1);
      break;
    case "changes":
      cmdChanges(a1);
      break;
    case "commit":
      cmdCommit(a1);
      break;
    case "revert":
      if (!a1) usage();
      cmdRevert(a1);
      break;
    case "export":
      cmdExport(a1);
      break;
    default:
      usage();
  }
}

module.exports = { main };
