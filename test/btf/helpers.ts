// Test helpers for the BTF tests: compile a fixture with clang, pull ELF sections out with llvm-objcopy,
// read the kernel's BTF. (Tests may use Node; src/btf may not.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/btf/fixtures, from src or dist */
export const fixtures = (() => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const direct = join(here, 'fixtures');
  if (existsSync(join(direct, 'kinds.bpf.c'))) return direct;
  return join(here, '..', '..', '..', 'test', 'btf', 'fixtures'); // dist/test/btf -> test/btf
})();

export const VMLINUX = '/sys/kernel/btf/vmlinux';

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** clang -O2 -g -target bpf a fixture (or any .c path) into `outDir`; returns the .o path. */
export function compileBpf(src: string, outDir: string, extra: string[] = []): string {
  const path = src.includes('/') ? src : join(fixtures, src);
  const out = join(outDir, path.replace(/^.*\//, '').replace(/\.c$/, '.o'));
  execFileSync(
    'clang',
    ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I/usr/include/x86_64-linux-gnu', '-I', outDir, ...extra, '-c', path, '-o', out],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return out;
}

/** The bytes of one ELF section (llvm-objcopy --dump-section). */
export function elfSection(obj: string, name: string): Uint8Array {
  using tmp = tempDir();
  const out = join(tmp.dir, 'sec');
  execFileSync('llvm-objcopy', ['--dump-section', `${name}=${out}`, obj, join(tmp.dir, 'junk.o')], { stdio: 'ignore' });
  return new Uint8Array(readFileSync(out));
}

export function bpftool(...args: string[]): string {
  return execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
}
