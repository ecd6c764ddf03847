import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf, ElfError, type ElfFile } from '../../src/elf/reader.js';
import { symbolOffset, functionSymbols, splitVersion } from '../../src/elf/symbols.js';
import { buildId } from '../../src/elf/build-id.js';
import { SHT_NOTE, SHT_REL } from '../../src/elf/constants.js';
import { needsCommand } from '../helpers/kernel.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

/** Build a small BPF object with clang: two sections, a relocation, a map. */
function smallObject(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
  writeFileSync(join(dir, 'a.c'), `
    int counter;
    __attribute__((section("tracepoint/x"), used)) int f(void *ctx) { counter++; return 0; }
    __attribute__((section("xdp"), used)) int g(void *ctx) { return counter; }
    char _license[] __attribute__((section("license"), used)) = "GPL";
  `);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', join(dir, 'a.c'), '-o', join(dir, 'a.o')]);
  return readFileSync(join(dir, 'a.o'));
}

/** `llvm-readelf`'s view of the section names, in order. */
function readelfSections(path: string): string[] {
  const out = execFileSync('llvm-readelf', ['-S', '-W', path], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*\[\s*(\d+)\]\s(\S*)/gm)].map((m) => (m[2] === 'NULL' || m[1] === '0' ? '' : m[2]!));
}

test('reads a shared library: sections, segments, symbols and notes agree with llvm-readelf', (t) => {
  if (!needsCommand(t, 'llvm-readelf')) return;
  const elf = parseElf(readFileSync(LIBC));
  assert.deepEqual(elf.sections.map((s) => s.name), readelfSections(LIBC));
  assert.ok(elf.segments.length > 3);
  const dyn = execFileSync('llvm-readelf', ['--dyn-syms', '-W', LIBC], { encoding: 'utf8' });
  const count = Number(/Symbol table '\.dynsym' contains (\d+) entries/.exec(dyn)![1]);
  assert.equal(elf.dynamicSymbols().length, count);
  const buildId = elf.notes(elf.section('.note.gnu.build-id')!);
  assert.equal(buildId[0]!.name, 'GNU');
  assert.equal(buildId[0]!.type, 3);
  assert.equal(buildId[0]!.desc.length, 20);
});

test('symbolOffset resolves versioned symbols in .dynsym to file offsets', (t) => {
  if (!needsCommand(t, 'llvm-readelf')) return;
  const bytes = readFileSync(LIBC);
  const elf = parseElf(bytes);
  const dyn = execFileSync('llvm-readelf', ['--dyn-syms', '-W', LIBC], { encoding: 'utf8' });
  const addr = (n: string) => BigInt('0x' + new RegExp(`^\\s*\\d+: ([0-9a-f]+) .* ${n.replace(/[.@]/g, '\\$&')}$`, 'm').exec(dyn)![1]);
  // libc's text segment has file offset == vaddr - (vaddr - offset) of its PT_LOAD; check via headers
  const seg = elf.segments.find((p) => p.type === 1 && (p.flags & 1))!;
  const expect = (a: bigint) => Number(a - seg.vaddr) + seg.offset;
  assert.equal(symbolOffset(elf, 'malloc'), expect(addr('malloc@@GLIBC_2.2.5')));
  assert.equal(symbolOffset(elf, 'malloc@@GLIBC_2.2.5'), symbolOffset(elf, 'malloc'));
  // memcpy has two versions: bare name = default (@@GLIBC_2.14), @GLIBC_2.2.5 the old one
  assert.equal(symbolOffset(elf, 'memcpy'), expect(addr('memcpy@@GLIBC_2.14')));
  assert.equal(symbolOffset(elf, 'memcpy@GLIBC_2.2.5'), expect(addr('memcpy@GLIBC_2.2.5')));
  assert.notEqual(symbolOffset(elf, 'memcpy@GLIBC_2.2.5'), symbolOffset(elf, 'memcpy'));
  assert.throws(() => symbolOffset(elf, 'no_such_function_xyz'), ElfError);
  assert.throws(() => symbolOffset(elf, 'malloc@@GLIBC_9.9'), ElfError);
  // the bytes at the offset are the function's: an x86 endbr64 or a push/mov prologue, never zero padding
  const off = symbolOffset(elf, 'malloc');
  assert.ok(bytes.subarray(off, off + 4).some((b) => b !== 0));
  assert.ok(functionSymbols(elf).some((s) => s.name === 'free' && s.version === 'GLIBC_2.2.5'));
});

test('splitVersion', () => {
  assert.deepEqual(splitVersion('malloc@@GLIBC_2.2.5'), { name: 'malloc', version: 'GLIBC_2.2.5', defaultOnly: true });
  assert.deepEqual(splitVersion('memcpy@GLIBC_2.2.5'), { name: 'memcpy', version: 'GLIBC_2.2.5', defaultOnly: false });
  assert.deepEqual(splitVersion('plain'), { name: 'plain', defaultOnly: false });
});

test('symbolOffset on a non-PIE executable uses .symtab and PT_LOAD', (t) => {
  if (!needsCommand(t, 'cc')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
  writeFileSync(join(dir, 'p.c'), 'int __attribute__((noinline)) target_fn(int x) { return x * 3; }\nint main(int c, char **v) { return target_fn(c); }\n');
  execFileSync('cc', ['-O1', '-no-pie', join(dir, 'p.c'), '-o', join(dir, 'p')]);
  const path = join(dir, 'p');
  const elf = parseElf(readFileSync(path));
  const nm = execFileSync('nm', [path], { encoding: 'utf8' });
  const vaddr = BigInt('0x' + /^([0-9a-f]+) T target_fn$/m.exec(nm)![1]);
  const seg = elf.segments.find((p) => p.type === 1 && vaddr >= p.vaddr && vaddr < p.vaddr + BigInt(p.filesz))!;
  assert.equal(symbolOffset(elf, 'target_fn'), Number(vaddr - seg.vaddr) + seg.offset);
  assert.notEqual(BigInt(symbolOffset(elf, 'target_fn')), vaddr, 'non-PIE: offset differs from the virtual address');
});

test('reads a BPF object: symbols and relocations match llvm-readelf', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const elf = parseElf(smallObject());
  assert.equal(elf.machine, 247);
  assert.equal(elf.type, 1);
  const rel = elf.sections.find((s) => s.type === SHT_REL && s.name === '.reltracepoint/x')!;
  const relocs = elf.relocations(rel);
  assert.equal(relocs.length, 1);
  const syms = elf.symbols();
  assert.equal(syms[relocs[0]!.symbol]!.name, 'counter');
  assert.equal(relocs[0]!.type, 1); // R_BPF_64_64
  assert.ok(syms.some((s) => s.name === 'f' && s.type === 2));
  assert.ok(elf.sections.every((s) => s.type !== SHT_NOTE || elf.notes(s)));
});

/** Every way we know to read the whole file, so fuzzing touches every parser path. */
function readAll(elf: ElfFile): void {
  for (const s of elf.sections) {
    elf.data(s);
    if (s.type === 2 || s.type === 11) elf.symbols(s);
    if (s.type === 4 || s.type === 9) elf.relocations(s);
    if (s.type === SHT_NOTE) elf.notes(s);
  }
  functionSymbols(elf);
}

function onlyElfErrors(bytes: Uint8Array): void {
  try {
    readAll(parseElf(bytes));
  } catch (e) {
    if (!(e instanceof ElfError)) throw new Error(`non-ElfError ${String(e)}`, { cause: e });
  }
}

test('truncation at every header boundary and every 7th byte: ElfError, never a crash', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const bytes = smallObject();
  const elf = parseElf(bytes);
  const cuts = new Set<number>([0, 1, 4, 15, 16, 63, 64]);
  for (const s of elf.sections) for (const c of [s.offset, s.offset + s.size - 1, s.offset + s.size]) cuts.add(c);
  for (let c = 0; c < bytes.length; c += 7) cuts.add(c);
  let errors = 0;
  for (const c of cuts) {
    if (c >= bytes.length) continue;
    try {
      readAll(parseElf(bytes.subarray(0, c)));
    } catch (e) {
      assert.ok(e instanceof ElfError, `cut at ${c}: ${String(e)}`);
      errors++;
    }
  }
  // the section headers sit at the end of the file: every real truncation must be noticed
  assert.equal(errors, [...cuts].filter((c) => c < bytes.length).length);
});

test('random byte flips (header, section headers, tables): ElfError or a valid parse', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const bytes = smallObject();
  const elf = parseElf(bytes);
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const hot = [0, 64, shoff, ...elf.sections.map((s) => s.offset)];
  for (let i = 0; i < 3000; i++) {
    const b = Uint8Array.from(bytes);
    for (let k = 0; k < 1 + rnd(4); k++) {
      const base = hot[rnd(hot.length)]!;
      const p = Math.min(b.length - 1, base + rnd(base === shoff ? elf.sections.length * 64 : 64));
      b[p] = rnd(256);
    }
    onlyElfErrors(b);
  }
});

test('rejects other classes, encodings and non-ELF input clearly', () => {
  assert.throws(() => parseElf(new Uint8Array(0)), /not an ELF file/);
  assert.throws(() => parseElf(new TextEncoder().encode('#!/bin/sh\necho hi\n')), /bad magic/);
  const h = new Uint8Array(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  assert.throws(() => parseElf(h), /only ELF64/);
  h[4] = 2;
  h[5] = 2;
  assert.throws(() => parseElf(h), /little-endian/);
  h[5] = 1;
  assert.equal(parseElf(h).sections.length, 0);
  h[60] = 3; // e_shnum = 3 with e_shoff = 0: no sections, fine
  h[40] = 200; // e_shoff past the end
  h[58] = 64;
  assert.throws(() => parseElf(h), ElfError);
});

test('notes: malformed sizes are errors, loop always advances', () => {
  const elf = parseElf((() => { const h = new Uint8Array(64); h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); return h; })());
  const n = new Uint8Array(12 + 4 + 4);
  const v = new DataView(n.buffer);
  v.setUint32(0, 4, true); v.setUint32(4, 4, true); v.setUint32(8, 7, true);
  n.set([65, 66, 67, 0], 12);
  assert.deepEqual(elf.parseNotes(n, 'x').map((x) => [x.name, x.type, x.desc.length]), [['ABC', 7, 4]]);
  v.setUint32(4, 0xffffffff, true);
  assert.throws(() => elf.parseNotes(n, 'x'), ElfError);
  assert.throws(() => elf.parseNotes(n.subarray(0, 10), 'x'), ElfError);
});

test('buildId agrees with readelf -n, from sections and from PT_NOTE alone', (t) => {
  if (!needsCommand(t, 'readelf')) return;
  const notes = execFileSync('readelf', ['-n', LIBC], { encoding: 'utf8' });
  const want = /Build ID: ([0-9a-f]+)/.exec(notes)![1];
  const bytes = Uint8Array.from(readFileSync(LIBC));
  assert.equal(buildId(parseElf(bytes)), want);
  // without section headers (e_shoff = 0, e_shnum = 0) the segment still has it
  const v = new DataView(bytes.buffer);
  v.setBigUint64(40, 0n, true);
  v.setUint16(60, 0, true);
  v.setUint16(62, 0, true);
  const stripped = parseElf(bytes);
  assert.equal(stripped.sections.length, 0);
  assert.equal(buildId(stripped), want);
});
