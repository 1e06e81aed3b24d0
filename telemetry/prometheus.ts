/**
 * The `/metrics` page: the daemon's state in the Prometheus text exposition
 * format (version 0.0.4). A pure function of the `status` reply and the
 * {@linkcode LiveState} counters, so a test can hold its output against
 * `promtool check metrics`. Units are Prometheus' base units: seconds and
 * ratios (latency 42 ms is `0.042`, loss 5 % is `0.05`).
 *
 * @module
 */

import type { StatusResult } from "../ubus/starfail_object.ts";
import { DISH_STATES, type DishView } from "./live.ts";

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Member states, in the order /metrics lists them. */
export const MEMBER_STATES = ["unknown", "up", "degraded", "down", "recovering"] as const;

/** What /metrics is made of. */
export interface MetricsInput {
  /** The `status` reply. */
  status: StatusResult;
  /** Switches by kind since start. */
  switches: Record<string, number>;
  /** The dish, null when there is none (or no reading yet). */
  dish: DishView | null;
  /** Notification sends by channel. */
  sends: Record<string, { ok: number; failed: number }>;
}

type Labels = Record<string, string>;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function series(name: string, labels: Labels, value: number): string {
  const keys = Object.keys(labels);
  const text = keys.length === 0
    ? ""
    : `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",")}}`;
  const v = Number.isFinite(value)
    ? String(value)
    : Number.isNaN(value)
    ? "NaN"
    : value > 0
    ? "+Inf"
    : "-Inf";
  return `${name}${text} ${v}`;
}

class Page {
  lines: string[] = [];
  family(name: string, type: "gauge" | "counter", help: string, rows: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) this.lines.push(series(name, labels, value));
  }
}

/**
 * Renders the metrics page.
 *
 * @example
 * ```ts
 * const text = prometheusText({ status, switches: live.switches(), dish: live.dish, sends: live.sends() });
 * // starfail_member_score{member="wan"} 87.5 …
 * ```
 */
export function prometheusText(input: MetricsInput): string {
  const { status: s, dish } = input;
  const p = new Page();
  p.family("starfail_info", "gauge", "Version of the running daemon (always 1).", [[{
    version: s.version,
  }, 1]]);
  p.family("starfail_uptime_seconds", "gauge", "Seconds since the daemon started.", [[
    {},
    s.uptime_s,
  ]]);
  p.family("starfail_dry_run", "gauge", "1 when the controller only logs what it would change.", [[
    {},
    s.dry_run ? 1 : 0,
  ]]);
  p.family(
    "starfail_override_active",
    "gauge",
    "1 while a manual failover override is in force.",
    [[{}, s.override === null ? 0 : 1]],
  );
  p.family(
    "starfail_cooldown_seconds",
    "gauge",
    "Seconds before another discretionary switch is allowed.",
    [[{}, s.cooldown_left_s]],
  );
  p.family(
    "starfail_primary",
    "gauge",
    "1 for the member carrying traffic, 0 for the others.",
    s.members.map((m) => [{ member: m.name }, m.primary ? 1 : 0]),
  );
  p.family(
    "starfail_member_score",
    "gauge",
    "Member score 0-100 (final: what selection compares; instant; ewma).",
    s.members.flatMap((m) =>
      (["final", "instant", "ewma"] as const)
        .filter((k) => m.score[k] !== null)
        .map((k) => [{ member: m.name, kind: k }, m.score[k] as number] as [Labels, number])
    ),
  );
  p.family(
    "starfail_member_latency_seconds",
    "gauge",
    "Latest round-trip latency of the member.",
    s.members.filter((m) => typeof m.metrics.latency_ms === "number")
      .map((m) => [{ member: m.name }, (m.metrics.latency_ms as number) / 1000]),
  );
  p.family(
    "starfail_member_loss_ratio",
    "gauge",
    "Latest packet loss of the member (0-1).",
    s.members.filter((m) => typeof m.metrics.loss_pct === "number")
      .map((m) => [{ member: m.name }, (m.metrics.loss_pct as number) / 100]),
  );
  p.family(
    "starfail_member_state",
    "gauge",
    "1 for the member's health state, 0 for the other states.",
    s.members.flatMap((m) =>
      MEMBER_STATES.map((st) => [{ member: m.name, state: st }, m.state === st ? 1 : 0])
    ) as [Labels, number][],
  );
  p.family(
    "starfail_member_eligible",
    "gauge",
    "1 when the member may be chosen as primary now.",
    s.members.map((m) => [{ member: m.name }, m.eligible ? 1 : 0]),
  );
  p.family(
    "starfail_switches_total",
    "counter",
    "Primary switches since start, by kind (failover, failback, predictive, override, ...).",
    Object.entries(input.switches).map(([kind, n]) => [{ kind }, n]),
  );
  p.family(
    "starfail_collector_up",
    "gauge",
    "1 when the collector's last run succeeded.",
    s.collectors.map((c) => [{ collector: c.name, member: c.member ?? "" }, c.ok ? 1 : 0]),
  );
  p.family(
    "starfail_collector_failures",
    "gauge",
    "Failed runs of the collector since its last success.",
    s.collectors.map((c) => [{ collector: c.name, member: c.member ?? "" }, c.failures]),
  );
  p.family(
    "starfail_notifications_total",
    "counter",
    "Notification sends by channel and result.",
    Object.entries(input.sends).flatMap(([channel, c]) => [
      [{ channel, result: "ok" }, c.ok] as [Labels, number],
      [{ channel, result: "failed" }, c.failed] as [Labels, number],
    ]),
  );
  if (dish !== null) {
    p.family(
      "starfail_dish_state",
      "gauge",
      "1 for the dish's state (online, obstructed, or its outage cause), 0 for the others.",
      DISH_STATES.map((st) => [{ member: dish.member, state: st }, dish.state === st ? 1 : 0]),
    );
    p.family(
      "starfail_dish_obstructed",
      "gauge",
      "1 while the dish reports it is obstructed.",
      [[{ member: dish.member }, dish.obstructed ? 1 : 0]],
    );
    if (dish.obstruction_pct !== null) {
      p.family(
        "starfail_dish_obstruction_ratio",
        "gauge",
        "Fraction of the sky the dish sees obstructed (0-1).",
        [[{ member: dish.member }, dish.obstruction_pct / 100]],
      );
    }
    p.family(
      "starfail_dish_update_pending",
      "gauge",
      "1 when a downloaded dish software update waits for a reboot.",
      [[{ member: dish.member }, dish.update_pending ? 1 : 0]],
    );
    p.family(
      "starfail_dish_alert",
      "gauge",
      "Active dish alerts (1 per alert).",
      dish.alerts.map((a) => [{ member: dish.member, alert: a }, 1]),
    );
  }
  return p.lines.join("\n") + "\n";
}
