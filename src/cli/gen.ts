// tsbpf gen types OBJ.o [-o FILE.ts]: TypeScript types and a typed loader from an object's BTF
// (src/gen/objects.ts), as bpf2go and `bpftool gen skeleton` make them for Go and C.
import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { generateTypes } from '../gen/objects.js';
import { parseObject } from '../object/load-spec.js';
import { objectName } from '../object/names.js';
import { stdout } from '../sys/stdout.js';

export function genCommand(): Command {
  const gen = new Command('gen').description('generate code from an object');
  gen
    .command('types')
    .description("TypeScript types of an object's maps, records and globals, and a typed loader, from its BTF")
    .argument('<object>', 'BPF ELF object (compiled with -g)')
    .option('-o, --output <file>', 'write the module here instead of standard output')
    .option('--name <name>', 'prefix of the generated names (default: the object file name up to its first dot)')
    .option('--import-from <module>', 'module to import tsbpf from', 'tsbpf')
    .option('--record <map=type>', 'the BTF type of a ring/perf buffer\'s records (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .action((file: string, o: { output?: string; name?: string; importFrom: string; record: string[] }) => {
      const records: Record<string, string> = {};
      for (const r of o.record) {
        const eq = r.indexOf('=');
        if (eq <= 0) throw new Error(`gen types: --record takes MAP=TYPE, not '${r}'`);
        records[r.slice(0, eq)] = r.slice(eq + 1);
      }
      const name = o.name ?? objectName(basename(file));
      const spec = parseObject(new Uint8Array(readFileSync(file)), name);
      const text = generateTypes(spec, { name, importFrom: o.importFrom, records, source: basename(file) });
      if (o.output) writeFileSync(o.output, text);
      else stdout().write(text);
    });
  return gen;
}
