import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u32, u64 } from '../../src/maps/codec.js';
import { attachPerfEvent } from '../../src/link/perf-event.js';
import { onlineCpus } from '../../src/sys/cpus.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { DW, Helper, W, add64Imm, atomicAdd, call, exit, jneImm, ldMapFd, mov64Imm, mov64Reg, st } from '../kernel/asm.js';
import { runTarget } from './target.js';

test('perf_event: CPU clock sampling on every CPU counts samples while a CPU loop runs, and stops after close', async (t) => {
  if (!needsRoot(t)) return;
  const maps: number[] = [], progs: number[] = [], links: number[] = [];
  {
    using count = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, key: u32, value: u64 });
    maps.push(count.id);
    using prog = Program.load({
      type: ProgramType.PERF_EVENT,
      license: 'GPL',
      instructions: [
        st(W, 10, -4, 0),
        ...ldMapFd(1, count.fd),
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
      ],
    });
    progs.push(prog.id);
    {
      using link = attachPerfEvent(prog, { frequency: 1000 });
      assert.equal(link.children.length, onlineCpus().length);
      for (const c of link.children) links.push(c.id);
      await runTarget('spin', 300);
    }
    const n = count.get(0)!;
    assert.ok(n > 50n, `samples: ${n}`);
    await runTarget('spin', 100);
    assert.equal(count.get(0), n, 'no samples after the link is closed');
  }
  await assertGone('link', links);
  await assertGone('prog', progs);
  await assertGone('map', maps);
});
