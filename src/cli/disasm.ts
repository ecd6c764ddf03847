// tsbpf disasm OBJ.o [--prog NAME]: each program's linked instructions, interleaved with its C lines.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseObject } from '../object/load-spec.js';
import { objectName } from '../object/names.js';
import { disassemble } from '../isa/disasm.js';
import { lineAt } from '../kernel/line-source.js';
import { stdout } from '../sys/stdout.js';

export function disasmCommand(): Command {
  return new Command('disasm')
    .description("disassemble an object's programs (llvm-objdump syntax), with C source lines from BTF")
    .argument('<object>', 'BPF ELF object')
    .option('--prog <name>', 'only this program')
    .option('--style <style>', 'llvm or kernel (verifier log syntax)', 'llvm')
    .action((file: string, o: { prog?: string; style: string }) => {
      if (o.style !== 'llvm' && o.style !== 'kernel') throw new Error(`disasm: --style must be llvm or kernel, not '${o.style}'`);
      const spec = parseObject(new Uint8Array(readFileSync(file)), objectName(basename(file)));
      const progs = o.prog ? spec.programs.filter((p) => p.name === o.prog) : spec.programs;
      if (!progs.length) throw new Error(`disasm: no program ${o.prog ? `'${o.prog}' ` : ''}in ${file} (programs: ${spec.programs.map((p) => p.name).join(', ') || 'none'})`);
      for (const p of progs) {
        const refs = new Map(p.mapRefs.map((r) => [r.slot, r] as const));
        const subs = new Map(p.subprograms.map((s) => [s.slot, s.name] as const));
        stdout().write(`${p.name}:  (SEC("${p.section}"), ${p.instructions.length} slots)\n`);
        stdout().write(disassemble(p.instructions, {
          style: o.style as 'llvm' | 'kernel',
          source: lineAt(p),
          symbols: (slot) => subs.get(slot),
          mapName: (slot) => { const r = refs.get(slot); return r ? { map: r.map, kind: r.kind, offset: r.offset } : undefined; },
        }));
        stdout().write('\n');
      }
    });
}
