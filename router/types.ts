/**
 * The one seam between starfail and the router it drives: ubus calls and
 * events, uci reads and writes with apply-and-confirm, and running a router
 * tool from an argument array. Two implementations: `LocalRouter` (on the
 * router itself: the ubus socket, the `uci` program, subprocesses) and
 * `RemoteRouter` (on a companion host: JSON-RPC over uhttpd's `/ubus` with an
 * rpcd session). Collectors and controllers take a {@linkcode Router} and
 * never know which one they have.
 *
 * @module
 */

import type { JsonObject } from "../ubus/blob.ts";
import type { UbusCaller } from "../ubus/client.ts";
import type { ShownPackage } from "./uci_show.ts";

/** What a router tool run left behind (the same shape as `collectors/exec.ts`'s result). */
export interface ToolResult {
  /** Exit code; 127 not found, 126 not allowed, 124 deadline exceeded. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** True when the deadline ran out. */
  timedOut: boolean;
}

/** Options of one tool run. */
export interface ToolOptions {
  /** Deadline in milliseconds. */
  timeoutMs: number;
  /** Extra environment (local only; rpcd refuses an environment from a session). */
  env?: Record<string, string>;
}

/** One line of what a uci step does, for reports and dry runs. */
export interface UciStep {
  /** Program or channel (`uci`, or `rpcd` for the remote one). */
  cmd: string;
  /** Its arguments, as a person would type them. */
  args: string[];
}

/** How an applied change is made safe. */
export interface ApplyOptions {
  /**
   * Seconds the router waits for {@linkcode RouterUci.confirm} before it
   * restores the previous config by itself (remote). 0: no rollback.
   */
  rollbackS: number;
}

/** uci on the router. Values are strings, as uci stores them. */
export interface RouterUci {
  /** The whole package, sections in file order (the `uci show` model). */
  show(config: string): Promise<ShownPackage>;
  /**
   * Staged, uncommitted changes to `config` that are not ours (one line
   * each); an apply must not carry them along. The remote one has none:
   * rpcd keeps each session's changes apart, and drops our own stale ones.
   */
  foreignChanges(config: string): Promise<string[]>;
  /** Stages `config.section.option=value`. */
  set(config: string, section: string, option: string, value: string): Promise<void>;
  /** Drops our staged changes to `config`. */
  revert(config: string): Promise<void>;
  /**
   * Commits the staged changes and makes the router act on them. Remote:
   * rpcd's `uci apply` with rollback (procd's reload triggers act on the
   * change); the router undoes it unless {@linkcode confirm} comes within
   * `rollbackS`. Local: `uci commit` (the caller reloads the service).
   */
  apply(config: string, opts: ApplyOptions): Promise<void>;
  /** Keeps an applied change (cancels the pending rollback). No-op locally. */
  confirm(): Promise<void>;
  /** Undoes an applied change now (remote: rpcd's `uci rollback`). No-op locally. */
  rollback(): Promise<void>;
  /** The steps a `set` would be, for reports. */
  describeSet(config: string, section: string, option: string, value: string): UciStep;
  /** The steps an `apply` (and confirm) would be, for reports. */
  describeApply(config: string, opts: ApplyOptions): UciStep[];
  /** True when an applied change rolls itself back without a confirm (remote). */
  readonly rollsBack: boolean;
}

/** The router, local or remote; `call` (from {@linkcode UbusCaller}) rejects with `UbusError`. */
export interface Router extends UbusCaller {
  /** `local` (on the router) or `remote` (a companion over rpcd). */
  readonly kind: "local" | "remote";
  /**
   * Calls `onEvent` for events matching `pattern`. Local: ubus events.
   * Remote: `network.interface` only, made from polling `network.interface
   * dump` (JSON-RPC has no push on every firmware).
   */
  listen(pattern: string, onEvent: (id: string, data: JsonObject) => void): Promise<unknown>;
  /** uci. */
  readonly uci: RouterUci;
  /**
   * Runs a router tool with an argument array (never a shell). Remote: only
   * the tools the ACL grants (`ping`); anything else answers code 126.
   */
  exec(cmd: string, args: string[], opts: ToolOptions): Promise<ToolResult>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}
