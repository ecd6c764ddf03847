// tsbpf btf dump [FILE] [--format c|raw]: kernel BTF (or a raw BTF file, or an object's .BTF) as a
// C header (vmlinux.h) or bpftool's raw listing.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parseBtf } from '../btf/parse.js';
import { btfToC } from '../btf/cdump.js';
import { btfToRaw } from '../btf/dump-raw.js';
import { parseElf } from '../elf/reader.js';
import { stdout } from '../sys/stdout.js';

/** BTF bytes of a file: raw BTF, or the .BTF section of an ELF object. */
export function btfOfFile(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    const elf = parseElf(bytes);
    const sec = elf.section('.BTF');
    if (!sec) throw new Error(`${file}: the object has no .BTF section (compile with -g)`);
    return elf.data(sec);
  }
  return bytes;
}

export function btfCommand(): Command {
  const cmd = new Command('btf').description('BTF tools');
  cmd.command('dump').description('dump BTF as C or raw').argument('[file]', 'BTF file or BPF object', '/sys/kernel/btf/vmlinux')
    .option('--format <format>', 'c (a vmlinux.h) or raw', 'c')
    .action((file: string, o: { format: string }) => {
      if (o.format !== 'c' && o.format !== 'raw') throw new Error(`btf dump: --format must be c or raw, not '${o.format}'`);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(file));
      } catch (e) {
        throw new Error(`btf dump: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
      const btf = parseBtf(btfOfFile(bytes, file));
      stdout().write(o.format === 'c' ? btfToC(btf) : btfToRaw(btf));
    });
  return cmd;
}
