/**
 * A router made of OpenWrt's real ubusd, rpcd and uhttpd (built from
 * `../shared/openwrt`), in a private mount namespace of its own:
 *
 * - `/etc` is an overlay whose upper layer holds `config/` (rpcd logins,
 *   mwan3 …): what rpcd writes lands in `DIR/etc_up/config`, where the
 *   test reads it back with the real `uci -c`;
 * - the OpenWrt prefix is an overlay adding `share/rpcd/acl.d/*.json` (the
 *   ACL under test) and `libexec/rpcd/NAME` exec plugins standing in for
 *   netifd, iwinfo and mwan3 (they print files under `DIR/data`, which the
 *   test may rewrite at any time);
 * - `/run` is a tmpfs (rpcd's per-session uci change sets).
 *
 * The namespace is held by one `sleep` started with `unshare -m`; the
 * daemons enter it with `nsenter`, so rpcd and uhttpd can be killed and
 * started again (a router restart: every session gone).
 *
 * @module
 */

import { OPENWRT } from "../require.ts";

/** What the router holds. */
export interface RpcdRouterOptions {
  /** ACL files by name (`starfail.json` → content). `unauthenticated.json` is always added. */
  acls: Record<string, string>;
  /**
   * Exec plugins by ubus object name → signature (method → argument types);
   * `call METHOD` prints `DATA/<object>.<method>.json` ({@linkcode catPlugin}).
   */
  plugins: Record<string, Record<string, Record<string, string>>>;
  /** Files of /etc/config by name. */
  configs: Record<string, string>;
  /** Files under DIR/data by name (what the plugins print). */
  data?: Record<string, string>;
}

/** A running router. */
export interface RpcdRouter {
  /** The JSON-RPC endpoint, `http://127.0.0.1:PORT/ubus`. */
  url: string;
  /** Its temporary folder. */
  dir: string;
  /** The router's /etc/config as the host sees it. */
  configDir: string;
  /** DIR/data (the plugins' outputs). */
  dataDir: string;
  /** Runs the real `uci -c CONFIGDIR ARGS…` and returns its stdout (throws on failure). */
  uci(...args: string[]): Promise<string>;
  /** Kills rpcd and uhttpd (sessions gone), leaving ubusd. */
  down(): Promise<void>;
  /** Starts rpcd and uhttpd again. */
  up(): Promise<void>;
  /** Stops everything and removes the folder. */
  stop(): Promise<void>;
}

const UNAUTHENTICATED = JSON.stringify({
  unauthenticated: {
    description: "Access controls for unauthenticated requests (rpcd's own unauthenticated.json)",
    read: { ubus: { session: ["access", "login"] } },
  },
});

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

/** An md5-crypt (`$1$`) hash of `password`, as rpcd's `crypt()` checks it (openssl). */
export async function cryptHash(password: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["passwd", "-1", "-stdin"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = out.stdin.getWriter();
  await w.write(new TextEncoder().encode(password + "\n"));
  await w.close();
  const r = await out.output();
  if (r.code !== 0) throw new Error(`openssl passwd failed: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout).trim();
}

function kill(p: Deno.ChildProcess | null): Promise<void> {
  if (p === null) return Promise.resolve();
  try {
    p.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  return p.status.then(() => undefined);
}

/** Starts ubusd, rpcd and uhttpd in a private mount namespace. */
export async function startRpcdRouter(opts: RpcdRouterOptions): Promise<RpcdRouter> {
  const dir = await Deno.makeTempDir({ prefix: `starfail-rpcd-${Deno.pid}-` });
  const etcUp = `${dir}/etc_up`;
  const configDir = `${etcUp}/config`;
  const owUp = `${dir}/ow_up`;
  const dataDir = `${dir}/data`;
  for (
    const d of [
      configDir,
      `${dir}/etc_work`,
      `${owUp}/share/rpcd/acl.d`,
      `${owUp}/libexec/rpcd`,
      `${dir}/ow_work`,
      dataDir,
      `${dir}/www`,
    ]
  ) {
    await Deno.mkdir(d, { recursive: true });
  }
  for (const [name, text] of Object.entries(opts.configs)) {
    await Deno.writeTextFile(`${configDir}/${name}`, text);
  }
  for (
    const [name, text] of Object.entries({ "unauthenticated.json": UNAUTHENTICATED, ...opts.acls })
  ) {
    await Deno.writeTextFile(`${owUp}/share/rpcd/acl.d/${name}`, text);
  }
  for (const [name, signature] of Object.entries(opts.plugins)) {
    await Deno.writeTextFile(`${owUp}/libexec/rpcd/${name}`, catPlugin(name, signature, dataDir), {
      mode: 0o755,
    });
  }
  for (const [name, text] of Object.entries(opts.data ?? {})) {
    await Deno.writeTextFile(`${dataDir}/${name}`, text);
  }
  const mounts = [
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${etcUp},workdir=${dir}/etc_work /etc`,
    `mount -t overlay overlay -o lowerdir=${OPENWRT.prefix},upperdir=${owUp},workdir=${dir}/ow_work ${OPENWRT.prefix}`,
    "mount -t tmpfs tmpfs /run",
    // uci's staging folder (rpcd's sessions stage changes there): the router's own, not the host's.
    "mkdir -p /tmp/.uci",
    "mount -t tmpfs tmpfs /tmp/.uci",
    "echo ready",
    "exec sleep 86400",
  ].join(" && ");
  const holder = new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", "sh", "-c", mounts],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = await Promise.race([
    reader.read(),
    new Promise<null>((r) => setTimeout(() => r(null), 5000)),
  ]);
  reader.releaseLock();
  if (first === null || first.done || !new TextDecoder().decode(first.value).includes("ready")) {
    await kill(holder);
    const err = new TextDecoder().decode(
      (await holder.stderr.getReader().read()).value ?? new Uint8Array(),
    );
    throw new Error(`could not set up the router's mount namespace: ${err.trim()}`);
  }
  const socket = `${dir}/ubus.sock`;
  const port = freePort();
  const enter = (cmd: string, args: string[], env: Record<string, string> = {}) =>
    new Deno.Command("nsenter", {
      args: ["-t", String(holder.pid), "-m", "--", cmd, ...args],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
  const ubusd = enter(OPENWRT.ubusd, ["-s", socket]);
  await waitFor(async () => {
    try {
      (await Deno.connect({ transport: "unix", path: socket })).close();
      return true;
    } catch {
      return false;
    }
  }, "ubusd");
  let rpcd: Deno.ChildProcess | null = null;
  let uhttpd: Deno.ChildProcess | null = null;
  const url = `http://127.0.0.1:${port}/ubus`;
  const up = async () => {
    rpcd = enter(OPENWRT.rpcd, ["-s", socket, "-t", "10"]);
    // rpcd's objects on the bus (session, uci, file and every exec plugin), as the real ubus
    // CLI lists them: rpcd registers the plugins after its own objects.
    for (const object of ["session", "uci", "file", ...Object.keys(opts.plugins)]) {
      await waitFor(async () => {
        const r = await new Deno.Command(OPENWRT.ubus, {
          args: ["-s", socket, "-t", "1", "list", object],
          stdout: "null",
          stderr: "null",
        }).output();
        return r.code === 0;
      }, `rpcd's ${object} object`);
    }
    uhttpd = enter(OPENWRT.uhttpd, [
      "-f",
      "-p",
      `127.0.0.1:${port}`,
      "-h",
      `${dir}/www`,
      "-u",
      "/ubus",
      "-U",
      socket,
    ], { LD_LIBRARY_PATH: OPENWRT.lib });
    await waitFor(async () => {
      try {
        const res = await fetch(url, {
          method: "POST",
          body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "list", params: [] }),
          signal: AbortSignal.timeout(500),
        });
        await res.body?.cancel();
        return true;
      } catch {
        return false;
      }
    }, "uhttpd");
  };
  const down = async () => {
    await Promise.all([kill(uhttpd), kill(rpcd)]);
    uhttpd = null;
    rpcd = null;
  };
  try {
    await up();
  } catch (err) {
    await down();
    await kill(ubusd);
    await kill(holder);
    await holder.stderr.cancel().catch(() => undefined);
    throw err;
  }
  return {
    url,
    dir,
    configDir,
    dataDir,
    async uci(...args: string[]) {
      const r = await new Deno.Command(OPENWRT.uci, {
        args: ["-c", configDir, "-t", `${dir}/uci_save`, ...args],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(5000),
      }).output();
      if (r.code !== 0) {
        throw new Error(`uci ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`);
      }
      return new TextDecoder().decode(r.stdout);
    },
    down,
    up,
    async stop() {
      await down();
      await kill(ubusd);
      await kill(holder);
      await holder.stderr.cancel().catch(() => undefined);
      await holder.stdout.cancel().catch(() => undefined);
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
  };
}

/**
 * An rpcd exec plugin: `list` prints `signature` (method → argument
 * types); `call METHOD` prints the file `DATA/<object>.<method>.json`.
 */
export function catPlugin(
  object: string,
  signature: Record<string, Record<string, string>>,
  dataDir: string,
): string {
  return [
    "#!/bin/sh",
    `case "$1" in`,
    `  list) echo '${JSON.stringify(signature)}' ;;`,
    `  call) cat "${dataDir}/${object}.$2.json" ;;`,
    "esac",
    "",
  ].join("\n");
}
