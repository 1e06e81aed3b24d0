/**
 * The router seam on the router itself: ubus over the local socket, the
 * `uci` program, tools as subprocesses (argument arrays, deadlines).
 *
 * @module
 */

import type { BlobmsgInput, JsonObject } from "../ubus/blob.ts";
import type { RequestOptions, UbusCaller, UbusEventSource } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import type { ApplyOptions, Router, RouterUci, ToolOptions, ToolResult, UciStep } from "./types.ts";
import { parseUciShow, type ShownPackage } from "./uci_show.ts";

/** Runs a program (`runCommand` from `collectors/exec.ts`, or a test's). */
export type ToolRunner = (
  cmd: string,
  args: string[],
  opts: ToolOptions,
) => Promise<ToolResult>;

/** Options for {@linkcode LocalUci}. */
export interface LocalUciOptions {
  /** Runs `uci`. */
  run: ToolRunner;
  /** `uci` program. Default `uci`. */
  command?: string;
  /** Arguments put before every uci command (e.g. `["-c", dir, "-P", savedir]`). */
  args?: string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /** Deadline per command, ms. Default 10000. */
  timeoutMs?: number;
}

/**
 * uci through the `uci` program. `apply` is `uci commit`; confirm and
 * rollback do nothing (on the router itself no companion can be lost).
 *
 * @example
 * ```ts
 * const uci = new LocalUci({ run: runCommand });
 * const pkg = await uci.show("mwan3");
 * ```
 */
export class LocalUci implements RouterUci {
  readonly rollsBack = false;
  #o: LocalUciOptions;

  /** Creates it; nothing runs until a method is called. */
  constructor(opts: LocalUciOptions) {
    this.#o = opts;
  }

  get #cmd(): string {
    return this.#o.command ?? "uci";
  }

  async #uci(args: string[]): Promise<ToolResult> {
    return await this.#o.run(this.#cmd, [...(this.#o.args ?? []), ...args], {
      timeoutMs: this.#o.timeoutMs ?? 10000,
      ...(this.#o.env ? { env: this.#o.env } : {}),
    });
  }

  #fail(what: string, r: ToolResult, hint = ""): Error {
    return new Error(
      `${what} failed (exit ${r.code}${r.timedOut ? ", deadline exceeded" : ""}${
        r.stderr.trim() ? `: ${r.stderr.trim()}` : ""
      })${hint}`,
    );
  }

  /** `uci -q show CONFIG`, parsed. */
  async show(config: string): Promise<ShownPackage> {
    const r = await this.#uci(["-q", "show", config]);
    if (r.code !== 0) {
      throw this.#fail(
        `uci show ${config}`,
        r,
        `; is ${config} installed and /etc/config/${config} present?`,
      );
    }
    return parseUciShow(r.stdout, config);
  }

  /** `uci changes CONFIG`: everything staged is someone else's (we stage and commit at once). */
  async foreignChanges(config: string): Promise<string[]> {
    const r = await this.#uci(["changes", config]);
    if (r.code !== 0) return [];
    return r.stdout.split("\n").filter((l) => l.trim() !== "");
  }

  /** `uci set CONFIG.SECTION.OPTION=VALUE`. */
  async set(config: string, section: string, option: string, value: string): Promise<void> {
    const step = this.describeSet(config, section, option, value);
    const r = await this.#uci(step.args.slice((this.#o.args ?? []).length));
    if (r.code !== 0) throw this.#fail(`${step.cmd} ${step.args.join(" ")}`, r);
  }

  /** `uci revert CONFIG`. */
  async revert(config: string): Promise<void> {
    const r = await this.#uci(["revert", config]);
    if (r.code !== 0) throw this.#fail(`uci revert ${config}`, r);
  }

  /** `uci commit CONFIG`. */
  async apply(config: string, _opts: ApplyOptions): Promise<void> {
    const r = await this.#uci(["commit", config]);
    if (r.code !== 0) throw this.#fail(`uci commit ${config}`, r);
  }

  /** Nothing to confirm locally. */
  confirm(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to roll back locally. */
  rollback(): Promise<void> {
    return Promise.resolve();
  }

  /** `uci [args] set CONFIG.SECTION.OPTION=VALUE`. */
  describeSet(config: string, section: string, option: string, value: string): UciStep {
    return {
      cmd: this.#cmd,
      args: [...(this.#o.args ?? []), "set", `${config}.${section}.${option}=${value}`],
    };
  }

  /** `uci [args] commit CONFIG`. */
  describeApply(config: string, _opts: ApplyOptions): UciStep[] {
    return [{ cmd: this.#cmd, args: [...(this.#o.args ?? []), "commit", config] }];
  }
}

/** Options for {@linkcode LocalRouter}. */
export interface LocalRouterOptions {
  /** ubus (the daemon's object server, or a client); null while ubusd is away. */
  ubus: (UbusCaller & UbusEventSource) | null | (() => (UbusCaller & UbusEventSource) | null);
  /** Runs tools (`runCommand`). */
  run: ToolRunner;
  /** uci options beyond the runner. */
  uci?: Omit<LocalUciOptions, "run">;
}

/**
 * The router seam on the router: ubus calls go to the local bus, uci to the
 * `uci` program, tools run as subprocesses.
 *
 * @example
 * ```ts
 * const router = new LocalRouter({ ubus: server, run: runCommand });
 * const wan = await router.call("network.interface.wan", "status", {});
 * ```
 */
export class LocalRouter implements Router {
  readonly kind = "local" as const;
  readonly uci: LocalUci;
  #o: LocalRouterOptions;

  /** Creates it over the given ubus and runner. */
  constructor(opts: LocalRouterOptions) {
    this.#o = opts;
    this.uci = new LocalUci({ run: opts.run, ...opts.uci });
  }

  #bus(): UbusCaller & UbusEventSource {
    const bus = typeof this.#o.ubus === "function" ? this.#o.ubus() : this.#o.ubus;
    if (bus === null) throw new UbusError(Status.CONNECTION_FAILED, "ubus is not connected");
    return bus;
  }

  /** A call on the local bus. */
  call(
    path: string,
    method: string,
    data: { [key: string]: BlobmsgInput } = {},
    opts?: RequestOptions,
  ): Promise<JsonObject> {
    try {
      return this.#bus().call(path, method, data, opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A ubus event subscription. */
  listen(pattern: string, onEvent: (id: string, data: JsonObject) => void): Promise<unknown> {
    try {
      return this.#bus().listen(pattern, onEvent);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A subprocess. */
  exec(cmd: string, args: string[], opts: ToolOptions): Promise<ToolResult> {
    return this.#o.run(cmd, args, opts);
  }

  /** Nothing to release: the bus belongs to the caller. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
