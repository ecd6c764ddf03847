// The compiled filter over a capture file (in memory, or streamed from disk in chunks), in user space: the eBPF program is
// translated once into a JavaScript function (net/filter/jsfilter.ts). Nothing here touches the
// kernel, so `capture -r` needs no privileges. An expression is compiled for the file's link type
// (Ethernet, Linux cooked v1/v2, raw IP, BSD/OpenBSD loopback), known once its header is read.
import { closeSync, openSync, readSync } from 'node:fs';
import { compileFilter, packetFilter, type CompiledFilter } from '../../net/filter/compile.js';
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
 * Call `visit` for each packet the filter accepts, with the reader positioned on it and the length
 * to keep (the program's verdict, at most the captured length). Allocates nothing per packet.
 * Returns the number of packets read.
 */
export function scanFile(bytes: Uint8Array, filter: FileFilter, visit: (r: PcapReader, keep: number) => void, o: { count?: number } = {}): number {
  const r = new PcapReader(bytes);
  const run = packetFilter(forFile(filter, r));
  const limit = o.count ?? Infinity;
  let matched = 0;
  while (matched < limit && r.next()) {
    const keep = run(bytes, r.start, r.caplen, r.wirelen);
    if (keep === 0) continue;
    matched++;
    visit(r, keep < r.caplen ? keep : r.caplen);
  }
  return r.index + 1;
}

/** The packets of a pcap/pcapng file the filter accepts, each cut to the program's verdict. */
export function* filterFile(bytes: Uint8Array, filter: FileFilter = '', o: { count?: number } = {}): Generator<FilePacket> {
  const r = new PcapReader(bytes);
  const run = packetFilter(forFile(filter, r));
  let n = 0;
  while ((o.count === undefined || n < o.count) && r.next()) {
    const keep = run(bytes, r.start, r.caplen, r.wirelen);
    if (keep === 0) continue;
    const caplen = Math.min(keep, r.caplen);
    n++;
    yield { sec: r.sec, nsec: r.nsec, wirelen: r.wirelen, caplen, data: bytes.subarray(r.start, r.start + caplen) };
  }
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
 * scanFile over a file on disk, read in 4 MiB chunks into one reused buffer (no whole-file copy in
 * memory, however large the file). In `visit`, the packet is at r.bytes[r.start ..]; those bytes
 * stay valid until `onChunkEnd` is called.
 */
export function scanPath(path: string, filter: FileFilter, visit: (r: PcapReader, keep: number) => void, o: { count?: number; onHeader?: (r: PcapReader) => void; onChunkEnd?: () => void } = {}): number {
  const fd = openSync(path, 'r');
  try {
    let buf = new Uint8Array(CHUNK);
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
    const r = new PcapReader(buf.subarray(0, filled), true);
    const run = packetFilter(forFile(filter, r));
    o.onHeader?.(r);
    const limit = o.count ?? Infinity;
    let matched = 0;
    for (;;) {
      while (matched < limit && r.next()) {
        const keep = run(r.bytes, r.start, r.caplen, r.wirelen);
        if (keep === 0) continue;
        matched++;
        visit(r, keep < r.caplen ? keep : r.caplen);
      }
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
      if (tail * 2 > buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf.subarray(r.offset, filled));
        buf = bigger;
      } else buf.copyWithin(0, r.offset, filled);
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
