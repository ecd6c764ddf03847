import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseProcMaps, ElfSymbols, ProcessSymbols, parsePerfMap } from '../../src/tools/common/usyms.js';
import { readOptional, processSymbols } from '../../src/tools/common/proc.js';
import { parseElf } from '../../src/elf/reader.js';
import { functionSymbols } from '../../src/elf/symbols.js';

test('/proc/PID/maps lines parse, malformed ones are skipped', () => {
  const m = parseProcMaps(
    '55d0c0000000-55d0c0001000 r--p 00000000 fd:01 1234   /usr/bin/node\n' +
      '55d0c0001000-55d0c0800000 r-xp 00001000 fd:01 1234   /usr/bin/node\n' +
      '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n' +
      '7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n' +
      'not a maps line\n',
  );
  assert.equal(m.length, 4);
  assert.deepEqual(m[1], { start: 0x55d0c0001000n, end: 0x55d0c0800000n, perms: 'r-xp', offset: 0x1000n, inode: 1234, path: '/usr/bin/node' });
  assert.equal(m[2]!.path, '[stack]');
  assert.equal(m[3]!.path, '');
});

/** The runtime address of an ELF symbol in this process, computed from its maps. */
function runtimeAddress(path: string, vaddr: bigint): bigint | undefined {
  const elf = parseElf(new Uint8Array(readFileSync(path)));
  const seg = elf.segments.find((p) => p.type === 1 && vaddr >= p.vaddr && vaddr < p.vaddr + BigInt(p.filesz));
  if (!seg) return undefined;
  const fileOff = vaddr - seg.vaddr + BigInt(seg.offset);
  const maps = parseProcMaps(readFileSync('/proc/self/maps', 'utf8'));
  const m = maps.find((x) => x.path === path && fileOff >= x.offset && fileOff < x.offset + (x.end - x.start));
  return m ? m.start + (fileOff - m.offset) : undefined;
}

test('addresses in this process resolve to their ELF symbols (libc and the node binary)', (t) => {
  const maps = parseProcMaps(readFileSync('/proc/self/maps', 'utf8'));
  const libc = maps.find((m) => /\/libc[.-]/.test(m.path))?.path;
  if (!libc) return t.skip('no libc mapped');
  const elf = parseElf(new Uint8Array(readFileSync(libc)));
  const picks = functionSymbols(elf).filter((s) => s.size > 16n && ['getpid', 'malloc', 'memcpy', 'write', 'open'].includes(s.name.split('@')[0]!));
  assert.ok(picks.length > 0);
  const ps = processSymbols(process.pid);
  let checked = 0;
  for (const s of picks) {
    const addr = runtimeAddress(libc, s.value);
    if (addr === undefined) continue;
    const r = ps.resolve(addr + 5n);
    assert.ok(r, `resolve ${s.name}`);
    assert.equal(r.file, libc);
    assert.equal(r.offset, 5n);
    // aliases share an address: the resolved name must be a symbol at that same address
    const same = functionSymbols(elf).filter((x) => x.value === s.value).map((x) => x.name);
    assert.ok(same.includes(r.name), `${r.name} is one of ${same.join(',')}`);
    checked++;
  }
  assert.ok(checked > 0);
  const node = maps.find((m) => m.perms.includes('x') && m.path === process.execPath)?.path;
  if (node) {
    const e = ElfSymbols.fromBytes(new Uint8Array(readFileSync(node)));
    assert.ok(e.size > 1000, 'node has a symbol table');
  }
});

test('unknown addresses fall back to [file] or hex; perf JIT maps resolve', () => {
  const files = new Map<string, Uint8Array>([
    ['/proc/42/maps', new TextEncoder().encode('1000-2000 r-xp 00000000 00:00 1 /tmp/not-elf\n')],
    ['/tmp/not-elf', new TextEncoder().encode('hello')],
    ['/tmp/perf-42.map', new TextEncoder().encode('3000 100 LazyCompile:*fib /app/x.js:1\nbad line\n')],
  ]);
  const ps = new ProcessSymbols(42, (p) => files.get(p));
  assert.equal(ps.format(0x1010n), '[not-elf]');
  assert.equal(ps.format(0x3010n), 'LazyCompile:*fib /app/x.js:1');
  assert.equal(ps.format(0x3010n, true), 'LazyCompile:*fib /app/x.js:1+0x10');
  assert.equal(ps.format(0x3100n), '0x3100');
  assert.equal(parsePerfMap('zz\n').length, 0);
  assert.equal(new ProcessSymbols(999999999, readOptional).mapped.length, 0);
});

test('truncated and corrupted ELF files are refused with an error, not a crash', () => {
  const bytes = new Uint8Array(readFileSync(process.execPath).subarray(0, 1 << 20));
  for (const n of [0, 4, 16, 63, 64, 200, 4096]) assert.throws(() => ElfSymbols.fromBytes(bytes.slice(0, n)));
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 200; i++) {
    const b = bytes.slice(0, 8192);
    for (let j = 0; j < 8; j++) b[Math.floor(rnd() * 8192)] = Math.floor(rnd() * 256);
    try {
      ElfSymbols.fromBytes(b).resolveVaddr(0x1000n);
    } catch (err) {
      assert.ok(err instanceof Error);
    }
  }
});
