// Compiling .bpf.c with clang the way libbpf-based projects do, against a vmlinux.h that tsbpf generates
// from the running kernel's BTF (no bpftool needed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseBtf } from '../btf/parse.js';
import { btfToC } from '../btf/cdump.js';

export class CompileError extends Error {
  constructor(message: string, readonly hint?: string, readonly details?: string) {
    super(message);
  }
}

/** The kernel's name for this CPU architecture, for -D__TARGET_ARCH_<arch> (bpf_tracing.h). */
export function targetArch(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390', ppc64: 'powerpc', riscv64: 'riscv', loong64: 'loongarch', mips: 'mips' };
  return names[arch] ?? arch;
}

export const KERNEL_BTF = '/sys/kernel/btf/vmlinux';

/**
 * The directory holding a vmlinux.h for the BTF file `btfPath`, generated on first use and cached by the
 * BTF file's size and modification time (a new kernel gets a new header).
 */
export function vmlinuxHeaderDir(btfPath = KERNEL_BTF, cacheRoot = join(tmpdir(), 'tsbpf-vmlinux')): string {
  if (!existsSync(btfPath)) {
    throw new CompileError(`no kernel BTF at ${btfPath}`, 'the kernel needs CONFIG_DEBUG_INFO_BTF=y; or pass a BTF file with --btf');
  }
  const st = statSync(btfPath);
  const dir = join(cacheRoot, `${st.size}-${Math.floor(st.mtimeMs)}`);
  const header = join(dir, 'vmlinux.h');
  if (!existsSync(header)) {
    mkdirSync(dir, { recursive: true });
    const text = btfToC(parseBtf(new Uint8Array(readFileSync(btfPath))));
    const tmp = `${header}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, header); // atomic: concurrent compiles never see half a header
  }
  return dir;
}

export interface CompileOptions {
  output?: string;
  includeDirs?: string[];
  defines?: string[];
  /** Extra clang flags. */
  cflags?: string[];
  clang?: string;
  btf?: string;
}

function findClang(explicit?: string): string {
  const candidates = [explicit, process.env.CLANG, 'clang', ...[19, 18, 17, 16, 15, 14].map((v) => `clang-${v}`)].filter(Boolean) as string[];
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  throw new CompileError('clang not found', 'install it (Debian/Ubuntu: apt-get install clang llvm libbpf-dev) or set CLANG=/path/to/clang');
}

/** Compile one .bpf.c into a BPF ELF object. Returns the output path. */
export function compileBpf(source: string, opts: CompileOptions = {}): string {
  const src = resolve(source);
  if (!existsSync(src)) throw new CompileError(`no such source file: ${source}`);
  const out = resolve(opts.output ?? src.replace(/\.c$/, '') + '.o');
  const clang = findClang(opts.clang);
  if (!existsSync('/usr/include/bpf/bpf_helpers.h') && !(opts.includeDirs ?? []).some((d) => existsSync(join(d, 'bpf/bpf_helpers.h')))) {
    throw new CompileError('libbpf headers (<bpf/bpf_helpers.h>) not found', 'install them (Debian/Ubuntu: apt-get install libbpf-dev) or pass -I DIR');
  }
  const text = readFileSync(src, 'utf8');
  const args = ['-O2', '-g', '-target', 'bpf', `-D__TARGET_ARCH_${targetArch()}`, '-Wno-unused-command-line-argument'];
  if (/#\s*include\s*[<"]vmlinux\.h[>"]/.test(text)) {
    // Programs written against vmlinux.h get libbpf's tracing macros (PT_REGS_PARM1, BPF_KPROBE, ...)
    // even if they forgot the include, as the seed's example does.
    args.push('-I', vmlinuxHeaderDir(opts.btf), '-include', 'vmlinux.h', '-include', 'bpf/bpf_tracing.h');
  }
  for (const d of opts.includeDirs ?? []) args.push('-I', d);
  args.push('-I', dirname(src));
  for (const d of opts.defines ?? []) args.push(`-D${d}`);
  args.push(...(opts.cflags ?? []), '-c', src, '-o', out);
  const r = spawnSync(clang, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    const first = (r.stderr || '').split('\n').find((l) => /error:/.test(l)) ?? `clang exited with ${r.status}`;
    throw new CompileError(`compile failed: ${first.trim()}`, undefined, `${clang} ${args.join(' ')}\n${r.stderr}`);
  }
  return out;
}
