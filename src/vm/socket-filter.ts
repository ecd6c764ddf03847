// A socket filter in the VM over packets in VM memory: the caller reads packets straight into the
// filter's buffer (a capture file's bytes, as they are) and asks for a packet's verdict by its place
// and lengths (on the JIT, one call into wasm with plain numbers: no copy, no BigInt), or for the
// verdicts on a run of classic pcap records (one call for thousands of packets). What `capture -r`
// filters files with.
import type { Instruction } from '../isa/instruction.js';
import { ProgramType } from '../uapi/bpf.js';
import { Vm, type EngineName } from './vm.js';

/** Records a run of records keeps at the most before it returns. */
export const KEPT_MAX = 4096;

export class SocketFilter {
  private bufAddr = 0;
  private bufSize = 0;
  private bufView: Uint8Array | undefined;
  /**
   * The verdict (bytes to keep, 0: drop) on the packet at buffer[start, start + caplen), `wirelen`
   * long on the wire.
   */
  readonly verdictAt: (start: number, caplen: number, wirelen: number) => number;
  private readonly runner: ReturnType<Vm['packetFilter']>;
  private readonly outAddr: number;
  private outView: Uint32Array | undefined;

  private constructor(readonly vm: Vm, engine: EngineName) {
    this.runner = vm.packetFilter(undefined, { engine });
    const run = this.runner.verdict;
    this.verdictAt = (start, caplen, wirelen) => run(this.bufAddr + start, caplen, wirelen);
    this.outAddr = vm.mem.alloc(8 + 8 * KEPT_MAX);
  }

  /**
   * The filter over the classic pcap records (little-endian: a 16-byte header with the captured and
   * wire lengths at 8 and 12) of buffer[from, to), up to the first that is not whole, whose captured
   * length is above `snap`, or the `max`-th kept (max <= KEPT_MAX). Returns how many it kept: their
   * record offsets and verdicts are kept[2 + 2k] and kept[3 + 2k]; kept[0] is where it stopped,
   * kept[1] how many records it read.
   */
  runRecords(from: number, to: number, snap: number, max = KEPT_MAX): number {
    const base = this.bufAddr;
    const n = this.runner.records(base + from, base + to, snap, this.outAddr, Math.min(max, KEPT_MAX));
    const out = this.kept;
    out[0] -= base;
    for (let k = 0; k < n; k++) out[2 + 2 * k] -= base;
    return n;
  }

  /** What runRecords() found (a view of VM memory: take it again after resize()). */
  get kept(): Uint32Array {
    if (this.outView?.buffer !== this.vm.mem.wasm.buffer) this.outView = new Uint32Array(this.vm.mem.wasm.buffer, this.outAddr, 2 + 2 * KEPT_MAX);
    return this.outView;
  }

  /** Load and verify a BPF_PROG_TYPE_SOCKET_FILTER program (throws VmLoadError if the verifier refuses it). */
  static load(insns: Instruction[], o: { engine?: EngineName; name?: string } = {}): SocketFilter {
    const engine = o.engine ?? 'jit';
    return new SocketFilter(Vm.loadSync(insns, { type: ProgramType.SOCKET_FILTER, name: o.name ?? 'filter', engine }), engine);
  }

  /** The packet buffer (a view of VM memory: taken again after resize(), which may move it). */
  get buffer(): Uint8Array {
    if (this.bufView?.buffer !== this.vm.mem.wasm.buffer) this.bufView = this.vm.mem.bytes.subarray(this.bufAddr, this.bufAddr + this.bufSize);
    return this.bufView;
  }

  /** A buffer of `size` bytes, keeping bytes [from, to) of the old one at its start. */
  resize(size: number, from = 0, to = 0): Uint8Array {
    if (size === this.bufSize) {
      this.buffer.copyWithin(0, from, to);
      return this.buffer;
    }
    const mem = this.vm.mem;
    const old = this.bufAddr;
    const addr = mem.alloc(size);
    mem.bytes.copyWithin(addr, old + from, old + to);
    if (old) mem.release(old);
    this.bufAddr = addr;
    this.bufSize = size;
    this.bufView = undefined;
    return this.buffer;
  }

  /** The verdict on one packet of any bytes: bytes[start, start + caplen) is copied into the buffer first. */
  verdict(bytes: Uint8Array, start: number, caplen: number, wirelen: number): number {
    if (this.bufSize < caplen) this.resize(Math.max(caplen, 64));
    this.buffer.set(bytes.subarray(start, start + caplen));
    return this.verdictAt(0, caplen, wirelen);
  }

  close(): void {
    this.runner.close();
  }
}
