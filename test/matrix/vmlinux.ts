// bzImage → ELF vmlinux. qemu's PVH entry boots the ELF directly, which skips the kernel's own
// decompression: under TCG that is seconds saved at every boot.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const DECOMPRESSORS: { magic: number[]; cmd: string[] }[] = [
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], cmd: ['xz', '-dc'] },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], cmd: ['zstd', '-dc'] },
  { magic: [0x1f, 0x8b], cmd: ['gzip', '-dc'] },
  { magic: [0x02, 0x21, 0x4c, 0x18], cmd: ['lz4', '-dc'] },
];

/** Extract the compressed payload named by the x86 boot header (boot protocol ≥ 2.08) and decompress it. */
export function extractVmlinux(bzImage: string, out: string): void {
  const b = readFileSync(bzImage);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 0x250 || v.getUint32(0x202, true) !== 0x53726448 /* "HdrS" */) throw new Error(`${bzImage}: not a bzImage`);
  const setupSects = b[0x1f1] || 4;
  const payloadOffset = v.getUint32(0x248, true);
  const payloadLength = v.getUint32(0x24c, true);
  const start = (setupSects + 1) * 512 + payloadOffset;
  const payload = b.subarray(start, start + payloadLength);
  const d = DECOMPRESSORS.find((x) => x.magic.every((m, i) => payload[i] === m));
  if (!d) throw new Error(`${bzImage}: unknown payload compression`);
  // the payload ends with the decompressed size (4 bytes), which xz reports as trailing garbage: the output is whole
  const r = spawnSync(d.cmd[0]!, d.cmd.slice(1), { input: payload, maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`${bzImage}: ${d.cmd[0]} not found (apt-get install ${d.cmd[0] === 'xz' ? 'xz-utils' : d.cmd[0]})`);
  const elf = r.stdout;
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${bzImage}: decompressed payload is not ELF (${r.stderr.toString().trim()})`);
  writeFileSync(out, elf);
}
