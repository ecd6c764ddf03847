// The cpio "newc" format, the one the kernel unpacks as an initramfs.
export interface CpioEntry {
  name: string;
  mode: number;
  data?: Uint8Array;
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

export function writeCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const one = (name: string, mode: number, data: Uint8Array): void => {
    const fields = [ino++, mode, 0, 0, mode & 0o40000 ? 2 : 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = '070701' + fields.map(hex8).join('');
    const head = Buffer.from(header + name + '\0', 'latin1');
    parts.push(head, Buffer.alloc(pad4(head.length)), Buffer.from(data), Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) one(e.name, e.mode, e.data ?? new Uint8Array());
  one('TRAILER!!!', 0, new Uint8Array());
  return Buffer.concat(parts);
}
