import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../../src/btf/parse.js';
import { btfToC, cTypeDecl } from '../../src/btf/cdump.js';
import { BtfKind, type BtfComposite } from '../../src/btf/types.js';
import { needsCommand } from '../helpers/kernel.js';
import { VMLINUX, readBytes, tempDir, compileBpf, elfSection, bpftool } from './helpers.js';

// bpftool 7.1 (libbpf 1.1) predates the mode(byte)/mode(word) attributes that keep 1- and 8-byte
// enums at their BTF size; apart from those, the output must be identical.
const withoutEnumModes = (s: string) => s.replace(/ __attribute__\(\(mode\((byte|word)\)\)\)/g, '');

test('vmlinux.h from kernel BTF equals bpftool format c and compiles with a CO-RE program', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsCommand(t, 'bpftool') || !needsCommand(t, 'clang')) return;
  const btf = parseBtf(readBytes(VMLINUX));
  const t0 = performance.now();
  const h = btfToC(btf);
  t.diagnostic(`vmlinux.h: ${h.length} bytes in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.ok(h.startsWith('#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n'));
  assert.ok(h.includes('#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)'));
  assert.equal(withoutEnumModes(h), bpftool('btf', 'dump', 'file', VMLINUX, 'format', 'c'));
  using tmp = tempDir();
  writeFileSync(join(tmp.dir, 'vmlinux.h'), h);
  // core.bpf.c includes vmlinux.h + bpf_helpers.h, bpf_tracing.h, bpf_core_read.h and reads
  // task_struct, sock, sk_buff, pt_regs, mm_struct fields through BPF_CORE_READ
  const obj = compileBpf('core.bpf.c', tmp.dir, ['-Werror']);
  assert.ok(existsSync(obj));
});

test('C dump of a clang object equals bpftool and keeps every layout detail', (t) => {
  if (!needsCommand(t, 'bpftool') || !needsCommand(t, 'clang')) return;
  using tmp = tempDir();
  const obj = compileBpf('kinds.bpf.c', tmp.dir);
  const btf = parseBtf(elfSection(obj, '.BTF'));
  const h = btfToC(btf);
  assert.equal(withoutEnumModes(h), bpftool('btf', 'dump', 'file', obj, 'format', 'c'));
  assert.match(h, /struct packed_one \{\n\tchar c;\n\tint i;\n\} __attribute__\(\(packed\)\);/);
  assert.match(h, /\tunsigned int a: 3;\n\tunsigned int b: 5;\n\tint c: 7;/);
  assert.match(h, /typedef int \(\*callback_t\)\(void \*, long\);/);
  assert.match(h, /\tint matrix\[2\]\[3\];/);
  assert.match(h, /\tint __attribute__\(\(btf_type_tag\("user"\)\)\) \*uptr;/);
  assert.match(h, /enum big \{\n\tSMALL = 1,\n\tHUGE = 1985229328,\n\} __attribute__\(\(mode\(word\)\)\);/);
  // the dumped header compiles and reproduces the same layout: BTF of a program using it matches
  writeFileSync(join(tmp.dir, 'kinds.h'), btfToC(btf, { guardName: '__KINDS_H__', preserveAccessIndex: false }));
  writeFileSync(join(tmp.dir, 'again.bpf.c'), '#include "kinds.h"\nstruct record r; struct list l; struct packed_one p;\n');
  const again = parseBtf(elfSection(compileBpf(join(tmp.dir, 'again.bpf.c'), tmp.dir), '.BTF'));
  for (const name of ['record', 'list', 'packed_one', 'inner']) {
    const a = btf.findByName(name, BtfKind.STRUCT) as BtfComposite;
    const b = again.findByName(name, BtfKind.STRUCT) as BtfComposite;
    assert.equal(b.size, a.size, name);
    assert.deepEqual(b.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), a.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), name);
  }
});

test('cTypeDecl renders C declarations', (t) => {
  if (!needsCommand(t, 'clang')) return;
  using tmp = tempDir();
  const btf = parseBtf(elfSection(compileBpf('kinds.bpf.c', tmp.dir), '.BTF'));
  const rec = btf.findByName('record', BtfKind.STRUCT) as BtfComposite;
  const m = (n: string) => rec.members.find((x) => x.name === n)!.type;
  assert.equal(cTypeDecl(btf, m('cvp'), 'p'), 'volatile const int *p');
  assert.equal(cTypeDecl(btf, m('matrix'), 'mx'), 'int mx[2][3]');
  assert.equal(cTypeDecl(btf, m('cb')), 'callback_t');
  assert.equal(cTypeDecl(btf, btf.resolve(m('cb')).id, 'f'), 'int (*f)(void *, long)');
  assert.equal(cTypeDecl(btf, btf.findByName('list')!.id), 'struct list');
});

test('btfToC with ids emits just those types and what they need, and it compiles', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsCommand(t, 'clang')) return;
  const btf = parseBtf(readBytes(VMLINUX));
  const ids = ['task_struct', 'sock', 'sk_buff'].map((n) => btf.findByName(n, BtfKind.STRUCT)!.id);
  const h = btfToC(btf, { ids, guardName: '__MINI_H__' });
  assert.ok(h.length < btfToC(btf).length / 2, 'a subset');
  assert.match(h, /^struct task_struct \{$/m);
  using tmp = tempDir();
  writeFileSync(join(tmp.dir, 'mini.h'), h);
  writeFileSync(join(tmp.dir, 'use.bpf.c'), '#include "mini.h"\nint f(struct task_struct *t, struct sock *s, struct sk_buff *b) { return t->pid + s->__sk_common.skc_dport + b->len; }\n');
  assert.ok(existsSync(compileBpf(join(tmp.dir, 'use.bpf.c'), tmp.dir, ['-Werror'])));
});
