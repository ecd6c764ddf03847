import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../../src/btf/parse.js';
import { parseBtfExt } from '../../src/btf/ext.js';
import { btfToC } from '../../src/btf/cdump.js';
import { resolveCoreRelo, coreAccessToC, essentialName, CoreReloKind } from '../../src/btf/core.js';
import type { Btf } from '../../src/btf/btf.js';
import { applyCoreRelo, CORE_POISON_IMM } from '../../src/btf/core-patch.js';
import { BtfBuilder } from '../../src/btf/marshal.js';
import { decode, imm64 } from '../../src/isa/instruction.js';
import { sizeBytes } from '../../src/isa/opcodes.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { VMLINUX, readBytes, tempDir, compileBpf, elfSection } from './helpers.js';

let vmlinuxCache: Btf | undefined;
const vmlinux = () => (vmlinuxCache ??= parseBtf(readBytes(VMLINUX)));

/** Compile core.bpf.c against our own vmlinux.h; returns the object path. */
function buildCoreFixture(dir: string): string {
  writeFileSync(join(dir, 'vmlinux.h'), btfToC(vmlinux()));
  return compileBpf('core.bpf.c', dir);
}

interface OracleRelo {
  insn: number;
  field?: 'imm' | 'off' | 'imm64';
  value?: bigint;
  memSize?: number;
  poisoned: boolean;
}

/**
 * What libbpf decides for each CO-RE relocation, from `bpftool -d prog loadall` (libbpf's debug log):
 * prog name -> relo index -> patch. Whatever loads is unpinned and checked gone.
 */
function libbpfRelos(obj: string): Map<string, Map<number, OracleRelo>> {
  const dir = `/sys/fs/bpf/tsbpf-btf-core-${process.pid}`;
  const r = spawnSync('bpftool', ['-d', 'prog', 'loadall', obj, dir], { encoding: 'utf8' });
  try {
    if (existsSync(dir)) {
      const ids = readdirSync(dir).map(
        (f) => (JSON.parse(execFileSync('bpftool', ['prog', 'show', 'pinned', join(dir, f), '-j'], { encoding: 'utf8' })) as { id: number }).id,
      );
      rmSync(dir, { recursive: true });
      for (const id of ids) {
        const again = spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { encoding: 'utf8' });
        assert.notEqual(again.status, 0, `program ${id} still loaded after unpinning`);
      }
    }
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true });
  }
  const out = new Map<string, Map<number, OracleRelo>>();
  const get = (prog: string, relo: string, insn: string) => {
    let m = out.get(prog);
    if (!m) out.set(prog, (m = new Map()));
    let e = m.get(Number(relo));
    if (!e) m.set(Number(relo), (e = { insn: Number(insn), poisoned: false }));
    return e;
  };
  for (const line of (r.stderr + r.stdout).split('\n')) {
    let m = /prog '([^']+)': relo #(\d+): patched insn #(\d+) \([^)]*\) (imm64|imm|off) \d+ -> (\d+)/.exec(line);
    if (m) Object.assign(get(m[1]!, m[2]!, m[3]!), { field: m[4], value: BigInt(m[5]!) });
    m = /prog '([^']+)': relo #(\d+): patched insn #(\d+) \(LDX\/ST\/STX\) mem_sz \d+ -> (\d+)/.exec(line);
    if (m) get(m[1]!, m[2]!, m[3]!).memSize = Number(m[4]);
    m = /prog '([^']+)': relo #(\d+): substituting insn #(\d+) w\/ invalid insn/.exec(line);
    if (m) get(m[1]!, m[2]!, m[3]!).poisoned = true;
  }
  return out;
}

/** Resolve and apply every CO-RE relocation of `obj` ourselves and compare with libbpf, instruction by instruction. */
function compareWithLibbpf(obj: string): { relos: number; kinds: Set<CoreReloKind> } {
  const local = parseBtf(elfSection(obj, '.BTF'));
  const ext = parseBtfExt(elfSection(obj, '.BTF.ext'), local);
  const oracle = libbpfRelos(obj);
  let count = 0;
  const kinds = new Set<CoreReloKind>();
  for (const [sec, relos] of ext.coreRelos) {
    const prog = local.typeById(ext.funcInfo.get(sec)![0]!.typeId).name;
    const want = oracle.get(prog);
    assert.ok(want, `libbpf relocated program ${prog}`);
    assert.equal(want.size, relos.length, `libbpf logged every relocation of ${prog}`);
    const insns = decode(elfSection(obj, sec));
    relos.forEach((relo, i) => {
      const w = want.get(i)!;
      const slot = relo.insnOff / 8;
      const res = resolveCoreRelo(local, relo, vmlinux());
      const what = `${prog} relo #${i} ${CoreReloKind[relo.kind]} ${coreAccessToC(local, relo)}`;
      assert.equal(w.insn, slot, what);
      const patch = applyCoreRelo(insns, slot, res); // throws if the compiler's value disagrees with ours
      if (w.poisoned) {
        assert.equal(patch.action, 'poisoned', what);
        assert.equal(insns[slot]!.imm, CORE_POISON_IMM, what);
      } else {
        assert.equal(patch.action, 'patched', `${what}: ${patch.detail}`);
        const ins = insns[slot]!;
        const got = w.field === 'imm64' ? imm64(insns, slot) : w.field === 'off' ? BigInt(ins.off) : BigInt(ins.imm >>> 0);
        assert.equal(got, w.value, what);
        if (w.memSize) assert.equal(sizeBytes(ins.code & 0x18), w.memSize, `${what}: access width`);
      }
      kinds.add(relo.kind);
      count++;
    });
  }
  return { relos: count, kinds };
}

test('CO-RE: every relocation of a clang object resolves and patches exactly as libbpf does', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsRoot(t) || !needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  using tmp = tempDir();
  const { relos, kinds } = compareWithLibbpf(buildCoreFixture(tmp.dir));
  assert.ok(relos >= 30, `${relos} relocations`);
  for (const k of [CoreReloKind.FIELD_BYTE_OFFSET, CoreReloKind.FIELD_BYTE_SIZE, CoreReloKind.FIELD_EXISTS, CoreReloKind.FIELD_SIGNED,
    CoreReloKind.FIELD_LSHIFT_U64, CoreReloKind.FIELD_RSHIFT_U64, CoreReloKind.TYPE_ID_LOCAL, CoreReloKind.TYPE_ID_TARGET,
    CoreReloKind.TYPE_EXISTS, CoreReloKind.TYPE_SIZE, CoreReloKind.ENUMVAL_EXISTS, CoreReloKind.ENUMVAL_VALUE]) {
    assert.ok(kinds.has(k), `fixture exercises ${CoreReloKind[k]}`);
  }
});

test('CO-RE: local layouts unlike the kernel (offsets, widths, bitfields, enums) relocate like libbpf', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsRoot(t) || !needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  using tmp = tempDir();
  const { relos } = compareWithLibbpf(compileBpf('core-mini.bpf.c', tmp.dir));
  assert.ok(relos >= 30, `${relos} relocations`);
});

test('CO-RE: flavors, missing fields and access rendering', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsCommand(t, 'clang')) return;
  using tmp = tempDir();
  const obj = buildCoreFixture(tmp.dir);
  const local = parseBtf(elfSection(obj, '.BTF'));
  const relos = parseBtfExt(elfSection(obj, '.BTF.ext'), local).coreRelos.get('raw_tp/sys_enter')!;
  const find = (kind: CoreReloKind, text: string) => relos.find((r) => r.kind === kind && coreAccessToC(local, r) === text)!;
  assert.equal(essentialName('task_struct___old'), 'task_struct');
  assert.equal(essentialName('a___b___c'), 'a___b');
  assert.equal(essentialName('__u32'), '__u32');
  const daddr = find(CoreReloKind.FIELD_BYTE_OFFSET, 'sock::__sk_common.skc_daddr');
  assert.ok(daddr, 'sock::__sk_common.skc_daddr rendered');
  const r = resolveCoreRelo(local, daddr, vmlinux());
  assert.ok(r.ok);
  // oracle: offset of skc_daddr computed by walking the kernel's BTF directly
  const vm = vmlinux();
  const sock = vm.findByName('sock', 4) as { members: { name: string; bitOffset: number; type: number }[] };
  const common = sock.members.find((m) => m.name === '__sk_common')!;
  assert.equal(r.value, common.bitOffset / 8 + 0); // skc_daddr sits at the start of sock_common
  const state = find(CoreReloKind.FIELD_EXISTS, 'task_struct___old::state');
  assert.deepEqual([resolveCoreRelo(local, state, vm).ok && (resolveCoreRelo(local, state, vm) as { value: number }).value], [0]);
  const missingType = relos.find((x) => x.kind === CoreReloKind.TYPE_EXISTS && local.nameOf(x.typeId) === 'tsbpf_missing')!;
  assert.equal((resolveCoreRelo(local, missingType, vm) as { value: number }).value, 0);
  // a byte offset of a field the kernel lacks cannot resolve: explained, for poisoning
  const bad = resolveCoreRelo(local, { ...state, kind: CoreReloKind.FIELD_BYTE_OFFSET }, vm);
  assert.equal(bad.ok, false);
  assert.match((bad as { reason: string }).reason, /task_struct___old::state: no struct task_struct in the target has a compatible field state/);
  const gone = resolveCoreRelo(local, { ...missingType, kind: CoreReloKind.FIELD_BYTE_OFFSET, accessStr: '0:0' }, vm);
  assert.match((gone as { reason: string }).reason, /the target has no struct tsbpf_missing/);
  assert.throws(() => resolveCoreRelo(local, { ...daddr, accessStr: '0:999' }, vm), /out of range/);
  assert.throws(() => resolveCoreRelo(local, { ...daddr, accessStr: 'x' }, vm), /malformed/);
});

test('CO-RE: TYPE_MATCHES, enum64 values, candidate ambiguity (local BTF built by hand)', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  const vm = vmlinux();
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const short = b.int('short', 2, true);
  const char = b.int('char', 1); // the kernel's char has no SIGNED encoding; TYPE_MATCHES compares signedness
  const good = b.struct('task_struct___match', [{ name: 'pid', type: int }, { name: 'comm', type: b.array(char, 16) }]);
  const bad = b.struct('task_struct___nomatch', [{ name: 'pid', type: short }]);
  const missing = b.struct('task_struct___extra', [{ name: 'tsbpf_not_a_field', type: int }]);
  const ctx = b.enum64('perf_callchain_context', [['PERF_CONTEXT_KERNEL', 0n]]);
  const local = b.build();
  const tm = (id: number) => resolveCoreRelo(local, { typeId: id, accessStr: '0', kind: CoreReloKind.TYPE_MATCHES }, vm);
  assert.equal((tm(good) as { value: number }).value, 1);
  assert.equal((tm(bad) as { value: number }).value, 0);
  assert.equal((tm(missing) as { value: number }).value, 0);
  // but TYPE_EXISTS only needs a same-named struct
  assert.equal((resolveCoreRelo(local, { typeId: bad, accessStr: '0', kind: CoreReloKind.TYPE_EXISTS }, vm) as { value: number }).value, 1);
  // enum64: the kernel's value, whatever the local one says
  const ev = resolveCoreRelo(local, { typeId: ctx, accessStr: '0', kind: CoreReloKind.ENUMVAL_VALUE }, vm);
  assert.ok(ev.ok);
  const kernelValue = (vm.findByName('perf_callchain_context') as { values: { name: string; value: bigint }[] }).values.find((v) => v.name === 'PERF_CONTEXT_KERNEL')!.value;
  assert.equal(BigInt.asUintN(64, BigInt(ev.value)), BigInt.asUintN(64, kernelValue));

  // two target flavors placing the field differently: libbpf refuses, so do we
  const tb = new BtfBuilder();
  const ti = tb.int('int', 4, true);
  tb.struct('foo', [{ name: 'a', type: ti }, { name: 'b', type: ti }]);
  tb.struct('foo___v2', [{ name: 'b', type: ti }]);
  const target = tb.build();
  const lb = new BtfBuilder();
  const li = lb.int('int', 4, true);
  const foo = lb.struct('foo', [{ name: 'b', type: li }]);
  assert.throws(() => resolveCoreRelo(lb.build(), { typeId: foo, accessStr: '0:0', kind: CoreReloKind.FIELD_BYTE_OFFSET }, target), /ambiguity/);
  // an incompatible field type is not a match: int vs struct
  const lb2 = new BtfBuilder();
  const foo2 = lb2.struct('foo', [{ name: 'a', type: lb2.struct('inner', []) }]);
  const r = resolveCoreRelo(lb2.build(), { typeId: foo2, accessStr: '0:0', kind: CoreReloKind.FIELD_BYTE_OFFSET }, target);
  assert.equal(r.ok, false);
  // anonymous local types cannot be looked up
  const lb3 = new BtfBuilder();
  const anon = lb3.struct('', [{ name: 'a', type: lb3.int('int', 4, true) }]);
  assert.throws(() => resolveCoreRelo(lb3.build(), { typeId: anon, accessStr: '0:0', kind: CoreReloKind.FIELD_BYTE_OFFSET }, target), /anonymous/);
});

test('CO-RE: module BTF is searched only when vmlinux has no candidate', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  const vm = vmlinux();
  // a "module" with its own struct, split on vmlinux, marshaled and parsed back as the kernel would give it
  const mb = new BtfBuilder(vm);
  const u64 = vm.findByName('long long unsigned int', 1)?.id ?? mb.int('unsigned long long', 8);
  const modStruct = mb.struct('tsbpf_mod_stats', [{ name: 'packets', type: u64 }, { name: 'bytes', type: u64 }]);
  const mod = parseBtf(mb.marshal(), vm);
  const lb = new BtfBuilder();
  const lu = lb.int('unsigned long long', 8);
  const local = lb.struct('tsbpf_mod_stats___mine', [{ name: 'bytes', type: lu }]);
  const task = lb.struct('task_struct', [{ name: 'pid', type: lb.int('int', 4, true) }]);
  const l = lb.build();
  const r = resolveCoreRelo(l, { typeId: local, accessStr: '0:0', kind: CoreReloKind.FIELD_BYTE_OFFSET }, [vm, mod]);
  assert.ok(r.ok);
  assert.equal(r.value, 8);
  assert.equal(r.targetTypeId, modStruct);
  assert.equal(r.targetBtf, mod);
  // without the module, the struct is missing
  assert.equal(resolveCoreRelo(l, { typeId: local, accessStr: '0:0', kind: CoreReloKind.FIELD_BYTE_OFFSET }, vm).ok, false);
  // vmlinux types still come from vmlinux
  const rt = resolveCoreRelo(l, { typeId: task, accessStr: '0', kind: CoreReloKind.TYPE_ID_TARGET }, [vm, mod]);
  assert.ok(rt.ok);
  assert.equal(rt.targetBtf, vm);
  assert.equal(rt.value, vm.findByName('task_struct', 4)!.id);
});

/** Rewrite every `from` CO-RE relocation kind in a .BTF.ext blob into `to` (little-endian objects). */
function rewriteReloKinds(ext: Uint8Array, from: CoreReloKind, to: CoreReloKind): Uint8Array {
  const out = ext.slice();
  const v = new DataView(out.buffer);
  const hdrLen = v.getUint32(4, true);
  const start = hdrLen + v.getUint32(24, true);
  const end = start + v.getUint32(28, true);
  const rec = v.getUint32(start, true);
  for (let p = start + 4; p < end; ) {
    const n = v.getUint32(p + 4, true);
    p += 8;
    for (let i = 0; i < n; i++, p += rec) if (v.getUint32(p + 12, true) === from) v.setUint32(p + 12, to, true);
  }
  return out;
}

test('CO-RE: TYPE_MATCHES decisions equal libbpf (TYPE_EXISTS records rewritten to TYPE_MATCHES)', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsRoot(t) || !needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  using tmp = tempDir();
  const obj = compileBpf('core-mini.bpf.c', tmp.dir);
  const extFile = join(tmp.dir, 'ext.bin');
  writeFileSync(extFile, rewriteReloKinds(elfSection(obj, '.BTF.ext'), CoreReloKind.TYPE_EXISTS, CoreReloKind.TYPE_MATCHES));
  const matches = join(tmp.dir, 'matches.o');
  execFileSync('llvm-objcopy', ['--update-section', `.BTF.ext=${extFile}`, obj, matches]);
  const local = parseBtf(elfSection(matches, '.BTF'));
  const relos = [...parseBtfExt(elfSection(matches, '.BTF.ext'), local).coreRelos.values()].flat();
  const tm = relos.filter((r) => r.kind === CoreReloKind.TYPE_MATCHES);
  assert.equal(tm.length, 7);
  const values = new Map(tm.map((r) => [local.nameOf(r.typeId), (resolveCoreRelo(local, r, vmlinux()) as { value: number }).value]));
  // some match, some do not: the comparison below is not trivially all-ones or all-zeros
  t.diagnostic(JSON.stringify([...values]));
  assert.deepEqual([...values.values()].sort(), [0, 0, 0, 0, 1, 1, 1]);
  compareWithLibbpf(matches);
});
