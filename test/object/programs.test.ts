import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { decode, LDDW, type Instruction } from '../../src/isa/instruction.js';
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../../src/isa/opcodes.js';
import { ProgramType, AttachType, MapType } from '../../src/uapi/bpf.js';
import { BtfKind } from '../../src/btf/types.js';
import type { ProgramSpec, CollectionSpec } from '../../src/object/spec.js';
import { buildFixture, readelfRelocs, skeletonNames } from './build.js';
import { needsCommand } from '../helpers/kernel.js';

/** Facts about an object from llvm-readelf alone: sections (offset, size) and FUNC/OBJECT symbols. */
function readelfFacts(path: string) {
  const secOut = execFileSync('llvm-readelf', ['-S', '-W', path], { encoding: 'utf8' });
  const sections = new Map<number, { name: string; offset: number; size: number }>();
  for (const m of secOut.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)) {
    sections.set(Number(m[1]), { name: m[2]!, offset: parseInt(m[3]!, 16), size: parseInt(m[4]!, 16) });
  }
  const symOut = execFileSync('llvm-readelf', ['-s', '-W', path], { encoding: 'utf8' });
  const syms: { name: string; value: number; size: number; type: string; ndx: string }[] = [];
  for (const m of symOut.matchAll(/^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+(\w+)\s+\w+\s+\w+\s+(\w+)\s*(.*)$/gm)) {
    syms.push({ value: parseInt(m[1]!, 16), size: Number(m[2]), type: m[3]!, ndx: m[4]!, name: m[5]!.trim() });
  }
  return { sections, syms };
}

interface OFunc { name: string; sec: string; start: number; len: number }

/** Check a linked program against llvm-readelf facts: code copied, calls and lddw references right. */
function checkLinked(path: string, spec: CollectionSpec, p: ProgramSpec): void {
  const bytes = readFileSync(path);
  const { sections, syms } = readelfFacts(path);
  const funcs: OFunc[] = syms.filter((s) => s.type === 'FUNC').map((s) => ({ name: s.name, sec: sections.get(Number(s.ndx))!.name, start: s.value / 8, len: s.size / 8 }));
  const code = (sec: string): Instruction[] => {
    const s = [...sections.values()].find((x) => x.name === sec)!;
    return decode(bytes.subarray(s.offset, s.offset + s.size));
  };
  const placed = new Map<string, number>([[p.name, 0], ...p.subprograms.map((s) => [s.name, s.slot] as [string, number])]);
  const funcAt = (sec: string, slot: number) => funcs.find((f) => f.sec === sec && f.start === slot)!;
  for (const [fname, at] of placed) {
    const f = funcs.find((x) => x.name === fname)!;
    assert.ok(f, `function ${fname} in readelf`);
    const orig = code(f.sec);
    const relocs = new Map(readelfRelocs(path, f.sec).map(([off, type, sym]) => [off / 8, { type, sym }]));
    for (let j = 0; j < f.len; j++) {
      const o = orig[f.start + j]!;
      const k = at + j;
      const l = p.instructions[k]!;
      assert.equal(l.code, o.code, `${p.name}/${fname}+${j}: opcode`);
      assert.equal(l.dst, o.dst);
      assert.equal(l.off, o.off);
      const rel = relocs.get(f.start + j);
      if (o.code === (BPF_JMP | BPF_CALL) && o.src === BPF_PSEUDO_CALL) {
        let callee: OFunc;
        if (rel?.sym === '.text') callee = funcAt('.text', o.imm + 1);
        else if (rel) callee = funcs.find((x) => x.name === rel.sym)!;
        else callee = funcAt(f.sec, f.start + j + o.imm + 1);
        assert.equal(l.src, BPF_PSEUDO_CALL);
        assert.equal(k + l.imm + 1, placed.get(callee.name), `${p.name}: call at ${k} reaches ${callee.name}`);
      } else if (o.code === LDDW && rel) {
        const ref = p.mapRefs.find((r) => r.slot === k);
        const sym = syms.find((s) => s.name === rel.sym && s.type !== 'SECTION');
        if (rel.sym === '.text') {
          assert.equal(l.src, BPF_PSEUDO_FUNC);
          assert.equal(k + l.imm + 1, placed.get(funcAt('.text', o.imm / 8).name));
        } else if (spec.maps.some((m) => m.name === rel.sym && (m.origin === 'btf' || m.origin === 'legacy'))) {
          assert.deepEqual(ref, { slot: k, map: rel.sym, kind: 'fd', offset: 0 });
          assert.equal(l.src, BPF_PSEUDO_MAP_FD);
        } else if (sym?.ndx === 'UND') {
          const ext = spec.externs.find((e) => e.name === rel.sym)!;
          assert.equal(ref?.kind, 'value');
          assert.equal(ref?.offset, ext.offset);
        } else {
          const secName = sym ? sections.get(Number(sym.ndx))!.name : rel.sym; // a section symbol names its section
          const map = spec.maps.find((m) => m.section === secName)!;
          const value = (sym?.value ?? 0) + o.imm;
          assert.deepEqual(ref, { slot: k, map: map.name, kind: 'value', offset: value });
          assert.equal(l.src, BPF_PSEUDO_MAP_VALUE);
          assert.equal(p.instructions[k + 1]!.imm, value);
        }
        if (rel.sym !== '.text') assert.equal(l.imm, 0, 'the loader patches the fd in');
        j++; // second lddw slot checked above
      } else {
        assert.equal(l.src, o.src, `${p.name}/${fname}+${j}: src`);
        assert.equal(l.imm, o.imm, `${p.name}/${fname}+${j}: imm`);
      }
    }
  }
  assert.equal(p.instructions.length, [...placed.keys()].reduce((n, name) => n + funcs.find((x) => x.name === name)!.len, 0));
  // one func_info per function, at its slot, naming it; line_info sorted, inside, starting at 0
  const btf = spec.btf!;
  assert.deepEqual(p.funcInfo.map((fi) => [fi.insnOff, btf.typeById(fi.typeId).name]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [...placed].map(([n, s]) => [s, n]).sort((a, b) => Number(a[0]) - Number(b[0])));
  assert.ok(p.funcInfo.every((fi) => btf.typeById(fi.typeId).kind === BtfKind.FUNC));
  assert.equal(p.lineInfo[0]?.insnOff, 0);
  for (let i = 1; i < p.lineInfo.length; i++) assert.ok(p.lineInfo[i]!.insnOff >= p.lineInfo[i - 1]!.insnOff);
  assert.ok(p.lineInfo.every((li) => li.insnOff < p.instructions.length && li.fileName.endsWith('.bpf.c') && li.lineNum >= 0));
  assert.ok(p.lineInfo.filter((li) => li.lineNum > 0).length >= p.lineInfo.length / 2, 'mostly real source lines');
}

test('programs: every function of every section, libbpf order, types and attach targets', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const path = buildFixture('programs');
  const spec = parseObject(readFileSync(path), 'programs.bpf.o');
  const skel = skeletonNames(path, 'programs');
  assert.deepEqual(spec.programs.map((p) => p.name), skel.progs);
  const by = (n: string) => spec.programs.find((p) => p.name === n)!;
  assert.equal(spec.license, 'Dual BSD/GPL');
  assert.ok(spec.programs.every((p) => p.license === 'Dual BSD/GPL'));
  assert.deepEqual([by('on_state').type, by('on_state').attach], [ProgramType.TRACEPOINT, { kind: 'tracepoint', target: 'sock/inet_sock_set_state' }]);
  assert.equal(by('on_state_too').section, 'tracepoint/sock/inet_sock_set_state');
  assert.deepEqual(by('kp_connect').attach, { kind: 'kprobe', target: 'tcp_v4_connect' });
  assert.deepEqual(by('kret').attach, { kind: 'kretprobe', target: 'tcp_v4_connect+0x10' });
  assert.deepEqual(by('up_malloc').attach, { kind: 'uprobe', target: '/lib/x86_64-linux-gnu/libc.so.6:malloc' });
  assert.deepEqual(by('uret_free').attach, { kind: 'uretprobe', target: 'libc.so.6:free' });
  assert.deepEqual([by('btf_state').type, by('btf_state').expectedAttachType, by('btf_state').attach.target], [ProgramType.TRACING, AttachType.TRACE_RAW_TP, 'inet_sock_set_state']);
  assert.equal(by('rawtp').type, ProgramType.RAW_TRACEPOINT);
  assert.deepEqual([by('xdp_pass').type, by('xdp_pass').expectedAttachType], [ProgramType.XDP, AttachType.XDP]);
  assert.deepEqual([by('tc_in').type, by('tc_in').expectedAttachType, by('tc_in').attach.kind], [ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, 'tcx']);
  assert.equal(by('sock').type, ProgramType.SOCKET_FILTER);
  assert.deepEqual([by('cg_egress').type, by('cg_egress').expectedAttachType], [ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS]);
  assert.deepEqual([by('sleepy').sleepable, by('sleepy').attachBtf, by('sleepy').attach.target], [true, true, 'do_unlinkat']);
  assert.equal(by('perf').type, ProgramType.PERF_EVENT);
  assert.deepEqual([by('opt_in').section, by('opt_in').type, by('opt_in').autoload], ['?socket', ProgramType.SOCKET_FILTER, false]);
  assert.ok(spec.programs.filter((p) => p.name !== 'opt_in').every((p) => p.autoload));
  assert.ok(spec.programs.every((p) => p.btfFuncId > 0 && spec.btf!.typeById(p.btfFuncId).name === p.name));
});

test('programs: linking appends called subprograms and callbacks, relocations match llvm-readelf', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'llvm-readelf')) return;
  const path = buildFixture('programs');
  const spec = parseObject(readFileSync(path), 'programs');
  for (const p of spec.programs) checkLinked(path, spec, p);
  const by = (n: string) => spec.programs.find((p) => p.name === n)!;
  assert.deepEqual(by('on_state').subprograms.map((s) => s.name).sort(), ['bump', 'global_helper', 'twice']);
  assert.deepEqual(by('on_state_too').subprograms.map((s) => s.name), ['bump']);
  assert.deepEqual(by('up_malloc').subprograms.map((s) => s.name), ['loop_cb']);
  assert.deepEqual(by('tc_in').subprograms.map((s) => s.name), ['global_helper']);
  assert.deepEqual(by('xdp_pass').subprograms, []);
  // callbacks are referenced through lddw src=BPF_PSEUDO_FUNC
  assert.ok(by('up_malloc').instructions.some((i) => i.code === LDDW && i.src === BPF_PSEUDO_FUNC));
  // line info carries the C source text
  assert.ok(by('up_malloc').lineInfo.some((l) => l.line.includes('bpf_loop(10, loop_cb, &sum, 0)')));
  assert.ok(by('on_state').lineInfo.some((l) => l.line.includes('__sync_fetch_and_add')), 'subprogram lines merged');
});

test('global data maps and kconfig: names as libbpf (bpftool skeleton), contents, flags', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const path = buildFixture('programs');
  const spec = parseObject(readFileSync(path), 'tcpconnect_longname.bpf.o');
  assert.deepEqual(spec.maps.map((m) => m.name), skeletonNames(path, 'tcpconnect_longname').maps);
  const m = (s: string) => spec.maps.find((x) => x.section === s)!;
  assert.equal(m('.rodata').name, 'tcpconne.rodata');
  assert.equal(m('.kconfig').name, 'tcpconn.kconfig');
  assert.equal(m('.data.custom').name, '.data.custom');
  assert.equal(m('.rodata').frozen, true);
  assert.equal(m('.rodata').flags & 0x80, 0x80);
  assert.equal(m('.data').flags & 0x80, 0);
  const ro = m('.rodata').contents!;
  assert.equal(new DataView(ro.buffer, ro.byteOffset).getUint32(0, true), 7, 'targ_pid = 7');
  assert.equal(new TextDecoder().decode(ro.subarray(4, 9)), 'hello');
  assert.equal(new DataView(m('.data').contents!.buffer).getBigUint64(0, true), 3n);
  assert.deepEqual([...m('.bss').contents!], new Array(24).fill(0));
  assert.equal(new DataView(m('.data.custom').contents!.buffer).getInt32(0, true), 42);
  for (const d of ['.rodata', '.data', '.bss', '.data.custom']) {
    assert.equal(m(d).type, MapType.ARRAY);
    assert.equal(m(d).maxEntries, 1);
    assert.equal(spec.btf!.typeById(m(d).btfValueTypeId).name, d);
  }
});

test('the object name comes from the file name as libbpf derives it', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const path = buildFixture('programs');
  // a path is accepted as the name: programs.bpf.o → "programs", as libbpf derives it
  const spec = parseObject(readFileSync(path), path);
  assert.equal(spec.name, 'programs');
  assert.deepEqual(spec.maps.map((m) => m.name), skeletonNames(path, 'programs').maps);
});
