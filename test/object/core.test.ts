import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parseObject } from '../../src/object/load-spec.js';
import { applyCoRe, POISON_IMM } from '../../src/object/core.js';
import { parseBtf } from '../../src/btf/parse.js';
import { CoreReloKind } from '../../src/btf/ext.js';
import { BPF_LDX, BPF_MEM, BPF_W, BPF_H, BPF_JMP, BPF_CALL } from '../../src/isa/opcodes.js';
import { buildFixture } from './build.js';
import { needsCommand } from '../helpers/kernel.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

/** bpftool's raw dump of the kernel's struct task_struct: id, size and member bit offsets. */
let cached: { id: number; size: number; members: Map<string, number> } | undefined;
function kernelTaskStruct(): { id: number; size: number; members: Map<string, number> } {
  return (cached ??= readTaskStruct());
}
function readTaskStruct(): { id: number; size: number; members: Map<string, number> } {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const at = raw.search(/^\[\d+\] STRUCT 'task_struct' /m);
  const head = /^\[(\d+)\] STRUCT 'task_struct' size=(\d+)/m.exec(raw.slice(at))!;
  const body = raw.slice(at).split('\n').slice(1);
  const members = new Map<string, number>();
  for (const line of body) {
    const m = /^\s+'(\w*)' type_id=\d+ bits_offset=(\d+)/.exec(line);
    if (!m) break;
    members.set(m[1]!, Number(m[2]));
  }
  return { id: Number(head[1]), size: Number(head[2]), members };
}

test('applyCoRe against the running kernel: field offsets, sizes, type ids, enum values', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const spec = parseObject(readFileSync(buildFixture('core')), 'core');
  const before = parseObject(readFileSync(buildFixture('core')), 'core').programs.find((x) => x.name === 'core_reads')!;
  const out = applyCoRe(spec, parseBtf(readFileSync(VMLINUX)));
  assert.equal(out, spec, 'in place');
  const k = kernelTaskStruct();
  const p = out.programs.find((x) => x.name === 'core_reads')!;
  assert.deepEqual(p.poisoned, []);
  const valueOf = (kind: CoreReloKind, pred: (access: string) => boolean = () => true) =>
    p.coreRelos.filter((r) => r.kind === kind && pred(r.accessStr)).map((r) => p.instructions[r.insnOff]!.imm);
  assert.ok(valueOf(CoreReloKind.FIELD_BYTE_OFFSET).includes(k.members.get('pid')! / 8), 'offset of task_struct::pid');
  assert.ok(valueOf(CoreReloKind.FIELD_BYTE_SIZE).includes(16), 'sizeof(comm)');
  assert.deepEqual(valueOf(CoreReloKind.TYPE_SIZE), [k.size]);
  assert.deepEqual(valueOf(CoreReloKind.TYPE_ID_TARGET), [k.id]);
  assert.deepEqual(valueOf(CoreReloKind.ENUMVAL_VALUE), [27], 'BPF_MAP_TYPE_RINGBUF');
  assert.deepEqual(valueOf(CoreReloKind.ENUMVAL_EXISTS), [1]);
  assert.deepEqual(valueOf(CoreReloKind.TYPE_EXISTS), [1]);
  // as parsed, TYPE_ID_TARGET held the local id
  const r = before.coreRelos.find((x) => x.kind === CoreReloKind.TYPE_ID_TARGET)!;
  assert.notEqual(before.instructions[r.insnOff]!.imm, k.id);
});

test('applyCoRe patches load offsets and widths when the local layout differs', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const before = parseObject(readFileSync(buildFixture('core')), 'core').programs.find((x) => x.name === 'core_shifted')!;
  const out = applyCoRe(parseObject(readFileSync(buildFixture('core')), 'core'), parseBtf(readFileSync(VMLINUX)));
  const k = kernelTaskStruct();
  const after = out.programs.find((x) => x.name === 'core_shifted')!;
  const loads = before.coreRelos.map((r) => [before.instructions[r.insnOff]!, after.instructions[r.insnOff]!] as const);
  assert.equal(loads.length, 2);
  const pid = loads.find(([b]) => b.off === 16)!;
  assert.deepEqual([pid[1].off, pid[1].code], [k.members.get('pid')! / 8, BPF_LDX | BPF_MEM | BPF_W]);
  const flags = loads.find(([b]) => b.off === 12)!;
  assert.equal(flags[0].code, BPF_LDX | BPF_MEM | BPF_H, 'local field is 2 bytes');
  assert.deepEqual([flags[1].off, flags[1].code], [k.members.get('flags')! / 8, BPF_LDX | BPF_MEM | BPF_W], 'kernel field is 4 bytes: load widened');
});

test('an unresolvable relocation poisons its instruction and records why', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('core')), 'core');
  const out = applyCoRe(spec, parseBtf(readFileSync(VMLINUX)));
  const p = out.programs.find((x) => x.name === 'core_missing')!;
  assert.equal(p.poisoned.length, 1);
  const { slot, reason } = p.poisoned[0]!;
  assert.deepEqual(p.instructions[slot], { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: POISON_IMM });
  assert.match(reason, /task_struct/);
  assert.match(reason, /no_such_field_xyz/);
  // field_exists and enumval_exists on missing things resolve to 0, not poison
  const exists = p.coreRelos.filter((r) => r.kind === CoreReloKind.FIELD_EXISTS || r.kind === CoreReloKind.ENUMVAL_EXISTS);
  assert.equal(exists.length, 2);
  for (const r of exists) assert.equal(p.instructions[r.insnOff]!.imm, 0);
});

test('CO-RE relocations inside a subprogram are applied to each program\'s copy', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const spec = applyCoRe(parseObject(readFileSync(buildFixture('core')), 'core'), parseBtf(readFileSync(VMLINUX)));
  const pid = kernelTaskStruct().members.get('pid')! / 8;
  for (const name of ['core_sub_a', 'core_sub_b']) {
    const p = spec.programs.find((x) => x.name === name)!;
    const sub = p.subprograms.find((s) => s.name === 'shifted_pid')!;
    assert.ok(sub, `${name} appends shifted_pid`);
    const relos = p.coreRelos.filter((r) => r.insnOff >= sub.slot);
    assert.equal(relos.length, 1, `${name}: the subprogram's relocation, re-based`);
    assert.equal(p.instructions[relos[0]!.insnOff]!.off, pid, `${name}: its copy reads task_struct::pid`);
  }
});
