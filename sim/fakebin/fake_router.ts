/**
 * A throwaway "router" for tests and the demo: a temp dir with
 * `config/mwan3`, a uci save dir and the fake mwan3 state file, plus the
 * paths and environment that point the fake `uci` and `mwan3` at it.
 *
 * @module
 */

/** Path of the fake `uci` executable. */
export const FAKE_UCI = new URL("uci", import.meta.url).pathname;
/** Path of the fake `mwan3` executable. */
export const FAKE_MWAN3 = new URL("mwan3", import.meta.url).pathname;

/** One interface in the fake mwan3 state. */
export interface FakeInterfaceState {
  /** `online`, `offline`, `connecting`, … */
  status: string;
  /** `active` unless given. */
  tracking?: string;
  /** Seconds online. */
  online_s?: number;
  /** Seconds of netifd uptime. */
  uptime_s?: number;
}

/** A fake router on disk. */
export interface FakeRouter {
  /** The temp dir holding everything. */
  dir: string;
  /** Environment for the fake tools (`UCI_CONFDIR`, `UCI_SAVEDIR`, `FAKE_MWAN3_STATE`). */
  env: Record<string, string>;
  /** Path of the fake `uci`. */
  uciCommand: string;
  /** Path of the fake `mwan3`. */
  mwan3Command: string;
  /** Sets what mwan3's tracker says about an interface. */
  setInterface(name: string, state: FakeInterfaceState): Promise<void>;
  /** Commands the fake mwan3 received (`[["ifup", "wwan"], ["restart"]]`). */
  calls(): Promise<string[][]>;
  /** Removes the temp dir. */
  cleanup(): Promise<void>;
}

interface StateFile {
  interfaces: Record<string, FakeInterfaceState>;
  connected: { ipv4: string[]; ipv6: string[] };
  calls?: string[][];
}

/**
 * Creates a fake router from an mwan3 config file, with the named
 * interfaces online.
 *
 * @example
 * ```ts
 * const router = await createFakeRouter({ mwan3Config: "/tmp/mwan3.uci", online: ["wan", "wwan"] });
 * const ctl = new Mwan3Controller({ uciCommand: router.uciCommand, mwan3Command: router.mwan3Command, env: router.env });
 * ```
 */
export async function createFakeRouter(
  opts: { mwan3Config: string; online?: string[]; parentDir?: string },
): Promise<FakeRouter> {
  const dir = await Deno.makeTempDir({
    prefix: "starfail_router_",
    ...(opts.parentDir !== undefined ? { dir: opts.parentDir } : {}),
  });
  await Deno.mkdir(`${dir}/config`);
  await Deno.copyFile(opts.mwan3Config, `${dir}/config/mwan3`);
  const stateFile = `${dir}/mwan3_state.json`;
  const initial: StateFile = {
    interfaces: Object.fromEntries(
      (opts.online ?? []).map((
        i,
      ) => [i, { status: "online", tracking: "active", online_s: 60, uptime_s: 600 }]),
    ),
    connected: { ipv4: [], ipv6: [] },
  };
  await Deno.writeTextFile(stateFile, JSON.stringify(initial, null, 2));
  const read = async (): Promise<StateFile> => JSON.parse(await Deno.readTextFile(stateFile));
  return {
    dir,
    env: { UCI_CONFDIR: `${dir}/config`, UCI_SAVEDIR: `${dir}/save`, FAKE_MWAN3_STATE: stateFile },
    uciCommand: FAKE_UCI,
    mwan3Command: FAKE_MWAN3,
    async setInterface(name, state) {
      const s = await read();
      s.interfaces[name] = state;
      const tmp = `${stateFile}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify(s, null, 2));
      await Deno.rename(tmp, stateFile);
    },
    async calls() {
      return (await read()).calls ?? [];
    },
    cleanup() {
      return Deno.remove(dir, { recursive: true });
    },
  };
}
