/**
 * The mwan3 controller: makes the chosen primary's member the strictly
 * lowest metric in the policy used by mwan3's default rule, with the
 * smallest set of `uci set` changes, commits, applies with the lightest
 * reload, reads back and verifies, and reports metrics someone else changed
 * (drift) instead of silently fighting them.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { runCommand } from "../collectors/exec.ts";
import { applyFlushAction, flushAction } from "./conntrack.ts";
import type { ExecResult } from "../collectors/exec.ts";
import { parseMwan3StatusText, parseMwan3UbusStatus } from "./mwan3_status.ts";
import type { Mwan3Status } from "./mwan3_status.ts";
import type {
  Controller,
  ControllerAction,
  ControllerReport,
  DesiredState,
  Drift,
  Runner,
} from "./types.ts";
import { actionLines, emptyReport, readBackInto } from "./report.ts";
import { optionValue } from "../router/uci_show.ts";
import type { ShownPackage } from "../router/uci_show.ts";
import { LocalUci } from "../router/local.ts";
import type { Router, RouterUci } from "../router/types.ts";

const log = getLogger(["starfail", "controller", "mwan3"]);

/** mwan3 ignores members with a metric above this. */
export const MWAN3_MAX_METRIC = 256;

/** A member of the default policy, as configured. */
export interface PolicyMember {
  /** mwan3 member section name (e.g. `wan_m1_w3`). */
  member: string;
  /** The mwan3 interface it points at (e.g. `wan`). */
  iface: string;
  /** Configured metric (default 1, as mwan3 assumes). */
  metric: number;
  /** Configured weight (default 1). */
  weight: number;
}

/** A planned metric change. */
export interface MetricChange {
  /** Member section name. */
  member: string;
  /** Current metric. */
  from: number;
  /** New metric. */
  to: number;
}

/** What {@linkcode Mwan3Controller.readBack} returns. */
export interface Mwan3ReadBack {
  /** The policy used by the default IPv4 rule. */
  policy: string;
  /** The rule that selects it. */
  rule: string;
  /** Members of that policy in `use_member` order. */
  members: PolicyMember[];
  /** Member with the strictly lowest metric, or null on a tie. */
  primaryMember: string | null;
  /** mwan3's runtime status (ubus JSON if a reader was given, else `mwan3 status` text), or null. */
  status: Mwan3Status | null;
  /** Interfaces mwan3 routes the default policy through right now (from `status`). */
  activeInterfaces: string[] | null;
}

/** How the controller applies a committed metric change. */
export type Mwan3Reload = "ifup" | "restart" | "none";

/** Options for {@linkcode Mwan3Controller}. */
export interface Mwan3ControllerOptions {
  /** Plan and report only; run nothing that changes state. Default false. */
  dryRun?: boolean;
  /** `uci` program. Default `uci`. */
  uciCommand?: string;
  /**
   * Arguments put before every uci command (e.g. `["-c", dir, "-t", savedir]`;
   * real uci's `-P` would make `commit` a no-op).
   */
  uciArgs?: string[];
  /** `mwan3` program. Default `mwan3`. */
  mwan3Command?: string;
  /** Extra environment for every command. */
  env?: Record<string, string>;
  /**
   * How to apply: `ifup` (default) re-runs mwan3's ifup hotplug for the new
   * primary's interface, which rebuilds every policy chain from the fresh
   * config without stopping the other interfaces' trackers; `restart` runs
   * `mwan3 restart` (stop + start of everything); `none` only commits.
   */
  reload?: Mwan3Reload;
  /** Flush conntrack when the primary changes (failover/failback only). Default false. */
  conntrackFlush?: boolean;
  /** The conntrack file mwan3 writes `f` to. Default `/proc/net/nf_conntrack`. */
  conntrackFile?: string;
  /** Reads `ubus call mwan3 status` (parsed JSON); when absent, `mwan3 status` text is used. */
  ubusStatus?: () => Promise<unknown>;
  /** Use this policy instead of the one the default rule selects. */
  policy?: string;
  /** Deadline per command, ms. Default 10000 (`mwan3 restart`: 6×). */
  timeoutMs?: number;
  /** Subprocess runner. Default `runCommand`. */
  run?: Runner;
  /**
   * The router seam: when given, uci, mwan3's status and tools go through it
   * (`uciCommand`, `uciArgs`, `run` and `env` are then not used). A remote
   * router applies with rollback: rpcd's `uci apply` commits, procd's reload
   * trigger reloads mwan3, and starfail confirms only after the read-back
   * matched (a lost companion never leaves the router on a half-made policy).
   */
  router?: Router;
  /** Seconds a remote router waits for the confirm before rolling back. Default 30. */
  rollbackS?: number;
}

/**
 * Finds the rule that carries default IPv4 traffic: the first `rule` whose
 * `dest_ip` is absent or `0.0.0.0/0`, with family ipv4/any/absent and no
 * source, port or protocol restriction (mwan3 rules match first to last).
 *
 * @example
 * ```ts
 * findDefaultRule(pkg); // { rule: "default_rule_v4", policy: "balanced" }
 * ```
 */
export function findDefaultRule(pkg: ShownPackage): { rule: string; policy: string } | null {
  for (const s of pkg.sections) {
    if (s.type !== "rule") continue;
    const dest = optionValue(s, "dest_ip");
    const family = optionValue(s, "family") ?? "any";
    const proto = optionValue(s, "proto") ?? "all";
    const policy = optionValue(s, "use_policy");
    if (!policy) continue;
    if (dest !== undefined && dest !== "0.0.0.0/0") continue;
    if (family !== "ipv4" && family !== "any") continue;
    if (proto !== "all") continue;
    if (["src_ip", "src_port", "dest_port", "ipset", "src_iface"].some((o) => s.options.has(o))) {
      continue;
    }
    return { rule: s.name, policy };
  }
  return null;
}

/**
 * Lists a policy's members in `use_member` order with their interface,
 * metric and weight. Members that do not exist are skipped.
 *
 * @example
 * ```ts
 * policyMembers(pkg, "starlink_cell"); // [{ member: "wan_m1_w3", iface: "wan", metric: 1, weight: 3 }, …]
 * ```
 */
export function policyMembers(pkg: ShownPackage, policy: string): PolicyMember[] {
  const section = pkg.sections.find((s) => s.name === policy && s.type === "policy");
  if (!section) return [];
  const out: PolicyMember[] = [];
  for (const name of section.options.get("use_member") ?? []) {
    const m = pkg.sections.find((s) => s.name === name && s.type === "member");
    if (!m) continue;
    out.push({
      member: name,
      iface: optionValue(m, "interface") ?? "",
      metric: Number(optionValue(m, "metric") ?? "1"),
      weight: Number(optionValue(m, "weight") ?? "1"),
    });
  }
  return out;
}

/**
 * The member with the strictly lowest metric, or null when the lowest metric
 * is shared (mwan3 then balances between them).
 *
 * @example
 * ```ts
 * strictPrimary([{ member: "a", iface: "a", metric: 1, weight: 1 }]); // "a"
 * ```
 */
export function strictPrimary(members: PolicyMember[]): string | null {
  const usable = members.filter((m) => m.metric <= MWAN3_MAX_METRIC);
  if (usable.length === 0) return null;
  const best = Math.min(...usable.map((m) => m.metric));
  const tier = usable.filter((m) => m.metric === best);
  return tier.length === 1 ? tier[0].member : null;
}

/**
 * Plans the fewest metric changes that make `primary` the strictly lowest
 * metric while keeping the relative order (including ties) of all others:
 * if some room exists below the others, only the primary moves; otherwise
 * the primary takes metric 1 and only the others in the contiguous run of
 * metrics starting at 1 move up by one.
 *
 * @example
 * ```ts
 * planMetrics([{ member: "wan", iface: "wan", metric: 1, weight: 3 }, { member: "lte", iface: "lte", metric: 2, weight: 2 }], "lte");
 * // [{ member: "lte", from: 2, to: 1 }, { member: "wan", from: 1, to: 2 }]
 * ```
 */
export function planMetrics(members: PolicyMember[], primary: string): MetricChange[] {
  const self = members.find((m) => m.member === primary);
  if (!self) throw new RangeError(`member ${primary} is not in the policy`);
  const others = members.filter((m) => m.member !== primary && m.metric <= MWAN3_MAX_METRIC);
  if (others.length === 0) return [];
  const minOther = Math.min(...others.map((m) => m.metric));
  if (self.metric < minOther) return [];
  if (minOther > 1) return [{ member: primary, from: self.metric, to: minOther - 1 }];
  const used = new Set(others.map((m) => m.metric));
  const shifted = new Set<number>();
  for (let k = 1; used.has(k); k++) shifted.add(k);
  const changes: MetricChange[] = [];
  if (self.metric !== 1) changes.push({ member: primary, from: self.metric, to: 1 });
  for (const m of others) {
    if (!shifted.has(m.metric)) continue;
    if (m.metric + 1 > MWAN3_MAX_METRIC) {
      throw new RangeError(
        `member ${m.member} would need metric ${m.metric + 1}, above mwan3's ${MWAN3_MAX_METRIC}`,
      );
    }
    changes.push({ member: m.member, from: m.metric, to: m.metric + 1 });
  }
  return changes;
}

/**
 * Resolves a starfail member name to an mwan3 member of the policy: an exact
 * member section name, else the member whose interface has that name.
 *
 * @example
 * ```ts
 * resolveMember(members, "wwan"); // "wwan_m2_w2"
 * ```
 */
export function resolveMember(members: PolicyMember[], name: string): string | null {
  if (members.some((m) => m.member === name)) return name;
  const byIface = members.filter((m) => m.iface === name);
  return byIface.length >= 1 ? byIface[0].member : null;
}

/**
 * Controller for mwan3 through `uci` and `mwan3`.
 *
 * @example
 * ```ts
 * const ctl = new Mwan3Controller({ dryRun: false, conntrackFlush: true });
 * const report = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
 * if (report.drift.length) console.warn("mwan3 was edited by hand", report.drift);
 * ```
 */
export class Mwan3Controller implements Controller<Mwan3ReadBack> {
  #opts: Mwan3ControllerOptions;
  #run: Runner;
  #uci: RouterUci;
  /** Metrics we last wrote, by member; the base for drift detection. */
  #written = new Map<string, number>();
  /** The policy's member metrics as found before the first change (for {@linkcode restore}). */
  #found: PolicyMember[] | null = null;

  /** Creates a controller; nothing runs until `reconcile` or `readBack`. */
  constructor(opts: Mwan3ControllerOptions = {}) {
    this.#opts = opts;
    const router = opts.router;
    this.#run = router !== undefined
      ? (cmd, args, o) => router.exec(cmd, args, o)
      : opts.run ?? runCommand;
    this.#uci = router?.uci ?? new LocalUci({
      run: this.#run,
      ...(opts.uciCommand !== undefined ? { command: opts.uciCommand } : {}),
      ...(opts.uciArgs !== undefined ? { args: opts.uciArgs } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      timeoutMs: opts.timeoutMs ?? 10000,
    });
  }

  #exec(cmd: string, args: string[], timeoutMs?: number): Promise<ExecResult> {
    return this.#run(cmd, args, {
      timeoutMs: timeoutMs ?? this.#opts.timeoutMs ?? 10000,
      env: this.#opts.env,
    });
  }

  #loadConfig(): Promise<ShownPackage> {
    return this.#uci.show("mwan3");
  }

  async #readStatus(): Promise<Mwan3Status | null> {
    const router = this.#opts.router;
    const ubusStatus = this.#opts.ubusStatus ??
      (router !== undefined ? () => router.call("mwan3", "status", {}) : undefined);
    if (ubusStatus) {
      try {
        return parseMwan3UbusStatus(await ubusStatus());
      } catch (err) {
        // No `mwan3` object on ubus (older mwan3, rpcd plugin missing): ask the CLI instead.
        log.debug("Reading mwan3 status over ubus failed; using 'mwan3 status'", {
          error: String(err),
        });
      }
      // A remote router runs no `mwan3` program for us.
      if (router?.kind === "remote") return null;
    }
    const r = await this.#exec(this.#opts.mwan3Command ?? "mwan3", ["status"]);
    if (r.code !== 0 || r.timedOut) {
      log.warn("mwan3 status failed", { code: r.code, stderr: r.stderr.trim() });
      return null;
    }
    return parseMwan3StatusText(r.stdout);
  }

  /** Reads the default policy, its members and mwan3's runtime status. */
  async readBack(): Promise<Mwan3ReadBack> {
    const pkg = await this.#loadConfig();
    const found = this.#opts.policy
      ? { rule: "(configured)", policy: this.#opts.policy }
      : findDefaultRule(pkg);
    if (!found) {
      throw new Error(
        "no mwan3 rule carries default IPv4 traffic (a rule with dest_ip 0.0.0.0/0 or none and use_policy); add one or set the policy explicitly",
      );
    }
    const members = policyMembers(pkg, found.policy);
    const status = await this.#readStatus();
    const active = status?.policies.ipv4[found.policy]?.map((s) => s.iface) ?? null;
    return {
      policy: found.policy,
      rule: found.rule,
      members,
      primaryMember: strictPrimary(members),
      status,
      activeInterfaces: status ? active ?? [] : null,
    };
  }

  #drift(members: PolicyMember[]): Drift[] {
    const drift: Drift[] = [];
    for (const [member, expected] of this.#written) {
      const m = members.find((x) => x.member === member);
      const found = m ? m.metric : null;
      if (found !== expected) drift.push({ member, expected, found, field: "metric" });
    }
    return drift;
  }

  /** Makes `desired.primary` the strictly lowest metric of the default policy; see the module docs. */
  async reconcile(desired: DesiredState): Promise<ControllerReport> {
    const dryRun = this.#opts.dryRun ?? false;
    const report = emptyReport("mwan3", desired.primary, dryRun);
    const before = await readBackInto(this, report);
    if (before === null) return report;
    if (this.#found === null && !dryRun) this.#found = before.members.map((m) => ({ ...m }));
    report.drift = this.#drift(before.members);
    if (report.drift.length > 0) {
      log.warn("mwan3 metrics were changed outside starfail", { drift: report.drift });
      // Adopt what the user set; we only move what the primary needs.
      for (const d of report.drift) {
        if (d.found === null) this.#written.delete(d.member);
        else this.#written.set(d.member, d.found);
      }
    }
    const member = resolveMember(before.members, desired.primary);
    if (member === null) {
      report.errors.push(
        `member ${desired.primary} is not in mwan3 policy ${before.policy} (members: ${
          before.members.map((m) => m.member).join(", ") || "none"
        }); add it to the policy's use_member list`,
      );
      return report;
    }
    const oldPrimary = before.primaryMember;
    let changes: MetricChange[];
    try {
      changes = planMetrics(before.members, member);
    } catch (err) {
      report.errors.push((err as Error).message);
      return report;
    }
    if (changes.length > 0) {
      const pending = await this.#uci.foreignChanges("mwan3");
      if (pending.length > 0) {
        report.errors.push(
          "mwan3 has uncommitted uci changes made by someone else; starfail will not commit them. Commit or revert them (uci commit mwan3 / uci revert mwan3)",
        );
        return report;
      }
    }
    report.changed = changes.length > 0;
    if (oldPrimary !== null && oldPrimary !== member) report.previousPrimary = oldPrimary;
    const iface = before.members.find((m) => m.member === member)?.iface ?? desired.primary;
    const uci = this.#uci;
    const rollbackS = this.#opts.rollbackS ?? 30;
    // Each action with what carries it out; the confirm waits for the read-back.
    const steps: { action: ControllerAction; run: () => Promise<void> }[] = [];
    let confirmAction: ControllerAction | null = null;
    for (const c of changes) {
      const step = uci.describeSet("mwan3", c.member, "metric", String(c.to));
      steps.push({
        action: {
          ...step,
          why: `metric ${c.from} → ${c.to} so ${member} is the lowest in policy ${before.policy}`,
        },
        run: () => uci.set("mwan3", c.member, "metric", String(c.to)),
      });
    }
    if (changes.length > 0) {
      const [applyStep, confirmStep] = uci.describeApply("mwan3", { rollbackS });
      steps.push({
        action: {
          ...applyStep,
          why: uci.rollsBack
            ? `commit and apply (the router reloads mwan3, and rolls the change back unless confirmed within ${rollbackS} s)`
            : "make the new metrics persistent",
        },
        run: () => uci.apply("mwan3", { rollbackS }),
      });
      if (confirmStep !== undefined) {
        confirmAction = { ...confirmStep, why: "keep the change once read back and verified" };
      }
      const reload = uci.rollsBack ? "none" : this.#opts.reload ?? "ifup";
      if (reload === "ifup") {
        const action = {
          cmd: this.#opts.mwan3Command ?? "mwan3",
          args: ["ifup", iface],
          why:
            "rebuild mwan3's policy rules from the new metrics without restarting other interfaces",
        };
        steps.push({ action, run: () => this.#runTool(action) });
      } else if (reload === "restart") {
        const action = {
          cmd: this.#opts.mwan3Command ?? "mwan3",
          args: ["restart"],
          why: "reload mwan3 completely",
        };
        steps.push({ action, run: () => this.#runTool(action) });
      }
      if (this.#opts.conntrackFlush && report.previousPrimary !== null) {
        if (this.#opts.router?.kind === "remote") {
          log.warn(
            "conntrack_flush is not done in remote mode (set mwan3's own flush_conntrack on the router)",
          );
        } else {
          const action = flushAction(this.#opts.conntrackFile);
          steps.push({ action, run: () => applyFlushAction(action, report, this.#run) });
        }
      }
    }
    report.actions.push(...steps.map((s) => s.action));
    if (confirmAction !== null) report.actions.push(confirmAction);
    if (dryRun) {
      log.info("Dry run: mwan3 changes not applied", {
        primary: member,
        actions: actionLines(report.actions),
      });
      report.verified = changes.length === 0;
      report.verification.push(
        changes.length === 0
          ? `${member} already has the lowest metric in policy ${before.policy}`
          : `dry run: ${changes.length} metric change(s) not applied`,
      );
      return report;
    }
    let committed = changes.length === 0;
    let applied = false;
    for (const step of steps) {
      try {
        await step.run();
      } catch (err) {
        report.errors.push(err instanceof Error ? err.message : String(err));
        break;
      }
      if (step.action === steps[changes.length]?.action) committed = applied = true;
    }
    if (!committed) {
      // Drop our half-staged changes (there were no others: checked above), so the next
      // round does not mistake them for someone else's.
      await uci.revert("mwan3").catch((err) => {
        report.errors.push(err instanceof Error ? err.message : String(err));
      });
    }
    // Remember what we wrote only once it is committed; the drift check compares against it.
    if (committed) {
      for (const c of changes) this.#written.set(c.member, c.to);
      if (!this.#written.has(member)) {
        this.#written.set(member, before.members.find((m) => m.member === member)?.metric ?? 1);
      }
    }
    await this.#verify(member, iface, report);
    if (applied && uci.rollsBack) await this.#confirmOrRollBack(member, report);
    log.info("mwan3 reconciled", {
      primary: member,
      changed: report.changed,
      verified: report.verified,
      errors: report.errors,
    });
    return report;
  }

  /** Keeps what `other` (the controller this one replaces on a reload) found at start. */
  takeFoundFrom(other: Controller): void {
    if (other instanceof Mwan3Controller && this.#found === null) this.#found = other.#found;
  }

  /**
   * Puts the policy's member metrics back as found before the first change,
   * through the router seam's uci (local: set, commit, then `mwan3 ifup` of
   * the member that is primary again, as `reload` says; remote: set, apply
   * with rollback and confirm). Never throws: failures come back as lines.
   */
  async restore(): Promise<string[]> {
    const found = this.#found;
    if (found === null) return [];
    let now: Mwan3ReadBack;
    try {
      now = await this.readBack();
    } catch (err) {
      return [`cannot read mwan3 to restore its metrics: ${(err as Error).message}`];
    }
    const changes = found.flatMap((f) => {
      const cur = now.members.find((m) => m.member === f.member);
      return cur !== undefined && cur.metric !== f.metric && f.metric !== undefined
        ? [{ member: f.member, from: cur.metric, to: f.metric }]
        : [];
    });
    if (changes.length === 0) return [];
    const lines: string[] = [];
    const uci = this.#uci;
    for (const c of changes) {
      try {
        await uci.set("mwan3", c.member, "metric", String(c.to));
        lines.push(`restored mwan3.${c.member}.metric ${c.from} → ${c.to}`);
      } catch (err) {
        lines.push(`could not restore mwan3.${c.member}.metric: ${(err as Error).message}`);
      }
    }
    const rollbackS = this.#opts.rollbackS ?? 30;
    try {
      await uci.apply("mwan3", { rollbackS });
      if (uci.rollsBack) await uci.confirm();
    } catch (err) {
      lines.push(`applying the restored mwan3 metrics failed: ${(err as Error).message}`);
      await uci.revert("mwan3").catch(() => {});
      return lines;
    }
    const lowest = [...found].filter((m) => m.metric !== undefined)
      .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
    const reload = uci.rollsBack ? "none" : this.#opts.reload ?? "ifup";
    if (reload !== "none" && lowest !== undefined) {
      const args = reload === "ifup" ? ["ifup", lowest.iface] : ["restart"];
      const r = await this.#exec(this.#opts.mwan3Command ?? "mwan3", args);
      if (r.code !== 0) lines.push(`mwan3 ${args.join(" ")} failed: exit ${r.code}`);
    }
    this.#written.clear();
    return lines;
  }

  /** Runs a tool action; throws a one-sentence error when it fails. */
  async #runTool(action: ControllerAction): Promise<void> {
    const isRestart = action.args.includes("restart");
    const timeout = (this.#opts.timeoutMs ?? 10000) * (isRestart ? 6 : 1);
    const r = await this.#exec(action.cmd, action.args, timeout);
    if (r.code !== 0) {
      throw new Error(
        `${action.cmd} ${action.args.join(" ")} failed (exit ${r.code}${
          r.timedOut ? ", deadline exceeded" : ""
        }${r.stderr.trim() ? `: ${r.stderr.trim()}` : ""})`,
      );
    }
  }

  /**
   * After a rollback-protected apply: keep it when the read-back shows the
   * member lowest, else have the router restore the previous config now.
   */
  async #confirmOrRollBack(member: string, report: ControllerReport): Promise<void> {
    const uciOk = report.verification.some((line) =>
      line.startsWith(`uci: ${member} has the lowest metric`)
    );
    if (uciOk) {
      try {
        await this.#uci.confirm();
        report.verification.push("router: change confirmed (rollback cancelled)");
      } catch (err) {
        report.verified = false;
        report.errors.push(
          `confirming the applied mwan3 change failed (${
            err instanceof Error ? err.message : String(err)
          }); the router rolls it back when its ${
            this.#opts.rollbackS ?? 30
          } s run out (unless rpcd restarted meanwhile, which keeps the committed change)`,
        );
      }
      return;
    }
    report.verified = false;
    try {
      await this.#uci.rollback();
      report.errors.push("the read-back did not show the change; the router rolled it back");
    } catch (err) {
      report.errors.push(
        `the read-back did not show the change and rollback failed (${
          err instanceof Error ? err.message : String(err)
        }); the router rolls it back by itself when its timer runs out`,
      );
    }
  }

  async #verify(member: string, iface: string, report: ControllerReport): Promise<void> {
    const after = await readBackInto(this, report, "read-back failed: ");
    if (after === null) return;
    const uciOk = after.primaryMember === member;
    report.verification.push(
      uciOk
        ? `uci: ${member} has the lowest metric in policy ${after.policy}`
        : `uci: ${member} does not have the strictly lowest metric in policy ${after.policy}`,
    );
    let runtimeOk = true;
    if (after.status === null) {
      report.verification.push("mwan3 status unavailable; runtime not checked");
    } else {
      const state = after.status.interfaces[iface]?.status ?? "unknown";
      const active = after.activeInterfaces ?? [];
      if (state !== "online") {
        report.verification.push(
          `mwan3 reports ${iface} as ${state}; mwan3 routes ${
            active.join(", ") || "nothing"
          } until its tracker sees ${iface} online`,
        );
      } else {
        runtimeOk = active.length === 1 && active[0] === iface;
        report.verification.push(
          runtimeOk
            ? `mwan3 routes policy ${after.policy} through ${iface}`
            : `mwan3 routes policy ${after.policy} through ${
              active.join(", ") || "nothing"
            }, not ${iface}`,
        );
      }
    }
    report.verified = uciOk && runtimeOk && report.errors.length === 0;
  }
}
