/**
 * Choosing the primary member. In order:
 * 1. a manual override in force wins;
 * 2. with no primary yet, the best usable member is chosen at once;
 * 3. a primary that is down is left at once (cooldown does not apply) for the
 *    best usable member, preferring healthy, warmed-up, risk-free ones —
 *    unless it is riding through a short outage the dish predicted
 *    (`ride_through_s`, see {@linkcode startRideThrough});
 * 4. a predictive rule firing on the primary leaves it for a healthy member
 *    (after the cooldown);
 * 5. otherwise a member that beats the primary's final score by
 *    `switch_margin`, continuously for `fail_min_duration_s`, after the
 *    cooldown, and is up, warmed up (`min_uptime_s`), stable, not at risk and
 *    not flap-suppressed (`flap_suppress`), takes over ("failback" when it
 *    has the higher weight).
 *
 * @module
 */

import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "./config.ts";
import { freshBool, freshNumber, freshString } from "./fields.ts";
import { checkHealth, flapAt, stabilityHoldS, sustainedBreach } from "./member_state.ts";
import type { DecisionKind, MemberRuntime, Override, RideThrough } from "./state.ts";

/** Inputs of one selection. */
export interface SelectionInput {
  /** Members after this tick's state and score update. */
  members: MemberRuntime[];
  /** Current primary. */
  primary: string | null;
  /** Time of the last switch. */
  lastSwitchT: number | null;
  /** Override in force (already checked for expiry). */
  override: Override | null;
  /** Current challenger. */
  challenger: { member: string; since: number } | null;
  /** A predictive rule acting on the primary this tick. */
  firing: { rule: string; reason: string } | null;
  /** Tick time. */
  now: number;
  /** Ride-through in progress (omitted: none). */
  ride?: RideThrough | null;
  /**
   * When the primary went down at this tick: since when it had been usable
   * before (null otherwise). Only such a fresh, isolated failure may start a
   * ride-through.
   */
  primaryUsableBefore?: number | null;
}

/** Outcome of one selection. */
export interface Selection {
  /** The primary after selection. */
  primary: string | null;
  /** Kind of decision. */
  kind: DecisionKind;
  /** Why. */
  reason: string;
  /** Challenger to remember. */
  challenger: { member: string; since: number } | null;
  /** Whether the firing predictive rule was consumed (acted on or found no alternative). */
  firingConsumed: boolean;
  /** Ride-through to remember (null when none). */
  ride?: RideThrough | null;
}

/**
 * Whether `m` is flap-suppressed at `now`: its damped down count
 * ({@linkcode flapAt}) is above `flap_suppress` (0 turns suppression off).
 * As in BGP route-flap damping (RFC 2439: 1000 per flap, suppress limit
 * 2000), a member that keeps going down is not chosen by a discretionary
 * switch until its count has decayed; it can still take over when nothing
 * better is usable.
 */
export function isFlapSuppressed(m: MemberRuntime, now: number, cfg: EngineConfig): boolean {
  const limit = cfg.flap_suppress ?? DEFAULT_ENGINE_CONFIG.flap_suppress;
  const release = cfg.flap_release_s ?? DEFAULT_ENGINE_CONFIG.flap_release_s;
  const clean = m.usable_since === null ? 0 : now - m.usable_since;
  return limit > 0 && flapAt(m, now, cfg) > limit && clean < release;
}

/** Whether `m` was fast-restored ({@linkcode fastRestore}) and may be failed back to at once. */
export function isFastRestored(m: MemberRuntime, now: number): boolean {
  return m.state === "up" && m.fast_until != null && now < m.fast_until;
}

/**
 * Whether `m` may be chosen by a discretionary switch at `now`: up, not at
 * risk, not flap-suppressed ({@linkcode isFlapSuppressed}), warmed up
 * (`min_uptime_s`) and, if it has ever been down, stable for its
 * flap-damped hold ({@linkcode stabilityHoldS}).
 */
export function isStrictCandidate(m: MemberRuntime, now: number, cfg: EngineConfig): boolean {
  const warm = m.spec.min_uptime_s ?? cfg.min_uptime_s;
  if (m.state !== "up" || m.risks.length > 0 || m.usable_since === null) return false;
  if (isFlapSuppressed(m, now, cfg)) return false;
  if (isFastRestored(m, now)) return true;
  const held = now - m.usable_since;
  return held >= warm && (m.last_down === null || held >= stabilityHoldS(m, now, cfg));
}

/** Cooldown (seconds) that applies after switching to `m`. */
export function cooldownFor(m: MemberRuntime | undefined, cfg: EngineConfig): number {
  return m?.spec.cooldown_s ?? cfg.cooldown_s;
}

function best(list: MemberRuntime[]): MemberRuntime | undefined {
  let out: MemberRuntime | undefined;
  for (const m of list) {
    const s = m.final ?? 0;
    if (
      out === undefined || s > (out.final ?? 0) ||
      (s === out.final && m.spec.weight > out.spec.weight)
    ) out = m;
  }
  return out;
}

function describe(m: MemberRuntime): string {
  return `${m.spec.name} (${m.state}, score ${Math.round(m.final ?? 0)})`;
}

/** Picks the best usable member other than `exclude`, by tiers of health. */
export function bestUsable(
  members: MemberRuntime[],
  exclude: string | null,
  now: number,
  cfg: EngineConfig,
): MemberRuntime | undefined {
  const others = members.filter((m) => m.spec.name !== exclude);
  return best(others.filter((m) => isStrictCandidate(m, now, cfg))) ??
    best(others.filter((m) => m.state === "up" && m.risks.length === 0)) ??
    best(others.filter((m) => m.state === "up" || m.state === "degraded")) ??
    best(others.filter((m) => m.state === "recovering"));
}

/** Keeps the current primary, for `reason`; the challenger stays unless one is given. */
function hold(
  input: SelectionInput,
  reason: string,
  challenger = input.challenger,
): Selection {
  return { primary: input.primary, kind: "none", reason, challenger, firingConsumed: false };
}

/** Chooses the primary for this tick. Pure. */
export function selectPrimary(input: SelectionInput, cfg: EngineConfig): Selection {
  const { members, primary, now } = input;
  const ov = input.override;
  if (ov !== null) {
    const m = members.find((x) => x.spec.name === ov.member);
    if (m !== undefined) {
      const until = ov.until_t === null ? "until restored" : `until t=${ov.until_t}`;
      const warn = m.state === "down" ? ` (note: ${m.spec.name} is down: ${m.reason})` : "";
      return {
        primary: m.spec.name,
        kind: primary === m.spec.name ? "none" : "override",
        reason: `manual override to ${m.spec.name} ${until}${warn}`,
        challenger: null,
        firingConsumed: false,
      };
    }
  }
  if (members.length === 0) return { ...hold(input, "no members"), primary: null };
  const cur = members.find((m) => m.spec.name === primary);
  if (cur === undefined) {
    const pick = bestUsable(members, null, now, cfg);
    if (pick === undefined) return { ...hold(input, "no usable member yet"), primary: null };
    return {
      primary: pick.spec.name,
      kind: "initial",
      reason: `initial selection: ${describe(pick)} is the best usable member`,
      challenger: null,
      firingConsumed: false,
    };
  }
  const riding = continueRideThrough(cur, input.ride ?? null, now, cfg);
  const out = selectFor(cur, riding, input, cfg);
  return { ...out, ride: out.primary === cur.spec.name ? out.ride ?? riding : null };
}

/** Automatic selection with a current primary `cur` and the ride-through still in force. */
function selectFor(
  cur: MemberRuntime,
  riding: RideThrough | null,
  input: SelectionInput,
  cfg: EngineConfig,
): Selection {
  const { members, now } = input;
  if (cur.state === "down" || cur.state === "unknown") {
    const pick = bestUsable(members, cur.spec.name, now, cfg);
    if (pick === undefined) {
      return hold(
        input,
        `${cur.spec.name} is down (${cur.reason}) and no other member is usable`,
        null,
      );
    }
    const soft = softRecoveryMiss(cur, now, cfg);
    if (soft !== null) return hold(input, soft, null);
    const ride = riding ??
      (cur.state === "down" && input.primaryUsableBefore != null
        ? startRideThrough(cur, input.primaryUsableBefore, now, cfg, pick.spec.metered === true)
        : null);
    if (ride !== null) {
      return {
        ...hold(
          input,
          `riding through: ${ride.reason}; ${cur.spec.name} is down (${cur.reason}) but kept until t=${
            Math.round(ride.until * 10) / 10
          } at the latest (${pick.spec.name} stands by)`,
          null,
        ),
        ride,
      };
    }
    return {
      primary: pick.spec.name,
      kind: "hard",
      reason: `${cur.spec.name} down: ${cur.reason}; switching to ${describe(pick)}`,
      challenger: null,
      firingConsumed: false,
    };
  }
  const cooling = input.lastSwitchT !== null &&
    now - input.lastSwitchT < cooldownFor(cur, cfg);
  if (input.firing !== null && !cooling) {
    const pick = best(members.filter((m) => m !== cur && isStrictCandidate(m, now, cfg)));
    if (pick === undefined) {
      return {
        ...hold(
          input,
          `predictive ${input.firing.rule} on ${cur.spec.name}: ${input.firing.reason}; no healthy alternative`,
        ),
        firingConsumed: true,
      };
    }
    return {
      primary: pick.spec.name,
      kind: "predictive",
      reason:
        `predictive ${input.firing.rule}: ${input.firing.reason}; leaving ${cur.spec.name} for ${
          describe(pick)
        }`,
      challenger: null,
      firingConsumed: true,
    };
  }
  const fast = best(
    members.filter((m) =>
      m !== cur && m.spec.weight > cur.spec.weight && isFastRestored(m, now) &&
      m.risks.length === 0 && !isFlapSuppressed(m, now, cfg)
    ),
  );
  if (fast !== undefined) {
    return {
      primary: fast.spec.name,
      kind: "failback",
      reason: `fast failback to ${describe(fast)}: ${fast.reason}`,
      challenger: null,
      firingConsumed: false,
    };
  }
  const curScore = cur.final ?? 0;
  const rival = best(members.filter((m) => m !== cur && m.state === "up" && m.risks.length === 0));
  if (rival === undefined || (rival.final ?? 0) < curScore + cfg.switch_margin) {
    return hold(input, `${describe(cur)} remains primary`, null);
  }
  const since = input.challenger?.member === rival.spec.name ? input.challenger.since : now;
  const challenger = { member: rival.spec.name, since };
  const warm = isStrictCandidate(rival, now, cfg);
  if (now - since < cfg.fail_min_duration_s || cooling || !warm) {
    const why = cooling
      ? " (cooldown)"
      : isFlapSuppressed(rival, now, cfg)
      ? ` (flap-suppressed: ${Math.round(flapAt(rival, now, cfg) * 10) / 10} recent downs)`
      : !warm
      ? " (proving stable)"
      : "";
    return hold(
      input,
      `${describe(cur)} remains primary; ${rival.spec.name} leads by ${
        Math.round((rival.final ?? 0) - curScore)
      } points${why}`,
      challenger,
    );
  }
  const failback = rival.spec.weight > cur.spec.weight;
  return {
    primary: rival.spec.name,
    kind: failback ? "failback" : "score",
    reason: `${failback ? "failback" : "better member"}: ${describe(rival)} beats ${
      describe(cur)
    } by ${Math.round((rival.final ?? 0) - curScore)} ≥ ${cfg.switch_margin} points for ${
      Math.round(now - since)
    } s`,
    challenger: null,
    firingConsumed: false,
  };
}

/**
 * A primary whose recovery was interrupted by a soft miss — no hard signal,
 * just loss or latency above the strict restore thresholds, such as one ping
 * lost in a Starlink reconfiguration — is judged like an `up` primary with a
 * soft failure: it is left only once the miss has lasted
 * `fail_min_duration_s` and the window mean still breaches
 * ({@linkcode sustainedBreach}). Returns the reason for keeping it, or null
 * when it must be left.
 */
export function softRecoveryMiss(
  m: MemberRuntime,
  now: number,
  cfg: EngineConfig,
): string | null {
  if (m.state !== "down" || m.down_from !== "recovering") return null;
  if (checkHealth(m, now, cfg).hard !== null) return null;
  if (now - m.since >= cfg.fail_min_duration_s && sustainedBreach(m, now, cfg) !== null) {
    return null;
  }
  return `${m.spec.name} recovery interrupted without a hard signal (${m.reason}); ` +
    `kept unless it lasts ${cfg.fail_min_duration_s} s, as for a soft failure`;
}

/**
 * Starts a ride-through for the primary `m` that went down at `now` after
 * being usable since `usableBefore`: only when it had been usable for at
 * least `restore_min_duration_s` (an isolated failure, not a flapping link),
 * its link is not down, the dish reports an outage, and the dish expects its
 * next satellite slot within `ride_through_s` seconds
 * (`seconds_to_first_nonempty_slot`), or within `ride_through_metered_s`
 * when the member that would take over is metered (`backupMetered`). The
 * ride lasts at most the predicted time plus that limit (probe rounds need a
 * few seconds to show the link works again). Returns null when no
 * ride-through applies.
 */
export function startRideThrough(
  m: MemberRuntime,
  usableBefore: number,
  now: number,
  cfg: EngineConfig,
  backupMetered = false,
): RideThrough | null {
  const plain = cfg.ride_through_s ?? DEFAULT_ENGINE_CONFIG.ride_through_s;
  const metered = cfg.ride_through_metered_s ?? DEFAULT_ENGINE_CONFIG.ride_through_metered_s;
  const limit = plain > 0 && backupMetered ? Math.max(plain, metered) : plain;
  if (limit <= 0 || now - usableBefore < cfg.restore_min_duration_s) return null;
  const stale = cfg.stale_after_s;
  if (freshBool(m, "link_up", now, stale) === false) return null;
  const cause = freshString(m, "outage_cause", now, stale);
  const slot = freshNumber(m, "seconds_to_first_nonempty_slot", now, stale);
  if (cause === undefined || slot === undefined || slot <= 0 || slot > limit) return null;
  return {
    member: m.spec.name,
    since: now,
    until: now + slot + limit,
    reason: `dish reports outage ${cause} and expects a satellite slot in ${
      Math.round(slot * 10) / 10
    } s (≤ ${limit} s${
      backupMetered && limit > plain ? " with a metered backup" : ""
    }: a switch out and back costs more)`,
  };
}

/**
 * Continues `ride` for the primary `m` at `now`, or returns null when it
 * ends. It lasts until the member is `up` again, through its recovery
 * (`recovering` for `restore_min_duration_s`), and ends early — the member
 * is then left if it is down — when:
 * - the link goes down;
 * - a dish outage is reported that the dish does not expect to end by
 *   `until` (a new, unpredicted or longer outage);
 * - the probes fail hard (all rounds lost, or none fresh) after `until`;
 * - a soft failure (loss or latency, no hard signal — e.g. a ping lost in a
 *   Starlink reconfiguration during the recovery) is sustained as it would
 *   have to be for an `up` primary: down for `fail_min_duration_s` counted
 *   from `until` at the earliest, and the window mean still breaching
 *   ({@linkcode sustainedBreach});
 * - `until + restore_min_duration_s` has passed.
 */
export function continueRideThrough(
  m: MemberRuntime,
  ride: RideThrough | null,
  now: number,
  cfg: EngineConfig,
): RideThrough | null {
  if (ride === null || ride.member !== m.spec.name || m.state === "up") return null;
  const stale = cfg.stale_after_s;
  if (freshBool(m, "link_up", now, stale) === false) return null;
  if (now >= ride.until + cfg.restore_min_duration_s) return null;
  if (m.state !== "down") return ride;
  const cause = freshString(m, "outage_cause", now, stale);
  if (cause !== undefined) {
    const slot = freshNumber(m, "seconds_to_first_nonempty_slot", now, stale);
    return slot !== undefined && slot > 0 && now + slot <= ride.until ? ride : null;
  }
  if (checkHealth(m, now, cfg).hard !== null) return now < ride.until ? ride : null;
  // Soft only: judged like an `up` primary's soft failure, on evidence after `until` (so
  // the rounds lost in the gap itself do not count) and after the member went down.
  const held = now - Math.max(m.since, ride.until);
  return held < cfg.fail_min_duration_s || sustainedBreach(m, now, cfg) === null ? ride : null;
}
