import { Command } from 'commander';
import { compileBpf } from '../build/clang.js';
import { stdout } from '../sys/stdout.js';

export function compileCommand(): Command {
  return new Command('compile')
    .description('compile a .bpf.c with clang against a vmlinux.h generated from the kernel BTF')
    .argument('<source>', 'the .bpf.c file')
    .option('-o, --output <file>', 'output object (default: SOURCE with .o)')
    .option('-I, --include <dir>', 'add an include directory', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-D, --define <name[=value]>', 'define a macro', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--btf <file>', 'BTF to generate vmlinux.h from (default: /sys/kernel/btf/vmlinux)')
    .option('--verbose', 'show the clang command and its full output on failure')
    .action((source: string, o: { output?: string; include: string[]; define: string[]; btf?: string }) => {
      const out = compileBpf(source, { output: o.output, includeDirs: o.include, defines: o.define, btf: o.btf });
      stdout().write(`${out}\n`);
    });
}
