import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObject } from '../../src/object/load-spec.js';
import { resolveKsyms, POISON_CALL_KFUNC_BASE } from '../../src/object/ksyms.js';
import { ObjectError } from '../../src/object/spec.js';
import { parseBtf } from '../../src/btf/parse.js';
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, BPF_JMP, BPF_CALL } from '../../src/isa/opcodes.js';
import { buildFixture } from './build.js';
import { needsCommand } from '../helpers/kernel.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const kernel = () => parseBtf(readFileSync(VMLINUX));

/** Kernel BTF ids by bpftool: `[id] KIND 'name'`. */
let rawDump: string | undefined;
function bpftoolId(kind: string, name: string): number {
  const raw = (rawDump ??= execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 1 << 30 }));
  return Number(new RegExp(`^\\[(\\d+)\\] ${kind} '${name}'`, 'm').exec(raw)![1]);
}

test('resolveKsyms: kernel BTF ids for typed variables and kfuncs; weak misses become 0 / poisoned calls', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const spec = parseObject(readFileSync(buildFixture('ksyms')), 'ksyms');
  resolveKsyms(spec, kernel());
  const p = spec.programs[0]!;
  const at = (name: string) => p.ksymRefs.filter((r) => r.name === name).map((r) => p.instructions[r.slot]!);
  const [rq] = at('runqueues');
  assert.deepEqual([rq!.src, rq!.imm], [BPF_PSEUDO_BTF_ID, bpftoolId('VAR', 'runqueues')]);
  const [acq] = at('bpf_task_acquire');
  assert.deepEqual([acq!.src, acq!.imm, acq!.off], [BPF_PSEUDO_KFUNC_CALL, bpftoolId('FUNC', 'bpf_task_acquire'), 0]);
  assert.equal(at('bpf_task_release')[0]!.imm, bpftoolId('FUNC', 'bpf_task_release'));
  const [addr, call] = at('bpf_missing_kfunc_xyz');
  assert.deepEqual([addr!.src, addr!.imm], [0, 0], 'address of a missing weak kfunc is 0');
  const idx = spec.externs.findIndex((e) => e.name === 'bpf_missing_kfunc_xyz');
  assert.deepEqual(call, { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: POISON_CALL_KFUNC_BASE + idx });
});

test('resolveKsyms: a missing strong ksym and a mismatched declaration are errors', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('ksyms')), 'ksyms');
  spec.externs.find((e) => e.name === 'bpf_missing_kfunc_xyz')!.weak = false;
  assert.throws(() => resolveKsyms(spec, kernel()), (e: unknown) => e instanceof ObjectError && /bpf_missing_kfunc_xyz.*not found/.test(e.message));

  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-ksym-'));
  writeFileSync(join(dir, 'k.c'), `
    extern int bpf_task_acquire(int x) __attribute__((section(".ksyms")));
    char LICENSE[] __attribute__((section("license"), used)) = "GPL";
    __attribute__((section("tp_btf/sched_switch"), used)) int p(void *c) { return bpf_task_acquire(1); }`);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', join(dir, 'k.c'), '-o', join(dir, 'k.o')]);
  const bad = parseObject(readFileSync(join(dir, 'k.o')), 'k');
  assert.throws(() => resolveKsyms(bad, kernel()), (e: unknown) => e instanceof ObjectError && /bpf_task_acquire.*does not match/.test(e.message));
});
