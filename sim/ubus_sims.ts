/**
 * A simulated OpenWrt/RutOS router on ubus, for tests and the demo: netifd
 * (`network.interface.<name>` status, the `network.interface` object, and the
 * real `network.interface` ifup/ifdown events plus `interface.update` /
 * `interface.down` notifications), rpcd `iwinfo`, RutOS `gsm.modem0` and
 * `mwan3 status`. Every object is served by the production
 * {@linkcode UbusObjectServer} on whatever broker/ubusd the socket leads to,
 * and a scenario changes the state with the setters.
 *
 * Reply shapes follow the samples in `collectors/testdata/`.
 *
 * @module
 */

import * as v from "valibot";
import type { BlobmsgInput } from "../ubus/blob.ts";
import { UbusObjectServer } from "../ubus/object_server.ts";
import { ubusMethod } from "../ubus/object_server.ts";
import { Status, UbusError } from "../ubus/protocol.ts";

/** A simulated netifd interface. */
export interface SimInterfaceSpec {
  /** Logical name (`wan`, `wwan`, `mob1s1a1`). */
  name: string;
  /** Protocol (`dhcp`, `qmi`, `wwan`). */
  proto?: string;
  /** Layer-3 device when up (`eth1`, `wwan0`). */
  l3_device: string;
  /** IPv4 address when up. */
  address?: string;
  /** Default gateway when up. */
  gateway?: string;
  /** Interface metric. */
  metric?: number;
  /** Starts up (default true). */
  up?: boolean;
}

/** A simulated Wi-Fi device as `iwinfo info` reports it. */
export interface SimWifiSpec {
  /** Device (`wlan0`, `phy0-sta0`). */
  device: string;
  /** SSID. */
  ssid?: string;
  /** Signal dBm; undefined = not associated (keys dropped like rpcd does). */
  signal?: number;
  /** Noise dBm; 0 = unknown. */
  noise?: number;
  /** Bit rate kbit/s. */
  bitrate?: number;
}

/** A simulated RutOS modem. */
export interface SimCellularSpec {
  /** `LTE`, `5G-NSA`, … */
  net_mode: string;
  /** dBm. */
  rssi: number;
  /** dBm. */
  rsrp: number;
  /** dB. */
  rsrq: number;
  /** dB. */
  sinr: number;
  /** Operator name. */
  operator: string;
  /** `Registered, home` or `Roaming`. */
  reg_stat_str: string;
}

/** Options for {@linkcode RouterSim}. */
export interface RouterSimOptions {
  /** ubus socket to register on. */
  socket: string;
  /** Interfaces. */
  interfaces: SimInterfaceSpec[];
  /** Wi-Fi devices (registers `iwinfo` when non-empty). */
  wifi?: SimWifiSpec[];
  /** Modem (registers `gsm.modem0` when given). */
  cellular?: SimCellularSpec;
  /** Register `mwan3` (status derived from interface states by metric). */
  mwan3?: boolean;
  /** Seconds clock for uptimes (default: monotonic). */
  clock?: () => number;
}

interface IfaceState extends SimInterfaceSpec {
  up: boolean;
  upSince: number;
}

/**
 * The simulated router.
 *
 * @example
 * ```ts
 * const sim = new RouterSim({ socket, interfaces: [{ name: "wan", l3_device: "eth1" }] });
 * await sim.start();
 * await sim.setInterfaceUp("wan", false); // sends {"action":"ifdown","interface":"wan"}
 * await sim.stop();
 * ```
 */
export class RouterSim {
  #server: UbusObjectServer;
  #clock: () => number;
  #ifaces = new Map<string, IfaceState>();
  #wifi = new Map<string, SimWifiSpec>();
  #cellular?: SimCellularSpec;
  #opts: RouterSimOptions;

  /** Creates the simulator; nothing is registered until {@linkcode start}. */
  constructor(opts: RouterSimOptions) {
    this.#opts = opts;
    this.#server = new UbusObjectServer({ socket: opts.socket, reconnectMinMs: 50 });
    this.#clock = opts.clock ?? (() => performance.now() / 1000);
    for (const i of opts.interfaces) {
      this.#ifaces.set(i.name, { ...i, up: i.up ?? true, upSince: this.#clock() });
    }
    for (const w of opts.wifi ?? []) this.#wifi.set(w.device, { ...w });
    this.#cellular = opts.cellular ? { ...opts.cellular } : undefined;
  }

  /** Registers every object; resolves once registered. */
  async start(): Promise<void> {
    for (const name of this.#ifaces.keys()) {
      await this.#server.addObject(`network.interface.${name}`, {
        status: ubusMethod(v.object({}), () => this.interfaceStatus(name)),
        up: ubusMethod(v.object({}), async () => {
          await this.setInterfaceUp(name, true);
          return {};
        }),
        down: ubusMethod(v.object({}), async () => {
          await this.setInterfaceUp(name, false);
          return {};
        }),
      });
    }
    await this.#server.addObject("network.interface", {
      dump: ubusMethod(v.object({}), () => ({
        interface: [...this.#ifaces.keys()].map((n) => ({
          interface: n,
          ...this.interfaceStatus(n),
        })),
      })),
      status: ubusMethod(v.object({ interface: v.string() }), (a) => {
        if (!this.#ifaces.has(a.interface)) throw new UbusError(Status.NOT_FOUND);
        return this.interfaceStatus(a.interface);
      }),
    });
    if (this.#wifi.size > 0) {
      await this.#server.addObject("iwinfo", {
        devices: ubusMethod(v.object({}), () => ({ devices: [...this.#wifi.keys()] })),
        info: ubusMethod(v.object({ device: v.string() }), (a) => {
          const w = this.#wifi.get(a.device);
          if (!w) throw new UbusError(Status.NOT_FOUND);
          return this.#iwinfo(w);
        }),
      });
    }
    if (this.#cellular) {
      await this.#server.addObject("gsm.modem0", {
        get_signal_query: ubusMethod(v.object({}), () => {
          const c = this.#cellular!;
          return { net_mode: c.net_mode, rssi: c.rssi, rsrp: c.rsrp, sinr: c.sinr, rsrq: c.rsrq };
        }),
        info: ubusMethod(v.object({}), () => {
          const c = this.#cellular!;
          return {
            model: "RG520N-EB",
            manuf: "Quectel",
            cache: {
              rssi_value: c.rssi,
              rsrp_value: c.rsrp,
              rsrq_value: c.rsrq,
              sinr_value: c.sinr,
              provider_name: c.operator,
              operator: c.operator,
              net_mode_str: c.net_mode,
              reg_stat_str: c.reg_stat_str,
            },
          };
        }),
      });
    }
    if (this.#opts.mwan3) {
      await this.#server.addObject("mwan3", {
        status: ubusMethod(
          v.object({ section: v.optional(v.string()), interface: v.optional(v.string()) }),
          () => this.#mwan3Status(),
        ),
      });
    }
    if (!(await this.#server.start())) await this.#server.waitConnected(5000);
  }

  /** Unregisters everything. */
  async stop(): Promise<void> {
    await this.#server.stop();
  }

  /** The `network.interface.<name> status` reply for the current state. */
  interfaceStatus(name: string): Record<string, unknown> {
    const i = this.#ifaces.get(name);
    if (!i) throw new UbusError(Status.NOT_FOUND);
    const base = {
      up: i.up,
      pending: false,
      available: true,
      autostart: true,
      dynamic: false,
    };
    if (!i.up) return { ...base, proto: i.proto ?? "dhcp", device: i.l3_device, data: {} };
    const address = i.address ?? "10.0.0.2";
    return {
      ...base,
      uptime: Math.max(0, Math.floor(this.#clock() - i.upSince)),
      l3_device: i.l3_device,
      proto: i.proto ?? "dhcp",
      device: i.l3_device,
      metric: i.metric ?? 0,
      dns_metric: 0,
      delegation: true,
      "ipv4-address": [{ address, mask: 24 }],
      "ipv6-address": [],
      "ipv6-prefix": [],
      "ipv6-prefix-assignment": [],
      route: i.gateway
        ? [{ target: "0.0.0.0", mask: 0, nexthop: i.gateway, source: `${address}/32` }]
        : [],
      "dns-server": i.gateway ? [i.gateway] : [],
      "dns-search": [],
      neighbors: [],
      inactive: {
        "ipv4-address": [],
        "ipv6-address": [],
        route: [],
        "dns-server": [],
        "dns-search": [],
        neighbors: [],
      },
      data: {},
    };
  }

  /**
   * Brings an interface up or down the way netifd announces it: the
   * `network.interface` event `{action, interface}` and the
   * `interface.update`/`interface.down` notification on `network.interface`.
   */
  async setInterfaceUp(name: string, up: boolean): Promise<void> {
    const i = this.#ifaces.get(name);
    if (!i) throw new Error(`no simulated interface '${name}'`);
    if (i.up === up) return;
    i.up = up;
    if (up) i.upSince = this.#clock();
    await this.#server.notify(
      "network.interface",
      up ? "interface.update" : "interface.down",
      { interface: name, ...this.interfaceStatus(name) } as { [key: string]: BlobmsgInput },
    );
    await this.#server.sendEvent("network.interface", {
      action: up ? "ifup" : "ifdown",
      interface: name,
    });
  }

  /** Changes a Wi-Fi device's radio values. */
  setWifi(device: string, patch: Partial<SimWifiSpec>): void {
    const w = this.#wifi.get(device);
    if (!w) throw new Error(`no simulated Wi-Fi device '${device}'`);
    Object.assign(w, patch);
  }

  /** Changes the modem's values. */
  setCellular(patch: Partial<SimCellularSpec>): void {
    if (!this.#cellular) throw new Error("no simulated modem");
    Object.assign(this.#cellular, patch);
  }

  #iwinfo(w: SimWifiSpec): Record<string, unknown> {
    const out: Record<string, unknown> = {
      phy: "phy0",
      ssid: w.ssid ?? "campground",
      bssid: "00:11:22:33:44:55",
      country: "US",
      mode: "Client",
      channel: 36,
      frequency: 5180,
      txpower: 20,
      noise: w.noise ?? 0,
    };
    if (w.signal !== undefined) {
      out.signal = w.signal;
      out.quality = Math.min(70, Math.max(0, Math.min(-40, Math.max(-110, w.signal)) + 110));
      out.quality_max = 70;
      out.bitrate = w.bitrate ?? 65000;
    }
    return out;
  }

  #mwan3Status(): Record<string, unknown> {
    const interfaces: Record<string, unknown> = {};
    const now = this.#clock();
    for (const i of this.#ifaces.values()) {
      const up = Math.max(0, Math.floor(now - i.upSince));
      interfaces[i.name] = {
        age: 1,
        online: i.up ? up : 0,
        offline: i.up ? 0 : up,
        uptime: i.up ? up : 0,
        score: i.up ? 10 : 0,
        lost: 0,
        turn: 1,
        status: i.up ? "online" : "offline",
        enabled: true,
        running: i.up,
        tracking: i.up ? "active" : "down",
        up: i.up,
        track_ip: [{ ip: "1.1.1.1", status: i.up ? "up" : "down", latency: 0, packetloss: 0 }],
      };
    }
    const online = [...this.#ifaces.values()].filter((i) => i.up)
      .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
    return {
      interfaces,
      connected: { ipv4: [], ipv6: [] },
      policies: {
        ipv4: { failover: online.length > 0 ? [{ interface: online[0].name, percent: 100 }] : [] },
        ipv6: {},
      },
    };
  }
}
