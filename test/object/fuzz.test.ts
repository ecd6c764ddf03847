import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { ObjectError } from '../../src/object/spec.js';
import { ElfError, parseElf } from '../../src/elf/reader.js';
import { BtfError } from '../../src/btf/error.js';
import { buildFixture } from './build.js';
import { needsCommand } from '../helpers/kernel.js';

const clear = (e: unknown) => e instanceof ElfError || e instanceof BtfError || e instanceof ObjectError;

function tryParse(b: Uint8Array, what: string): 'ok' | 'error' {
  try {
    parseObject(b, 'fuzz');
    return 'ok';
  } catch (e) {
    if (!clear(e)) assert.fail(`${what}: unclear error ${(e as Error)?.stack ?? String(e)}`);
    assert.ok((e as Error).message.length > 5, 'the message says something');
    return 'error';
  }
}

test('parseObject: truncation at every section boundary and every 64 bytes is a clear error', (t) => {
  if (!needsCommand(t, 'clang')) return;
  for (const name of ['programs', 'maps', 'legacy']) {
    const bytes = readFileSync(buildFixture(name));
    const elf = parseElf(bytes);
    const cuts = new Set<number>();
    for (const s of elf.sections) for (const c of [s.offset, s.offset + 1, s.offset + s.size - 1]) if (c > 0 && c < bytes.length) cuts.add(c);
    for (let c = 0; c < bytes.length; c += 64) cuts.add(c);
    for (const c of cuts) assert.equal(tryParse(bytes.subarray(0, c), `${name} cut at ${c}`), 'error', `${name} cut at ${c} must not parse`);
  }
});

test('parseObject: random byte flips give a spec or a clear error, never a crash or hang', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const bytes = readFileSync(buildFixture('programs'));
  const elf = parseElf(bytes);
  // flips aimed at what the object layer reads: code, relocations, symbols, .maps, BTF, BTF.ext, headers
  const targets = elf.sections.filter((s) => s.size > 0 && !s.name.startsWith('.debug') && s.type !== 8);
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const outcome = { ok: 0, error: 0 };
  const start = Date.now();
  for (let i = 0; i < 1500; i++) {
    const b = Uint8Array.from(bytes);
    const s = targets[rnd(targets.length)]!;
    for (let k = 0; k < 1 + rnd(3); k++) b[s.offset + rnd(s.size)] = rnd(256);
    outcome[tryParse(b, `flip in ${s.name} (iteration ${i})`)]++;
  }
  assert.ok(outcome.error > 0 && outcome.ok > 0, JSON.stringify(outcome));
  assert.ok(Date.now() - start < 60_000, 'fast');
});

test('parseObject: flips in the ELF header and section headers give a spec or a clear error', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const bytes = readFileSync(buildFixture('maps'));
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  let seed = 99;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const outcome = { ok: 0, error: 0 };
  for (let i = 0; i < 1500; i++) {
    const b = Uint8Array.from(bytes);
    for (let k = 0; k < 1 + rnd(2); k++) b[rnd(3) === 0 ? rnd(64) : shoff + rnd(shnum * 64)] = rnd(3) === 0 ? 0xff : rnd(256);
    outcome[tryParse(b, `header flip (iteration ${i})`)]++;
  }
  assert.ok(outcome.error > 0 && outcome.ok > 0, JSON.stringify(outcome));
});

test('parseObject: non-BPF ELF and garbage are rejected clearly', () => {
  assert.throws(() => parseObject(readFileSync('/lib/x86_64-linux-gnu/libc.so.6')), /not a BPF object/);
  assert.throws(() => parseObject(new Uint8Array(100)), ElfError);
});
