import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../../src/btf/parse.js';
import { parseBtfExt } from '../../src/btf/ext.js';
import { BtfError } from '../../src/btf/error.js';
import { BtfKind } from '../../src/btf/types.js';
import { needsCommand } from '../helpers/kernel.js';
import { tempDir, compileBpf, elfSection, fixtures } from './helpers.js';

test('.BTF.ext func_info and line_info match the program and its source', (t) => {
  if (!needsCommand(t, 'clang')) return;
  using tmp = tempDir();
  const obj = compileBpf('kinds.bpf.c', tmp.dir);
  const btf = parseBtf(elfSection(obj, '.BTF'));
  const ext = parseBtfExt(elfSection(obj, '.BTF.ext'), btf);
  assert.equal(ext.funcInfoRecSize, 8);
  assert.equal(ext.lineInfoRecSize, 16);
  const sec = 'tracepoint/syscalls/sys_enter_getpid';
  const fi = ext.funcInfo.get(sec)!;
  assert.ok(fi, 'func_info for the program section');
  const names = fi.map((f) => btf.typeById(f.typeId));
  assert.ok(names.every((f) => f.kind === BtfKind.FUNC));
  assert.deepEqual(names.map((f) => f.name), ['prog']);
  assert.deepEqual(ext.funcInfo.get('.text')!.map((f) => btf.typeById(f.typeId).name), ['helper']);
  assert.equal(fi[0]!.insnOff, 0);
  const li = ext.lineInfo.get(sec)!;
  const src = readFileSync(join(fixtures, 'kinds.bpf.c'), 'utf8').split('\n');
  assert.ok(li.length > 5);
  for (const l of li) {
    assert.ok(l.fileName.endsWith('kinds.bpf.c'), l.fileName);
    if (l.lineNum === 0) assert.equal(l.line, ''); // compiler-generated code has no line
    else assert.equal(l.line, src[l.lineNum - 1], `line ${l.lineNum}`);
    assert.equal(l.lineCol, (l.lineNum << 10) | l.col);
    assert.equal(l.insnOff % 8, 0);
  }
  assert.ok(li.some((l) => l.line.includes('bpf_map_lookup_elem')));
  assert.equal(ext.coreRelos.size, 0);
});

test('malformed .BTF.ext gives BtfError', (t) => {
  if (!needsCommand(t, 'clang')) return;
  using tmp = tempDir();
  const obj = compileBpf('kinds.bpf.c', tmp.dir);
  const btf = parseBtf(elfSection(obj, '.BTF'));
  const good = elfSection(obj, '.BTF.ext');
  for (let n = 0; n < good.length; n++) {
    try {
      parseBtfExt(good.slice(0, n), btf);
    } catch (e) {
      assert.ok(e instanceof BtfError, String(e));
    }
  }
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  for (let i = 0; i < 3000; i++) {
    const b = good.slice();
    b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      parseBtfExt(b, btf);
    } catch (e) {
      assert.ok(e instanceof BtfError, String(e));
    }
  }
  assert.throws(() => parseBtfExt(good.slice(0, 20), btf), /too short/);
});
