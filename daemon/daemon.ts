/**
 * `starfail daemon`, assembled: load the config, discover members, build the
 * collectors, the controller and telemetry, serve the `starfail` ubus object,
 * and run the {@linkcode Runtime}. SIGHUP-style reloads keep member history.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { SideFile } from "../io/side_file.ts";
import * as v from "valibot";
import { loadConfig, MemberSchema, type StarfailConfig } from "../config/mod.ts";
import { sandboxDenials, sectionDenials, socketDenials } from "../config/sandbox.ts";
import { type EngineConfig, engineConfigFromConfig } from "../engine/mod.ts";
import type { MemberSpec, Observation } from "../engine/types.ts";
import { type ExecResult, runCommand, type RunOptions } from "../collectors/exec.ts";
import { MemberProber } from "../collectors/probe.ts";
import { LinkStateReader } from "../collectors/link_state.ts";
import { fetchInterfaceStatus, NetifdCollector } from "../collectors/netifd.ts";
import { fetchIwinfo, wifiObservation } from "../collectors/iwinfo.ts";
import {
  cellularObservation,
  type CellularSource,
  detectCellular,
} from "../collectors/cellular.ts";
// Types only: the collector (wire codec, fetch-based gRPC client) is loaded when a dish is
// configured, so a router without Starlink never pays for it (see README "Footprint").
import type {
  DishHistoryState,
  DishOutageRecord,
  StarlinkCollector,
} from "../collectors/starlink.ts";
import { findDefaultRule, Mwan3Controller, policyMembers } from "../controllers/mwan3.ts";
import { RouteController } from "../controllers/route.ts";
import type { Controller, ControllerReport } from "../controllers/types.ts";
import { parseDefaultRoutes } from "../controllers/mod.ts";
import { TelemetryStore } from "../telemetry/store.ts";
import { Outbound } from "./outbound.ts";
import { isLevelName, type LogHandle } from "../telemetry/log.ts";
import { type RegistrationState, UbusObjectServer } from "../ubus/object_server.ts";
import { LiveState } from "../telemetry/live.ts";
import { prometheusText } from "../telemetry/prometheus.ts";
import { healthReport, type HttpEndpoint, startHttpEndpoint } from "./http_endpoint.ts";
import { STARFAIL_OBJECT, starfailMethods } from "../ubus/starfail_object.ts";
import { DaemonBackend, stateCode } from "./backend.ts";
import { AlertTracker, type EventSender, publishEvent, ubusEventFor } from "./ubus_events.ts";
import type { Router } from "../router/types.ts";
import { LocalRouter } from "../router/local.ts";
import { openRemoteRouter } from "../router/from_config.ts";
import type { RemoteRouter } from "../router/remote.ts";
import { RemoteAuthError } from "../router/rpc_session.ts";
import {
  type DiscoveredMember,
  type InterfaceFacts,
  type MemberOverride,
  resolveMembers,
} from "./discovery.ts";
import {
  type Applier,
  type ApplyOutcome,
  type Clock,
  realClock,
  Runtime,
  type Source,
  type TelemetrySink,
} from "./runtime.ts";

const log = getLogger(["starfail", "daemon"]);

/** Runs a router tool: argument array, deadline. Injectable for tests. */
export type ToolRunner = (cmd: string, args: string[], opts: RunOptions) => Promise<ExecResult>;

/** How to start the daemon. */
export interface DaemonOptions {
  /** Config file. */
  configPath: string;
  /** The config already loaded from `configPath` (the CLI reads it first for the log settings). */
  preloaded?: { config: StarfailConfig; warnings: string[] };
  /** `--dry-run`: change nothing, log what would change (overrides the config). */
  dryRun?: boolean;
  /** `--monitor`: the live view at info level. */
  monitor?: boolean;
  /** `--record FILE`: write every observation as a replayable trace. */
  recordPath?: string;
  /** ubus socket (overrides the config's `ubus_socket`). */
  socket?: string;
  /** The logging set-up, for `setlog` and the config's log level. */
  logs?: LogHandle;
  /** The log level came from a command-line flag: the config's `log_level` does not override it. */
  logsForced?: boolean;
  /** Clock (tests). */
  clock?: Clock;
  /** Tool runner (tests). */
  run?: ToolRunner;
  /** Wait this long for ubus at start before carrying on without it (ms, default 2000). */
  ubusWaitMs?: number;
}

/** A running daemon. */
export interface DaemonHandle {
  /** The runtime (engine state, health). */
  runtime: Runtime;
  /** The ubus backend. */
  backend: DaemonBackend;
  /** The members found at the last (re)load. */
  members(): DiscoveredMember[];
  /** The controller mode in use. */
  mode: "mwan3" | "route" | "none";
  /** What is registered on ubus now (the object, the netifd listener), and how often it connected. */
  ubus(): RegistrationState;
  /** With `--record`: the clock time (s) the trace's times count from; null without. */
  recordT0: number | null;
  /** The HTTP endpoint, null when `http.enabled` is off (or it could not listen). */
  readonly http: HttpEndpoint | null;
  /** Dish view and counters for /metrics and MQTT. */
  live: LiveState;
  /** Notifications, MQTT and the hook. */
  outbound: Outbound;
  /** Re-reads the config and re-discovers members, keeping history (SIGHUP). */
  reload(): Promise<void>;
  /** Stops everything (SIGTERM). */
  stop(): Promise<void>;
}

/**
 * Trace writer for `--record`: header with the members, then one observation
 * per line. A telemetry side channel: a read-only path or a full disk is
 * logged once (with the count of lost observations) and never stops the daemon.
 */
class TraceRecorder {
  #file: SideFile;
  #t0: number;

  constructor(path: string, members: MemberSpec[], t0: number, config: EngineConfig) {
    this.#file = new SideFile(path, {
      mode: "truncate",
      what: "trace (--record)",
      onProblem: (p) => {
        if (p.kind === "resumed") log.info(`Recording: ${p.message}`);
        else log.warn(`Recording: ${p.message}`, { dropped: p.dropped });
      },
    });
    this.#t0 = t0;
    // Everything replay needs to make the same decisions: the members with their options,
    // in order, the effective engine options, and when the engine started.
    this.#file.writeLine(JSON.stringify({
      starfail_trace: 1,
      members,
      config,
      start_t: 0,
    }));
  }

  /** One engine tick, after the observations it was given. */
  tick(t: number): void {
    this.#file.writeLine(JSON.stringify({ tick: Math.round((t - this.#t0) * 1000) / 1000 }));
  }

  record(obs: Observation): void {
    this.#file.writeLine(
      JSON.stringify({ ...obs, t: Math.round((obs.t - this.#t0) * 1000) / 1000 }),
    );
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * The kernel's link state of `device` (via {@linkcode LinkStateReader}: `ip -o
 * link`, since Deno grants `/sys` only with `--allow-all`), polled at 2 Hz.
 * A device the kernel does not have is down.
 */
export function linkSource(
  member: string,
  device: string,
  reader: LinkStateReader,
  intervalMs = 500,
): Source {
  return {
    name: `link:${member}`,
    intervalMs,
    async collect(now: number): Promise<Observation[]> {
      const state = await reader.device(device);
      return [{ t: now, member, link_up: state?.up ?? false }];
    },
  };
}

/**
 * Drops `loss_pct` and `latency_ms` from observations. The engine counts every
 * `loss_pct` as one probe round of the member's whole path, but the dish's
 * `pop_ping_drop_rate`/`pop_ping_latency_ms` measure only dish → PoP: mixed in
 * with the interface-bound probes, they hide an upstream blackhole beyond the
 * PoP (two healthy dish readings a second for every lost probe round keep
 * "all of the last `hard_fail_probes` rounds lost" from ever holding).
 */
export function dropPathMetrics(observations: Observation[]): Observation[] {
  return observations.map(({ loss_pct: _loss, latency_ms: _latency, ...rest }) => rest);
}

/** A source whose observations go through {@linkcode dropPathMetrics}. */
function withoutPathMetrics(source: Source): Source {
  return {
    name: source.name,
    intervalMs: source.intervalMs,
    async collect(now) {
      return dropPathMetrics(await source.collect(now));
    },
    close: () => source.close?.() ?? Promise.resolve(),
  };
}

function controllerOutcome(r: ControllerReport): ApplyOutcome {
  return {
    changed: r.changed,
    verified: r.verified,
    actions: r.actions.map((a) => `${r.dryRun ? "would run: " : ""}${a.cmd} ${a.args.join(" ")}`),
    drift: r.drift.map((d) =>
      d.found === null
        ? `${d.member}'s ${d.field} ${d.expected} is gone (removed by hand, or by the kernel when its link went down)`
        : `${d.member} ${d.field} is ${d.found}, we set ${d.expected} (changed by hand?)`
    ),
    ...(r.errors.length > 0 ? { error: r.errors.join("; ") } : {}),
  };
}

function applierFor(mode: "mwan3" | "route" | "none", controller: Controller | null): Applier {
  if (controller === null) {
    return {
      mode: "none",
      apply: () =>
        Promise.resolve({
          changed: false,
          verified: true,
          actions: [],
          drift: [],
        }),
    };
  }
  return {
    mode,
    async apply(desired) {
      return controllerOutcome(await controller.reconcile(desired));
    },
  };
}

/** What discovery read from mwan3, when mwan3 is configured. */
interface Mwan3Found {
  policy: string;
  members: { member: string; iface: string; metric: number; weight: number }[];
}

async function readMwan3(router: Router): Promise<Mwan3Found | null> {
  let pkg;
  try {
    pkg = await router.uci.show("mwan3");
  } catch (err) {
    log.debug("mwan3 config not readable", { error: String(err) });
    return null;
  }
  if (pkg.sections.length === 0) return null;
  const rule = findDefaultRule(pkg);
  if (rule === null) return null;
  const members = policyMembers(pkg, rule.policy).map((m) => ({
    member: m.member,
    iface: m.iface,
    metric: m.metric,
    weight: m.weight,
  }));
  return members.length === 0 ? null : { policy: rule.policy, members };
}

function overridesFrom(cfg: StarfailConfig): MemberOverride[] {
  return cfg.members.map((m) => {
    const o: MemberOverride = { name: m.name, detect: m.detect, metered: m.metered };
    // The schema defaults `iface` to the section name; only a different value is the owner's
    // word (a section named after an mwan3 member takes the interface mwan3 gives it).
    if (m.iface !== undefined && m.iface !== m.name) o.iface = m.iface;
    if (m.device !== undefined) o.device = m.device;
    if (m.class !== "auto") o.class = m.class;
    if (m.weight !== undefined) o.weight = m.weight;
    o.prefer_roaming = m.prefer_roaming;
    if (m.min_uptime_s !== undefined) o.min_uptime_s = m.min_uptime_s;
    if (m.cooldown_s !== undefined) o.cooldown_s = m.cooldown_s;
    return o;
  });
}

/** The device the dish is reached through, from the kernel's routing table. */
async function dishDevice(run: ToolRunner, host: string): Promise<string | null> {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) return null;
  const r = await run("ip", ["-4", "route", "get", host], { timeoutMs: 2000 });
  if (r.code !== 0) return null;
  const dev = /\bdev (\S+)/.exec(r.stdout)?.[1] ?? null;
  return dev === "lo" ? null : dev;
}

/** Everything built from one config: members, collectors, controller. */
interface Assembly {
  cfg: StarfailConfig;
  members: DiscoveredMember[];
  mode: "mwan3" | "route" | "none";
  sources: Source[];
  applier: Applier;
  /** The controller behind `applier` (null in mode none). */
  controller: Controller | null;
  collectorMembers: Map<string, string | null>;
  netifd: NetifdCollector | null;
  starlink: StarlinkCollector | null;
  /** Built while connected to ubus (netifd, iwinfo and the modem over ubus were wired). */
  withUbus: boolean;
  /** The router seam the collectors and the controller use. */
  router: Router;
}

async function assemble(
  cfg: StarfailConfig,
  opts: DaemonOptions,
  server: UbusObjectServer,
  router: Router,
  clock: Clock,
  urgent: (obs: Observation) => void,
  linkUp: Map<string, boolean>,
  prevNetifd: NetifdCollector | null,
  dishHistory: DishHistoryState,
): Promise<Assembly> {
  const dryRun = opts.dryRun === true || cfg.main.dry_run;
  // Remote mode: the router is always "there" (calls back off while it is away); locally,
  // the ubus-backed collectors wait until the daemon is connected to ubusd.
  const remote = router.kind === "remote";
  const ubus: Router | null = remote || server.connected ? router : null;
  // Tools run on the router: subprocesses locally, rpcd's file exec remotely.
  const run: ToolRunner = (cmd, args, o) => router.exec(cmd, args, o);

  // 1. Candidates: mwan3's default policy, else our own member sections.
  const mwan3 = cfg.main.use_mwan3 ? await readMwan3(router) : null;
  const candidates: InterfaceFacts[] = mwan3 !== null
    ? mwan3.members.map((m) => ({
      member: m.member,
      iface: m.iface,
      metric: m.metric,
      mwan3Weight: m.weight,
    }))
    : cfg.members.map((m) => ({
      member: m.name,
      iface: m.iface ?? m.name,
      ...(m.device !== undefined ? { device: m.device } : {}),
    }));
  if (cfg.main.use_mwan3 && mwan3 === null) {
    log.warn("mwan3 is not configured (no default rule in 'uci show mwan3'); using route mode");
  }

  // 2. Facts from netifd and the routing table.
  // (Remote: the companion's routing table says nothing about the router's.)
  const dishDev = remote ? null : await dishDevice(run, cfg.starlink.host);
  // Interfaces netifd knows (or could not say it does not know): only these are watched
  // through netifd. For any other, netifd answers NOT_FOUND, which must not read as "down".
  const netifdIfaces = new Set<string>();
  for (const c of candidates) {
    if (ubus !== null) {
      try {
        const st = await fetchInterfaceStatus(ubus, c.iface, { timeoutMs: 2000 });
        if (st !== null) {
          netifdIfaces.add(c.iface);
          c.device ??= st.l3_device ?? st.device;
          if (st.proto !== undefined) c.proto = st.proto;
          c.ipv4 = st.ipv4.map((a) => a.split("/")[0]);
        }
      } catch (err) {
        netifdIfaces.add(c.iface);
        log.debug("netifd status unavailable", { iface: c.iface, error: String(err) });
      }
    }
    if (dishDev !== null && c.device === dishDev) c.dishReachable = true;
  }
  const members = resolveMembers(candidates, overridesFrom(cfg));
  for (const m of members) {
    log.info("Member", {
      name: m.name,
      iface: m.iface,
      device: m.device ?? "unknown",
      class: m.class,
      weight: m.weight,
      why: m.class_reason,
    });
  }

  // 3. Collectors.
  const sources: Source[] = [];
  const linkReader = new LinkStateReader(run);
  const collectorMembers = new Map<string, string | null>();
  for (const m of members) {
    // The owner's section for this member, or the schema's defaults for one without a section.
    const mc = cfg.members.find((x) => x.name === m.name || (x.iface ?? x.name) === m.iface) ??
      v.parse(MemberSchema, { name: m.name });
    if (m.device === undefined) {
      log.warn("No device known for member; it is not probed", { member: m.name });
      continue;
    }
    const prober = new MemberProber(
      {
        member: m.name,
        device: m.device,
        method: mc.probe_method,
        targets: mc.probe_target,
        reliability: mc.probe_reliability,
        // One ping per target per round, as mwan3track does: a lost round then costs one
        // timeout, not a train of pings, and rounds keep their probe_interval_s pace.
        count: 1,
        timeoutMs: 1000,
        metered: m.metered ?? false,
        avoidReconfig: m.class === "starlink" && cfg.main.reconfig_guard,
      },
      {
        probe_interval_s: mc.probe_interval_s,
        metered_probe_interval_s: mc.metered_probe_interval_s,
        metered: m.metered ?? false,
      },
      { run, wallMs: () => clock.wallMs() },
    );
    const probeName = `probe:${m.name}`;
    sources.push({
      name: probeName,
      intervalMs: 1000,
      async collect(now) {
        const r = await prober.maybeProbe(now);
        return r === null ? [] : [r.observation];
      },
    });
    collectorMembers.set(probeName, m.name);
    // The kernel's link state where the device exists now; otherwise netifd's events tell
    // (a modem's device may appear later, and simulated routers have no real devices).
    // Remote: the companion has no view of the router's devices; netifd (polled) tells.
    if (remote) continue;
    if ((await linkReader.device(m.device).catch(() => null)) === null && ubus !== null) continue;
    const link = linkSource(m.name, m.device, linkReader);
    const inner = link.collect.bind(link);
    let last: boolean | undefined;
    sources.push({
      ...link,
      async collect(now) {
        const obs = await inner(now);
        const up = obs[0]?.link_up;
        if (up === false && last !== false) urgent(obs[0]);
        // A link back up has lost its routes to the kernel: reconcile now, not at the next
        // periodic pass, so route mode restores the member's route and its probes can run.
        if (up === true && last === false) urgent(obs[0]);
        last = up;
        return obs;
      },
    });
    collectorMembers.set(link.name, m.name);
  }

  let netifd: NetifdCollector | null = null;
  const watched = members.filter((m) => netifdIfaces.has(m.iface));
  if (ubus !== null) {
    for (const m of members.filter((x) => !netifdIfaces.has(x.iface))) {
      log.info("Not a netifd interface; its link state comes from the kernel and probes", {
        member: m.name,
        iface: m.iface,
      });
    }
  }
  if (ubus !== null && prevNetifd !== null) {
    netifd = prevNetifd;
    netifd.setMembers(watched.map((m) => ({ member: m.name, iface: m.iface })));
  } else if (ubus !== null) {
    netifd = new NetifdCollector({
      ubus,
      members: watched.map((m) => ({ member: m.name, iface: m.iface })),
      clock: () => clock.now(),
      onObservation: urgent,
    });
  }
  if (netifd !== null && ubus !== null) {
    const nc = netifd;
    sources.push({ name: "netifd", intervalMs: 5000, collect: () => nc.poll() });
    collectorMembers.set("netifd", null);
    for (const m of members.filter((x) => x.class === "wifi" && x.device !== undefined)) {
      const name = `iwinfo:${m.name}`;
      sources.push({
        name,
        intervalMs: 5000,
        async collect(now) {
          return [wifiObservation(m.name, await fetchIwinfo(ubus, m.device!, { run }), now)];
        },
      });
      collectorMembers.set(name, m.name);
    }
  }
  const cellular = members.filter((m) => m.class === "cellular");
  if (cellular.length > 0) {
    let source: CellularSource | null | undefined;
    let nextDetect = 0;
    sources.push({
      name: "cellular",
      intervalMs: 5000,
      async collect(now) {
        if (source === undefined || (source === null && now >= nextDetect)) {
          source = await detectCellular({ ubus: ubus ?? undefined, run });
          nextDetect = now + 60;
          if (source === null) {
            throw new Error("no modem tool answered (gsm.modem0, gsmctl, mmcli, uqmi)");
          }
          log.info("Cellular readings", { backend: source.backend });
        }
        if (source === null) {
          throw new Error("no modem tool answered (gsm.modem0, gsmctl, mmcli, uqmi)");
        }
        const reading = await source.read();
        // One modem serves the connected SIM: give its reading to the cellular members whose
        // link is up (all of them when their link state is not known yet).
        const up = cellular.filter((m) => linkUp.get(m.name) !== false);
        return (up.length > 0 ? up : cellular).map((m) =>
          cellularObservation(m.name, reading, now)
        );
      },
    });
    collectorMembers.set("cellular", cellular.length === 1 ? cellular[0].name : null);
  }
  let starlink: StarlinkCollector | null = null;
  const dishMember = members.find((m) => m.class === "starlink");
  if (cfg.starlink.enabled && dishMember !== undefined) {
    const { StarlinkCollector } = await import("../collectors/starlink.ts");
    starlink = new StarlinkCollector({
      member: dishMember.name,
      host: cfg.starlink.host,
      port: cfg.starlink.port,
      grpc_web_port: cfg.starlink.grpc_web_port,
      prefer: cfg.starlink.transport,
      timeout_ms: cfg.starlink.timeout_ms,
      poll_interval_ms: cfg.starlink.poll_interval_ms,
      history: cfg.starlink.history,
      location: cfg.starlink.location,
      diagnostics: cfg.starlink.diagnostics,
      clock: () => clock.now(),
      history_state: dishHistory,
    });
    // The dish's PoP ping statistics stand in for probes only where the member is not probed.
    const probed = collectorMembers.has(`probe:${dishMember.name}`);
    sources.push(probed ? withoutPathMetrics(starlink) : starlink);
    collectorMembers.set(starlink.name, dishMember.name);
  }

  // 4. Controller.
  let mode: Assembly["mode"];
  let controller: Controller | null;
  if (mwan3 !== null) {
    mode = "mwan3";
    controller = new Mwan3Controller({
      dryRun,
      conntrackFlush: cfg.main.conntrack_flush,
      policy: mwan3.policy,
      router,
      rollbackS: cfg.remote.rollback_s,
    });
  } else if (remote) {
    mode = "none";
    controller = null;
    log.warn(
      "Remote mode controls the router through mwan3 only, and mwan3 is not configured there; decisions are made but not applied",
    );
  } else {
    const routed = members.filter((m) => m.device !== undefined);
    if (routed.length === 0) {
      mode = "none";
      controller = null;
      log.warn("No member has a known device; decisions are made but not applied");
    } else {
      mode = "route";
      const shown = await run("ip", ["-4", "route", "show", "default"], { timeoutMs: 2000 });
      const routes = shown.code === 0 ? parseDefaultRoutes(shown.stdout) : [];
      controller = new RouteController({
        members: routed.map((m) => {
          const via = routes.find((r) => r.dev === m.device && r.via)?.via;
          return { name: m.name, device: m.device!, ...(via ? { gateway: via } : {}) };
        }),
        dryRun,
        conntrackFlush: cfg.main.conntrack_flush,
        run,
      });
    }
  }
  log.info("Controller", { mode, dry_run: dryRun });
  return {
    cfg,
    members,
    mode,
    sources,
    applier: applierFor(mode, controller),
    controller,
    collectorMembers,
    netifd,
    starlink,
    withUbus: ubus !== null,
    router,
  };
}

/**
 * The runtime's telemetry sink over the store: samples, final scores (with
 * instant, EWMA and the state code as parts) and events. `linkUp` keeps the
 * latest link state per member for the cellular collector.
 */
export function storeSink(store: TelemetryStore, linkUp?: Map<string, boolean>): TelemetrySink {
  return {
    sample(obs) {
      store.addSample(obs);
      if (obs.link_up !== undefined) linkUp?.set(obs.member, obs.link_up);
    },
    score(member, t, _wall, s) {
      if (s.final === null) return;
      store.addScore({
        t,
        member,
        score: s.final,
        parts: { instant: s.instant ?? 0, ewma: s.ewma ?? 0, state: stateCode(s.state) },
      });
    },
    event(ev) {
      store.addEvent({
        t: ev.t,
        type: ev.type,
        ...(ev.member !== null ? { member: ev.member } : {}),
        message: ev.reason,
        data: { from: ev.from, to: ev.to },
      });
    },
  };
}

/** Wraps a telemetry sink so dish alerts that begin or end are sent as `starfail.alert` events. */
function alertingSink(
  sink: TelemetrySink,
  sender: EventSender,
  alerts: AlertTracker,
): TelemetrySink {
  return {
    ...sink,
    sample(obs, wallMs) {
      sink.sample(obs, wallMs);
      for (const ev of alerts.observe(obs, wallMs)) publishEvent(sender, ev);
    },
  };
}

/**
 * `sink` that also feeds the dish view of `live`, turning what changed on the
 * dish (an alert raised or cleared, an update waiting for a reboot) into
 * `dish_alert` events.
 */
export function liveSink(
  sink: TelemetrySink,
  live: LiveState,
  event: (
    type: "dish_alert",
    fields: { member: string; from: string | null; to: string | null; reason: string },
  ) => void,
): TelemetrySink {
  return {
    ...sink,
    sample(obs, wallMs) {
      sink.sample(obs, wallMs);
      for (const c of live.sample(obs)) {
        if (c.kind === "alert") {
          event("dish_alert", {
            member: obs.member,
            from: null,
            to: c.what,
            reason: `dish alert raised: ${c.what}`,
          });
        } else if (c.kind === "alert_cleared") {
          event("dish_alert", {
            member: obs.member,
            from: c.what,
            to: null,
            reason: `dish alert cleared: ${c.what}`,
          });
        } else {
          event("dish_alert", {
            member: obs.member,
            from: null,
            to: "update_pending",
            reason: "dish software update downloaded; the dish reboots to install it",
          });
        }
      }
    },
  };
}

/**
 * Event texts for outages the dish recorded in its history. Outages that
 * started at or before `reportedUntilMs` (the newest start already reported)
 * are skipped: a collector rebuilt by a reload reads the dish's whole list
 * again. Backlog outages (from before anyone was watching; the dish keeps a
 * long list) become one summary line; the others get a line each. Returns the
 * lines and the new `reportedUntilMs`.
 */
export function dishOutageReasons(
  all: DishOutageRecord[],
  reportedUntilMs = -Infinity,
): { lines: string[]; reportedUntilMs: number } {
  const outages = all.filter((o) => o.start_unix_ms > reportedUntilMs);
  const until = outages.reduce((m, o) => Math.max(m, o.start_unix_ms), reportedUntilMs);
  const backlog = outages.filter((o) => o.backlog);
  const lines: string[] = [];
  if (backlog.length > 0) {
    const byCause = new Map<string, number>();
    let total = 0;
    for (const o of backlog) {
      byCause.set(o.cause, (byCause.get(o.cause) ?? 0) + 1);
      total += o.duration_s;
    }
    const causes = [...byCause].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([cause, n]) => `${cause} ${n}`).join(", ");
    const since = new Date(Math.min(...backlog.map((o) => o.start_unix_ms))).toISOString();
    const n = backlog.length;
    lines.push(
      `dish history before starfail was watching: ${n} outage${n === 1 ? "" : "s"} since ` +
        `${since} (${causes}), ${total.toFixed(1)} s in all`,
    );
  }
  for (const o of outages) {
    if (o.backlog) continue;
    const start = new Date(o.start_unix_ms).toISOString();
    const how = o.did_switch ? " (ended by a satellite switch)" : "";
    lines.push(`dish outage ${o.cause}: ${o.duration_s.toFixed(1)} s from ${start}${how}`);
  }
  return { lines, reportedUntilMs: until };
}

/**
 * Starts the daemon and resolves once it runs. Throws `ConfigError` for a bad
 * config (the CLI prints it and exits 78).
 */
export async function startDaemon(opts: DaemonOptions): Promise<DaemonHandle> {
  const clock = opts.clock ?? realClock;
  const run = opts.run ?? runCommand;
  let { config: cfg, warnings } = opts.preloaded ?? await loadConfig(opts.configPath);
  for (const w of warnings) log.warn(w);
  if (opts.logs !== undefined && !opts.logsForced) opts.logs.setLevel(cfg.main.log_level);

  const socket = opts.socket ?? (cfg.main.ubus_socket || undefined);
  const server = new UbusObjectServer({ ...(socket ? { socket } : {}), timeoutMs: 3000 });
  // A permission the build lacks is said as such, once per host or file, at start — never
  // "not reachable", never per event. Remote mode's own denials stop the start below
  // (RemotePermissionError, exit 77) with the same line, so they are not logged twice.
  const deniedSaid = new Set<string>();
  const sayDenials = (c: StarfailConfig, skipRemote: boolean) => {
    for (const d of sandboxDenials(c, server.socketPath)) {
      if (deniedSaid.has(d.line) || (skipRemote && d.option.startsWith("remote."))) continue;
      deniedSaid.add(d.line);
      log.error(d.line);
    }
  };
  sayDenials(cfg, cfg.remote.url !== "");

  // Remote mode: log in to the router before anything else, so wrong credentials stop the
  // start with one line (RemoteAuthError: the CLI exits 77).
  let remoteRouter: RemoteRouter | null = null;
  if (cfg.remote.url !== "") {
    remoteRouter = await openRemoteRouter(cfg.remote, (line) => log.warn(line));
    try {
      await remoteRouter.session.login();
      log.info("Logged in to the router", { url: cfg.remote.url, user: cfg.remote.username });
    } catch (err) {
      if (err instanceof RemoteAuthError) {
        await remoteRouter.close();
        throw err;
      }
      log.warn("Router not reachable at start; carrying on and retrying", {
        url: cfg.remote.url,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  const socketDenied = socketDenials(server.socketPath).length > 0;
  await server.start();
  try {
    await server.waitConnected(opts.ubusWaitMs ?? 2000);
  } catch {
    if (!socketDenied) {
      log.warn("ubus is not reachable; running without the ubus API and netifd events, retrying", {
        socket: server.socketPath,
      });
    }
  }

  let runtime: Runtime | null = null;
  const linkUp = new Map<string, boolean>();
  const urgentQueue: Observation[] = [];
  const urgent = (obs: Observation) => {
    if (obs.link_up !== undefined) linkUp.set(obs.member, obs.link_up);
    if (runtime === null) {
      urgentQueue.push(obs);
      return;
    }
    runtime.ingest([obs]);
    // A link that went down is a hard signal: decide now rather than at the next tick.
    if (obs.link_up === false) runtime.step();
    // A link that came back needs its routes again (route mode): reconcile at the next tick.
    if (obs.link_up === true) runtime.reconcileSoon();
  };
  // Survives config reloads, so a rebuilt dish collector does not take outages it
  // (re)reads from the dish's list for ones from before the daemon was watching.
  const dishHistory: DishHistoryState = { read: false };
  const router: Router = remoteRouter ??
    new LocalRouter({ ubus: () => (server.connected ? server : null), run });
  let asm = await assemble(cfg, opts, server, router, clock, urgent, linkUp, null, dishHistory);

  const store = new TelemetryStore({
    max_samples_per_member: cfg.main.max_samples_per_member,
    max_events: cfg.main.max_events,
    retention_hours: cfg.main.retention_hours,
    max_ram_mb: cfg.main.max_ram_mb,
  });
  const engineCfg = engineConfigFromConfig(cfg);
  const recordT0 = clock.now();
  const live = new LiveState();
  // Built once the backend exists; events before that (none are expected) reach no channel.
  let outbound: Outbound | null = null;
  const startedT = clock.now();
  const recorder = opts.recordPath
    ? new TraceRecorder(opts.recordPath, asm.members, recordT0, engineCfg)
    : null;

  const rt = new Runtime({
    clock,
    engine: engineCfg,
    members: asm.members,
    sources: asm.sources,
    applier: asm.applier,
    monitor: opts.monitor,
    ...(recorder !== null
      ? { record: (o: Observation) => recorder.record(o), recordTick: (t) => recorder.tick(t) }
      : {}),
    telemetry: alertingSink(
      liveSink(
        storeSink(store, linkUp),
        live,
        (type, fields) => runtime?.event(type, fields),
      ),
      server,
      new AlertTracker(),
    ),
  });
  runtime = rt;
  rt.ingest(urgentQueue.splice(0));
  rt.onEvent((ev) => {
    const kind = ev.type === "switch"
      ? rt.state.decisions.findLast((d) => d.t === ev.t && d.primary === ev.to)?.kind
      : undefined;
    const ubusEvent = ubusEventFor(ev, kind);
    if (ubusEvent !== null) publishEvent(server, ubusEvent);
    if (ev.type === "switch" && ev.from !== null) live.countSwitch(kind ?? "switch");
    outbound?.event(ev, kind);
  });
  let dishOutagesReportedUntil = -Infinity;
  const wireDish = (a: Assembly) => {
    const member = a.members.find((m) => m.class === "starlink")?.name ?? null;
    a.starlink?.onEvent((e) => {
      if (e.kind === "reboot") {
        // A reboot is news for the owner (often an update being installed): a dish alert.
        rt.event("dish_alert", { member, from: null, to: "reboot", reason: e.message });
        return;
      }
      rt.event(e.kind === "api_changed" ? "dish_api" : "collector", { member, reason: e.message });
    });
    // The dish's 1 Hz history (its own PoP ping drop rate and latency), each second once
    // (the cursor is shared across reloads): the engine uses it as the dish's view of its link.
    a.starlink?.onHistory((obs) => rt.ingest(obs));
    // The dish's own outage records (from its history): what it saw, even between polls.
    // A collector built by a reload reads the dish's whole list again; what an earlier
    // collector already reported is dropped here.
    a.starlink?.onOutage((outages) => {
      const out = dishOutageReasons(outages, dishOutagesReportedUntil);
      dishOutagesReportedUntil = out.reportedUntilMs;
      for (const reason of out.lines) rt.event("dish_outage", { member, reason });
    });
  };
  wireDish(asm);

  const backend = new DaemonBackend({
    runtime: rt,
    store,
    ifaces: () => Object.fromEntries(asm.members.map((m) => [m.name, m.iface])),
    collectorMember: (name) => asm.collectorMembers.get(name) ?? null,
    config: () => cfg,
    dryRun: () => opts.dryRun === true || cfg.main.dry_run,
    logLevel: () => opts.logs?.level() ?? cfg.main.log_level,
    setLogLevel: (level) => {
      if (isLevelName(level)) opts.logs?.setLevel(level);
    },
    recheck: () => rt.runAllSources(),
    socket: server.socketPath,
    configFile: opts.configPath,
    ramLimitMb: () => cfg.main.max_ram_mb,
    notifyTest: async (channel) => {
      if (outbound === null) return { results: [], message: "the daemon is still starting" };
      return await outbound.test(channel);
    },
  });
  const out = new Outbound(cfg, {
    status: async () => await backend.status(),
    live,
    dishMember: () => asm.members.find((m) => m.class === "starlink")?.name ?? null,
    record: (type, fields) => rt.event(type, fields),
    wallS: () => clock.wallMs() / 1000,
    stateIntervalMs: () => Math.max(1000, rt.engineConfig.poll_interval_ms),
  });
  outbound = out;
  await out.start();
  const methods = starfailMethods(backend);
  await server.addObject(STARFAIL_OBJECT, methods);
  let http: HttpEndpoint | null = null;
  const startHttp = async (c: StarfailConfig) => {
    if (!c.http.enabled) return;
    if (sectionDenials(c, "http").length > 0) {
      // Named with its fix by the startup check (and `config validate`).
      log.info("HTTP endpoint is off: this build does not allow listening on http.listen");
      return;
    }
    try {
      http = await startHttpEndpoint({
        listen: c.http.listen,
        table: methods,
        metrics: async () =>
          prometheusText({
            status: await backend.status(),
            switches: live.switches(),
            dish: live.dish,
            sends: live.sends(),
          }),
        health: () =>
          healthReport({
            now: clock.now(),
            lastStepT: rt.lastStepT,
            startedT,
            pollIntervalMs: rt.engineConfig.poll_interval_ms,
            collectors: rt.health(),
            primary: rt.state.primary,
          }),
      });
      log.info("HTTP endpoint listening", { url: http.url });
    } catch (err) {
      log.warn(err instanceof Error ? err.message : String(err));
    }
  };
  await startHttp(cfg);
  let httpListen: string | null = cfg.http.enabled ? cfg.http.listen : null;
  await asm.netifd?.start().catch((err) =>
    log.warn("Cannot listen for netifd events", { error: String(err) })
  );
  rt.start();
  log.info("Started", {
    members: asm.members.length,
    mode: asm.mode,
    poll_interval_ms: cfg.main.poll_interval_ms,
    socket: server.socketPath,
  });

  let stopped: Promise<void> | null = null;
  // Reloads (SIGHUP) and the late arrival of ubus rebuild the assembly one at a time.
  let rewiring: Promise<void> = Promise.resolve();
  const rewire = (reread: boolean, reason: string): Promise<void> => {
    const next = rewiring.then(async () => {
      if (reread) {
        const loaded = await loadConfig(opts.configPath);
        cfg = loaded.config;
        warnings = loaded.warnings;
        for (const w of warnings) log.warn(w);
        if (opts.logs !== undefined && !opts.logsForced) opts.logs.setLevel(cfg.main.log_level);
        // A host or file the reloaded config adds that the build does not allow: said once.
        sayDenials(cfg, false);
      }
      const built = await assemble(
        cfg,
        opts,
        server,
        router,
        clock,
        urgent,
        linkUp,
        asm.netifd,
        dishHistory,
      );
      if (stopped !== null) {
        // Stopped meanwhile: release what was just built instead of starting it.
        await Promise.all(built.sources.map((s) => s.close?.()));
        return;
      }
      const old = asm;
      asm = built;
      if (built.controller !== null && old.controller !== null) {
        built.controller.takeFoundFrom?.(old.controller);
      }
      if (reread) {
        await out.reconfigure(cfg);
        const wanted = cfg.http.enabled ? cfg.http.listen : null;
        if (wanted !== httpListen) {
          await (http as HttpEndpoint | null)?.close();
          http = null;
          await startHttp(cfg);
          httpListen = wanted;
        }
      }
      wireDish(built);
      rt.reload(engineConfigFromConfig(cfg), built.members, built.sources);
      rt.setApplier(built.applier);
      if (built.netifd !== null && built.netifd !== old.netifd) {
        await built.netifd.start().catch(() => undefined);
      }
      rt.event("config", { reason });
    });
    // A failed rebuild must not wedge the ones after it; the caller still sees the error.
    rewiring = next.catch(() => undefined);
    return next;
  };
  // Started without ubus (ubusd came up late): once it is there, wire the collectors that
  // need it (netifd events, iwinfo, the modem over ubus) and re-discover the members.
  // Later reconnects (ubusd restarted) keep the same collectors, which call through the
  // server and so follow the new connection by themselves.
  let wiringUbus = false;
  const wireLateUbus = () => {
    if (asm.withUbus || wiringUbus || stopped !== null) return;
    wiringUbus = true;
    setTimeout(() => {
      rewire(false, `ubus is up at ${server.socketPath}: netifd, iwinfo and modem collectors wired`)
        .catch((err) =>
          log.warn("Cannot wire the ubus collectors", {
            error: err instanceof Error ? err.message : String(err),
          })
        )
        .finally(() => {
          // Not wired (ubus went away again, or a failure): the next registration retries.
          wiringUbus = false;
        });
    }, 0);
  };
  server.onRegistered = wireLateUbus;
  // It may have connected while the first assembly was being built.
  if (server.connected) wireLateUbus();

  return {
    runtime: rt,
    backend,
    members: () => asm.members,
    recordT0: recorder === null ? null : recordT0,
    get mode() {
      return asm.mode;
    },
    ubus: () => server.registrations(),
    get http() {
      return http;
    },
    live,
    outbound: out,
    reload() {
      return rewire(true, `configuration reloaded from ${opts.configPath}`);
    },
    stop() {
      // Idempotent: a second call (signal during shutdown, cleanup code) waits for the first.
      stopped ??= (async () => {
        const t0 = performance.now();
        await rt.stop();
        await (http as HttpEndpoint | null)?.close();
        await out.stop();
        recorder?.close();
        if (cfg.main.restore_on_stop) {
          const restored = await asm.controller?.restore?.() ?? [];
          if (restored.length > 0) {
            log.warn("Restored what was found at start", { mode: asm.mode, restored });
          } else {
            log.info("Nothing to restore: routes and metrics are as found at start", {
              mode: asm.mode,
            });
          }
        } else {
          log.info("Keeping the current choice on stop (main.restore_on_stop 0)", {
            primary: rt.state.primary,
          });
        }
        await server.stop();
        await router.close();
        log.info("Stopped", { ms: Math.round(performance.now() - t0) });
      })();
      return stopped;
    },
  };
}
