// `tsbpf capture [-i IFACE | -r FILE] [-w FILE] [-c N] [-s SNAPLEN] [-d] [EXPRESSION]`: tcpdump's
// filter language compiled by tsbpf to an eBPF socket filter. Live packets come from an AF_PACKET
// socket with the filter attached in the kernel; -r applies the same compiled filter to a file.
// Output: one tcpdump-style line per packet, or a pcap file with -w (tcpdump and Wireshark read it).
import { Command, InvalidArgumentError } from 'commander';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { disassemble } from '../../isa/disasm.js';
import { compileFilter, type CompiledFilter } from '../../net/filter/compile.js';
import { FilterSyntaxError } from '../../net/filter/error.js';
import { pcapFileHeader, pcapRecord } from '../../net/pcap.js';
import { formatPacket } from '../../net/print.js';
import { capture, filterFile, type CapturedPacket } from './capture.js';

interface Options {
  interface?: string;
  read?: string;
  write?: string;
  count?: number;
  snaplen: number;
  dump?: boolean;
  utc?: boolean;
  quiet?: boolean;
}

const positiveInt = (what: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};

/** The commander command (for the tsbpf CLI registry). */
export function captureProgram(): Command {
  return new Command('capture')
    .description("capture packets with tcpdump's filter language, compiled by tsbpf to an eBPF socket filter")
    .option('-i, --interface <iface>', 'capture on this interface (default: all)')
    .option('-r, --read <file>', 'read packets from a pcap/pcapng file instead of capturing')
    .option('-w, --write <file>', "write packets to a pcap file ('-' for stdout) instead of printing them")
    .option('-c, --count <n>', 'stop after n packets', positiveInt('count'))
    .option('-s, --snaplen <bytes>', 'bytes kept per packet', positiveInt('snaplen'), 262144)
    .option('-d, --dump', 'print the compiled eBPF program and exit')
    .option('--utc', 'print timestamps in UTC')
    .option('-q, --quiet', 'no status lines on stderr')
    .argument('[expression...]', 'filter expression (pcap-filter syntax)')
    .action(async (words: string[], o: Options) => {
      process.exitCode = await runCapture(words.join(' '), o);
    });
}

/** Run `tsbpf capture` with these arguments (as after the command name); resolves to the exit code. */
export async function captureCommand(argv: string[]): Promise<number> {
  const cmd = captureProgram().exitOverride();
  try {
    await cmd.parseAsync(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code === 0 ? 0 : 2;
    process.stderr.write(`tsbpf capture: ${(e as Error).message}\n`);
    return 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

async function runCapture(expression: string, o: Options): Promise<number> {
  if (o.read && o.interface) return fail('use either -i or -r, not both');
  let filter: CompiledFilter;
  try {
    filter = compileFilter(expression, { live: !o.read, snaplen: o.snaplen });
  } catch (e) {
    if (e instanceof FilterSyntaxError) return fail(`bad filter expression: ${e.message}`);
    throw e;
  }
  if (o.dump) {
    process.stdout.write(`${disassemble(filter.insns)}\n`);
    return 0;
  }
  const out = o.write ? new PcapOut(o.write, o.snaplen, o.read !== undefined) : undefined;
  const emit = (p: CapturedPacket): void => {
    if (out) out.write(p);
    else process.stdout.write(`${formatPacket(p, { utc: o.utc })}\n`);
  };
  try {
    if (o.read) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(o.read));
      } catch (e) {
        return fail(`cannot read ${o.read}: ${(e as Error).message}`);
      }
      if (!o.quiet) process.stderr.write(`reading from file ${o.read}, link-type EN10MB (Ethernet), snapshot length ${o.snaplen}\n`);
      for (const p of filterFile(bytes, filter, { count: o.count })) emit(p);
      return 0;
    }
    return await live(filter, o, emit);
  } finally {
    out?.close();
  }
}

async function live(filter: CompiledFilter, o: Options, emit: (p: CapturedPacket) => void): Promise<number> {
  const c = capture({ iface: o.interface, filter, count: o.count });
  let n = 0;
  const finish = (): void => {
    const stats = c.statistics();
    c.close();
    if (!o.quiet) process.stderr.write(`\n${n} packets captured\n${stats.packets} packets received by filter\n${stats.drops} packets dropped by kernel\n`);
  };
  // Ctrl+C / SIGTERM: take what is already in the ring, report, and exit at once (the exit is ours,
  // so tsbpf's exit-time cleanup runs but not its signal path).
  const onSignal = (): void => {
    for (const p of c.takeReady()) {
      if (o.count !== undefined && n >= o.count) break;
      emit(p);
      n++;
    }
    finish();
    closeOutput?.();
    process.exit(0);
  };
  // ahead of tsbpf's own exit-time cleanup handler, which would exit before the summary
  process.prependOnceListener('SIGINT', onSignal);
  process.prependOnceListener('SIGTERM', onSignal);
  if (!o.quiet) process.stderr.write(`listening on ${o.interface ?? 'all interfaces'}, link-type EN10MB (Ethernet), snapshot length ${o.snaplen} bytes\n`);
  try {
    for await (const p of c) {
      emit(p);
      n++;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  finish();
  return 0;
}

let closeOutput: (() => void) | undefined;

/**
 * A pcap file. Live captures write each packet at once (an abrupt end loses nothing); reading a
 * file, records are gathered into large writes.
 */
class PcapOut {
  private fd: number;
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(path: string, snaplen: number, private readonly buffered = false) {
    this.fd = path === '-' ? 1 : openSync(path, 'w');
    writeSync(this.fd, pcapFileHeader({ snaplen, nanosecond: false }));
    closeOutput = () => this.close();
  }

  write(p: CapturedPacket): void {
    const rec = pcapRecord({ sec: p.sec, nsec: p.nsec, data: p.data, wirelen: p.wirelen });
    if (!this.buffered) {
      writeSync(this.fd, rec);
      return;
    }
    this.chunks.push(rec);
    this.size += rec.length;
    if (this.size >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (!this.size) return;
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    for (let off = 0; off < all.length; ) off += writeSync(this.fd, all, off);
    this.chunks = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    if (this.fd > 2) closeSync(this.fd);
    this.fd = -1;
    closeOutput = undefined;
  }
}

function fail(message: string): number {
  process.stderr.write(`tsbpf capture: ${message}\n`);
  return 1;
}
