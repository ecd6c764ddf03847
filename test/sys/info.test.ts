import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u32, u64 } from '../../src/maps/codec.js';
import { RunTimeStats } from '../../src/kernel/stats.js';
import { btfIds, listBtf, listMaps, listPrograms, progInfo } from '../../src/sys/info.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { countInArray } from '../kernel/asm.js';

test('listing programs and maps shows ours with names, types, map ids, sizes; stats count runs', async (t) => {
  if (!needsRoot(t)) return;
  let progId = 0, mapId = 0;
  {
    using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: 'info_map', key: u32, value: u64 });
    using p = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: countInArray(m.fd), license: 'GPL', name: 'info_prog' });
    progId = p.id;
    mapId = m.id;
    const progs = listPrograms();
    const mine = progs.find((x) => x.id === progId);
    assert.ok(mine);
    assert.equal(mine.name, 'info_prog');
    assert.equal(mine.typeName, 'SOCKET_FILTER');
    assert.deepEqual(mine.mapIds, [mapId]);
    assert.equal(mine.gplCompatible, true);
    assert.equal(mine.createdByUid, 0);
    assert.ok(mine.xlatedProgLen > 0);
    const maps = listMaps();
    const mm = maps.find((x) => x.id === mapId);
    assert.ok(mm);
    assert.deepEqual([mm.name, mm.typeName, mm.keySize, mm.valueSize, mm.maxEntries], ['info_map', 'ARRAY', 4, 8, 1]);
    const x = progInfo(p.fd, { xlated: true });
    assert.equal(x.xlated?.length, x.xlatedProgLen);

    const stats = RunTimeStats.enable();
    try {
      p.testRun(new Uint8Array(16), { repeat: 4 });
      const s = p.info();
      assert.ok(s.runCnt >= 4n, `run_cnt ${s.runCnt}`);
      assert.ok(s.runTimeNs > 0n);
    } finally {
      stats.close();
    }
  }
  await assertGone('prog', [progId]);
  await assertGone('map', [mapId]);
});

test('BTF objects: the kernel\'s own vmlinux BTF is listed', (t) => {
  if (!needsRoot(t)) return;
  assert.ok(btfIds().length > 0);
  const vmlinux = listBtf().find((b) => b.name === 'vmlinux');
  assert.ok(vmlinux);
  assert.equal(vmlinux.kernelBtf, true);
  assert.ok(vmlinux.size > 1000);
});
