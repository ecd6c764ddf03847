// The compiled filter over a capture file (in memory, or streamed from disk in chunks), in user space,
// on tsbpf's VM: the file's bytes go straight into the filter's buffer in VM memory and each packet
// is one call into the program the VM's JIT made (net/filter/compile.ts, fileFilter). Nothing here
// touches the kernel, so `capture -r` needs no privileges. An expression is compiled for the file's
// link type (Ethernet, Linux cooked v1/v2, raw IP, BSD/OpenBSD loopback), known once its header is read.
import { closeSync, openSync, readSync } from 'node:fs';
import { compileFilter, fileFilter, type CompiledFilter } from '../../net/filter/compile.js';
import { KEPT_MAX, type SocketFilter } from '../../vm/socket-filter.js';
import { LINKTYPES, type LinkKind } from '../../net/filter/link.js';
import { PcapFormatError, PcapReader } from '../../net/pcap.js';

/** A filter: an expression (compiled for the file's link type), a compiled filter, or how to compile one. */
export type FileFilter = string | CompiledFilter | ((link: LinkKind) => CompiledFilter);

export interface FilePacket {
  sec: number;
  nsec: number;
  wirelen: number;
  caplen: number;
  data: Uint8Array;
}

/**
 * The packets of the reader's bytes (the filter's buffer) the filter accepts, to `visit` with the
 * reader on each and the length to keep (the program's verdict, at most the captured length), until
 * the bytes end or `limit` packets were visited; returns how many were visited. Runs of plain records
 * go to the filter as a whole (one call, no JS per packet: vm/socket-filter.ts); the others, one by one.
 */
function filterRecords(r: PcapReader, vm: SocketFilter, limit: number, visit: (r: PcapReader, keep: number) => void): number {
  const run = vm.verdictAt;
  let matched = 0;
  while (matched < limit) {
    if (r.plainRecords) {
      const n = vm.runRecords(r.offset, r.bytes.length, r.header.snaplen, limit - matched);
      const kept = vm.kept;
      for (let k = 0; k < n; k++) {
        r.recordAt(kept[2 + 2 * k]!);
        const keep = kept[3 + 2 * k]!;
        visit(r, keep < r.caplen ? keep : r.caplen);
      }
      matched += n;
      r.skip(kept[0]!, kept[1]!);
      if (n === KEPT_MAX || matched >= limit) continue;
      // stopped at a record the run does not take: the reader's, below (the end of the bytes, or one cut to the snapshot length)
    }
    if (!r.next()) break;
    const keep = run(r.start, r.caplen, r.wirelen);
    if (keep === 0) continue;
    matched++;
    visit(r, keep < r.caplen ? keep : r.caplen);
  }
  return matched;
}

/** The filter for a file's bytes: compiled for its link type, with the bytes in its buffer, and a reader on them. */
function inVm(bytes: Uint8Array, filter: FileFilter): { vm: SocketFilter; r: PcapReader } {
  const vm = fileFilter(forFile(filter, new PcapReader(bytes)));
  vm.resize(Math.max(bytes.length, 8)).set(bytes);
  return { vm, r: new PcapReader(vm.buffer.subarray(0, bytes.length)) };
}

/**
 * Call `visit` for each packet the filter accepts, with the reader positioned on it and the length
 * to keep (the program's verdict, at most the captured length). Returns the number of packets read.
 */
export function scanFile(bytes: Uint8Array, filter: FileFilter, visit: (r: PcapReader, keep: number) => void, o: { count?: number } = {}): number {
  const { vm, r } = inVm(bytes, filter);
  filterRecords(r, vm, o.count ?? Infinity, visit);
  return r.index + 1;
}

/** The packets of a pcap/pcapng file the filter accepts, each cut to the program's verdict. */
export function filterFile(bytes: Uint8Array, filter: FileFilter = '', o: { count?: number } = {}): FilePacket[] {
  const { vm, r } = inVm(bytes, filter);
  const out: FilePacket[] = [];
  // the data is the caller's bytes, not the filter's copy
  filterRecords(r, vm, o.count ?? Infinity, (p, caplen) => void out.push({ sec: p.sec, nsec: p.nsec, wirelen: p.wirelen, caplen, data: bytes.subarray(p.start, p.start + caplen) }));
  return out;
}

/** Count the packets of a file a filter accepts. */
export function countMatches(bytes: Uint8Array, filter: FileFilter): { packets: number; matched: number } {
  let matched = 0;
  const packets = scanFile(bytes, filter, () => void matched++);
  return { packets, matched };
}

const CHUNK = 4 << 20;

/** The link layer of a capture file, or an error naming the ones tsbpf reads. */
export function fileLink(r: PcapReader): LinkKind {
  const link = LINKTYPES[r.header.linktype];
  if (link === undefined) {
    throw new PcapFormatError(`link type ${r.header.linktype} is not supported (tsbpf reads Ethernet, Linux cooked v1/v2, raw IP and BSD/OpenBSD loopback captures)`, r.header.format === 'pcap' ? 20 : 8);
  }
  return link;
}

/** The filter for this file: compiled for its link type, or checked to have been. */
function forFile(filter: FileFilter, r: PcapReader): CompiledFilter {
  const link = fileLink(r);
  const f = typeof filter === 'string' ? compileFilter(filter, { link }) : typeof filter === 'function' ? filter(link) : filter;
  if (f.link !== link) throw new Error(`the filter was compiled for link type '${f.link}', the file is '${link}'`);
  return f;
}

/**
 * scanFile over a file on disk, read in 4 MiB chunks into the filter's buffer in VM memory (no
 * whole-file copy in memory, however large the file). In `visit`, the packet is at r.bytes[r.start ..]; those bytes
 * stay valid until `onChunkEnd` is called.
 */
export function scanPath(path: string, filter: FileFilter, visit: (r: PcapReader, keep: number) => void, o: { count?: number; onHeader?: (r: PcapReader) => void; onChunkEnd?: () => void } = {}): number {
  const fd = openSync(path, 'r');
  try {
    let buf: Uint8Array = new Uint8Array(CHUNK);
    let filled = 0;
    let eof = false;
    let consumed = 0; // file offset of buf[0]
    const fill = (): void => {
      while (filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, null);
        if (n === 0) {
          eof = true;
          return;
        }
        filled += n;
      }
    };
    fill();
    // the header first (in a buffer of its own: the filter is compiled for the file's link type)
    const vm = fileFilter(forFile(filter, new PcapReader(buf.subarray(0, filled), true)));
    const first = buf;
    buf = vm.resize(CHUNK);
    buf.set(first.subarray(0, filled));
    const r = new PcapReader(buf.subarray(0, filled), true);
    o.onHeader?.(r);
    const limit = o.count ?? Infinity;
    let matched = 0;
    for (;;) {
      matched += filterRecords(r, vm, limit - matched, visit);
      o.onChunkEnd?.(); // the buffer is about to be reused
      if (matched >= limit) break;
      if (eof) {
        if (r.incomplete) {
          // what is left is not a whole record: let the reader say what is wrong with it
          r.endOfInput();
          try {
            r.next();
          } catch (e) {
            if (e instanceof PcapFormatError) throw new PcapFormatError(e.message.replace(/ \(at byte \d+\)$/, ''), consumed + e.offset);
            throw e;
          }
        }
        break;
      }
      // keep the unfinished record, read on behind it (grow for a record larger than the buffer)
      const tail = filled - r.offset;
      buf = vm.resize(tail * 2 > buf.length ? buf.length * 2 : buf.length, r.offset, filled);
      consumed += r.offset;
      filled = tail;
      fill();
      r.refill(buf.subarray(0, filled));
    }
    return r.index + 1;
  } finally {
    closeSync(fd);
  }
}
