// Builds the object fixtures with clang for the object-layer tests: a vmlinux.h from the running
// kernel's BTF (bpftool) and `clang -O2 -g -target bpf`, into a temp dir, once per process.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FIXTURES = new URL('../../../test/object/fixtures/', import.meta.url).pathname;
const SRC = existsSync(FIXTURES) ? FIXTURES : new URL('./fixtures/', import.meta.url).pathname;
let dir: string | undefined;
/** The compiler: `clang` unless TSBPF_CLANG names another (e.g. clang-19, to check newer output). */
export const CLANG = process.env.TSBPF_CLANG || 'clang';

/** One directory per machine and kernel, kept across test files: vmlinux.h and objects by content hash. */
function buildDir(): string {
  if (!dir) {
    const btf = readFileSync('/sys/kernel/btf/vmlinux');
    const kernel = createHash('sha256').update(btf).digest('hex').slice(0, 16);
    dir = join(tmpdir(), `tsbpf-object-fixtures-${process.getuid?.() ?? 0}-${kernel}`);
    mkdirSync(dir, { recursive: true });
    const header = join(dir, 'vmlinux.h');
    if (!existsSync(header)) {
      const tmp = `${header}.${process.pid}`;
      writeFileSync(tmp, execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 1 << 30 }));
      renameSync(tmp, header);
    }
  }
  return dir;
}

/** Compile fixtures/<name>.bpf.c (cached by source and compiler); returns the object's path. */
export function buildFixture(name: string): string {
  const d = buildDir();
  const src = join(SRC, `${name}.bpf.c`);
  const hash = createHash('sha256').update(readFileSync(src)).update(CLANG).digest('hex').slice(0, 12);
  mkdirSync(join(d, hash), { recursive: true });
  const out = join(d, hash, `${name}.bpf.o`); // the file keeps its name: libbpf derives the object name from it
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync(CLANG, [
      '-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I', d, '-I', '/usr/include/x86_64-linux-gnu',
      '-c', src, '-o', tmp,
    ]);
    renameSync(tmp, out);
  }
  return out;
}

export const fixtureBytes = (name: string): Uint8Array => readFileSync(buildFixture(name));

/** `llvm-objdump -d -r` of a section, as { slot → text } with relocation lines attached to their slot. */
export function objdump(path: string, section: string): Map<number, string> {
  const out = execFileSync('llvm-objdump', ['-d', '-r', '--no-show-raw-insn', `--section=${section}`, path], { encoding: 'utf8' });
  const m = new Map<number, string>();
  let last = -1;
  for (const line of out.split('\n')) {
    const ins = /^\s*([0-9a-f]+):\s+(.*)$/.exec(line);
    if (ins) {
      last = parseInt(ins[1]!, 10);
      m.set(last, ins[2]!.trim());
    }
  }
  return m;
}

/** Relocations of a section from llvm-readelf: [byte offset, type name, symbol name]. */
export function readelfRelocs(path: string, section: string): [number, string, string][] {
  const out = execFileSync('llvm-readelf', ['-r', '-W', path], { encoding: 'utf8' });
  const blocks = out.split(/\nRelocation section /);
  const block = blocks.find((b) => b.startsWith(`'.rel${section}'`));
  if (!block) return [];
  return [...block.matchAll(/^([0-9a-f]{16})\s+[0-9a-f]+\s+(R_BPF_\w+)\s+[0-9a-f]+\s+(.*)$/gm)].map((x) => [parseInt(x[1]!, 16), x[2]!, x[3]!.trim()]);
}

/** `bpftool gen skeleton` facts: program and map names in libbpf's order. */
export function skeletonNames(path: string, name: string): { progs: string[]; maps: string[] } {
  const out = execFileSync('bpftool', ['gen', 'skeleton', path, 'name', name], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return {
    progs: [...out.matchAll(/s->progs\[\d+\]\.name = "([^"]+)"/g)].map((x) => x[1]!),
    maps: [...out.matchAll(/s->maps\[\d+\]\.name = "([^"]+)"/g)].map((x) => x[1]!),
  };
}
