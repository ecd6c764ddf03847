// xdp-shield: block/allow lists (IPv4 and IPv6 LPM tries) and per-source rate limits for SYNs and
// for all packets, in an XDP program, with per-rule and per-action counters.
//
//   using shield = XdpShield.open('eth0', { block: ['198.51.100.0/24'], synRate: 100 });
//   shield.block('2001:db8::/32');             // takes effect at once
//   console.log(shield.actions(), shield.rules());
//
// The rule and counter maps are pinned under /sys/fs/bpf/tsbpf/xdp-shield/<iface>/ while it runs, so
// another process changes the rules with ShieldControl.open(iface) (`tsbpf xdp-shield IFACE block
// CIDR`). close() detaches and unpins; pin() pins the link too, so the shield stays attached after
// the process exits (ShieldControl.stop(iface) removes it).
import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Collection } from '../../kernel/collection.js';
import type { Link } from '../../link/link.js';
import { attachXdp, ifindex, XdpFlags } from '../../link/net.js';
import { attachXdpNetlink, type XdpMode } from '../../link/netlink.js';
import { BpfMap } from '../../maps/map.js';
import { lpmKey, u32, u64n, type Codec, type LpmKey } from '../../maps/codec.js';
import { ensureBpffs } from '../../sys/mounts.js';
import { onCleanup } from '../../sys/cleanup.js';
import { Errno, SyscallError } from '../../sys/errors.js';
import { loadTool, kernelIds } from '../common/runtime.js';
import { Ownership } from '../common/owner.js';
import { packetCounter, type PacketCounter } from '../common/counter.js';
import { TOOL, inspectShield, leftovers, removeLeftovers, shieldAttached, whoLeft } from './leftovers.js';
import { parseCidr, formatCidr, type Cidr } from './cidr.js';

export { parseCidr, formatCidr, CidrError, type Cidr } from './cidr.js';

/** Index of action_stats (enum shield_action in xdp-shield.h). */
export const ACTIONS = ['pass', 'allow', 'arp', 'other', 'block', 'syn-rate', 'pps-rate', 'malformed'] as const;
export type ShieldAction = (typeof ACTIONS)[number];
export const DROP_ACTIONS: readonly ShieldAction[] = ['block', 'syn-rate', 'pps-rate'];

const MAX_RULES = 4096;
/** highest rate the kernel arithmetic takes without overflow (packets/s) */
export const MAX_RATE = 100_000_000;

export type Counter = PacketCounter;

export interface Rule extends Counter {
  id: number;
  kind: 'allow' | 'block';
  cidr: string;
}

export interface ShieldConfig {
  /** TCP SYNs per second per source (0: off) */
  synRate: number;
  synBurst: number;
  /** packets per second per source (0: off) */
  ppsRate: number;
  ppsBurst: number;
}

export interface ShieldOptions {
  block?: string[];
  allow?: string[];
  synRate?: number;
  ppsRate?: number;
  /** bucket depth in packets; default: one second's worth of the rate */
  synBurst?: number;
  ppsBurst?: number;
  /** XDP mode: generic (skb), native (driver) or auto (native where the driver has it) */
  mode?: XdpMode;
  /** attach by netlink (IFLA_XDP) instead of a bpf_link (kernels before 5.9) */
  netlink?: boolean;
  /** pin directory (default /sys/fs/bpf/tsbpf/xdp-shield/<iface>) */
  pinDir?: string;
  /** told what an earlier shield, killed before it could undo it, left on the interface (it is removed) */
  report?: (line: string) => void;
}

/**
 * struct shield_config: the rates, how many rules each list holds (an empty list is not looked up),
 * and the generation of the rules and rates: the program caches per CPU what it decided of a source
 * under one generation, so every write of the config gives it a new one.
 */
interface RawConfig extends ShieldConfig {
  counts: [allow4: number, allow6: number, block4: number, block6: number];
}

/**
 * A generation no other write is likely to pick: random rather than counted, so two processes
 * changing rules at once (each reading the same value and writing its successor) cannot leave the
 * value a cache entry was filled under in place after the second change. Never 0 (the program
 * treats 0 as "cache nothing").
 */
function newGeneration(): number {
  return (Math.floor(Math.random() * 0xffffffff) >>> 0) || 1;
}

const configCodec: Codec<RawConfig> = {
  size: 56,
  decode: (v, o) => ({
    synRate: u64n.decode(v, o), synBurst: u64n.decode(v, o + 8), ppsRate: u64n.decode(v, o + 16), ppsBurst: u64n.decode(v, o + 24),
    counts: [v.getUint32(o + 32, true), v.getUint32(o + 36, true), v.getUint32(o + 40, true), v.getUint32(o + 44, true)],
  }),
  encode: (x, v, o) => {
    u64n.encode(x.synRate, v, o);
    u64n.encode(x.synBurst, v, o + 8);
    u64n.encode(x.ppsRate, v, o + 16);
    u64n.encode(x.ppsBurst, v, o + 24);
    x.counts.forEach((n, i) => v.setUint32(o + 32 + i * 4, n, true));
    v.setUint32(o + 48, newGeneration(), true);
    v.setUint32(o + 52, 0, true);
  },
};

const MAP_NAMES = ['allow4', 'allow6', 'block4', 'block6', 'rule_stats', 'action_stats', 'shield_cfg'] as const;
type MapName = (typeof MAP_NAMES)[number];

export function defaultPinDir(iface: string): string {
  return join(ensureBpffs(), 'tsbpf', 'xdp-shield', iface);
}

function checkRate(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0 || v > MAX_RATE) throw new RangeError(`invalid ${name}: ${v} (0..${MAX_RATE} packets/s)`);
  return v;
}

/** The shield's rules, counters and config, over maps of a loaded object or pinned ones. */
export class ShieldMaps {
  private readonly tries: Record<'allow4' | 'allow6' | 'block4' | 'block6', BpfMap<LpmKey, number>>;
  private readonly ruleStats: BpfMap<number, Counter>;
  private readonly actionStats: BpfMap<number, Counter>;
  private readonly cfg: BpfMap<number, RawConfig>;

  constructor(raw: Record<MapName, BpfMap<any, any>>) {
    this.tries = {
      allow4: raw.allow4.as(lpmKey(4), u32),
      allow6: raw.allow6.as(lpmKey(16), u32),
      block4: raw.block4.as(lpmKey(4), u32),
      block6: raw.block6.as(lpmKey(16), u32),
    };
    this.ruleStats = raw.rule_stats.as(u32, packetCounter);
    this.actionStats = raw.action_stats.as(u32, packetCounter);
    this.cfg = raw.shield_cfg.as(u32, configCodec);
  }

  private trie(kind: 'allow' | 'block', c: Cidr): BpfMap<LpmKey, number> {
    return this.tries[`${kind}${c.family}`];
  }

  private usedIds(): Set<number> {
    const used = new Set<number>();
    for (const t of Object.values(this.tries)) for (const id of t.values()) used.add(id);
    return used;
  }

  /** Add an allow or block rule (a no-op if the same prefix is already there); returns it. */
  add(kind: 'allow' | 'block', cidr: string | Cidr): Rule {
    const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
    const t = this.trie(kind, c);
    const key = { prefixLen: c.prefixLen, data: c.addr };
    const existing = t.get(key);
    if (existing !== undefined) return this.rule(kind, c, existing);
    const used = this.usedIds();
    let id = 0;
    while (used.has(id)) id++;
    if (id >= MAX_RULES) throw new RangeError(`xdp-shield: at most ${MAX_RULES} rules`);
    this.ruleStats.setPerCpu(id, { packets: 0, bytes: 0 });
    t.set(key, id);
    this.refreshCounts();
    return this.rule(kind, c, id);
  }

  /** Remove a rule by its prefix; false if there was none. */
  remove(kind: 'allow' | 'block', cidr: string | Cidr): boolean {
    const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
    const removed = this.trie(kind, c).delete({ prefixLen: c.prefixLen, data: c.addr });
    this.refreshCounts();
    return removed;
  }

  /**
   * Recount the lists into the config (the program skips empty ones). Counted from the tries, so
   * two processes changing rules at once still converge on the right numbers; a list's count goes
   * up only after its entry is in, and down only after it is out.
   */
  private refreshCounts(): void {
    const n = (m: BpfMap<LpmKey, number>): number => {
      let k = 0;
      for (const _ of m.keys()) k++;
      return k;
    };
    const cur = this.rawConfig();
    this.writeConfig({ ...cur, counts: [n(this.tries.allow4), n(this.tries.allow6), n(this.tries.block4), n(this.tries.block6)] });
  }

  /**
   * Write the config, twice: a map update is a copy the program may read half-done, and a packet
   * that read the new generation with an old rule count or rate would cache a verdict under that
   * generation until the next change. The second write changes only the generation (every write
   * makes a new one), so whatever was cached during the first is dropped.
   */
  private writeConfig(c: RawConfig): void {
    this.cfg.set(0, c);
    this.cfg.set(0, c);
  }

  private rawConfig(): RawConfig {
    return this.cfg.get(0) ?? { synRate: 0, synBurst: 0, ppsRate: 0, ppsBurst: 0, counts: [0, 0, 0, 0] };
  }

  private counter(map: BpfMap<number, Counter>, idx: number): Counter {
    const sum = { packets: 0, bytes: 0 };
    for (const v of map.getPerCpu(idx) ?? []) {
      sum.packets += v.packets;
      sum.bytes += v.bytes;
    }
    return sum;
  }

  private rule(kind: 'allow' | 'block', c: Cidr, id: number): Rule {
    return { id, kind, cidr: formatCidr(c), ...this.counter(this.ruleStats, id) };
  }

  /** Every rule with its counters, allow rules first. */
  rules(): Rule[] {
    const out: Rule[] = [];
    for (const kind of ['allow', 'block'] as const) {
      for (const fam of [4, 6] as const) {
        for (const [k, id] of this.tries[`${kind}${fam}`].entries()) out.push(this.rule(kind, { family: fam, addr: k.data, prefixLen: k.prefixLen }, id));
      }
    }
    return out;
  }

  /** Packets and bytes per action, summed over CPUs. */
  actions(): Record<ShieldAction, Counter> {
    const out = {} as Record<ShieldAction, Counter>;
    ACTIONS.forEach((a, i) => (out[a] = this.counter(this.actionStats, i)));
    return out;
  }

  get config(): ShieldConfig {
    const { counts: _counts, ...c } = this.rawConfig();
    return c;
  }

  setConfig(c: Partial<ShieldConfig>): void {
    const cur = this.config;
    const synRate = checkRate('SYN rate', c.synRate ?? cur.synRate);
    const ppsRate = checkRate('packet rate', c.ppsRate ?? cur.ppsRate);
    const burst = (b: number | undefined, rate: number, name: string): number => {
      const v = b ?? Math.max(1, rate);
      if (!Number.isInteger(v) || v < 1 || v > 1e9) throw new RangeError(`invalid ${name} burst: ${v}`);
      return v;
    };
    this.writeConfig({
      counts: this.rawConfig().counts,
      synRate,
      synBurst: burst(c.synBurst ?? (c.synRate !== undefined ? undefined : cur.synBurst || undefined), synRate, 'SYN'),
      ppsRate,
      ppsBurst: burst(c.ppsBurst ?? (c.ppsRate !== undefined ? undefined : cur.ppsBurst || undefined), ppsRate, 'packet'),
    });
  }

  close(): void {
    for (const m of [...Object.values(this.tries), this.ruleStats, this.actionStats, this.cfg]) m.close();
  }
}

export class XdpShield {
  private closed = false;
  private unpin: (() => void) | undefined;
  private owner: Ownership<unknown> | undefined;
  /** shared with the exit-time unpin action, which leaves a pinned shield in place */
  private state = { pinned: false };

  private constructor(
    readonly iface: string,
    private readonly coll: Collection,
    readonly maps: ShieldMaps,
    private readonly link: Link,
    readonly pinDir: string,
  ) {}

  /** Load, set rules and rates, pin the maps, attach. Nothing stays attached or pinned on failure. */
  static async open(iface: string, o: ShieldOptions = {}): Promise<XdpShield> {
    ifindex(iface); // a clear error for an unknown interface before anything is loaded
    const allow = (o.allow ?? []).map(parseCidr);
    const block = (o.block ?? []).map(parseCidr);
    const synRate = checkRate('SYN rate', o.synRate);
    const ppsRate = checkRate('packet rate', o.ppsRate);
    const dir = o.pinDir ?? defaultPinDir(iface);
    const found = inspectShield(iface, dir);
    const control = `change its rules with \`tsbpf xdp-shield ${iface} block CIDR\``;
    if (found.running) throw new Error(`xdp-shield: a shield already runs on ${iface} (pid ${found.owner!.pid}); ${control}`);
    if (found.pinnedLink && shieldAttached(found)) throw new Error(`xdp-shield: a pinned shield is attached to ${iface}; ${control}, or remove it with \`tsbpf xdp-shield ${iface} stop\``);
    if (found.prog?.shield && !found.prog.netlink) throw new Error(`xdp-shield: another process holds a shield's bpf_link on ${iface} (program ${found.prog.id})`);
    const left = leftovers(found);
    if (left.length) {
      o.report?.(`found what ${whoLeft(found)} left on ${iface}: ${left.join(', ')}; removing it`);
      removeLeftovers(found);
    }
    const owner = new Ownership(TOOL, iface, {});
    let coll: Collection | undefined;
    let link: Link | undefined;
    let unpin: (() => void) | undefined;
    try {
      const c = (coll = await loadTool('xdp-shield'));
      const raw = Object.fromEntries(MAP_NAMES.map((n) => [n, c.map(n)])) as Record<MapName, BpfMap<any, any>>;
      const maps = new ShieldMaps(raw);
      maps.setConfig({ synRate, ppsRate, synBurst: o.synBurst, ppsBurst: o.ppsBurst });
      for (const c of allow) maps.add('allow', c);
      for (const c of block) maps.add('block', c);
      mkdirSync(dir, { recursive: true });
      const state = { pinned: false };
      unpin = onCleanup(`unpin ${dir}`, () => {
        if (!state.pinned) {
          rmSync(dir, { recursive: true, force: true });
          // the tool's folders above it (tsbpf/xdp-shield) go too once nothing else is pinned there
          const ours = join(ensureBpffs(), 'tsbpf');
          for (let d = dirname(dir); d === ours || d.startsWith(`${ours}/`); d = dirname(d)) {
            try {
              rmdirSync(d);
            } catch {
              break; // not empty: another interface's pins, or the user's
            }
          }
        }
      });
      for (const n of MAP_NAMES) raw[n].pin(join(dir, n));
      const prog = c.program('xdp_shield');
      const mode = o.mode ?? 'auto';
      if (o.netlink) {
        link = attachXdpNetlink(prog, iface, { mode });
      } else {
        try {
          link = attachXdp(prog, iface, { flags: mode === 'generic' ? XdpFlags.SKB_MODE : mode === 'native' ? XdpFlags.DRV_MODE : 0 });
        } catch (e) {
          // kernels before 5.9 have no XDP bpf_link (BPF_LINK_CREATE says EINVAL): netlink then
          if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) throw e;
          link = attachXdpNetlink(prog, iface, { mode });
        }
      }
      const s = new XdpShield(iface, c, maps, link, dir);
      s.unpin = unpin;
      s.state = state;
      s.owner = owner;
      return s;
    } catch (e) {
      link?.close();
      unpin?.();
      coll?.close();
      owner.release();
      throw e;
    }
  }

  block(cidr: string): Rule {
    return this.maps.add('block', cidr);
  }
  unblock(cidr: string): boolean {
    return this.maps.remove('block', cidr);
  }
  allow(cidr: string): Rule {
    return this.maps.add('allow', cidr);
  }
  disallow(cidr: string): boolean {
    return this.maps.remove('allow', cidr);
  }
  rules(): Rule[] {
    return this.maps.rules();
  }
  actions(): Record<ShieldAction, Counter> {
    return this.maps.actions();
  }

  /** Kernel ids of the program and maps (tests check they are gone after close()). */
  kernelIds(): { programs: number[]; maps: number[] } {
    return kernelIds(this.coll);
  }

  /** How it is attached: "xdp IFACE" (bpf_link) or "xdp (netlink) IFACE". */
  get attachment(): string {
    return this.link.kind;
  }

  /** The loaded object (its program and maps), for who reports on them (the agent's health metrics). */
  get collection(): Collection {
    return this.coll;
  }

  get linkId(): number | undefined {
    return this.link.isBpfLink ? this.link.id : undefined;
  }

  /**
   * Keep the shield attached after this process exits: pins the link beside the maps (needs a
   * bpf_link attachment). close() then only releases this process's fds.
   */
  pin(): void {
    if (!this.link.isBpfLink) throw new Error('xdp-shield: --pin needs a bpf_link attachment (not --netlink)');
    this.link.pin(join(this.pinDir, 'link'));
    this.state.pinned = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.maps.close();
    if (!this.state.pinned) this.link.close();
    this.unpin?.();
    this.coll.close();
    // a pinned shield outlives this process: its pinned link owns it from here on
    this.owner?.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Rules and counters of a shield running in another process (or pinned), through its pinned maps. */
export class ShieldControl extends ShieldMaps {
  private constructor(raw: Record<MapName, BpfMap<any, any>>, readonly pinDir: string) {
    super(raw);
  }

  static open(iface: string, pinDir = defaultPinDir(iface)): ShieldControl {
    if (!existsSync(join(pinDir, 'shield_cfg'))) {
      throw new Error(`xdp-shield: no shield on ${iface} (nothing pinned at ${pinDir}); start one with \`tsbpf xdp-shield ${iface} [--block CIDR]…\``);
    }
    const found = inspectShield(iface, pinDir);
    if (!shieldAttached(found)) {
      // its maps are still pinned, but nothing enforces what they say
      throw new Error(
        `xdp-shield: the shield pinned at ${pinDir} is not attached to ${iface} (left by ${whoLeft(found)}); ` +
          `start a new one with \`tsbpf xdp-shield ${iface}\` (it removes what is left) or remove it with \`tsbpf xdp-shield ${iface} stop\``,
      );
    }
    const opened: BpfMap[] = [];
    try {
      const raw = {} as Record<MapName, BpfMap<any, any>>;
      for (const n of MAP_NAMES) {
        const m = BpfMap.fromPin(join(pinDir, n));
        opened.push(m);
        raw[n] = m;
      }
      return new ShieldControl(raw, pinDir);
    } catch (e) {
      for (const m of opened) m.close();
      throw e;
    }
  }

  /** True if the shield was left attached with --pin (its link is pinned). */
  get pinnedLink(): boolean {
    return existsSync(join(this.pinDir, 'link'));
  }

  /**
   * Remove a pinned shield (unpinning its link and maps detaches it once no process holds them),
   * or what a killed one left (pins, a netlink attachment). Returns false if there was nothing;
   * refuses a shield a running process owns (end that process instead).
   */
  static stop(iface: string, pinDir = defaultPinDir(iface)): boolean {
    const found = inspectShield(iface, pinDir);
    if (found.running) throw new Error(`xdp-shield: the shield on ${iface} is run by pid ${found.owner!.pid}: end it there (Ctrl+C, or kill ${found.owner!.pid})`);
    if (!found.pins.length && !(found.prog?.shield && found.prog.netlink)) return false;
    removeLeftovers(found);
    return true;
  }
}
