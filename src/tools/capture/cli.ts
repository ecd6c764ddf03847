// `tsbpf capture [-i IFACE | -r FILE] [-w FILE] [-c N] [-s SNAPLEN] [-d] [EXPRESSION]`: tcpdump's
// filter language compiled by tsbpf to an eBPF socket filter. Live packets come from an AF_PACKET
// socket with the filter attached in the kernel; -r applies the same compiled filter to a file.
// Output: one tcpdump-style line per packet, or a pcap file with -w (tcpdump and Wireshark read it).
// The live side (kernel, native addon) and the disassembler are loaded only when used.
import { Command, InvalidArgumentError } from 'commander';
import { closeSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { compileFilter, type CompiledFilter } from '../../net/filter/compile.js';
import { FilterSyntaxError } from '../../net/filter/error.js';
import { LINK_DLT_NAMES, LINK_NAMES, type LinkKind } from '../../net/filter/link.js';
import { PcapFormatError, PcapReader, PcapWriter } from '../../net/pcap.js';
import { formatPacket, summary } from '../../net/print.js';
import { toJson } from '../../output/json.js';
import { fileLink, scanPath } from './file.js';
import type { CapturedPacket } from './capture.js';
import { decidedExitStatus, startRun } from '../../command/lifecycle.js';
import { requirePrivileges, type Capability } from '../../command/privileges.js';
import { stdout } from '../../command/index.js';

/** A live capture opens an AF_PACKET socket and loads its filter program. */
const CAPTURE: readonly Capability[] = ['CAP_BPF', 'CAP_NET_RAW'];

interface Options {
  interface?: string;
  read?: string;
  write?: string;
  count?: number;
  snaplen: number;
  dump?: boolean;
  utc?: boolean;
  quiet?: boolean;
  json?: boolean;
  duration?: number;
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
    .option('--json', 'one JSON object per packet (time, lengths, interface, direction, summary)')
    .option('--duration <seconds>', 'stop a live capture after this many seconds', positiveInt('duration'))
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
    const { message, hint } = e as Error & { hint?: string };
    process.stderr.write(`tsbpf capture: ${message}${hint && !message.includes(hint) ? ` (${hint})` : ''}\n`);
    return 1;
  }
  return decidedExitStatus() ?? (typeof process.exitCode === 'number' ? process.exitCode : 0);
}

async function runCapture(expression: string, o: Options): Promise<number> {
  if (o.read && o.interface) return fail('use either -i or -r, not both');
  // a file's filter is compiled for the file's link type, once its header is read
  const compile = (link: LinkKind): CompiledFilter => compileFilter(expression, { live: !o.read, snaplen: o.snaplen, link });
  try {
    if (o.dump) {
      const filter = compile(o.read ? readLink(o.read) : 'ether');
      const { disassemble } = await import('../../isa/disasm.js');
      stdout().write(`${disassemble(filter.insns)}\n`);
      return 0;
    }
    return o.read ? readFile(o.read, compile, o) : await live(compile('ether'), o);
  } catch (e) {
    if (e instanceof FilterSyntaxError) return fail(`bad filter expression: ${e.message}`);
    if (e instanceof PcapFormatError) return fail(`${o.read}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).syscall === 'open') return fail(`cannot read ${o.read}: ${(e as Error).message}`);
    throw e;
  }
}

/** The link type of a capture file (from its first bytes). */
function readLink(path: string): LinkKind {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(1 << 16);
    const n = readSync(fd, head, 0, head.length, 0);
    return fileLink(new PcapReader(head.subarray(0, n), true));
  } finally {
    closeSync(fd);
  }
}

/** Thrown out of a file scan when standard output has ended (the reader went away): stop reading. */
const OUTPUT_ENDED = Symbol('output ended');

function readFile(path: string, compile: (link: LinkKind) => CompiledFilter, o: Options): number {
  let out: FileOut | undefined;
  let fd: number | undefined;
  const lines: string[] = [];
  let started = false;
  let sameLayout = false; // input records can be copied as they are
  let link: LinkKind = 'ether';
  try {
    scanPath(path, compile, (r, keep) => {
      if (out) {
        if (keep === r.caplen && sameLayout && r.copyable) out.raw(r.bytes, r.recordOffset, r.start + keep);
        else out.record(r.bytes, r.start, keep, r.sec, r.nsec, r.wirelen);
      } else {
        lines.push(packetLine({ sec: r.sec, nsec: r.nsec, wirelen: r.wirelen, caplen: keep, data: r.bytes.subarray(r.start, r.start + keep) }, o, link));
        if (lines.length >= 1024) stdout().write(`${lines.splice(0).join('\n')}\n`);
      }
    }, {
      count: o.count,
      onHeader: (r) => {
        started = true;
        link = fileLink(r);
        sameLayout = r.header.format === 'pcap' && r.header.littleEndian && !r.header.nanosecond;
        if (o.write) {
          fd = openOutput(o.write);
          out = new FileOut(fd, o.snaplen, r.header.linktype);
        }
        if (!o.quiet) process.stderr.write(`reading from file ${path}, link-type ${LINK_DLT_NAMES[link]} (${LINK_NAMES[link]}), snapshot length ${r.header.snaplen}\n`);
      },
      onChunkEnd: () => {
        out?.flush();
        // | head: stop reading once the reader is gone
        if (stdout().ended) throw OUTPUT_ENDED;
      },
    });
  } catch (e) {
    if (e === OUTPUT_ENDED) return 0;
    if (e instanceof PcapFormatError) return fail(`${path}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).syscall && !started) return fail(`cannot read ${path}: ${(e as Error).message}`);
    throw e;
  } finally {
    if (lines.length) stdout().write(`${lines.join('\n')}\n`);
    out?.flush();
    if (fd !== undefined && fd !== STDOUT) closeSync(fd);
  }
  return 0;
}

/**
 * The -w output of -r: records that can be copied as they are become byte ranges of the input
 * chunk, adjacent ones merged, handed to writev() without copying; others are laid out by a
 * PcapWriter. Order is kept by flushing one kind before using the other.
 */
class FileOut {
  private readonly writer: PcapWriter;
  private ranges: number[] = [];
  private from: Uint8Array | undefined;

  constructor(private readonly fd: number, snaplen: number, linktype: number) {
    this.writer = new PcapWriter((chunk) => writeOut(fd, chunk), { snaplen, linktype });
    this.writer.flush();
  }

  raw(bytes: Uint8Array, start: number, end: number): void {
    if (bytes !== this.from) {
      this.flush();
      this.from = bytes;
    }
    const n = this.ranges.length;
    if (n && this.ranges[n - 1] === start) this.ranges[n - 1] = end;
    else this.ranges.push(start, end);
  }

  record(bytes: Uint8Array, start: number, caplen: number, sec: number, nsec: number, wirelen: number): void {
    this.flushRanges();
    this.writer.write(bytes, start, caplen, sec, nsec, wirelen);
  }

  flush(): void {
    this.flushRanges();
    this.writer.flush();
  }

  private flushRanges(): void {
    if (!this.ranges.length) return;
    this.writer.flush();
    const from = this.from!;
    const views: Uint8Array[] = [];
    for (let k = 0; k < this.ranges.length; k += 2) views.push(from.subarray(this.ranges[k]!, this.ranges[k + 1]!));
    this.ranges = [];
    if (this.fd === STDOUT) {
      for (const v of views) stdout().write(v);
      return;
    }
    for (let k = 0; k < views.length; k += 1024) {
      const batch = views.slice(k, k + 1024);
      let left = batch.reduce((n, v) => n + v.length, 0);
      const wrote = writevSync(this.fd, batch);
      left -= wrote;
      if (left > 0) writeAll(this.fd, concatTail(batch, wrote)); // a short write: finish the rest
    }
  }
}

function concatTail(views: Uint8Array[], skip: number): Uint8Array {
  const all = new Uint8Array(views.reduce((n, v) => n + v.length, 0));
  let at = 0;
  for (const v of views) {
    all.set(v, at);
    at += v.length;
  }
  return all.subarray(skip);
}

async function live(filter: CompiledFilter, o: Options): Promise<number> {
  requirePrivileges('capture', CAPTURE);
  const { capture } = await import('./capture.js');
  const out = stdout();
  const toFile = o.write !== undefined && o.write !== '-' ? openSync(o.write, 'w') : undefined;
  // live packets are written one by one, so an abrupt end loses nothing; on standard output each
  // packet is a record, dropped (and counted) while the reader does not keep up
  let header = true;
  const sink = (chunk: Uint8Array): void => {
    if (toFile !== undefined) writeAll(toFile, chunk);
    else if (header) out.write(chunk);
    else out.record(chunk);
    header = false;
  };
  const writer = o.write === undefined ? undefined : new PcapWriter(sink, { snaplen: o.snaplen, bufferSize: 1 << 16 });
  writer?.flush();
  const emit = (p: CapturedPacket): void => {
    if (writer) {
      writer.write(p.data, 0, p.data.length, p.sec, p.nsec, p.wirelen);
      writer.flush();
    } else out.record(`${packetLine(p, o)}\n`);
  };
  let n = 0;
  // Ctrl+C, SIGTERM, SIGHUP, --duration or the end of standard output stop the Run: what is
  // already in the ring is taken, the counts reported, the socket (and its filter) closed
  const run = startRun({ duration: o.duration, json: o.json });
  try {
    const c = capture({ iface: o.interface, filter, count: o.count });
    try {
      if (!o.quiet) process.stderr.write(`listening on ${o.interface ?? 'all interfaces'}, link-type EN10MB (Ethernet), snapshot length ${o.snaplen} bytes\n`);
      const stopped = run.stopped().then(() => undefined);
      for (;;) {
        const r = await Promise.race([c.next(), stopped]);
        if (!r || r.done) break;
        emit(r.value);
        n++;
      }
      for (const p of c.takeReady()) {
        if (o.count !== undefined && n >= o.count) break;
        emit(p);
        n++;
      }
      const stats = c.statistics();
      if (!o.quiet) process.stderr.write(`\n${n} packets captured\n${stats.packets} packets received by filter\n${stats.drops} packets dropped by kernel\n`);
    } finally {
      c.close();
      if (toFile !== undefined) closeSync(toFile);
    }
    return 0;
  } finally {
    run.end();
  }
}

/** One packet for the terminal: tcpdump's summary line, or a JSON object with --json. */
function packetLine(p: CapturedPacket, o: Options, link: LinkKind = 'ether'): string {
  if (!o.json) return formatPacket(p, { utc: o.utc, link });
  return toJson({
    time: p.sec + p.nsec / 1e9, wirelen: p.wirelen, caplen: p.caplen,
    ...(p.ifindex !== undefined ? { ifindex: p.ifindex, direction: p.outgoing ? 'out' : 'in' } : {}),
    summary: summary(p.data, p.wirelen, link),
  });
}

const STDOUT = 1;

function openOutput(path: string): number {
  return path === '-' ? STDOUT : openSync(path, 'w');
}

/** A chunk to a -w file, or to standard output (which ends the command quietly when its reader goes). */
function writeOut(fd: number, chunk: Uint8Array): void {
  if (fd === STDOUT) stdout().write(chunk);
  else writeAll(fd, chunk);
}

function writeAll(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
}

function fail(message: string): number {
  process.stderr.write(`tsbpf capture: ${message}\n`);
  return 1;
}
