import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { SyscallError, VerifierError } from '../../src/sys/errors.js';
import { programIds } from '../../src/sys/info.js';
import { ownedFds } from '../../src/sys/fds.js';
import { needsRoot } from '../helpers/kernel.js';
import { exit, ldx, mov64Imm, returnImm, DW } from './asm.js';

test('loads a socket filter, runs it with PROG_TEST_RUN and closes it', (t) => {
  if (!needsRoot(t)) return;
  const p = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: returnImm(42), license: 'GPL', name: 'ret42' });
  const info = p.info();
  assert.equal(info.name, 'ret42');
  assert.equal(info.type, ProgramType.SOCKET_FILTER);
  assert.equal(info.tag.length, 16);
  assert.ok(info.loadedAt.getTime() > Date.now() - 60_000 && info.loadedAt.getTime() <= Date.now() + 1000);
  assert.ok(programIds().includes(info.id));
  const r = p.testRun(new Uint8Array(64), { repeat: 10 });
  assert.equal(r.retval, 42);
  assert.ok(r.duration >= 0);
  p.close();
  assert.equal(p.closed, true);
  assert.ok(!programIds().includes(info.id), 'program id gone after close');
  assert.ok(![...ownedFds().values()].some((w) => w.includes('ret42')));
});

test('a rejected program throws VerifierError with the log and the failing instruction', (t) => {
  if (!needsRoot(t)) return;
  // r0 = *(u64 *)(r2 + 0): r2 is not initialised at instruction 1.
  const insns = [mov64Imm(0, 0), ldx(DW, 0, 2, 0), exit()];
  const err = (() => {
    try {
      Program.load({ type: ProgramType.SOCKET_FILTER, instructions: insns, license: 'GPL', name: 'bad', lineSource: (s) => `line for slot ${s}` });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof VerifierError, String(err));
  assert.ok(err instanceof SyscallError);
  assert.equal(err.code, 'EACCES');
  assert.equal(err.instruction, 1);
  assert.equal(err.source, 'line for slot 1');
  assert.match(err.log, /R2 !read_ok/);
  assert.match(err.message, /at instruction 1/);
  assert.match(err.message, /R2 !read_ok/);
});

test('a program without exit fails with EINVAL and the log says why', (t) => {
  if (!needsRoot(t)) return;
  assert.throws(
    () => Program.load({ type: ProgramType.SOCKET_FILTER, instructions: [mov64Imm(0, 0)], license: 'GPL' }),
    (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL' && /jump|exit|last insn/i.test(e.message),
  );
});

test('logLevel keeps the verifier log of a successful load', (t) => {
  if (!needsRoot(t)) return;
  using p = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: returnImm(0), license: 'GPL', logLevel: 2 });
  assert.match(p.verifierLog ?? '', /processed \d+ insns/);
});

test('a too-small log buffer grows (ENOSPC) until the whole log fits', async (t) => {
  if (!needsRoot(t)) return;
  const { progLoad } = await import('../../src/sys/bpf.js');
  const { closeFd } = await import('../../src/sys/fds.js');
  const { encode } = await import('../../src/isa/instruction.js');
  const logOut = { log: '' };
  const insns = encode([mov64Imm(0, 0), mov64Imm(1, 1), mov64Imm(2, 2), exit()]);
  const fd = progLoad({ type: ProgramType.SOCKET_FILTER, insns, license: 'GPL', logLevel: 2, logSize: 32, logOut });
  closeFd(fd);
  assert.match(logOut.log, /processed 4 insns/);
  assert.ok(logOut.log.length > 32);
});

test('GPL-only helper with a non-GPL license is refused with a clear error', (t) => {
  if (!needsRoot(t)) return;
  // bpf_trace_printk (6) is gpl_only; call it from a tracepoint program licensed "MIT".
  const insns = [mov64Imm(1, 0), mov64Imm(2, 0), { code: 0x85, dst: 0, src: 0, off: 0, imm: 6 }, mov64Imm(0, 0), exit()];
  assert.throws(() => Program.load({ type: ProgramType.TRACEPOINT, instructions: insns, license: 'MIT' }), SyscallError);
});

test('PROG_BIND_MAP ties a map to a program (it shows in the program\'s map ids)', async (t) => {
  if (!needsRoot(t)) return;
  const { BpfMap } = await import('../../src/maps/map.js');
  const { progBindMap } = await import('../../src/sys/bpf.js');
  const { MapType } = await import('../../src/uapi/bpf.js');
  using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  using p = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: returnImm(0), license: 'GPL' });
  assert.deepEqual(p.info().mapIds, []);
  progBindMap(p.fd, m.fd);
  assert.deepEqual(p.info().mapIds, [m.id]);
});
