import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { RingBuffer } from '../../src/maps/ringbuf.js';
import { u32, u64 } from '../../src/maps/codec.js';
import { attachRawTracepoint, attachTracepoint, attachTracing } from '../../src/link/tracepoint.js';
import { tracepointFormat } from '../../src/tracefs/tracefs.js';
import { tpBtfId } from '../../src/kernel/vmlinux.js';
import { AttachType, LinkType, MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import {
  B, DW, Helper, W, add64Imm, atomicAdd, call, exit, jneImm, ldMapFd, ldx, mov64Imm, mov64Reg, onlyTgidFrom, st, stx,
} from '../kernel/asm.js';
import { runTarget } from './target.js';

void B;

/** A u32 array map with one slot: the tgid the programs below listen to. */
const filterMap = (): BpfMap<number, number> => BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: 'filter', key: u32, value: u32 });
const counterMap = (): BpfMap<number, bigint> => BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: 'count', key: u32, value: u64 });

/** Increment counter[0]; r0 = 0; exit. */
function countAndExit(counterFd: number): ReturnType<typeof exit>[] {
  return [
    st(W, 10, -4, 0),
    ...ldMapFd(1, counterFd),
    mov64Reg(2, 10),
    add64Imm(2, -4),
    call(Helper.map_lookup_elem),
    jneImm(0, 0, 2),
    mov64Imm(0, 0),
    exit(),
    mov64Imm(1, 1),
    atomicAdd(DW, 0, 1, 0),
    mov64Imm(0, 0),
    exit(),
  ];
}

test('tracepoint syscalls:sys_enter_getpid → ring buffer: one record per getpid of the child, with its pid', async (t) => {
  if (!needsRoot(t)) return;
  const maps: number[] = [], progs: number[] = [], links: number[] = [];
  {
    using filter = filterMap();
    using rbMap = BpfMap.create({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 64 * 1024, name: 'events' });
    maps.push(filter.id, rbMap.id);
    // record = { u64 pid_tgid, u64 ktime }
    using prog = Program.load({
      type: ProgramType.TRACEPOINT,
      license: 'GPL',
      name: 'getpid_rb',
      instructions: [
        mov64Reg(6, 1),
        ...onlyTgidFrom(filter.fd),
        call(Helper.get_current_pid_tgid),
        stx(DW, 10, 0, -16),
        call(Helper.ktime_get_ns),
        stx(DW, 10, 0, -8),
        ...ldMapFd(1, rbMap.fd),
        mov64Reg(2, 10),
        add64Imm(2, -16),
        mov64Imm(3, 16),
        mov64Imm(4, 0),
        call(Helper.ringbuf_output),
        mov64Imm(0, 0),
        exit(),
      ],
    });
    progs.push(prog.id);
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getpid');
    assert.equal(link.isBpfLink, true);
    const li = link.info();
    assert.equal(li.type, LinkType.PERF_EVENT);
    assert.equal(li.progId, prog.id);
    links.push(li.id);

    using rb = new RingBuffer(rbMap, { decode: (v) => ({ tgid: v.getUint32(4, true), pid: v.getUint32(0, true), ns: v.getBigUint64(8, true) }) });
    const signal = AbortSignal.timeout(10_000);
    const it = rb.events({ signal });
    const before = process.hrtime.bigint();
    const pid = await runTarget('getpid', 5, (p) => filter.set(0, p));
    const got: { tgid: number; pid: number; ns: bigint }[] = [];
    for await (const r of it) {
      got.push(r);
      if (got.length === 5) break;
    }
    assert.equal(got.length, 5);
    for (const r of got) {
      assert.equal(r.tgid, pid);
      assert.equal(r.pid, pid, 'single-threaded child: tid == tgid');
    }
    assert.ok(got.every((r, i) => i === 0 || r.ns >= got[i - 1]!.ns), 'in order');
    void before;
    assert.equal(rb.read().length, 0, 'nothing else from the child');
  }
  await assertGone('link', links);
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('tracepoint sched:sched_process_exec reads the pid field at the offset from its format file', async (t) => {
  if (!needsRoot(t)) return;
  const fmt = tracepointFormat('sched', 'sched_process_exec');
  const pidField = fmt.fields.find((f) => f.name === 'pid');
  assert.ok(pidField && pidField.size === 4 && pidField.signed);
  const maps: number[] = [], progs: number[] = [];
  {
    using filter = filterMap();
    using out = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, key: u32, value: u32 });
    maps.push(filter.id, out.id);
    using prog = Program.load({
      type: ProgramType.TRACEPOINT,
      license: 'GPL',
      instructions: [
        mov64Reg(6, 1),
        ...onlyTgidFrom(filter.fd),
        ldx(W, 7, 6, pidField.offset),
        st(W, 10, -4, 0),
        ...ldMapFd(1, out.fd),
        mov64Reg(2, 10),
        add64Imm(2, -4),
        call(Helper.map_lookup_elem),
        jneImm(0, 0, 2),
        mov64Imm(0, 0),
        exit(),
        stx(W, 0, 7, 0),
        mov64Imm(0, 0),
        exit(),
      ],
    });
    progs.push(prog.id);
    using _link = attachTracepoint(prog, 'sched', 'sched_process_exec');
    const pid = await runTarget('exec', 0, (p) => filter.set(0, p));
    assert.equal(out.get(0), pid);
  }
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('raw tracepoint sys_enter counts exactly the child\'s getpid calls (syscall id from the raw args)', async (t) => {
  if (!needsRoot(t)) return;
  const maps: number[] = [], progs: number[] = [], links: number[] = [];
  const SYS_getpid = process.arch === 'arm64' ? 172 : 39;
  {
    using filter = filterMap();
    using count = counterMap();
    maps.push(filter.id, count.id);
    using prog = Program.load({
      type: ProgramType.RAW_TRACEPOINT,
      license: 'GPL',
      instructions: [
        mov64Reg(6, 1),
        ...onlyTgidFrom(filter.fd),
        ldx(DW, 1, 6, 8), // args[1]: syscall number
        jneImm(1, SYS_getpid, countAndExit(count.fd).length),
        ...countAndExit(count.fd),
        mov64Imm(0, 0),
        exit(),
      ],
    });
    progs.push(prog.id);
    using link = attachRawTracepoint(prog, 'sys_enter');
    const info = link.info();
    assert.equal(info.type, LinkType.RAW_TRACEPOINT);
    assert.equal(info.tpName, 'sys_enter');
    links.push(info.id);
    await runTarget('getpid', 7, (p) => filter.set(0, p));
    assert.equal(count.get(0), 7n);
  }
  await assertGone('link', links);
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('tp_btf sched_process_exec sees old_pid as a typed argument', async (t) => {
  if (!needsRoot(t)) return;
  const maps: number[] = [], progs: number[] = [], links: number[] = [];
  {
    using filter = filterMap();
    using out = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, key: u32, value: u32 });
    maps.push(filter.id, out.id);
    using prog = Program.load({
      type: ProgramType.TRACING,
      expectedAttachType: AttachType.TRACE_RAW_TP,
      attachBtfId: tpBtfId('sched_process_exec'),
      license: 'GPL',
      name: 'exec_btf',
      instructions: [
        mov64Reg(6, 1),
        ...onlyTgidFrom(filter.fd),
        ldx(DW, 7, 6, 8), // ctx[1]: pid_t old_pid
        st(W, 10, -4, 0),
        ...ldMapFd(1, out.fd),
        mov64Reg(2, 10),
        add64Imm(2, -4),
        call(Helper.map_lookup_elem),
        jneImm(0, 0, 2),
        mov64Imm(0, 0),
        exit(),
        stx(W, 0, 7, 0),
        mov64Imm(0, 0),
        exit(),
      ],
    });
    progs.push(prog.id);
    using link = attachTracing(prog);
    const info = link.info();
    // tp_btf attaches as a raw tracepoint link of the BTF target's name
    assert.equal(info.type, LinkType.RAW_TRACEPOINT);
    assert.equal(info.tpName, 'sched_process_exec');
    links.push(info.id);
    const pid = await runTarget('exec', 0, (p) => filter.set(0, p));
    assert.equal(out.get(0), pid);
  }
  await assertGone('link', links);
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('an unknown tracepoint is a clear error and leaves nothing open', (t) => {
  if (!needsRoot(t)) return;
  using prog = Program.load({ type: ProgramType.TRACEPOINT, license: 'GPL', instructions: [mov64Imm(0, 0), exit()] });
  assert.throws(() => attachTracepoint(prog, 'syscalls', 'sys_enter_no_such_call'), /tracepoint syscalls:sys_enter_no_such_call.*ENOENT.*available_events/);
  assert.throws(() => attachTracepoint(prog, '../..', 'x'), TypeError);
});
