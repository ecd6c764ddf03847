import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parseObject } from '../../src/object/load-spec.js';
import { btfForKernel } from '../../src/object/btf-fixup.js';
import { parseBtf } from '../../src/btf/parse.js';
import { BtfKind, BtfVarLinkage, BtfFuncLinkage, type BtfDatasec } from '../../src/btf/types.js';
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL } from '../../src/isa/opcodes.js';
import { btfLoad } from '../../src/sys/bpf.js';
import { closeFd } from '../../src/sys/fds.js';
import { buildFixture } from './build.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';

/** llvm-readelf facts: section sizes by name, and OBJECT symbol values by name. */
function elfFacts(path: string) {
  const secOut = execFileSync('llvm-readelf', ['-S', '-W', path], { encoding: 'utf8' });
  const sizes = new Map<string, number>();
  const names = new Map<number, string>();
  for (const m of secOut.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/gm)) {
    sizes.set(m[2]!, parseInt(m[3]!, 16));
    names.set(Number(m[1]), m[2]!);
  }
  const symOut = execFileSync('llvm-readelf', ['-s', '-W', path], { encoding: 'utf8' });
  const syms = new Map<string, { value: number; section: string }>();
  for (const m of symOut.matchAll(/^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+OBJECT\s+\w+\s+\w+\s+(\d+)\s+(\S+)$/gm)) {
    syms.set(m[3]!, { value: parseInt(m[1]!, 16), section: names.get(Number(m[2]))! });
  }
  return { sizes, syms };
}

test('btfForKernel fills DATASEC sizes and VAR offsets from the ELF, sorted', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'llvm-readelf')) return;
  const path = buildFixture('programs');
  const spec = parseObject(readFileSync(path), 'programs');
  const fixed = parseBtf(btfForKernel(spec));
  const { sizes, syms } = elfFacts(path);
  let checked = 0;
  for (const ty of fixed.types) {
    if (ty.kind !== BtfKind.DATASEC || ty.name === '.kconfig') continue;
    assert.equal(ty.size, sizes.get(ty.name), `size of ${ty.name}`);
    for (const vs of ty.vars) {
      const v = fixed.typeById(vs.type);
      assert.equal(vs.offset, syms.get(v.name)!.value, `${ty.name}: offset of ${v.name}`);
      checked++;
    }
    for (let i = 1; i < ty.vars.length; i++) assert.ok(ty.vars[i]!.offset >= ty.vars[i - 1]!.offset + ty.vars[i - 1]!.size);
  }
  assert.ok(checked >= 8, `checked ${checked} variables`);
  // .kconfig: the externs' map layout, no extern linkage left
  const kc = fixed.findByName('.kconfig', BtfKind.DATASEC) as BtfDatasec;
  assert.equal(kc.size, 30);
  for (const vs of kc.vars) {
    const v = fixed.typeById(vs.type);
    assert.equal(v.kind === BtfKind.VAR && v.linkage, BtfVarLinkage.GLOBAL_ALLOCATED);
    assert.equal(vs.offset, spec.externs.find((e) => e.name === v.name)!.offset);
  }
  // type ids are unchanged, so map and func_info ids stay valid
  assert.equal(fixed.length, spec.btf!.length);
  for (const p of spec.programs) assert.equal(fixed.typeById(p.btfFuncId).name, p.name);
  // the original types are untouched
  assert.equal((spec.btf!.findByName('.bss', BtfKind.DATASEC) as BtfDatasec).size, 0);
  // line info points at its strings in the new string section
  let lines = 0;
  for (const p of spec.programs) {
    for (const l of p.lineInfo) {
      assert.equal(fixed.string(l.fileNameOff), l.fileName);
      assert.equal(fixed.string(l.lineOff), l.line);
      lines++;
    }
  }
  assert.ok(lines > 50);
});

test('ksyms: typed variables and kfuncs become references and kernel-acceptable BTF', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('ksyms')), 'ksyms');
  const p = spec.programs[0]!;
  const refs = p.ksymRefs.map((r) => [r.name, r.kind, r.weak, p.instructions[r.slot]!.src]);
  assert.deepEqual(refs, [
    ['runqueues', 'var', false, BPF_PSEUDO_BTF_ID],
    ['bpf_task_acquire', 'func', false, BPF_PSEUDO_KFUNC_CALL],
    ['bpf_task_release', 'func', false, BPF_PSEUDO_KFUNC_CALL],
    ['bpf_missing_kfunc_xyz', 'func', true, BPF_PSEUDO_BTF_ID],
    ['bpf_missing_kfunc_xyz', 'func', true, BPF_PSEUDO_KFUNC_CALL],
  ]);
  assert.ok(p.ksymRefs.every((r) => p.instructions[r.slot]!.imm === 0));
  const fixed = parseBtf(btfForKernel(spec));
  const ks = fixed.findByName('.ksyms', BtfKind.DATASEC) as BtfDatasec;
  assert.equal(ks.size, ks.vars.length * 4);
  ks.vars.forEach((vs, i) => {
    const v = fixed.typeById(vs.type);
    assert.deepEqual([vs.offset, vs.size, v.kind], [i * 4, 4, BtfKind.VAR]);
    assert.equal(v.kind === BtfKind.VAR && fixed.resolve(v.type).kind, BtfKind.INT);
  });
  const acquire = fixed.findByName('bpf_task_acquire', BtfKind.FUNC)!;
  assert.equal(acquire.kind === BtfKind.FUNC && acquire.linkage, BtfFuncLinkage.GLOBAL);
  assert.ok(fixed.types.every((x) => !(x.kind === BtfKind.FUNC && x.linkage === BtfFuncLinkage.EXTERN)));
});

test('the kernel accepts btfForKernel output for every fixture (and refuses the raw .BTF)', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  for (const name of ['programs', 'maps', 'core', 'ksyms', 'legacy']) {
    const spec = parseObject(readFileSync(buildFixture(name)), name);
    if (!spec.btf) continue;
    const fd = btfLoad(btfForKernel(spec));
    assert.ok(fd > 0, `${name}: BTF loaded`);
    closeFd(fd);
  }
  const raw = parseObject(readFileSync(buildFixture('programs')), 'programs').btfBytes!;
  assert.throws(() => btfLoad(raw), /BTF/, 'clang\'s unfixed DATASECs are refused');
});

test('hidden globals get static BTF linkage, as libbpf gives them', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('run')), 'run');
  assert.deepEqual([...spec.hiddenFunctions], ['hidden_inc']);
  const fixed = parseBtf(btfForKernel(spec));
  const f = fixed.findByName('hidden_inc', BtfKind.FUNC)!;
  assert.equal(f.kind === BtfKind.FUNC && f.linkage, BtfFuncLinkage.STATIC);
  const g = fixed.findByName('global_twice', BtfKind.FUNC)!;
  assert.equal(g.kind === BtfKind.FUNC && g.linkage, BtfFuncLinkage.GLOBAL);
  const v = fixed.findByName('hidden_var', BtfKind.VAR)!;
  assert.equal(v.kind === BtfKind.VAR && v.linkage, BtfVarLinkage.STATIC);
  const d = fixed.findByName('data_val', BtfKind.VAR)!;
  assert.equal(d.kind === BtfKind.VAR && d.linkage, BtfVarLinkage.GLOBAL_ALLOCATED);
});
