import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { attachIter, readIter } from '../../src/link/iter.js';
import { funcBtfId, vmlinuxBtf } from '../../src/kernel/vmlinux.js';
import { BtfKind, type BtfComposite } from '../../src/btf/types.js';
import { AttachType, MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { DW, W, add64Imm, call, exit, jneImm, ldx, mov64Imm, mov64Reg, stx } from '../kernel/asm.js';

test('a bpf_map iterator writes the id of every map, ours included', async (t) => {
  if (!needsRoot(t)) return;
  const bpfMap = vmlinuxBtf().findByName('bpf_map', BtfKind.STRUCT) as BtfComposite;
  const idOff = bpfMap.members.find((m) => m.name === 'id')!.bitOffset / 8;
  const maps: number[] = [], progs: number[] = [], links: number[] = [];
  {
    using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: 'iter_me' });
    maps.push(m.id);
    using prog = Program.load({
      type: ProgramType.TRACING,
      expectedAttachType: AttachType.TRACE_ITER,
      attachBtfId: funcBtfId('bpf_iter_bpf_map'),
      license: 'GPL',
      name: 'dump_ids',
      instructions: [
        mov64Reg(6, 1),
        ldx(DW, 7, 6, 8), // ctx->map (NULL after the last map)
        jneImm(7, 0, 2),
        mov64Imm(0, 0),
        exit(),
        ldx(W, 8, 7, idOff), // map->id
        stx(W, 10, 8, -4),
        ldx(DW, 1, 6, 0), // ctx->meta
        ldx(DW, 1, 1, 0), // meta->seq
        mov64Reg(2, 10),
        add64Imm(2, -4),
        mov64Imm(3, 4),
        call(127), // bpf_seq_write
        mov64Imm(0, 0),
        exit(),
      ],
    });
    progs.push(prog.id);
    using link = attachIter(prog);
    links.push(link.id);
    const out = readIter(link);
    assert.equal(out.length % 4, 0);
    const ids = [...new Uint32Array(out.buffer, out.byteOffset, out.length / 4)];
    assert.ok(ids.includes(m.id), `ids ${ids.join(',')} include ${m.id}`);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in id order');
    // a second run works too
    assert.ok(readIter(link).length >= 4);
  }
  await assertGone('link', links);
  await assertGone('prog', progs);
  await assertGone('map', maps);
});
