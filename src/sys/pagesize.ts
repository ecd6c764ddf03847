// The system page size (AT_PAGESZ from the auxiliary vector), for mmap of ring and perf buffers.
import { readFileSync } from 'node:fs';

const AT_PAGESZ = 6n;
let cached: number | undefined;

export function pageSize(): number {
  if (cached) return cached;
  try {
    const b = readFileSync('/proc/self/auxv');
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let o = 0; o + 16 <= b.length; o += 16) {
      const type = v.getBigUint64(o, true);
      if (type === 0n) break;
      if (type === AT_PAGESZ) return (cached = Number(v.getBigUint64(o + 8, true)));
    }
  } catch {
    // fall through
  }
  return (cached = 4096);
}
