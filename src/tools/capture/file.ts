// The compiled filter over a capture file (in memory), in user space: the eBPF program is
// translated once into a JavaScript function (net/filter/jsfilter.ts). Nothing here touches the
// kernel, so `capture -r` needs no privileges.
import { compileFilter, packetFilter, type CompiledFilter } from '../../net/filter/compile.js';
import { PcapReader } from '../../net/pcap.js';

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
export function scanFile(bytes: Uint8Array, filter: string | CompiledFilter, visit: (r: PcapReader, keep: number) => void, o: { count?: number } = {}): number {
  const f = typeof filter === 'string' ? compileFilter(filter) : filter;
  const run = packetFilter(f);
  const r = new PcapReader(bytes);
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
export function* filterFile(bytes: Uint8Array, filter: string | CompiledFilter = '', o: { count?: number } = {}): Generator<FilePacket> {
  const f = typeof filter === 'string' ? compileFilter(filter) : filter;
  const run = packetFilter(f);
  const r = new PcapReader(bytes);
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
export function countMatches(bytes: Uint8Array, filter: string | CompiledFilter): { packets: number; matched: number } {
  let matched = 0;
  const packets = scanFile(bytes, filter, () => void matched++);
  return { packets, matched };
}
