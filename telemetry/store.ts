/**
 * Bounded in-memory telemetry: a ring buffer of samples and of scores per
 * member, and one event log. Every buffer has a fixed capacity, entries
 * older than `retention_hours` are dropped as new ones arrive, and a byte
 * estimate is kept up to date so the store stays under `max_ram_mb` by
 * evicting the oldest entries of the fullest buffer.
 *
 * There are no locks: JavaScript runs this single-threaded and every method
 * finishes synchronously, so pruning can never re-enter itself (upstream's
 * Go store deadlocked after an hour by calling its cleanup while holding
 * its own mutex).
 *
 * @module
 */

import type { Observation } from "../engine/types.ts";

/** The limits, named as in `config starfail 'main'`. */
export interface StoreLimits {
  /** Capacity of each member's sample buffer (and score buffer). */
  max_samples_per_member: number;
  /** Capacity of the event log. */
  max_events: number;
  /** Entries older than this (relative to the newest time seen) are dropped. */
  retention_hours: number;
  /** Upper bound for the estimated memory use of all buffers. */
  max_ram_mb: number;
}

/** One score computation for a member. */
export interface ScoreSample {
  /** Seconds, same clock as observations. */
  t: number;
  /** Member name. */
  member: string;
  /** Final blended score 0–100. */
  score: number;
  /** Any further numbers worth keeping (instant, ewma, window, penalties…). */
  parts?: Record<string, number>;
}

/** One entry of the event log. */
export interface StoredEvent {
  /** Seconds, same clock as observations. */
  t: number;
  /** Event type, e.g. `failover`, `failback`, `member_down`, `predictive`, `drift`. */
  type: string;
  /** Member concerned, if any. */
  member?: string;
  /** Human-readable reason. */
  message: string;
  /** Extra structured data (kept small: it counts against max_ram_mb). */
  data?: Record<string, unknown>;
}

/** A query: the last N entries and/or entries at or after a time. */
export interface Query {
  /** Only the newest `last` entries. */
  last?: number;
  /** Only entries with `t >= since`. */
  since?: number;
}

/**
 * A fixed-capacity FIFO: pushing into a full buffer drops the oldest entry.
 *
 * @example
 * ```ts
 * const ring = new RingBuffer<number>(2);
 * ring.push(1); ring.push(2); ring.push(3);
 * ring.toArray(); // [2, 3]
 * ```
 */
export class RingBuffer<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  /** Creates an empty buffer holding at most `capacity` entries. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.#items = new Array(capacity);
  }

  /** Number of entries held. */
  get size(): number {
    return this.#size;
  }

  /** Maximum number of entries. */
  get capacity(): number {
    return this.#items.length;
  }

  /** Appends `item`; returns the entry it pushed out, if the buffer was full. */
  push(item: T): T | undefined {
    const cap = this.#items.length;
    if (this.#size < cap) {
      this.#items[(this.#head + this.#size) % cap] = item;
      this.#size++;
      return undefined;
    }
    const evicted = this.#items[this.#head];
    this.#items[this.#head] = item;
    this.#head = (this.#head + 1) % cap;
    return evicted;
  }

  /** The oldest entry, if any. */
  peekOldest(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes and returns the oldest entry, if any. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /** Entry `i` counted from the oldest (0) to the newest (size − 1). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#size) return undefined;
    return this.#items[(this.#head + i) % this.#items.length];
  }

  /** All entries, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.at(i) as T);
    return out;
  }
}

/**
 * Rough bytes a plain object costs on V8: a fixed header plus per-field
 * slots, 8 bytes per number, 2 bytes per string character, recursively.
 *
 * @example
 * ```ts
 * estimateBytes({ t: 1, member: "wan" }); // 64 + 2×16 + 8 + (16 + 6)
 * ```
 */
export function estimateBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case "number":
    case "boolean":
      return 8;
    case "string":
      return 16 + value.length * 2;
    case "object": {
      if (Array.isArray(value)) {
        return 32 + value.reduce((a: number, v) => a + 8 + estimateBytes(v), 0);
      }
      let bytes = 64;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        bytes += 16 + (k.length > 16 ? k.length : 0) + estimateBytes(v);
      }
      return bytes;
    }
    default:
      return 16;
  }
}

/** What {@linkcode TelemetryStore.info} reports. */
export interface StoreInfo {
  /** Members with data. */
  members: string[];
  /** Samples held, all members. */
  samples: number;
  /** Scores held, all members. */
  scores: number;
  /** Events held. */
  events: number;
  /** Estimated bytes used by all held entries. */
  bytes_estimate: number;
  /** The byte budget (max_ram_mb × 2^20). */
  bytes_limit: number;
  /** Entries dropped so far to stay under the byte budget. */
  evicted_for_ram: number;
  /** Entries dropped so far for being older than retention_hours. */
  evicted_for_age: number;
  /** Newest time seen. */
  newest_t: number | null;
  /** The limits in force. */
  limits: StoreLimits;
}

interface Sized<T> {
  item: T;
  bytes: number;
}

function select<T extends { t: number }>(ring: RingBuffer<Sized<T>> | undefined, q: Query): T[] {
  if (!ring) return [];
  let items = ring.toArray().map((s) => s.item);
  if (q.since !== undefined) {
    const since = q.since;
    items = items.filter((x) => x.t >= since);
  }
  if (q.last !== undefined) items = q.last <= 0 ? [] : items.slice(-q.last);
  return items;
}

/**
 * The telemetry store.
 *
 * @example
 * ```ts
 * const store = new TelemetryStore({ max_samples_per_member: 1000, max_events: 500, retention_hours: 24, max_ram_mb: 16 });
 * store.addSample({ t: 10, member: "wan", latency_ms: 42 });
 * store.samples("wan", { last: 1 }); // [{ t: 10, member: "wan", latency_ms: 42 }]
 * ```
 */
export class TelemetryStore {
  #limits: StoreLimits;
  #samples = new Map<string, RingBuffer<Sized<Observation>>>();
  #scores = new Map<string, RingBuffer<Sized<ScoreSample>>>();
  #events: RingBuffer<Sized<StoredEvent>>;
  #bytes = 0;
  #newest: number | null = null;
  #evictedRam = 0;
  #evictedAge = 0;

  /** Creates an empty store with these limits. */
  constructor(limits: StoreLimits) {
    this.#limits = { ...limits };
    this.#events = new RingBuffer(limits.max_events);
  }

  /** Records an observation of a member. */
  addSample(obs: Observation): void {
    this.#add(this.#samples, obs.member, { ...obs });
  }

  /** Records a score of a member. */
  addScore(score: ScoreSample): void {
    this.#add(this.#scores, score.member, { ...score });
  }

  /** Appends an event to the log. */
  addEvent(event: StoredEvent): void {
    this.#push(this.#events, event);
    this.#afterAdd(event.t);
  }

  /** A member's samples, oldest first. */
  samples(member: string, q: Query = {}): Observation[] {
    return select(this.#samples.get(member), q);
  }

  /** A member's scores, oldest first. */
  scores(member: string, q: Query = {}): ScoreSample[] {
    return select(this.#scores.get(member), q);
  }

  /** Events, oldest first, optionally only of one type. */
  events(q: Query & { type?: string } = {}): StoredEvent[] {
    const all = select(this.#events, { since: q.since });
    const typed = q.type === undefined ? all : all.filter((e) => e.type === q.type);
    return q.last === undefined ? typed : q.last <= 0 ? [] : typed.slice(-q.last);
  }

  /** Member names that have samples or scores. */
  members(): string[] {
    return [...new Set([...this.#samples.keys(), ...this.#scores.keys()])].sort();
  }

  /** Sizes, the byte estimate and eviction counters. */
  info(): StoreInfo {
    let samples = 0;
    let scores = 0;
    for (const r of this.#samples.values()) samples += r.size;
    for (const r of this.#scores.values()) scores += r.size;
    return {
      members: this.members(),
      samples,
      scores,
      events: this.#events.size,
      bytes_estimate: this.#bytes,
      bytes_limit: this.#byteLimit(),
      evicted_for_ram: this.#evictedRam,
      evicted_for_age: this.#evictedAge,
      newest_t: this.#newest,
      limits: { ...this.#limits },
    };
  }

  #byteLimit(): number {
    return this.#limits.max_ram_mb * 1024 * 1024;
  }

  #add<T extends { t: number }>(
    map: Map<string, RingBuffer<Sized<T>>>,
    member: string,
    item: T,
  ): void {
    let ring = map.get(member);
    if (!ring) {
      ring = new RingBuffer(this.#limits.max_samples_per_member);
      map.set(member, ring);
    }
    this.#push(ring, item);
    this.#afterAdd(item.t);
  }

  #push<T>(ring: RingBuffer<Sized<T>>, item: T): void {
    const bytes = estimateBytes(item);
    const evicted = ring.push({ item, bytes });
    this.#bytes += bytes - (evicted?.bytes ?? 0);
  }

  #afterAdd(t: number): void {
    if (this.#newest === null || t > this.#newest) this.#newest = t;
    this.#pruneAge();
    this.#pruneRam();
  }

  #allRings(): RingBuffer<Sized<{ t: number }>>[] {
    return [...this.#samples.values(), ...this.#scores.values(), this.#events];
  }

  #pruneAge(): void {
    if (this.#newest === null) return;
    const cutoff = this.#newest - this.#limits.retention_hours * 3600;
    for (const ring of this.#allRings()) {
      while (ring.size > 0 && (ring.peekOldest() as Sized<{ t: number }>).item.t < cutoff) {
        this.#bytes -= (ring.shift() as Sized<unknown>).bytes;
        this.#evictedAge++;
      }
    }
  }

  #pruneRam(): void {
    const limit = this.#byteLimit();
    while (this.#bytes > limit) {
      let fullest: RingBuffer<Sized<{ t: number }>> | undefined;
      for (const ring of this.#allRings()) {
        if (ring.size > 1 && (!fullest || ring.size > fullest.size)) fullest = ring;
      }
      if (!fullest) break;
      this.#bytes -= (fullest.shift() as Sized<unknown>).bytes;
      this.#evictedRam++;
    }
  }
}
