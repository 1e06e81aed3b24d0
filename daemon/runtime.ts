/**
 * The daemon's runtime: the imperative shell around the pure engine. It runs
 * every collector on its own schedule, feeds what they saw into the engine at
 * each tick, hands decisions to the controller, and keeps telemetry.
 *
 * A slow or failing collector never delays a tick: collectors push their
 * observations into a queue when they finish, and a tick only drains that
 * queue. A collector still busy when its next turn comes is skipped, so calls
 * never pile up. The controller runs one reconcile at a time; a newer
 * decision made meanwhile is applied right after.
 *
 * Time comes from an injected {@linkcode Clock}, so the same runtime runs in
 * real time (the daemon, the demo) and in virtual time (the 7-day benchmark).
 *
 * @module
 */

import { humanizeTimes } from "./wall_time.ts";
import { sandboxMessage } from "../config/sandbox.ts";
import { getLogger } from "../telemetry/logger.ts";
import { logEnabled } from "../telemetry/log.ts";
import {
  addMember,
  applyCommand,
  createEngine,
  type EngineCommand,
  type EngineConfig,
  type EngineEvent,
  type EngineState,
  explain,
  observe as observeImpl,
  removeMember,
  snapshot,
  tick,
} from "../engine/mod.ts";
import type { MemberSpec, Observation } from "../engine/types.ts";

const log = getLogger(["starfail", "daemon"]);

/** The runtime's clock. */
export interface Clock {
  /** Monotonic seconds: the engine's time axis. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for display. */
  wallMs(): number;
}

/** The real clock: seconds since the process started, and `Date.now()`. */
export const realClock: Clock = {
  now: () => performance.now() / 1000,
  wallMs: () => Date.now(),
};

/** Anything that produces observations on a schedule. */
export interface Source {
  /** Name shown in collector health, e.g. `starlink`, `probe:wan`. */
  readonly name: string;
  /** How often to run, in milliseconds. */
  readonly intervalMs: number;
  /** Collects once; `now` is the runtime clock, to stamp observations with. Must honour its own deadline. */
  collect(now: number): Promise<Observation[]>;
  /** Releases sockets, channels and timers. */
  close?(): Promise<void>;
}

/** How one collector is doing, for `status`/`info`. */
export interface SourceHealth {
  /** Collector name. */
  name: string;
  /** The last run succeeded. */
  ok: boolean;
  /** Runs started. */
  runs: number;
  /** Runs that threw or timed out. */
  failures: number;
  /** Turns skipped because the previous run was still busy. */
  skipped: number;
  /** Time of the last success (runtime clock), null if none. */
  last_ok_t: number | null;
  /** Last error message, null after a success. */
  last_error: string | null;
  /** Duration of the last finished run in milliseconds. */
  last_duration_ms: number | null;
  /** Observations delivered in total. */
  observations: number;
}

/** What the controller did with a decision. */
export interface ApplyOutcome {
  /** Something was changed (or, in dry-run, would have been). */
  changed: boolean;
  /** Read-back agrees with the decision. */
  verified: boolean;
  /** Commands run or, in dry-run, that would run. */
  actions: string[];
  /** Hand edits found that disagree with our last write. */
  drift: string[];
  /** Why applying failed, if it did. */
  error?: string;
}

/** Applies "primary = X" to the router (mwan3, routes, or nothing). */
export interface Applier {
  /** `mwan3`, `route`, or `none` (observe only). */
  readonly mode: string;
  /** Makes the router agree with the desired order, verifies, reports. */
  apply(desired: { primary: string; order: string[] }): Promise<ApplyOutcome>;
}

/** A daemon-level event (engine events plus controller and collector events). */
export interface DaemonEvent extends Omit<EngineEvent, "type"> {
  /**
   * Event type: the engine's, or `apply`, `apply_failed`, `drift`, `collector`, `dish_api`,
   * `dish_outage`, `config`, `notify` (a notification sent or not, and why), `hook` (the hook
   * script ran), `dish_alert` (a dish alert raised or cleared, an update waiting for a reboot).
   */
  type:
    | EngineEvent["type"]
    | "apply"
    | "apply_failed"
    | "drift"
    | "collector"
    | "dish_api"
    | "dish_outage"
    | "config"
    | "notify"
    | "hook"
    | "dish_alert";
  /** Wall-clock time (ms since the epoch). */
  wall_ms: number;
}

/** Where the runtime records what happened. */
export interface TelemetrySink {
  /** One observation was ingested. */
  sample(obs: Observation, wallMs: number): void;
  /** A member's scores after a tick. */
  score(
    member: string,
    t: number,
    wallMs: number,
    s: { instant: number | null; ewma: number | null; final: number | null; state: string },
  ): void;
  /** Something happened. */
  event(ev: DaemonEvent): void;
}

/** Options for {@linkcode Runtime}. */
export interface RuntimeOptions {
  /** Clock (real or virtual). */
  clock: Clock;
  /** Engine configuration. */
  engine: EngineConfig;
  /** Members at start. */
  members: MemberSpec[];
  /** Collectors. */
  sources: Source[];
  /** Controller. */
  applier: Applier;
  /** Telemetry. */
  telemetry: TelemetrySink;
  /** Called with every observation ingested (the `--record` trace writer). */
  record?: (obs: Observation) => void;
  /** Called with every engine tick's time, after the observations it was given (`--record`). */
  recordTick?: (t: number) => void;
  /** Log each tick's scores at info level (the `--monitor` view) instead of debug. */
  monitor?: boolean;
  /** Re-apply the current decision this often even without a change, to catch drift (s). */
  reconcileEveryS?: number;
}

/** The daemon's runtime. */
export class Runtime {
  #opts: RuntimeOptions;
  #engineCfg: EngineConfig;
  #state: EngineState;
  #pending: Observation[] = [];
  /** Time of the last observation handed to the engine: ingestion never goes back in time. */
  #lastObsT = -Infinity;
  #health = new Map<string, SourceHealth>();
  /** Consecutive failures with the same error, by source (for the once-logged warning). */
  #failStreak = new Map<string, number>();
  #busy = new Set<string>();
  #sources: Source[];
  #timers: ReturnType<typeof setInterval>[] = [];
  #applied: string | null = null;
  #applying: Promise<void> | null = null;
  #wantApply = false;
  #lastApplyT = -Infinity;
  #lastApply: ApplyOutcome | null = null;
  #applyFailures = 0;
  #applyRetryAt = -Infinity;
  #attempted: string | null = null;
  #listeners: ((ev: DaemonEvent) => void)[] = [];
  #lastStepT: number | null = null;

  /** Creates the runtime; nothing runs until {@linkcode start} or {@linkcode step}. */
  constructor(opts: RuntimeOptions) {
    this.#opts = opts;
    this.#engineCfg = opts.engine;
    this.#sources = opts.sources;
    this.#state = createEngine(opts.members, opts.engine, opts.clock.now());
    for (const s of opts.sources) this.#health.set(s.name, emptyHealth(s.name));
  }

  /** The engine state (plain data). */
  get state(): EngineState {
    return this.#state;
  }

  /** The engine configuration in force. */
  get engineConfig(): EngineConfig {
    return this.#engineCfg;
  }

  /** The clock. */
  get clock(): Clock {
    return this.#opts.clock;
  }

  /** Clock time of the last engine tick, null before the first (for `/health`). */
  get lastStepT(): number | null {
    return this.#lastStepT;
  }

  /** Collector health, by collector. */
  health(): SourceHealth[] {
    return [...this.#health.values()].map((h) => ({ ...h }));
  }

  /** The last controller outcome, and its mode. */
  controller(): { mode: string; applied: string | null; last: ApplyOutcome | null } {
    return { mode: this.#opts.applier.mode, applied: this.#applied, last: this.#lastApply };
  }

  /** Subscribes to daemon events (the ubus object uses it to send notifications). */
  onEvent(fn: (ev: DaemonEvent) => void): void {
    this.#listeners.push(fn);
  }

  /** Queues observations for the next tick (collectors outside the schedule, e.g. ifdown events). */
  ingest(obs: Observation[]): void {
    for (const o of obs) this.#pending.push(o);
  }

  /** Runs one collector now unless it is still busy; resolves when it finished. */
  async runSource(source: Source): Promise<void> {
    const h = this.#health.get(source.name) ?? emptyHealth(source.name);
    this.#health.set(source.name, h);
    if (this.#busy.has(source.name)) {
      h.skipped++;
      return;
    }
    this.#busy.add(source.name);
    h.runs++;
    const started = performance.now();
    try {
      const obs = await source.collect(this.#opts.clock.now());
      this.ingest(obs);
      if (this.#opts.monitor || logEnabled("trace")) {
        for (const o of obs) {
          const { t: _t, member, ...fields } = o;
          const line = { collector: source.name, member, ...fields };
          if (this.#opts.monitor) log.info("Metrics collected", line);
          else log.trace("Metrics collected", line);
        }
      }
      h.observations += obs.length;
      h.last_ok_t = this.#opts.clock.now();
      if (!h.ok && h.runs > 1) {
        const repeats = this.#failStreak.get(source.name) ?? 0;
        log.info("Collector recovered", {
          collector: source.name,
          ...(repeats > 0 ? { failed_times: repeats, last_error: h.last_error } : {}),
        });
      }
      this.#failStreak.delete(source.name);
      h.ok = true;
      h.last_error = null;
    } catch (err) {
      // A permission the build lacks is said as such, never as "unreachable".
      const message = sandboxMessage(err) ?? (err instanceof Error ? err.message : String(err));
      h.failures++;
      // The same failure every tick is logged once (numbers in it may change: timings, ports);
      // the "recovered" line then says how many times it failed.
      const same = !h.ok && h.last_error !== null && sameError(h.last_error, message);
      const streak = (same ? this.#failStreak.get(source.name) ?? 0 : 0) + 1;
      this.#failStreak.set(source.name, streak);
      if (!same) {
        log.warn("Collector failed", { collector: source.name, error: message });
      } else if (streak === 100 || streak % 1000 === 0) {
        log.warn("Collector still failing", {
          collector: source.name,
          failed_times: streak,
          error: message,
        });
      }
      h.ok = false;
      h.last_error = message;
    } finally {
      h.last_duration_ms = Math.round(performance.now() - started);
      this.#busy.delete(source.name);
    }
  }

  /** Runs every collector once and waits for all (recheck, virtual time). */
  async runAllSources(): Promise<void> {
    await Promise.all(this.#sources.map((s) => this.runSource(s)));
  }

  /**
   * One engine tick at the clock's current time: drains the queue into the
   * engine, ticks, records telemetry and events, and starts the controller
   * when the decision differs from what was applied. Never waits for I/O.
   */
  step(): void {
    const now = this.#opts.clock.now();
    this.#lastStepT = now;
    const wall = this.#opts.clock.wallMs();
    const batch = this.#pending;
    this.#pending = [];
    batch.sort((a, b) => a.t - b.t);
    let state = this.#state;
    for (const o of batch) {
      // A slow probe can report a time earlier than an observation already
      // taken in a previous tick. The engine and the `--record` trace see it
      // at the later time, so the trace stays sorted and replays exactly
      // what the engine was given. Times from the future are pulled back to now.
      const t = Math.min(now, Math.max(o.t, this.#lastObsT));
      const obs = t === o.t ? o : { ...o, t };
      this.#lastObsT = Math.max(this.#lastObsT, t);
      state = observeSafe(state, obs);
      this.#opts.telemetry.sample(obs, wall);
      this.#opts.record?.(obs);
    }
    this.#opts.recordTick?.(now);
    const result = tick(state, now, this.#engineCfg);
    this.#state = result.state;
    for (const m of result.state.members) {
      this.#opts.telemetry.score(m.spec.name, now, wall, {
        instant: m.instant,
        ewma: m.ewma,
        final: m.final,
        state: m.state,
      });
    }
    if (this.#opts.monitor || logEnabled("debug")) {
      const scores = result.state.members.map((m) =>
        `${m.spec.name}:${m.final === null ? "-" : m.final.toFixed(1)}(${m.state})`
      ).join(" ");
      const tickLine = { primary: result.decision.primary ?? "none", scores };
      if (this.#opts.monitor) log.info("Decision", tickLine);
      else log.debug("Decision", tickLine);
    }
    for (const ev of result.events) this.#emit({ ...ev, wall_ms: wall });
    const primary = result.decision.primary;
    const due = now - this.#lastApplyT >= (this.#opts.reconcileEveryS ?? 60);
    // After a failed apply, retry the same decision with back-off; a new decision goes at once.
    const retryOk = primary !== this.#attempted || now >= this.#applyRetryAt;
    if (primary !== null && (primary !== this.#applied || due) && retryOk) {
      this.#requestApply();
    }
  }

  #emit(ev: DaemonEvent): void {
    this.#opts.telemetry.event(ev);
    const reason = humanizeTimes(
      ev.reason,
      this.#opts.clock.now(),
      this.#opts.clock.wallMs() / 1000,
    );
    const fields = { member: ev.member, from: ev.from, to: ev.to, reason };
    switch (ev.type) {
      case "switch":
        {
          // A failback (back to the preferred member) is logged as one, not as a failover.
          const kind = this.state.decisions.findLast((d) => d.t === ev.t && d.primary === ev.to)
            ?.kind;
          const msg = ev.from === null
            ? "Primary chosen"
            : kind === "failback"
            ? "Failback"
            : "Failover triggered";
          log.warn(msg, { from: ev.from, to: ev.to, reason, ...(kind ? { kind } : {}) });
        }
        break;
      case "apply_failed":
      case "drift":
        log.warn(`Controller: ${ev.type}`, fields);
        break;
      default:
        log.info(`Event ${ev.type}`, fields);
    }
    for (const fn of this.#listeners) {
      try {
        fn(ev);
      } catch (err) {
        log.error("Event listener failed", { error: err instanceof Error ? err.message : err });
      }
    }
  }

  /** Records an event raised outside the engine (collectors, dish API drift, config reload). */
  event(
    type: DaemonEvent["type"],
    fields: { member?: string | null; from?: string | null; to?: string | null; reason: string },
  ): void {
    this.#emit({
      t: this.#opts.clock.now(),
      wall_ms: this.#opts.clock.wallMs(),
      type,
      member: fields.member ?? null,
      from: fields.from ?? null,
      to: fields.to ?? null,
      reason: fields.reason,
    });
  }

  #requestApply(): void {
    this.#wantApply = true;
    if (this.#applying !== null) return;
    this.#applying = this.#applyLoop().finally(() => {
      this.#applying = null;
    });
  }

  async #applyLoop(): Promise<void> {
    while (this.#wantApply) {
      this.#wantApply = false;
      const snap = this.#state;
      if (snap.primary === null) return;
      const order = orderFor(snap);
      this.#lastApplyT = this.#opts.clock.now();
      this.#attempted = snap.primary;
      let outcome: ApplyOutcome;
      try {
        outcome = await this.#opts.applier.apply({ primary: snap.primary, order });
      } catch (err) {
        outcome = {
          changed: false,
          verified: false,
          actions: [],
          drift: [],
          error: err instanceof Error ? err.message : String(err),
        };
      }
      const previous = this.#lastApply;
      this.#lastApply = outcome;
      if (outcome.error !== undefined || !outcome.verified) {
        this.#applyFailures++;
        this.#applyRetryAt = this.#opts.clock.now() + Math.min(60, 2 ** this.#applyFailures);
        const reason = outcome.error ?? `read-back does not show ${snap.primary} as primary`;
        const same = previous !== null && (previous.error ?? "") === (outcome.error ?? "") &&
          !previous.verified;
        if (!same) this.event("apply_failed", { member: snap.primary, to: snap.primary, reason });
        continue;
      }
      this.#applyFailures = 0;
      this.#applyRetryAt = -Infinity;
      for (const d of outcome.drift) this.event("drift", { member: snap.primary, reason: d });
      if (outcome.changed) {
        this.event("apply", {
          member: snap.primary,
          from: this.#applied,
          to: snap.primary,
          reason: outcome.actions.join("; ") || "applied",
        });
      }
      this.#applied = snap.primary;
    }
  }

  /** Resolves once no controller work is running or queued. */
  async settled(): Promise<void> {
    while (this.#applying !== null) await this.#applying;
  }

  /** Operator command (failover/restore/recheck); takes effect at the next tick. */
  command(cmd: EngineCommand): void {
    this.#state = applyCommand(this.#state, cmd, this.#opts.clock.now());
    const last = this.#state.events.at(-1);
    if (cmd.type !== "recheck" && last !== undefined && last.type === "override") {
      this.#emit({ ...last, wall_ms: this.#opts.clock.wallMs() });
    }
  }

  /** Replaces the configuration and member list (SIGHUP) without losing member history. */
  reload(engine: EngineConfig, members: MemberSpec[], sources?: Source[]): void {
    const now = this.#opts.clock.now();
    let state = this.#state;
    for (const m of state.members) {
      if (!members.some((x) => x.name === m.spec.name)) {
        state = removeMember(state, m.spec.name, now);
      }
    }
    for (const spec of members) state = addMember(state, spec, now);
    this.#state = state;
    this.#engineCfg = engine;
    if (sources !== undefined) {
      const running = this.#timers.length > 0;
      this.#stopTimers();
      const old = this.#sources;
      this.#sources = sources;
      for (const s of old) if (!sources.includes(s)) void s.close?.();
      for (const s of sources) {
        if (!this.#health.has(s.name)) this.#health.set(s.name, emptyHealth(s.name));
      }
      for (const name of [...this.#health.keys()]) {
        if (!sources.some((s) => s.name === name)) this.#health.delete(name);
      }
      if (running) this.start();
    }
  }

  /** Makes the next tick reconcile the controller even if the decision did not change. */
  reconcileSoon(): void {
    this.#lastApplyT = -Infinity;
    this.#applyRetryAt = -Infinity;
  }

  /** Replaces the controller (config reload switched between mwan3 and route mode). */
  setApplier(applier: Applier): void {
    this.#opts = { ...this.#opts, applier };
    this.#applied = null;
  }

  /** Score explanation of one member. */
  explain(member: string): ReturnType<typeof explain> {
    return explain(this.#state, member, this.#engineCfg);
  }

  /** JSON-ready view of the engine. */
  snapshot(recent = 20): ReturnType<typeof snapshot> {
    return snapshot(this.#state, { recent, config: this.#engineCfg });
  }

  /** Starts the real-time schedule: every collector on its interval, ticks at the poll interval. */
  start(): void {
    for (const s of this.#sources) {
      void this.runSource(s);
      this.#timers.push(setInterval(() => void this.runSource(s), s.intervalMs));
    }
    this.#timers.push(setInterval(() => this.step(), this.#engineCfg.poll_interval_ms));
  }

  #stopTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /** Stops the schedule, waits for the controller, and closes the collectors. */
  async stop(): Promise<void> {
    this.#stopTimers();
    await this.settled();
    await Promise.all(this.#sources.map((s) => s.close?.() ?? Promise.resolve()));
  }
}

/** Two error messages that differ only in their numbers (timings, counters, ports). */
function sameError(a: string, b: string): boolean {
  const norm = (x: string) => x.replace(/\d+(\.\d+)?/g, "N");
  return norm(a) === norm(b);
}

function emptyHealth(name: string): SourceHealth {
  return {
    name,
    ok: false,
    runs: 0,
    failures: 0,
    skipped: 0,
    last_ok_t: null,
    last_error: null,
    last_duration_ms: null,
    observations: 0,
  };
}

/** The engine's observe, guarded: a malformed observation is dropped, never fatal. */
function observeSafe(state: EngineState, obs: Observation): EngineState {
  try {
    return observeImpl(state, obs);
  } catch (err) {
    log.warn("Dropped a malformed observation", {
      member: obs.member,
      error: err instanceof Error ? err.message : String(err),
    });
    return state;
  }
}

/** Desired member order: the primary first, then the others by final score. */
export function orderFor(state: EngineState): string[] {
  const rest = state.members
    .filter((m) => m.spec.name !== state.primary)
    .sort((a, b) => (b.final ?? -1) - (a.final ?? -1) || a.spec.name.localeCompare(b.spec.name))
    .map((m) => m.spec.name);
  return state.primary === null ? rest : [state.primary, ...rest];
}
