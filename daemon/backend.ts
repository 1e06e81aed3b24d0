/**
 * The daemon's side of the `starfail` ubus object: answers every method from
 * the runtime's engine state and the telemetry store. Engine time (monotonic
 * seconds) is turned into Unix seconds here, at the edge.
 *
 * @module
 */

import { humanizeTimes, wallTime } from "./wall_time.ts";
import { type MemberRuntime, OBSERVATION_FIELD_NAMES } from "../engine/mod.ts";
import type { TelemetryStore } from "../telemetry/store.ts";
import type {
  ActionResult,
  CollectorHealth,
  DecisionResult,
  EventsResult,
  HistoryResult,
  InfoResult,
  LatestMetrics,
  MembersResult,
  MemberStatus,
  MetricsResult,
  NotifyTestResult,
  StarfailBackend,
  StatusResult,
} from "../ubus/starfail_object.ts";
import { HIDDEN_METRIC_FIELDS } from "../ubus/starfail_object.ts";
import { VERSION } from "../version.ts";
import type { Runtime } from "./runtime.ts";

/** What the backend needs besides the runtime. */
export interface BackendDeps {
  /** The running runtime. */
  runtime: Runtime;
  /** Telemetry. */
  store: TelemetryStore;
  /** netifd interface per member. */
  ifaces: () => Record<string, string>;
  /** Which collector serves which member (null: global). */
  collectorMember: (collector: string) => string | null;
  /** The effective configuration (plain data: the loaded, defaulted config). */
  config: () => { [key: string]: unknown };
  /** Whether the controller only logs. */
  dryRun: () => boolean;
  /** Current log level, and how to change it. */
  logLevel: () => string;
  /** Sets the log level. */
  setLogLevel: (level: string) => void;
  /** Polls every collector now (recheck). */
  recheck: () => Promise<void>;
  /** ubus socket in use. */
  socket: string;
  /** Config file in use. */
  configFile: string;
  /** `max_ram_mb` from the config. */
  ramLimitMb: () => number;
  /** Sends a test notification (`notify_test`); absent: the method answers NOT_SUPPORTED. */
  notifyTest?: (channel?: string) => Promise<NotifyTestResult>;
}

/** Member states by the code stored in score samples (`parts.state`). */
export const STATE_NAMES: readonly HistoryResult["points"][number]["state"][] = [
  "unknown",
  "up",
  "degraded",
  "down",
  "recovering",
];

/** The code of a member state in score samples. */
export function stateCode(state: string): number {
  const i = (STATE_NAMES as readonly string[]).indexOf(state);
  return i < 0 ? 0 : i;
}

/** Rounds to two decimals, keeping null. */
function r2(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Math.round(v * 100) / 100;
}

/** The observation fields `LatestMetrics` shows: all but {@linkcode HIDDEN_METRIC_FIELDS}. */
const METRIC_FIELDS = OBSERVATION_FIELD_NAMES.filter((f): f is Exclude<keyof LatestMetrics, "at"> =>
  !(HIDDEN_METRIC_FIELDS as readonly string[]).includes(f)
);

/** The `StarfailBackend` of the running daemon. */
export class DaemonBackend implements StarfailBackend {
  #d: BackendDeps;
  #startedT: number;

  /** Creates the backend; `startedT` is the runtime-clock time the daemon started. */
  constructor(deps: BackendDeps) {
    this.#d = deps;
    this.#startedT = deps.runtime.clock.now();
  }

  /** A reason with engine times (`until t=632.02`) in wall time. */
  #human(text: string): string {
    const clock = this.#d.runtime.clock;
    return humanizeTimes(text, clock.now(), clock.wallMs() / 1000);
  }

  /** Engine seconds → Unix seconds. */
  #unix(t: number): number {
    const clock = this.#d.runtime.clock;
    return Math.round(clock.wallMs() / 1000 - (clock.now() - t));
  }

  #latest(m: MemberRuntime): LatestMetrics {
    const out: LatestMetrics = { at: null };
    let newest = -Infinity;
    const rec = out as unknown as Record<string, unknown>;
    for (const f of METRIC_FIELDS) {
      const fv = m.fields[f];
      if (fv === undefined) continue;
      if (f === "outage_cause" && fv.v === "") continue;
      rec[f] = typeof fv.v === "number" ? r2(fv.v) : fv.v;
      newest = Math.max(newest, fv.t);
    }
    out.at = newest === -Infinity ? null : this.#unix(newest);
    return out;
  }

  #member(m: MemberRuntime, eligible: boolean, primary: string | null): MemberStatus {
    const ex = this.#d.runtime.explain(m.spec.name);
    return {
      name: m.spec.name,
      class: m.spec.class,
      iface: this.#d.ifaces()[m.spec.name] ?? m.spec.name,
      weight: m.spec.weight,
      state: m.state,
      since: this.#unix(m.since),
      reason: this.#human(m.reason),
      eligible,
      primary: m.spec.name === primary,
      score: {
        instant: r2(m.instant),
        ewma: r2(m.ewma),
        window: ex === null || m.instant === null ? null : r2(ex.window_avg),
        final: r2(m.final),
        explanation: ex === null || m.instant === null ? [] : ex.terms.map((t) => ({
          ...t,
          value: r2(t.value),
          sub_score: r2(t.sub_score) ?? 0,
          penalty: r2(t.penalty) ?? 0,
        })),
        penalties: {
          metered: r2(ex?.metered_penalty) ?? 0,
          roaming: r2(ex?.roaming_penalty) ?? 0,
        },
        member_weight: m.spec.weight / 100,
      },
      metrics: this.#latest(m),
      risks: m.risks,
    };
  }

  #members(): MemberStatus[] {
    const snap = this.#d.runtime.snapshot();
    const state = this.#d.runtime.state;
    return state.members.map((m) =>
      this.#member(
        m,
        snap.members.find((s) => s.name === m.spec.name)?.eligible ?? false,
        state.primary,
      )
    );
  }

  #collectors(): CollectorHealth[] {
    return this.#d.runtime.health().map((h) => ({
      name: h.name,
      member: this.#d.collectorMember(h.name),
      ok: h.ok,
      last_ok: h.last_ok_t === null ? null : this.#unix(h.last_ok_t),
      last_error: h.last_error,
      failures: h.ok ? 0 : h.failures,
    }));
  }

  /** Overall status. */
  status(): StatusResult {
    const snap = this.#d.runtime.snapshot(20);
    const state = this.#d.runtime.state;
    const decisions: DecisionResult[] = snap.decisions.map((d) => ({
      at: this.#unix(d.t),
      from: d.from,
      to: d.primary,
      kind: d.kind,
      reason: this.#human(d.reason),
    }));
    return {
      version: VERSION,
      uptime_s: Math.round(this.#d.runtime.clock.now() - this.#startedT),
      primary: state.primary,
      primary_since: state.primary === null ? null : this.#unix(state.primary_since),
      // Cleared the moment `restore` returns: no stale override reason until the next decision.
      why: state.override === null && /^manual (override|failover)/.test(state.primary_reason)
        ? `automatic selection (manual override ended); ${state.primary ?? "no member"} stays ` +
          `primary until another member qualifies`
        : this.#human(state.primary_reason),
      override: state.override === null ? null : {
        member: state.override.member,
        expires_at: state.override.until_t === null ? null : this.#unix(state.override.until_t),
      },
      cooldown_left_s: Math.round(snap.cooldown_left_s * 10) / 10,
      ride_through: snap.ride_through === null ? null : {
        member: snap.ride_through.member,
        until: this.#unix(snap.ride_through.until),
        reason: this.#human(snap.ride_through.reason),
      },
      dry_run: this.#d.dryRun(),
      members: this.#members(),
      decisions,
      collectors: this.#collectors(),
    };
  }

  /** Every member in detail. */
  members(): MembersResult {
    return { members: this.#members() };
  }

  /** Newest samples of a member, with the final score at each time. */
  metrics(member: string, limit: number): MetricsResult {
    const samples = this.#d.store.samples(member, { last: limit });
    const scores = this.#d.store.scores(member, {});
    let j = 0;
    return {
      member,
      samples: samples.map((s) => {
        while (j + 1 < scores.length && scores[j + 1].t <= s.t) j++;
        const sc = scores[j] !== undefined && scores[j].t <= s.t ? scores[j].score : null;
        const { t, member: _m, ...fields } = s;
        const rounded: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(fields)) rounded[k] = typeof v === "number" ? r2(v) : v;
        return { ...rounded, at: this.#unix(t), final: r2(sc) };
      }),
    };
  }

  /** Score/state history over the last `sinceS` seconds. */
  history(member: string, sinceS: number): HistoryResult {
    const since = this.#d.runtime.clock.now() - sinceS;
    return {
      member,
      since_s: sinceS,
      points: this.#d.store.scores(member, { since }).map((s) => ({
        at: this.#unix(s.t),
        state: STATE_NAMES[s.parts?.state ?? 0] ?? "unknown",
        instant: r2(s.parts?.instant),
        ewma: r2(s.parts?.ewma),
        final: r2(s.score),
      })),
    };
  }

  /** Newest events. */
  events(limit: number): EventsResult {
    return {
      events: this.#d.store.events({ last: limit }).map((e) => ({
        at: this.#unix(e.t),
        type: e.type,
        member: e.member ?? null,
        from: (e.data?.from as string | null | undefined) ?? null,
        to: (e.data?.to as string | null | undefined) ?? null,
        reason: e.message,
      })),
    };
  }

  /** Manual failover, optionally expiring. */
  failover(member: string, expiresS?: number): ActionResult {
    const now = this.#d.runtime.clock.now();
    this.#d.runtime.command({
      type: "failover",
      member,
      ...(expiresS === undefined ? {} : { until_t: now + expiresS }),
    });
    this.#d.runtime.step();
    const primary = this.#d.runtime.state.primary;
    return {
      ok: primary === member,
      message: primary === member
        ? `${member} is primary by manual override${
          expiresS === undefined
            ? " until 'starfail restore'"
            : ` until ${wallTime(this.#unix(now + expiresS), this.#unix(now))}`
        }`
        : `override set, but ${primary ?? "no member"} is still primary: ${
          this.#human(this.#d.runtime.state.primary_reason)
        }`,
      primary,
    };
  }

  /** Back to automatic selection. */
  restore(): ActionResult {
    const had = this.#d.runtime.state.override;
    this.#d.runtime.command({ type: "restore" });
    this.#d.runtime.step();
    return {
      ok: true,
      message: had === null
        ? "no manual override was in force; selection is automatic"
        : `manual override of ${had.member} ended; selection is automatic`,
      primary: this.#d.runtime.state.primary,
    };
  }

  /** Polls every collector now and re-evaluates. */
  async recheck(): Promise<ActionResult> {
    this.#d.runtime.command({ type: "recheck" });
    await this.#d.recheck();
    this.#d.runtime.step();
    const s = this.#d.runtime.state;
    return {
      ok: true,
      message: `re-evaluated ${s.members.length} members: ${s.primary ?? "none"} is primary (${
        this.#human(s.primary_reason)
      })`,
      primary: s.primary,
    };
  }

  /** The effective configuration. */
  configGet(): { [key: string]: unknown } {
    return this.#d.config();
  }

  /** Changes the log level now. */
  setLog(level: string): ActionResult {
    const before = this.#d.logLevel();
    this.#d.setLogLevel(level);
    return {
      ok: true,
      message: `log level ${before} → ${level}`,
      primary: this.#d.runtime.state.primary,
    };
  }

  /** Process information. */
  /** Sends a test message through the configured channels. */
  notifyTest(channel?: string): Promise<NotifyTestResult> {
    if (this.#d.notifyTest === undefined) {
      return Promise.resolve({ results: [], message: "this daemon sends no notifications" });
    }
    return this.#d.notifyTest(channel);
  }

  /** Process information. */
  info(): InfoResult {
    const mem = Deno.memoryUsage();
    const store = this.#d.store.info();
    return {
      version: VERSION,
      uptime_s: Math.round(this.#d.runtime.clock.now() - this.#startedT),
      pid: Deno.pid,
      runtime: `deno ${Deno.version.deno}`,
      memory: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, limit_mb: this.#d.ramLimitMb() },
      counts: {
        members: this.#d.runtime.state.members.length,
        samples: store.samples,
        events: store.events,
      },
      log_level: this.#d.logLevel(),
      socket: this.#d.socket,
      config_file: this.#d.configFile,
    };
  }
}
