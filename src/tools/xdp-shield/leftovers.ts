// What is on an interface before a shield starts, or when another process asks about it: who ran
// the last shield (its owner record, src/tools/common/owner.ts), what is pinned, and which XDP
// program is attached and how. A shield whose process was SIGKILLed leaves its pins, and with
// --netlink its program attached and dropping; the next `xdp-shield IFACE` reports and removes
// them, `status`/`block`/`allow` refuse a shield whose program is not attached, `stop` removes it.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { detachXdpNetlink, ifindex, xdpState } from '../../link/index.js';
import { BpfMap } from '../../maps/map.js';
import { listLinks, progInfoById } from '../../sys/info.js';
import { LinkType } from '../../uapi/bpf.js';
import { ownerAlive, readOwner, removeOwner, type OwnerRecord } from '../common/owner.js';

export const TOOL = 'xdp-shield';
/** the program's name in the kernel (its function name, cut to 15 characters) */
const PROG_NAME = 'xdp_shield';

export interface ShieldFound {
  iface: string;
  pinDir: string;
  /** the record of the last shield run on this interface */
  owner: OwnerRecord<unknown> | undefined;
  /** that process still runs */
  running: boolean;
  /** what is pinned in the shield's directory */
  pins: string[];
  /** the shield was left attached on purpose (--pin) */
  pinnedLink: boolean;
  /** the XDP program attached to the interface; `shield`: it is a shield's (and uses the pinned maps, if any) */
  prog: { id: number; name: string; netlink: boolean; shield: boolean } | undefined;
}

function mapIdOfPin(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const m = BpfMap.fromPin(path);
  try {
    return m.id;
  } finally {
    m.close();
  }
}

/** Look at the interface: owner record, pins, attached program. */
export function inspectShield(iface: string, pinDir: string): ShieldFound {
  const idx = ifindex(iface);
  const owner = readOwner<unknown>(TOOL, iface);
  const pins = existsSync(pinDir) ? readdirSync(pinDir).sort() : [];
  const found: ShieldFound = { iface, pinDir, owner, running: !!owner && ownerAlive(owner), pins, pinnedLink: pins.includes('link'), prog: undefined };
  const st = xdpState(idx);
  const id = st.progId || st.drvProgId || st.skbProgId;
  const info = id ? progInfoById(id) : undefined;
  if (info) {
    const cfg = mapIdOfPin(join(pinDir, 'shield_cfg'));
    const viaLink = listLinks().some((l) => l.type === LinkType.XDP && l.ifindex === idx && l.progId === info.id);
    const shield = info.name === PROG_NAME && (cfg === undefined || info.mapIds.includes(cfg));
    found.prog = { id: info.id, name: info.name, netlink: !viaLink, shield };
  }
  return found;
}

/** The shield runs: its program is attached and uses the pinned maps. */
export function shieldAttached(f: ShieldFound): boolean {
  return f.pins.includes('shield_cfg') && !!f.prog?.shield;
}

/** What a process that is gone left behind: pins, a netlink attachment no process will undo. */
export function leftovers(f: ShieldFound): string[] {
  // a shield left attached on purpose (--pin) is not a leftover: `stop` removes it
  if (f.running || (f.pinnedLink && shieldAttached(f))) return [];
  const out: string[] = [];
  const maps = f.pins.filter((p) => p !== 'link');
  if (maps.length) out.push(`${maps.length} pinned maps at ${f.pinDir}`);
  if (f.pinnedLink && !shieldAttached(f)) out.push(`a pinned link at ${join(f.pinDir, 'link')} that no longer holds the program`);
  if (f.prog?.shield && f.prog.netlink) out.push(`XDP program ${f.prog.id} (${f.prog.name}) attached by netlink, still dropping`);
  return out;
}

/** Who left them, for a message: "pid 123 (no longer running)" or "a process that is gone". */
export function whoLeft(f: ShieldFound): string {
  return f.owner ? `pid ${f.owner.pid} (no longer running)` : 'a process that is gone';
}

/** Remove what leftovers() lists, and the dead owner's record. */
export function removeLeftovers(f: ShieldFound): void {
  if (!f.running && f.prog?.shield && f.prog.netlink) detachXdpNetlink(f.iface, f.prog.id);
  if (f.pins.length) rmSync(f.pinDir, { recursive: true, force: true });
  if (f.owner && !f.running) removeOwner(TOOL, f.iface);
}
