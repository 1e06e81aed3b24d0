/**
 * `starfail dish status|history|device-info|diagnostics|location`: asks the
 * Starlink dish directly and prints the decoded answer — a short summary, or
 * with `--json` exactly the shape grpcurl prints, for side-by-side comparison.
 *
 * @module
 */

import { configPathFromEnv, loadConfig } from "../config/mod.ts";
import { netFix } from "../config/sandbox.ts";
import { CliError, type CommandSpec, EXIT, numberFlag, parseCommand, UsageError } from "./args.ts";
import { type DishAnswer, DishCallError, StarlinkClient } from "../collectors/starlink_client.ts";
import { type JsonValue, responseToJson } from "../collectors/starlink_json.ts";
import type { DishRequestKind } from "../collectors/starlink_proto.ts";
import {
  enumName,
  gpsNsToUnixMs,
  mapStatus,
  OUTAGE_CAUSES,
  takeHistory,
} from "../collectors/starlink.ts";

/** How `starfail dish` is called. */
export const spec: CommandSpec = {
  name: "dish",
  summary: "Query the Starlink dish's local gRPC API and print the decoded answer.",
  usage:
    "starfail dish status|history|device-info|diagnostics|location [--dish HOST:PORT] [--web-port N] [--json] [--timeout S]",
  examples: [
    "starfail dish status",
    "starfail dish status --json > status.json   # same shape as grpcurl",
    "starfail dish history --dish 192.168.100.1:9200 --timeout 5",
    "starfail dish location",
  ],
  options: {
    dish: { type: "string" },
    "web-port": { type: "string" },
    config: { type: "string" },
    json: { type: "boolean" },
    timeout: { type: "string" },
  },
  optionHelp: {
    dish: "dish gRPC address (default: the config's starlink host:port, else 192.168.100.1:9200)",
    "web-port": "gRPC-Web fallback port (default: the config's grpc_web_port, else 9201; 0 = none)",
    config: "config file to take the dish address from (default /etc/config/starfail)",
    json: "print the response as grpcurl does",
    timeout: "seconds to wait for the answer (default 5)",
  },
  minPositionals: 1,
  maxPositionals: 1,
};

const KINDS: Readonly<Record<string, DishRequestKind>> = {
  status: "get_status",
  history: "get_history",
  "device-info": "get_device_info",
  diagnostics: "get_diagnostics",
  location: "get_location",
};

/** Splits `HOST:PORT` (IPv6 in brackets) or a bare host. */
export function parseDishAddress(value: string): { host: string; port: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? 9200) };
  const parts = value.split(":");
  if (parts.length === 1 && parts[0] !== "") return { host: parts[0], port: 9200 };
  if (parts.length === 2 && parts[0] !== "" && /^\d+$/.test(parts[1])) {
    const port = Number(parts[1]);
    if (port >= 1 && port <= 65535) return { host: parts[0], port };
  }
  return undefined;
}

function r(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m ${s}s` : `${m}m ${s}s`;
}

function numOf(value: unknown): number | undefined {
  if (value == null) return undefined;
  return Number((value as { toString(): string }).toString());
}

/** A short human summary of a decoded answer. */
export function summarize(kind: DishRequestKind, answer: DishAnswer): string {
  const body = answer.body;
  const lines: string[] = [];
  if (kind === "get_status") {
    const obs = mapStatus(body, { t: 0, member: "dish" });
    const info = (body.device_info ?? {}) as Record<string, unknown>;
    const uptime = numOf((body.device_state as Record<string, unknown> | undefined)?.uptime_s);
    const gps = (body.gps_stats ?? {}) as Record<string, unknown>;
    lines.push(
      `latency      ${
        obs.latency_ms !== undefined ? `${r(obs.latency_ms)} ms` : "- (no valid value)"
      }`,
      `drop         ${r(obs.loss_pct)} %`,
      `obstruction  ${r(obs.obstruction_pct, 2)} %${
        obs.currently_obstructed ? " (obstructed now)" : ""
      }`,
      `outage       ${obs.outage_cause || "none"}`,
      `alerts       ${obs.alerts && obs.alerts.length > 0 ? obs.alerts.join(", ") : "none"}`,
      `next slot    ${
        obs.seconds_to_first_nonempty_slot !== undefined
          ? `${r(obs.seconds_to_first_nonempty_slot)} s`
          : "unknown"
      }`,
      `update       ${
        obs.swupdate_reboot_ready ? "downloaded, waiting for a reboot" : "no reboot pending"
      }`,
      `gps          ${gps.gps_valid === true ? "valid" : "not valid"} (${
        numOf(gps.gps_sats) ?? 0
      } satellites)`,
      `uptime       ${uptime !== undefined ? duration(uptime) : "-"}`,
      `firmware     ${info.software_version ?? "-"} (${
        info.hardware_version ?? "-"
      }, api ${answer.apiVersion})`,
    );
  } else if (kind === "get_history") {
    const take = takeHistory(undefined, body, 0);
    const n = take.samples.length;
    const lossMean = n > 0 ? take.samples.reduce((a, s) => a + s.drop, 0) / n * 100 : undefined;
    const lat = take.samples.map((s) => s.latency).filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    const outages = (body.outages as Record<string, unknown>[] | undefined) ?? [];
    lines.push(
      `samples      ${n} s (ring ${
        (body.pop_ping_drop_rate as number[] | undefined)?.length ?? 0
      }, current ${numOf(body.current) ?? 0})`,
      `drop         ${r(lossMean, 2)} % mean; ${
        take.samples.filter((s) => s.drop >= 1).length
      } s with total loss`,
      `latency      p50 ${r(lat[Math.floor(lat.length * 0.5)])} ms, p90 ${
        r(lat[Math.floor(lat.length * 0.9)])
      } ms`,
      `outages      ${outages.length} in the dish's list`,
    );
    for (const o of outages.slice(-5)) {
      const start = gpsNsToUnixMs(o.start_timestamp_ns);
      lines.push(
        `  ${start !== undefined ? new Date(start).toISOString() : "unknown start           "}  ${
          enumName(o.cause, OUTAGE_CAUSES, "CAUSE_").padEnd(17)
        } ${r((numOf(o.duration_ns) ?? 0) / 1e9)} s`,
      );
    }
  } else if (kind === "get_device_info") {
    const info = (body.device_info ?? {}) as Record<string, unknown>;
    lines.push(
      `id           ${info.id ?? "-"}`,
      `hardware     ${info.hardware_version ?? "-"}`,
      `firmware     ${info.software_version ?? "-"}`,
      `country      ${info.country_code || "-"}`,
      `boot count   ${info.bootcount ?? 0}`,
    );
  } else if (kind === "get_location") {
    const lla = (body.lla ?? {}) as Record<string, number>;
    const json = responseToJson(answer.response).getLocation as Record<string, JsonValue>;
    lines.push(
      `position     ${r(lla.lat, 6)}, ${r(lla.lon, 6)}  alt ${r(lla.alt)} m`,
      `accuracy     ${r(numOf(body.sigma_m))} m (source ${String(json?.source ?? "-")})`,
    );
  } else {
    const json = responseToJson(answer.response).dishGetDiagnostics as Record<string, JsonValue>;
    const location = (body.location ?? {}) as Record<string, unknown>;
    lines.push(
      `hardware     ${body.hardware_version ?? "-"}`,
      `firmware     ${body.software_version ?? "-"}`,
      `disablement  ${String(json?.disablementCode ?? "UNKNOWN_STATE")}`,
      `stowed       ${body.stowed === true ? "yes" : "no"}`,
      `location     ${location.enabled === true ? "enabled" : "disabled"}`,
    );
  }
  lines.push(`transport    ${answer.transport} (${answer.bytes} bytes)`);
  return lines.join("\n");
}

/**
 * The dish address from the config: an explicit `--config` must load (its
 * problems are reported, exit 78); the default file may be missing or broken,
 * in which case the factory address is used.
 */
async function dishFromConfig(
  explicit: string | undefined,
): Promise<{ host: string; port: number; grpc_web_port: number }> {
  const fallback = { host: "192.168.100.1", port: 9200, grpc_web_port: 9201 };
  if (explicit !== undefined) return (await loadConfig(explicit)).config.starlink;
  try {
    return (await loadConfig(configPathFromEnv())).config.starlink;
  } catch {
    return fallback;
  }
}

/** Runs `starfail dish …`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const what = parsed.positionals[0];
  const kind = KINDS[what];
  if (kind === undefined) {
    throw new UsageError(
      `starfail dish: unknown request '${what}' (expected ${Object.keys(KINDS).join(", ")})`,
      spec.usage,
    );
  }
  const configured = await dishFromConfig(parsed.values.config as string | undefined);
  const dishFlag = (parsed.values.dish as string | undefined) ??
    `${configured.host}:${configured.port}`;
  const address = parseDishAddress(dishFlag);
  if (address === undefined) {
    throw new UsageError(`starfail dish: --dish '${dishFlag}': expected HOST:PORT`, spec.usage);
  }
  const timeoutS = numberFlag(spec, parsed.values, "timeout", { min: 0.1, max: 600, fallback: 5 });
  const webPort = numberFlag(spec, parsed.values, "web-port", {
    min: 0,
    max: 65535,
    fallback: configured.grpc_web_port,
    integer: true,
  });
  const client = new StarlinkClient({
    host: address.host,
    port: address.port,
    grpcWebPort: webPort,
    timeoutMs: Math.round(timeoutS * 1000),
  });
  try {
    const answer = await client.call(kind);
    if (parsed.values.json) console.log(JSON.stringify(responseToJson(answer.response), null, 2));
    else console.log(summarize(kind, answer));
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof DishCallError)) throw err;
    throw new CliError(describeFailure(kind, err, dishFlag, timeoutS), failureCode(err));
  } finally {
    client.close();
  }
}

/** The host:port the binary's sandbox refused, when that is why a call failed. */
function sandboxDenied(err: DishCallError): string | null {
  const m = /Requires net access to "([^"]+)"/.exec(err.message);
  return m?.[1] ?? null;
}

function failureCode(err: DishCallError): number {
  if (sandboxDenied(err) !== null) return EXIT.NOPERM;
  if (err.status === "PERMISSION_DENIED") return EXIT.FAIL;
  if (err.status === "DEADLINE_EXCEEDED" || err.status === "UNAVAILABLE") return EXIT.UNAVAILABLE;
  return EXIT.DATAERR;
}

/** One line saying what failed and what to do about it. */
export function describeFailure(
  kind: DishRequestKind,
  err: DishCallError,
  dish: string,
  timeoutS: number,
): string {
  const denied = sandboxDenied(err);
  if (denied !== null) {
    return `starfail dish: the binary's sandbox denies net access to ${denied}; ${netFix(denied)}`;
  }
  if (err.status === "PERMISSION_DENIED") {
    return kind === "get_location"
      ? "starfail dish location: the dish refuses location requests; allow local access to the location in the Starlink app (Settings → Advanced → Debug data)"
      : `starfail dish: the dish refused ${kind}: ${err.message}`;
  }
  if (err.status === "DEADLINE_EXCEEDED") {
    return `starfail dish: no answer from ${dish} within ${timeoutS} s; check the cable and, in bypass mode, the static route to 192.168.100.1 (or pass --dish HOST:PORT)`;
  }
  if (err.status === "UNAVAILABLE") {
    return `starfail dish: cannot connect to ${dish} (${err.message}); check the cable and the route to the dish (or pass --dish HOST:PORT)`;
  }
  return `starfail dish: the dish answered ${kind} with ${err.status}: ${err.message}`;
}
