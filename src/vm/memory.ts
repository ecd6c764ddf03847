// The VM's address space: one WebAssembly linear memory shared by the interpreter, the JIT and the
// userspace maps, so a pointer is the same number in every engine. What a program may touch is a set
// of regions (context, stack, packet, map values, ring-buffer records). Both engines check every
// access a program makes against the region its pointer came from (provenance.ts says which), and
// against all regions where that cannot be told; neither relies on the verifier for memory safety.
import { wasmApi, type WasmMemory } from './jit/wasm-global.js';

export type RegionKind = 'ctx' | 'stack' | 'packet' | 'map_value' | 'ringbuf' | 'mem';

export interface Region {
  start: number;
  end: number;
  kind: RegionKind;
  writable: boolean;
  /** For arrays of values: the distance between elements and each element's size. */
  stride?: number;
  elemSize?: number;
  /** Shown in error messages (map name, "xdp packet", ...). */
  label: string;
  /** The map whose value (or ring-buffer record) this is: accesses through that map's pointers must
   *  land in a region it owns. */
  owner?: object;
}

/**
 * Where the JIT reads the bounds of the regions that move between runs (the context and the packet):
 * a control block inside the never-mapped page at address 0, which no program access can reach (every
 * access is checked, and nothing below GUARD is a region). Per region: its start, then for each access
 * size 1, 2, 4, 8 the exclusive limit of `addr - start` for a read, then the same for a write (0 when
 * no access of that size fits, or the region is read-only). At `fault`, the JIT leaves why it trapped
 * (see jit/compile.ts, trap()).
 */
export const CONTROL = { ctx: 256, packet: 256 + 72, fault: 256 + 144 } as const;
const LIMITS = [1, 2, 4, 8];

/** An access outside every region the program may touch. */
export class MemoryAccessError extends Error {
  constructor(
    readonly addr: bigint,
    readonly size: number,
    readonly write: boolean,
    readonly pc: number,
    detail: string,
  ) {
    super(`pc ${pc}: invalid ${write ? 'write' : 'read'} of ${size} byte(s) at 0x${addr.toString(16)}: ${detail}`);
  }
}

const PAGE = 65536;
const SLAB = 65536;
/** Addresses below this are never mapped, so NULL (and small offsets from it) always fault. */
export const GUARD = 4096;
const GUARD_N = BigInt(GUARD);
const MAX_ADDR = BigInt(Number.MAX_SAFE_INTEGER);

export class VmMemory {
  readonly wasm: WasmMemory;
  bytes!: Uint8Array;
  view!: DataView;
  private regions: Region[] = [];
  /** The VM's stack area, and the current run's context and packet: the regions typed accesses
   *  (provenance 'stack', 'ctx', 'packet') are checked against. */
  stackRegion: Region | undefined;
  ctxRegion: Region | undefined;
  packetRegion: Region | undefined;
  private top = GUARD;
  private free = new Map<number, number[]>();
  private sizes = new Map<number, number>();

  constructor(initialPages = 16, maximumPages = 16384) {
    this.wasm = new (wasmApi().Memory)({ initial: initialPages, maximum: maximumPages });
    this.refresh();
  }

  /** Re-read the buffer after growth (growing detaches the old ArrayBuffer). */
  refresh(): void {
    if (this.bytes?.buffer === this.wasm.buffer) return;
    this.bytes = new Uint8Array(this.wasm.buffer);
    this.view = new DataView(this.wasm.buffer);
  }

  /** Allocate `size` zeroed bytes, 8-byte aligned. */
  alloc(size: number): number {
    const rounded = Math.max(8, (size + 7) & ~7);
    const list = this.free.get(rounded);
    let addr = list?.pop();
    if (addr === undefined) {
      addr = this.top;
      this.top += rounded;
      const need = this.top - this.wasm.buffer.byteLength;
      if (need > 0) this.wasm.grow(Math.ceil(need / PAGE));
      this.refresh();
    }
    this.bytes.fill(0, addr, addr + rounded);
    this.sizes.set(addr, rounded);
    return addr;
  }

  release(addr: number): void {
    const size = this.sizes.get(addr);
    if (size === undefined) throw new Error(`vm memory: release of unknown block 0x${addr.toString(16)}`);
    this.sizes.delete(addr);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(addr);
  }

  private retired: [Region, number][] = [];

  /** Remove a region and free its block once the current run ends: a program may still hold a
   *  pointer to a value it deleted (the kernel's RCU grace period gives the same guarantee). */
  retire(r: Region, addr: number): void {
    this.retired.push([r, addr]);
  }

  flushRetired(): void {
    for (const [r, a] of this.retired) {
      this.removeRegion(r);
      this.release(a);
    }
    this.retired = [];
  }

  addRegion(r: Region): Region {
    let i = this.regions.length;
    while (i > 0 && this.regions[i - 1]!.start > r.start) i--;
    this.regions.splice(i, 0, r);
    return r;
  }

  /** Restore the order after a region's start moved (packet adjustments). */
  resort(): void {
    this.regions.sort((a, b) => a.start - b.start);
  }

  removeRegion(r: Region): void {
    const i = this.regions.indexOf(r);
    if (i >= 0) this.regions.splice(i, 1);
  }

  /** The region holding [addr, addr+size), or a reason why there is none. */
  find(addr: bigint, size: number): Region | string {
    if (addr < GUARD_N) return addr === 0n ? 'NULL pointer dereference' : 'address in the unmapped page near NULL';
    // Numbers from here (VM memory is far below 2^53): no bigint arithmetic per access.
    if (addr > MAX_ADDR) return 'address outside VM memory';
    const a = Number(addr);
    if (a + size > this.bytes.length) return 'address outside VM memory';
    let lo = 0;
    let hi = this.regions.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.regions[mid]!.start <= a) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Regions may nest (a ring-buffer record inside the ring's data area): try the candidates backwards.
    for (let i = best; i >= 0; i--) {
      const r = this.regions[i]!;
      if (a + size > r.end) continue;
      if (r.stride !== undefined) {
        const inElem = (a - r.start) % r.stride;
        if (inElem + size > r.elemSize!) return `access crosses the end of a ${r.label} element`;
      }
      return r;
    }
    const near = best >= 0 ? this.regions[best]! : undefined;
    return near ? `not inside any region (nearest: ${near.label} [0x${near.start.toString(16)}, 0x${near.end.toString(16)}))` : 'not inside any region';
  }

  /** Check an access against every region and return its address as a number; throws MemoryAccessError. */
  check(addr: bigint, size: number, write: boolean, pc: number): number {
    const r = this.find(addr, size);
    if (typeof r === 'string') throw new MemoryAccessError(addr, size, write, pc, r);
    if (write && !r.writable) throw new MemoryAccessError(addr, size, write, pc, `${r.label} is read-only`);
    return Number(addr);
  }

  /** Check an access against one region (the one its pointer came from); `what` names it in errors. */
  checkIn(r: Region | undefined, what: string, addr: bigint, size: number, write: boolean, pc: number): number {
    const a = Number(addr);
    if (!r || addr < GUARD_N || addr > MAX_ADDR || a < r.start || a + size > r.end) {
      const where = r ? `${r.label} [0x${r.start.toString(16)}, 0x${r.end.toString(16)})` : `no ${what} in this run`;
      const page = addr === 0n ? 'NULL pointer dereference, ' : addr < GUARD_N ? 'in the unmapped page near NULL, ' : '';
      throw new MemoryAccessError(addr, size, write, pc, `${page}outside the ${what} the pointer came from: ${where}`);
    }
    return this.admit(r, a, addr, size, write, pc);
  }

  /** Check an access that must land in a region owned by `owner` (a map's values or records). */
  checkOwned(owner: object, what: string, addr: bigint, size: number, write: boolean, pc: number): number {
    const r = this.find(addr, size);
    if (typeof r === 'string') throw new MemoryAccessError(addr, size, write, pc, r);
    if (r.owner !== owner) throw new MemoryAccessError(addr, size, write, pc, `outside ${what}, where the pointer came from (this is ${r.label})`);
    return this.admit(r, Number(addr), addr, size, write, pc);
  }

  private admit(r: Region, a: number, addr: bigint, size: number, write: boolean, pc: number): number {
    if (r.stride !== undefined && ((a - r.start) % r.stride) + size > r.elemSize!) throw new MemoryAccessError(addr, size, write, pc, `access crosses the end of a ${r.label} element`);
    if (write && !r.writable) throw new MemoryAccessError(addr, size, write, pc, `${r.label} is read-only`);
    return a;
  }

  /** Write the current context and packet bounds to the control block (after any of them changed). */
  publish(): void {
    this.publishOne(CONTROL.ctx, this.ctxRegion);
    this.publishOne(CONTROL.packet, this.packetRegion);
  }

  /** Forget what was published: the control block was written behind publish()'s back (a packet batch). */
  republish(): void {
    this.published.clear();
    this.publish();
  }

  /** What the control block holds now, per region slot: start, length and writability. */
  private published = new Map<number, [number, number, boolean]>();

  private publishOne(at: number, r: Region | undefined): void {
    const len = r ? r.end - r.start : 0;
    const was = this.published.get(at);
    const start = r?.start ?? 0;
    const writable = r?.writable ?? false;
    // Runs over same-sized inputs reuse the same blocks: most runs change nothing here.
    if (was && was[0] === start && was[1] === len && was[2] === writable && this.view.getUint32(at, true) === start) return;
    this.published.set(at, [start, len, writable]);
    // Every value is below 2^32 (VM addresses and lengths): 32-bit halves, no BigInt per run.
    const v = this.view;
    v.setUint32(at, start, true);
    v.setUint32(at + 4, 0, true);
    for (let k = 0; k < 4; k++) {
      const lim = Math.max(0, len - LIMITS[k]! + 1);
      v.setUint32(at + 8 + 8 * k, lim, true);
      v.setUint32(at + 12 + 8 * k, 0, true);
      v.setUint32(at + 40 + 8 * k, writable ? lim : 0, true);
      v.setUint32(at + 44 + 8 * k, 0, true);
    }
  }

  load(addr: number, size: number): bigint {
    const v = this.view;
    switch (size) {
      case 1: return BigInt(v.getUint8(addr));
      case 2: return BigInt(v.getUint16(addr, true));
      case 4: return BigInt(v.getUint32(addr, true));
      default: return v.getBigUint64(addr, true);
    }
  }

  store(addr: number, size: number, value: bigint): void {
    const v = this.view;
    switch (size) {
      case 1: v.setUint8(addr, Number(value & 0xffn)); break;
      case 2: v.setUint16(addr, Number(value & 0xffffn), true); break;
      case 4: v.setUint32(addr, Number(value & 0xffffffffn), true); break;
      default: v.setBigUint64(addr, BigInt.asUintN(64, value), true);
    }
  }

  /** Copy bytes in (helpers, host). */
  write(addr: number, data: Uint8Array): void {
    this.bytes.set(data, addr);
  }

  read(addr: number, len: number): Uint8Array {
    return this.bytes.slice(addr, addr + len);
  }

  /** A copy of [addr, addr+len) that, when small, is a view into a shared slab (like Node's Buffer
   *  pool): a fresh ArrayBuffer per output packet cost more than running the program. Readers of
   *  `.buffer` must use byteOffset/byteLength. */
  readPooled(addr: number, len: number): Uint8Array {
    if (len > SLAB / 16) return this.bytes.slice(addr, addr + len);
    if (this.slabOff + len > SLAB) {
      this.slab = new ArrayBuffer(SLAB);
      this.slabOff = 0;
    }
    const out = new Uint8Array(this.slab, this.slabOff, len);
    this.slabOff = (this.slabOff + len + 7) & ~7;
    out.set(this.bytes.subarray(addr, addr + len));
    return out;
  }

  private slab = new ArrayBuffer(SLAB);
  private slabOff = 0;
}
