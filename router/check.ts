/**
 * `starfail remote check`: logs in to the router and reports, item by item,
 * what remote mode needs, what the router allows, and what is missing.
 *
 * @module
 */

import { Status, UbusError } from "../ubus/protocol.ts";
import type { RemoteRouter } from "./remote.ts";
import type { SessionAcls } from "./rpc_session.ts";

/** One line of the report. */
export interface CheckItem {
  /** What was checked, e.g. `ubus network.interface dump`. */
  what: string;
  /** `ok`, `missing` (needed and not there), `optional` (not there, not needed), `warn`. */
  result: "ok" | "missing" | "optional" | "warn";
  /** What was found, and the fix when something is missing. */
  detail: string;
}

/** Whether rpcd's ACL patterns grant `scope`/`object`/`fn` (fnmatch `*`, `?`). */
export function aclGrants(acls: SessionAcls, scope: string, object: string, fn: string): boolean {
  const glob = (pattern: string, text: string) =>
    new RegExp(
      "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") +
        "$",
    ).test(text);
  for (const [obj, fns] of Object.entries(acls[scope] ?? {})) {
    if (glob(obj, object) && Array.isArray(fns) && fns.some((f) => glob(f, fn))) return true;
  }
  return false;
}

const FIX =
  "install scripts/openwrt/acl.d/starfail.json as /usr/share/rpcd/acl.d/starfail.json and restart rpcd (docs/remote.md)";

async function probeCall(
  router: RemoteRouter,
  what: string,
  object: string,
  method: string,
  args: Record<string, string>,
  needed: boolean,
  absent: string,
): Promise<CheckItem> {
  try {
    await router.call(object, method, args);
    return { what, result: "ok", detail: "allowed and answering" };
  } catch (err) {
    if (err instanceof UbusError && err.status === Status.NOT_FOUND) {
      return { what, result: needed ? "missing" : "optional", detail: absent };
    }
    if (err instanceof UbusError && err.status === Status.PERMISSION_DENIED) {
      return {
        what,
        result: needed ? "missing" : "warn",
        detail: `denied by the router's ACL; ${FIX}`,
      };
    }
    // The object is there and the ACL lets the call through; the method's own answer
    // (e.g. no such Wi-Fi device) is not the check's business.
    return { what, result: "ok", detail: `allowed (the call answered: ${(err as Error).message})` };
  }
}

/**
 * Runs every check against a router that is already logged in. The caller
 * logs in first (a refused login is its own one-line error, exit 77).
 */
export async function checkRouter(router: RemoteRouter): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const acls = router.session.acls;
  let iface = "wan";
  try {
    const dump = await router.call("network.interface", "dump", {});
    const list = Array.isArray(dump.interface) ? dump.interface : [];
    const first = list.find((i) =>
      i !== null && typeof i === "object" && !Array.isArray(i) && typeof i.interface === "string" &&
      i.interface !== "loopback"
    ) as { interface: string } | undefined;
    if (first !== undefined) iface = first.interface;
    items.push({
      what: "ubus network.interface dump",
      result: "ok",
      detail: `${list.length} interfaces (link changes are polled from it)`,
    });
  } catch (err) {
    items.push({
      what: "ubus network.interface dump",
      result: "missing",
      detail: err instanceof UbusError && err.status === Status.PERMISSION_DENIED
        ? `denied by the router's ACL; ${FIX}`
        : (err as Error).message,
    });
  }
  items.push(
    await probeCall(
      router,
      `ubus network.interface.${iface} status`,
      `network.interface.${iface}`,
      "status",
      {},
      true,
      `netifd has no interface ${iface}`,
    ),
  );
  items.push(
    await probeCall(
      router,
      "ubus mwan3 status",
      "mwan3",
      "status",
      {},
      false,
      "no mwan3 object (mwan3 not installed, or too old for ubus status); the controller then verifies the uci read-back alone",
    ),
  );
  items.push(
    await probeCall(
      router,
      "ubus iwinfo info",
      "iwinfo",
      "info",
      { device: "wlan0" },
      false,
      "no iwinfo object (rpcd-mod-iwinfo not installed): no Wi-Fi signal readings",
    ),
  );
  items.push(
    await probeCall(
      router,
      "ubus gsm.modem0 get_signal_query",
      "gsm.modem0",
      "get_signal_query",
      {},
      false,
      "no gsm.modem0 object (not RutOS, or no modem): no cellular signal readings",
    ),
  );
  // Probes: one ping on the router's loopback, in exactly the form the prober uses.
  const ping = await router.exec("ping", ["-n", "-c", "1", "-W", "1", "-I", "lo", "127.0.0.1"], {
    timeoutMs: 3000,
  });
  items.push(
    ping.code === 0
      ? {
        what: "file exec /bin/ping -I IFACE",
        result: "ok",
        detail: "probes can run out of each uplink",
      }
      : {
        what: "file exec /bin/ping -I IFACE",
        result: "missing",
        detail: ping.code === 126
          ? `denied by the router's ACL; ${FIX}`
          : `ping failed (exit ${ping.code}: ${
            (ping.stderr || ping.stdout).trim().split("\n")[0]
          })`,
      },
  );
  items.push(
    await probeCall(
      router,
      "uci get mwan3",
      "uci",
      "get",
      { config: "mwan3" },
      true,
      "no /etc/config/mwan3: install mwan3, or starfail makes decisions without applying them",
    ),
  );
  const writes = ["set", "apply", "confirm", "rollback"].filter((f) =>
    !aclGrants(acls, "ubus", "uci", f)
  );
  const uciWrite = aclGrants(acls, "uci", "mwan3", "write");
  items.push(
    writes.length === 0 && uciWrite
      ? {
        what: "uci write mwan3 (set, apply with rollback, confirm)",
        result: "ok",
        detail: "granted",
      }
      : {
        what: "uci write mwan3 (set, apply with rollback, confirm)",
        result: "missing",
        detail: `not granted (${
          [...writes.map((f) => `ubus uci ${f}`), ...(uciWrite ? [] : ["uci mwan3 write"])].join(
            ", ",
          )
        }); ${FIX}`,
      },
  );
  // What the login must not have.
  const shell = await router.session.call("file", "exec", {
    command: "/bin/sh",
    params: ["-c", "true"],
  })
    .then(() => true, () => false);
  items.push(
    shell
      ? {
        what: "no shell",
        result: "warn",
        detail:
          "this login may run /bin/sh through file exec: give starfail its own login with only the starfail ACL",
      }
      : { what: "no shell", result: "ok", detail: "file exec of /bin/sh is denied" },
  );
  const foreign = Object.keys(acls.uci ?? {}).filter((c) =>
    c !== "mwan3" && aclGrants(acls, "uci", c, "write")
  );
  items.push(
    foreign.length === 0
      ? {
        what: "no other config written",
        result: "ok",
        detail: "uci write is granted for mwan3 only",
      }
      : {
        what: "no other config written",
        result: "warn",
        detail: `this login may also write ${
          foreign.join(", ")
        }: give starfail its own login with only the starfail ACL`,
      },
  );
  return items;
}

/** The report as text: one line per item. */
export function formatCheck(items: CheckItem[]): string {
  const tag = { ok: "ok      ", missing: "MISSING ", optional: "absent  ", warn: "WARNING " };
  return items.map((i) => `${tag[i.result]}${i.what}: ${i.detail}`).join("\n");
}
