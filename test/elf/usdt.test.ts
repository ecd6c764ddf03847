import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '../../src/elf/reader.js';
import { usdtProbes } from '../../src/elf/usdt.js';
import { needsCommand } from '../helpers/kernel.js';

// A program with two SDT probes, the note written by hand in the layout <sys/sdt.h> produces
// (that header is not installed here): one probe with a semaphore, one without.
const SRC = String.raw`
unsigned short tsbpf_test_hit_semaphore __attribute__((section(".probes"), used));
#define NOTE(prov, name, sem, args) __asm__ __volatile__( \
  "990: nop\n" \
  ".pushsection .note.stapsdt,\"?\",\"note\"\n" \
  ".balign 4\n" \
  ".4byte 992f-991f, 994f-993f, 3\n" \
  "991: .asciz \"stapsdt\"\n" \
  "992: .balign 4\n" \
  "993: .8byte 990b\n" \
  ".8byte _.stapsdt.base\n" \
  ".8byte " sem "\n" \
  ".asciz \"" prov "\"\n" \
  ".asciz \"" name "\"\n" \
  ".asciz \"" args "\"\n" \
  "994: .balign 4\n" \
  ".popsection\n" \
  ".ifndef _.stapsdt.base\n" \
  ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
  ".weak _.stapsdt.base\n" \
  ".hidden _.stapsdt.base\n" \
  "_.stapsdt.base: .space 1\n" \
  ".size _.stapsdt.base, 1\n" \
  ".popsection\n" \
  ".endif\n" :: "r"(x))
int __attribute__((noinline)) f(int x) { NOTE("tsbpf", "hit", "tsbpf_test_hit_semaphore", "-4@%0"); return x; }
int __attribute__((noinline)) g(int x) { NOTE("tsbpf", "plain", "0", "-4@%0"); return x + 1; }
int main(int c, char **v) { return f(c) + g(c); }
`;

test('USDT probes from .note.stapsdt agree with readelf -n', (t) => {
  if (!needsCommand(t, 'cc') || !needsCommand(t, 'readelf')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-usdt-'));
  writeFileSync(join(dir, 'u.c'), SRC);
  execFileSync('cc', ['-O1', join(dir, 'u.c'), '-o', join(dir, 'u')]);
  const path = join(dir, 'u');
  const elf = parseElf(readFileSync(path));
  const probes = usdtProbes(elf);
  const notes = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  const expect = [...notes.matchAll(/Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)\s+Arguments: (.*)/g)]
    .map((m) => ({ provider: m[1], name: m[2], pc: BigInt(m[3]!), semaphore: BigInt(m[4]!), args: m[5]!.trim() }));
  assert.equal(expect.length, 2);
  assert.deepEqual(probes.map((p) => ({ provider: p.provider, name: p.name, pc: p.pc, semaphore: p.semaphore, args: p.args })), expect);
  const bytes = readFileSync(path);
  for (const p of probes) assert.equal(bytes[p.fileOffset], 0x90, `${p.name}: a nop at the file offset`);
  const hit = probes.find((p) => p.name === 'hit')!;
  const nm = execFileSync('nm', [path], { encoding: 'utf8' });
  assert.equal(hit.semaphore, BigInt('0x' + /^([0-9a-f]+) \w tsbpf_test_hit_semaphore$/m.exec(nm)![1]));
  const probesSec = elf.section('.probes')!;
  assert.equal(hit.semaphoreOffset, probesSec.offset + Number(hit.semaphore - probesSec.addr));
  assert.equal(probes.find((p) => p.name === 'plain')!.semaphoreOffset, 0);
});

test("libstdc++'s probes (the library node itself links) agree with readelf -n", (t) => {
  if (!needsCommand(t, 'readelf')) return;
  const path = '/lib/x86_64-linux-gnu/libstdc++.so.6';
  const probes = usdtProbes(parseElf(readFileSync(path)));
  const notes = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  const expect = [...notes.matchAll(/Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)\s+Arguments: (.*)/g)]
    .map((m) => [m[1], m[2], BigInt(m[3]!), BigInt(m[4]!), m[5]!.trim()]);
  assert.ok(expect.length >= 3);
  assert.deepEqual(probes.map((p) => [p.provider, p.name, p.pc, p.semaphore, p.args]), expect);
  const bytes = readFileSync(path);
  for (const p of probes) assert.equal(bytes[p.fileOffset], 0x90, `${p.name}: a nop at the file offset`);
});

test('binaries without SDT notes have no probes', () => {
  assert.deepEqual(usdtProbes(parseElf(readFileSync('/lib/x86_64-linux-gnu/libc.so.6'))), []);
});
