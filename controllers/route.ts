/**
 * The route controller (no mwan3): gives every member's default route a
 * metric in preference order, primary lowest, removes that device's stale
 * default routes, verifies with `ip route show default`, and reports routes
 * someone else changed (drift).
 *
 * New routes are added with `ip route append`, not `replace`: the kernel
 * keys IPv4 routes by (prefix, tos, metric), so `replace … metric 10` on
 * one device would overwrite another device's route that holds metric 10
 * at that moment. Appending every new route first and then deleting the
 * stale ones by their full spec (via, dev, metric) is make-before-break and
 * never touches another member's route.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { isIP } from "../config/ip_address.ts";
import { runCommand } from "../collectors/exec.ts";
import { applyFlushAction, flushAction } from "./conntrack.ts";
import type { ExecResult } from "../collectors/exec.ts";
import { isValidInterfaceName } from "../collectors/probe.ts";
import { actionLines, emptyReport, readBackInto } from "./report.ts";
import type {
  Controller,
  ControllerAction,
  ControllerReport,
  DesiredState,
  Drift,
  Runner,
} from "./types.ts";

const log = getLogger(["starfail", "controller", "route"]);

/** A default route as `ip -4 route show default` prints it. */
export interface DefaultRoute {
  /** Next hop, absent for point-to-point devices (`default dev wwan0 …`). */
  via?: string;
  /** Output device. */
  dev: string;
  /** Metric (0 when not printed). */
  metric: number;
  /** `proto` word when printed (`static`, `dhcp`, …). */
  proto?: string;
}

/** One member of route mode. */
export interface RouteMember {
  /** Member name (as the engine knows it). */
  name: string;
  /** L3 device carrying it (`eth1`, `wwan0`, `pppoe-wan`). */
  device: string;
  /** Gateway; learned from the device's current default route when absent. */
  gateway?: string;
}

/** Options for {@linkcode RouteController}. */
export interface RouteControllerOptions {
  /** Members with their devices. */
  members: RouteMember[];
  /** Plan and report only. Default false. */
  dryRun?: boolean;
  /** `ip` program. Default `ip`. */
  ipCommand?: string;
  /** Arguments before every ip command (tests: `["-n", netns]`). */
  ipPrefixArgs?: string[];
  /** Metric of the primary. Default 10. */
  baseMetric?: number;
  /** Metric distance between consecutive members. Default 10. */
  metricStep?: number;
  /** Flush conntrack when the primary changes. Default false. */
  conntrackFlush?: boolean;
  /** Conntrack flush file. Default `/proc/net/nf_conntrack`. */
  conntrackFile?: string;
  /** Deadline per command, ms. Default 5000. */
  timeoutMs?: number;
  /** Subprocess runner. */
  run?: Runner;
}

/** What {@linkcode RouteController.readBack} returns. */
export interface RouteReadBack {
  /** All IPv4 default routes in the main table. */
  routes: DefaultRoute[];
  /** Member whose device has the lowest-metric default route, or null. */
  primary: string | null;
}

/**
 * Parses `ip -4 route show default` output.
 *
 * @example
 * ```ts
 * parseDefaultRoutes("default via 10.0.0.1 dev eth1 proto static metric 10\n");
 * // [{ via: "10.0.0.1", dev: "eth1", metric: 10, proto: "static" }]
 * ```
 */
export function parseDefaultRoutes(text: string): DefaultRoute[] {
  const routes: DefaultRoute[] = [];
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "default") continue;
    const get = (key: string) => {
      const i = words.indexOf(key);
      return i >= 0 ? words[i + 1] : undefined;
    };
    const dev = get("dev");
    if (!dev) continue;
    const route: DefaultRoute = { dev, metric: Number(get("metric") ?? "0") };
    const via = get("via");
    if (via) route.via = via;
    const proto = get("proto");
    if (proto) route.proto = proto;
    routes.push(route);
  }
  return routes;
}

/** The preference order: primary first, then `order`, then members not named. */
function preference(members: RouteMember[], desired: DesiredState): RouteMember[] {
  const names = [desired.primary, ...desired.order, ...members.map((m) => m.name)];
  const seen = new Set<string>();
  const out: RouteMember[] = [];
  for (const n of names) {
    if (seen.has(n)) continue;
    seen.add(n);
    const m = members.find((x) => x.name === n);
    if (m) out.push(m);
  }
  return out;
}

function routeText(r: DefaultRoute): string {
  return `default ${r.via ? `via ${r.via} ` : ""}dev ${r.dev} metric ${r.metric}`;
}

function routeArgs(r: { via?: string; dev: string; metric: number }): string[] {
  return ["default", ...(r.via ? ["via", r.via] : []), "dev", r.dev, "metric", String(r.metric)];
}

/**
 * Controller for plain Linux routing through `ip route`.
 *
 * @example
 * ```ts
 * const ctl = new RouteController({ members: [{ name: "wan", device: "eth1" }, { name: "lte", device: "wwan0" }] });
 * await ctl.reconcile({ primary: "lte", order: ["lte", "wan"] });
 * ```
 */
export class RouteController implements Controller<RouteReadBack> {
  #opts: RouteControllerOptions;
  #run: Runner;
  #written = new Map<string, number>();
  /** The members' default routes as found before the first change (for {@linkcode restore}). */
  #found: DefaultRoute[] | null = null;

  /** Creates a controller; validates member device names and gateways. */
  constructor(opts: RouteControllerOptions) {
    for (const m of opts.members) {
      if (!isValidInterfaceName(m.device)) {
        throw new RangeError(
          `member ${m.name}: device ${JSON.stringify(m.device)} is not a valid interface name`,
        );
      }
      if (m.gateway !== undefined && isIP(m.gateway) !== 4) {
        throw new RangeError(
          `member ${m.name}: gateway ${JSON.stringify(m.gateway)} is not an IPv4 address`,
        );
      }
    }
    this.#opts = opts;
    this.#run = opts.run ?? runCommand;
  }

  #ip(args: string[]): Promise<ExecResult> {
    return this.#run(this.#opts.ipCommand ?? "ip", [...(this.#opts.ipPrefixArgs ?? []), ...args], {
      timeoutMs: this.#opts.timeoutMs ?? 5000,
    });
  }

  /** Reads the IPv4 default routes and which member is preferred now. */
  async readBack(): Promise<RouteReadBack> {
    const r = await this.#ip(["-4", "route", "show", "default"]);
    if (r.code !== 0) {
      throw new Error(
        `ip route show default failed (exit ${r.code}${r.stderr ? `: ${r.stderr.trim()}` : ""})`,
      );
    }
    const routes = parseDefaultRoutes(r.stdout);
    let primary: string | null = null;
    let best = Infinity;
    for (const route of routes) {
      const m = this.#opts.members.find((x) => x.device === route.dev);
      if (m && route.metric < best) {
        best = route.metric;
        primary = m.name;
      }
    }
    return { routes, primary };
  }

  /** Gives the members' default routes metrics in preference order; see the module docs. */
  async reconcile(desired: DesiredState): Promise<ControllerReport> {
    const dryRun = this.#opts.dryRun ?? false;
    const report = emptyReport("route", desired.primary, dryRun);
    if (!this.#opts.members.some((m) => m.name === desired.primary)) {
      report.errors.push(
        `member ${desired.primary} has no route-mode device (known: ${
          this.#opts.members.map((m) => m.name).join(", ")
        })`,
      );
      return report;
    }
    const before = await readBackInto(this, report);
    if (before === null) return report;
    if (this.#found === null && !dryRun) {
      const devices = new Set(this.#opts.members.map((m) => m.device));
      this.#found = before.routes.filter((r) => devices.has(r.dev));
    }
    const down = await this.#linksDown();
    // A route the kernel removed because its link went down is not someone's hand edit.
    report.drift = this.#drift(before.routes).filter((d) => {
      const m = this.#opts.members.find((x) => x.name === d.member);
      return !(d.found === null && m !== undefined && down.has(m.device));
    });
    for (const d of report.drift) this.#written.delete(d.member);
    if (before.primary !== null && before.primary !== desired.primary) {
      report.previousPrimary = before.primary;
    }
    const base = this.#opts.baseMetric ?? 10;
    const step = this.#opts.metricStep ?? 10;
    const wanted = new Map<string, { via?: string; dev: string; metric: number }>();
    const adds: ControllerAction[] = [];
    const dels: ControllerAction[] = [];
    const prefix = this.#opts.ipPrefixArgs ?? [];
    const ip = this.#opts.ipCommand ?? "ip";
    preference(this.#opts.members, desired).filter((m) => {
      // A backup whose link is down cannot hold a route (the kernel refuses the gateway and
      // removed its routes itself); it gets its route back once its link is up again.
      if (m.name === desired.primary || !down.has(m.device)) return true;
      this.#written.delete(m.name);
      report.verification.push(`${m.name}: link ${m.device} is down; no backup route for now`);
      return false;
    }).forEach((m, i) => {
      const current = before.routes.filter((r) => r.dev === m.device);
      const via = m.gateway ?? current.find((r) => r.via)?.via;
      if (via === undefined && current.length === 0) {
        report.errors.push(
          `member ${m.name}: no default route on ${m.device} to learn the gateway from; bring ` +
            `the interface up with its gateway (netifd gives it a default route), or set ` +
            `main.use_mwan3 and let mwan3 route it`,
        );
        return;
      }
      const target = { via, dev: m.device, metric: base + step * i };
      wanted.set(m.name, target);
      if (!current.some((r) => r.metric === target.metric && r.via === target.via)) {
        adds.push({
          cmd: ip,
          args: [...prefix, "route", "append", ...routeArgs(target)],
          why: `${m.name} gets metric ${target.metric} (preference ${i + 1})`,
        });
      }
      for (const stale of current) {
        if (stale.metric === target.metric && stale.via === target.via) continue;
        dels.push({
          cmd: ip,
          args: [...prefix, "route", "del", ...routeArgs(stale)],
          why: `remove ${m.name}'s old default route at metric ${stale.metric}`,
        });
      }
    });
    // Make before break: every new route exists before any old one goes.
    report.actions.push(...adds, ...dels);
    report.changed = report.actions.length > 0;
    if (this.#opts.conntrackFlush && report.changed && report.previousPrimary !== null) {
      report.actions.push(flushAction(this.#opts.conntrackFile));
    }
    if (dryRun) {
      log.info("Dry run: route changes not applied", {
        primary: desired.primary,
        actions: actionLines(report.actions),
      });
      report.verified = !report.changed && report.errors.length === 0;
      report.verification.push(
        report.changed ? "dry run: changes not applied" : "routes already as desired",
      );
      return report;
    }
    for (const action of report.actions) await this.#apply(action, report);
    for (const [name, w] of wanted) this.#written.set(name, w.metric);
    await this.#verify(wanted, report);
    log.info("Routes reconciled", {
      primary: desired.primary,
      changed: report.changed,
      verified: report.verified,
    });
    return report;
  }

  /** Keeps what `other` (the controller this one replaces on a reload) found at start. */
  takeFoundFrom(other: Controller): void {
    if (other instanceof RouteController && this.#found === null) this.#found = other.#found;
  }

  /**
   * Puts the members' default routes back as found before the first change:
   * adds the missing ones first, then removes the ones starfail added (make
   * before break). Other devices' routes are never touched.
   */
  async restore(): Promise<string[]> {
    const found = this.#found;
    if (found === null) return [];
    const lines: string[] = [];
    let now: RouteReadBack;
    try {
      now = await this.readBack();
    } catch (err) {
      return [`cannot read the routes to restore them: ${(err as Error).message}`];
    }
    const devices = new Set(this.#opts.members.map((m) => m.device));
    const same = (a: DefaultRoute, b: DefaultRoute) =>
      a.dev === b.dev && a.metric === b.metric && a.via === b.via;
    const ops: [string[], string][] = [];
    for (const r of found) {
      if (!now.routes.some((x) => same(x, r))) {
        ops.push([["route", "append", ...routeArgs(r)], `restored ${routeText(r)}`]);
      }
    }
    for (const r of now.routes) {
      if (devices.has(r.dev) && !found.some((x) => same(x, r))) {
        ops.push([["route", "del", ...routeArgs(r)], `removed ${routeText(r)}`]);
      }
    }
    for (const [args, what] of ops) {
      const r = await this.#ip(args);
      lines.push(
        r.code === 0
          ? what
          : `could not ${
            what.replace(/^(restored|removed)/, (w) => w === "restored" ? "restore" : "remove")
          }: ${r.stderr.trim() || `exit ${r.code}`}`,
      );
    }
    this.#written.clear();
    return lines;
  }

  /** Devices whose link is down (not UP, or no carrier), from `ip -o link show`. */
  async #linksDown(): Promise<Set<string>> {
    const down = new Set<string>();
    const r = await this.#ip(["-o", "link", "show"]);
    if (r.code !== 0) return down;
    for (const line of r.stdout.split("\n")) {
      const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/.exec(line);
      if (m === null) continue;
      const flags = m[2].split(",");
      if (!flags.includes("UP") || flags.includes("NO-CARRIER")) down.add(m[1]);
    }
    return down;
  }

  #drift(routes: DefaultRoute[]): Drift[] {
    const drift: Drift[] = [];
    for (const [name, expected] of this.#written) {
      const m = this.#opts.members.find((x) => x.name === name);
      if (!m) continue;
      const mine = routes.filter((r) => r.dev === m.device);
      if (mine.length === 1 && mine[0].metric === expected) continue;
      const other = mine.find((r) => r.metric !== expected);
      drift.push({
        member: name,
        expected,
        found: mine.length === 0 ? null : (other ?? mine[0]).metric,
        field: "metric",
      });
    }
    return drift;
  }

  async #apply(action: ControllerAction, report: ControllerReport): Promise<void> {
    if (action.cmd === "write") {
      await applyFlushAction(action, report, this.#run);
      return;
    }
    const r = await this.#run(action.cmd, action.args, { timeoutMs: this.#opts.timeoutMs ?? 5000 });
    if (r.code !== 0) {
      report.errors.push(
        `${action.cmd} ${action.args.join(" ")} failed (exit ${r.code}${
          r.stderr.trim() ? `: ${r.stderr.trim()}` : ""
        })`,
      );
    }
  }

  async #verify(
    wanted: Map<string, { via?: string; dev: string; metric: number }>,
    report: ControllerReport,
  ): Promise<void> {
    const after = await readBackInto(this, report, "read-back failed: ");
    if (after === null) return;
    let ok = true;
    for (const [name, w] of wanted) {
      const mine = after.routes.filter((r) => r.dev === w.dev);
      const good = mine.length === 1 && mine[0].metric === w.metric && mine[0].via === w.via;
      if (!good) {
        ok = false;
        report.verification.push(
          `${name}: expected one default route on ${w.dev} at metric ${w.metric}, found ${
            mine.map((r) => r.metric).join(", ") || "none"
          }`,
        );
      }
    }
    if (after.primary !== report.primary) {
      ok = false;
      report.verification.push(
        `lowest-metric default route is ${after.primary ?? "none"}, not ${report.primary}`,
      );
    } else {
      report.verification.push(`${report.primary} has the lowest-metric default route`);
    }
    report.verified = ok && report.errors.length === 0;
  }
}
