/**
 * A {@linkcode StarfailBackend} test double with in-memory state: three
 * members, a primary that `failover`/`restore` really change, samples,
 * history and an event log. Used by the CLI and ubus tests and the demo's
 * smoke tests to exercise the production ubus paths.
 *
 * @module
 */

import type {
  ActionResult,
  EventRecord,
  EventsResult,
  HistoryResult,
  InfoResult,
  MembersResult,
  MemberStatus,
  MetricsResult,
  StarfailBackend,
  StatusResult,
} from "../ubus/starfail_object.ts";

/** Options for {@linkcode FakeStarfailBackend}. */
export interface FakeBackendOptions {
  /** Wall-clock "now" in unix seconds (fixed, for stable output). */
  now?: number;
}

function member(
  name: string,
  cls: string,
  iface: string,
  final: number,
  now: number,
  extra: Partial<MemberStatus["metrics"]>,
): MemberStatus {
  return {
    name,
    class: cls,
    iface,
    weight: cls === "starlink" ? 100 : cls === "cellular" ? 80 : 60,
    state: "up",
    since: now - 300,
    reason: "healthy for 30 s",
    eligible: true,
    primary: false,
    score: {
      instant: final,
      ewma: final,
      window: final,
      final,
      explanation: [
        {
          metric: "latency",
          value: extra.latency_ms ?? null,
          unit: "ms",
          ok: 50,
          bad: 1500,
          sub_score: 95,
          weight: 25,
          penalty: 1.4,
          note: "",
        },
        {
          metric: "loss",
          value: extra.loss_pct ?? null,
          unit: "%",
          ok: 0,
          bad: 10,
          sub_score: 100,
          weight: 30,
          penalty: 0,
          note: "",
        },
      ],
      penalties: { metered: cls === "cellular" ? 10 : 0, roaming: 0 },
      member_weight: cls === "starlink" ? 1 : 0.8,
    },
    metrics: { at: now - 1, link_up: true, ...extra },
    risks: [],
  };
}

/** In-memory backend; every action changes what the next call returns. */
export class FakeStarfailBackend implements StarfailBackend {
  /** Current primary. */
  primary: string | null = "starlink";
  /** Current log level. */
  logLevel = "info";
  /** Calls to `recheck`. */
  rechecks = 0;
  #now: number;
  #members: MemberStatus[];
  #events: EventRecord[] = [];
  #override: { member: string; expires_at: number | null } | null = null;

  /** Creates the double with members starlink, cellular and wifi. */
  constructor(opts: FakeBackendOptions = {}) {
    this.#now = opts.now ?? Math.floor(Date.now() / 1000);
    this.#members = [
      member("starlink", "starlink", "wan", 92.5, this.#now, {
        latency_ms: 38,
        loss_pct: 0,
        obstruction_pct: 0.4,
      }),
      member("cellular", "cellular", "mob1s1a1", 71, this.#now, {
        latency_ms: 62,
        loss_pct: 0.5,
        rsrp_dbm: -95,
        rsrq_db: -11,
        sinr_db: 12.5,
        roaming: false,
      }),
      member("wifi", "wifi", "wwan", 55, this.#now, {
        latency_ms: 24,
        signal_dbm: -67,
        noise_dbm: -95,
      }),
    ];
    this.#events.push({
      at: this.#now - 300,
      type: "switch",
      member: "starlink",
      from: null,
      to: "starlink",
      reason: "initial choice: highest score",
    });
  }

  #withPrimary(): MemberStatus[] {
    return this.#members.map((m) => ({ ...m, primary: m.name === this.primary }));
  }

  /** Overall status. */
  status(): StatusResult {
    return {
      version: "0.1.0-test",
      uptime_s: 300,
      primary: this.primary,
      primary_since: this.#now - 300,
      why: this.#override ? `manual override to ${this.#override.member}` : "highest final score",
      override: this.#override,
      cooldown_left_s: 0,
      ride_through: null,
      dry_run: false,
      members: this.#withPrimary(),
      decisions: this.#events
        .filter((e) => e.type === "switch")
        .map((e) => ({ at: e.at, from: e.from, to: e.to, kind: "failover", reason: e.reason })),
      collectors: [
        {
          name: "starlink",
          member: "starlink",
          ok: true,
          last_ok: this.#now - 1,
          last_error: null,
          failures: 0,
        },
        {
          name: "cellular",
          member: "cellular",
          ok: false,
          last_ok: this.#now - 60,
          last_error: "mmcli: couldn't find modem",
          failures: 3,
        },
      ],
    };
  }

  /** Every member. */
  members(): MembersResult {
    return { members: this.#withPrimary() };
  }

  /** Five synthetic samples of the member's latest metrics. */
  metrics(name: string, limit: number): MetricsResult {
    const m = this.#members.find((x) => x.name === name)!;
    const samples = Array.from({ length: Math.min(limit, 5) }, (_, i) => {
      const { at: _at, ...fields } = m.metrics;
      return { ...fields, at: this.#now - (4 - i) * 2, final: m.score.final };
    });
    return { member: name, samples };
  }

  /** Three points, a minute apart. */
  history(name: string, sinceS: number): HistoryResult {
    const m = this.#members.find((x) => x.name === name)!;
    return {
      member: name,
      since_s: sinceS,
      points: [0, 1, 2].map((i) => ({
        at: this.#now - (2 - i) * 60,
        state: m.state,
        instant: m.score.instant,
        ewma: m.score.ewma,
        final: m.score.final,
      })),
    };
  }

  /** The newest `limit` events. */
  events(limit: number): EventsResult {
    return { events: this.#events.slice(-limit) };
  }

  /** Makes `name` primary with an override. */
  failover(name: string, expiresS?: number): ActionResult {
    const from = this.primary;
    this.primary = name;
    this.#override = {
      member: name,
      expires_at: expiresS === undefined ? null : this.#now + expiresS,
    };
    this.#events.push({
      at: this.#now,
      type: "switch",
      member: name,
      from,
      to: name,
      reason: "manual failover",
    });
    return {
      ok: true,
      message: `${name} is primary now (manual override${
        expiresS === undefined ? " until restore" : ` for ${expiresS} s`
      })`,
      primary: name,
    };
  }

  /** Ends the override; starlink becomes primary again. */
  restore(): ActionResult {
    if (!this.#override) {
      return { ok: true, message: "no override was active", primary: this.primary };
    }
    this.#override = null;
    this.primary = "starlink";
    return {
      ok: true,
      message: "override removed; automatic selection chose starlink",
      primary: "starlink",
    };
  }

  /** Counts the call. */
  recheck(): ActionResult {
    this.rechecks++;
    return { ok: true, message: "re-checked 3 members; primary unchanged", primary: this.primary };
  }

  /** A small config tree. */
  configGet(): { [key: string]: unknown } {
    return {
      main: { poll_interval_ms: 1500, log_level: this.logLevel },
      members: { starlink: { class: "starlink" } },
    };
  }

  /** Sets the level. */
  setLog(level: string): ActionResult {
    this.logLevel = level;
    return { ok: true, message: `log level is ${level}`, primary: this.primary };
  }

  /** Process facts. */
  info(): InfoResult {
    return {
      version: "0.1.0-test",
      uptime_s: 300,
      pid: 4242,
      runtime: "deno 2.9.6",
      memory: { rss_bytes: 30_000_000, heap_used_bytes: 8_000_000, limit_mb: 16 },
      counts: { members: 3, samples: 450, events: this.#events.length },
      log_level: this.logLevel,
      socket: "/var/run/ubus/ubus.sock",
      config_file: "/etc/config/starfail",
    };
  }
}
