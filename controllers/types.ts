/**
 * Shared types of the controllers: what they are asked to do and what they
 * report back.
 *
 * @module
 */

import type { ExecResult, RunOptions } from "../collectors/exec.ts";

/** The state the daemon wants: which member carries traffic, and the preference order. */
export interface DesiredState {
  /** Member that must be preferred (mwan3 member section name or interface name). */
  primary: string;
  /** All members, most preferred first (the primary may or may not be first). */
  order: string[];
}

/** One command the controller ran, or would run in dry-run. */
export interface ControllerAction {
  /** Program name (`uci`, `mwan3`, `ip`, or `write` for a file write). */
  cmd: string;
  /** Arguments (for `write`: the path and the content). */
  args: string[];
  /** Why this action is needed, in words. */
  why: string;
}

/** A value someone else changed since our last write. */
export interface Drift {
  /** Member (mwan3 member section, or route-mode member name). */
  member: string;
  /** What we wrote last time. */
  expected: number;
  /** What is there now (null: the entry disappeared). */
  found: number | null;
  /** What field drifted (`metric`). */
  field: string;
}

/** What one reconcile did (or in dry-run would do). */
export interface ControllerReport {
  /** Which controller produced it. */
  mode: "mwan3" | "route";
  /** True when nothing was changed because dry-run is on. */
  dryRun: boolean;
  /** The requested primary. */
  primary: string;
  /** True when changes were applied (or, in dry-run, would be applied). */
  changed: boolean;
  /** The previous primary, when it was unambiguous and differs (a failover). */
  previousPrimary: string | null;
  /** The commands run (or planned in dry-run), in order. */
  actions: ControllerAction[];
  /** True when the read-back matched the desired state. */
  verified: boolean;
  /** What the verification looked at and found, in words. */
  verification: string[];
  /** Values changed by someone else since our last write. */
  drift: Drift[];
  /** Failures (one sentence each); empty when all went well. */
  errors: string[];
  /** True when the conntrack table was flushed after the switch. */
  conntrackFlushed: boolean;
}

/** A controller makes the router prefer the desired primary. */
export interface Controller<R = unknown> {
  /** Makes the smallest change that makes `desired.primary` preferred, applies it, reads back and verifies. */
  reconcile(desired: DesiredState): Promise<ControllerReport>;
  /** Reads the current state without changing anything. */
  readBack(): Promise<R>;
  /**
   * Puts back the routes or metrics found before this controller first changed
   * anything (called on SIGTERM/SIGINT); resolves to one line per thing put
   * back, empty when nothing had to change. Never throws: failures are lines.
   */
  restore?(): Promise<string[]>;
  /** Adopts the found-at-start state of the controller this one replaces (config reload). */
  takeFoundFrom?(other: Controller): void;
}

/** The subprocess runner (`runCommand` from `collectors/exec.ts`), injectable. */
export type Runner = (cmd: string, args: string[], opts: RunOptions) => Promise<ExecResult>;
