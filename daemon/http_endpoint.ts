/**
 * The local HTTP endpoint (`config starfail 'http'`): `/metrics` for
 * Prometheus, `/health` for a supervisor or load balancer, and
 * `/api/<method>` — the `starfail` ubus object's own method table over HTTP
 * (see {@linkcode apiResponse}). It listens on loopback unless the owner sets
 * another address.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { UbusMethodTable } from "../ubus/object_server.ts";
import { apiResponse } from "../ubus/http_api.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/prometheus.ts";
import type { SourceHealth } from "./runtime.ts";

const log = getLogger(["starfail", "http"]);

/** What `/health` answers. */
export interface HealthReport {
  /** `ok` (HTTP 200) or `unhealthy` (HTTP 503). */
  status: "ok" | "unhealthy";
  /** Why it is unhealthy, null when ok. */
  reason: string | null;
  /** Seconds since the last engine tick, null before the first. */
  last_tick_age_s: number | null;
  /** Collectors whose last run succeeded. */
  collectors_ok: number;
  /** Collectors whose last run failed, with their error. */
  collectors_failing: { name: string; error: string | null }[];
  /** Current primary. */
  primary: string | null;
}

/** What {@linkcode healthReport} looks at. */
export interface HealthInput {
  /** Clock time now (runtime clock, seconds). */
  now: number;
  /** Clock time of the last tick, null before the first. */
  lastStepT: number | null;
  /** Clock time the daemon started. */
  startedT: number;
  /** The tick interval, ms. */
  pollIntervalMs: number;
  /** Collector health. */
  collectors: SourceHealth[];
  /** Current primary. */
  primary: string | null;
}

/**
 * Healthy while the loop ticks (the last tick is no older than three poll
 * intervals, at least 5 s) and collectors answer (not every collector that
 * has run is failing). Pure.
 */
export function healthReport(h: HealthInput): HealthReport {
  const allowed = Math.max(5, (3 * h.pollIntervalMs) / 1000);
  const age = h.lastStepT === null ? null : Math.round((h.now - h.lastStepT) * 10) / 10;
  const failing = h.collectors.filter((c) => !c.ok && c.failures > 0)
    .map((c) => ({ name: c.name, error: c.last_error }));
  const ok = h.collectors.filter((c) => c.ok).length;
  let reason: string | null = null;
  if (age === null) {
    if (h.now - h.startedT > allowed) reason = `the decision loop has not ticked since start`;
  } else if (age > allowed) {
    reason = `the decision loop has not ticked for ${age} s (expected every ${
      h.pollIntervalMs / 1000
    } s)`;
  }
  if (reason === null && ok === 0 && failing.length > 0) {
    reason = `no collector answers: ${
      failing.map((f) => `${f.name} (${f.error ?? "failed"})`).join(", ")
    }`;
  }
  return {
    status: reason === null ? "ok" : "unhealthy",
    reason,
    last_tick_age_s: age,
    collectors_ok: ok,
    collectors_failing: failing,
    primary: h.primary,
  };
}

/** Options for {@linkcode startHttpEndpoint}. */
export interface HttpEndpointOptions {
  /** `host:port` (`[::1]:9101` for IPv6); port 0 picks a free port. */
  listen: string;
  /** The `starfail` method table (the same the ubus object serves). */
  table: UbusMethodTable;
  /** The `/metrics` page. */
  metrics: () => Promise<string>;
  /** The `/health` report. */
  health: () => HealthReport;
}

/** A running endpoint. */
export interface HttpEndpoint {
  /** The address it listens on (with the real port when 0 was asked). */
  hostname: string;
  /** The port. */
  port: number;
  /** `http://host:port`. */
  url: string;
  /** Stops listening and waits for requests in flight. */
  close(): Promise<void>;
}

/** Splits `host:port` / `[v6]:port`. Throws TypeError for anything else. */
export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  if (m === null || Number(m[3]) > 65535) {
    throw new TypeError(`'${listen}' is not host:port (e.g. 127.0.0.1:9101)`);
  }
  return { hostname: m[1] ?? m[2], port: Number(m[3]) };
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/** Answers one request. Exposed for tests that need no socket. */
export async function handleRequest(opts: HttpEndpointOptions, req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  try {
    if (path === "/metrics") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("use GET\n", { status: 405, headers: { ...TEXT, allow: "GET" } });
      }
      return new Response(await opts.metrics(), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      });
    }
    if (path === "/health") {
      const h = opts.health();
      return new Response(JSON.stringify(h) + "\n", {
        status: h.status === "ok" ? 200 : 503,
        headers: { "content-type": "application/json" },
      });
    }
    if (path.startsWith("/api/")) {
      return await apiResponse(opts.table, req, decodeURIComponent(path.slice(5)));
    }
    return new Response("not found; try /metrics, /health or /api/status\n", {
      status: 404,
      headers: TEXT,
    });
  } catch (err) {
    log.error("HTTP request failed", { path, error: String(err) });
    return new Response(`internal error: ${err instanceof Error ? err.message : String(err)}\n`, {
      status: 500,
      headers: TEXT,
    });
  }
}

/**
 * Starts listening. Throws an Error with one clear sentence when the address
 * cannot be bound (in use, not on this host, or denied by the sandbox).
 *
 * @example
 * ```ts
 * const ep = await startHttpEndpoint({ listen: "127.0.0.1:9101", table, metrics, health });
 * console.log(ep.url); // http://127.0.0.1:9101
 * await ep.close();
 * ```
 */
export function startHttpEndpoint(opts: HttpEndpointOptions): Promise<HttpEndpoint> {
  const { hostname, port } = parseListen(opts.listen);
  const abort = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      signal: abort.signal,
      onListen: () => {},
      onError: (err) => {
        log.error("HTTP handler failed", { error: String(err) });
        return new Response("internal error\n", { status: 500 });
      },
    }, (req) => handleRequest(opts, req));
  } catch (err) {
    const why = err instanceof Deno.errors.AddrInUse
      ? "the address is in use (another starfail, or another exporter?)"
      : err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied
      ? `the sandbox denies listening there (${(err as Error).message})`
      : err instanceof Error
      ? err.message
      : String(err);
    return Promise.reject(new Error(`http: cannot listen on ${opts.listen}: ${why}`));
  }
  const addr = server.addr;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return Promise.resolve({
    hostname: addr.hostname,
    port: addr.port,
    url: `http://${shown}:${addr.port}`,
    async close() {
      abort.abort();
      await server.finished;
    },
  });
}
