import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { Program } from '../../src/kernel/program.js';
import { attachRawTracepoint } from '../../src/link/tracepoint.js';
import { linkIds, programIds } from '../../src/sys/info.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { exit, mov64Imm } from '../kernel/asm.js';

test('pinned links and programs outlive their fds until the pin is removed; raw_tp links refuse LINK_UPDATE', async (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync('/sys/fs/bpf/tsbpf-pin-');
  let linkId = 0, progId = 0, prog2Id = 0;
  try {
    {
      using prog = Program.load({ type: ProgramType.RAW_TRACEPOINT, license: 'GPL', name: 'pinned', instructions: [mov64Imm(0, 0), exit()] });
      using prog2 = Program.load({ type: ProgramType.RAW_TRACEPOINT, license: 'GPL', name: 'pinned2', instructions: [mov64Imm(0, 0), exit()] });
      progId = prog.id;
      prog2Id = prog2.id;
      prog.pin(`${dir}/prog`);
      using again = Program.fromPin(`${dir}/prog`);
      assert.equal(again.id, progId);
      assert.equal(again.name, 'pinned');
      using link = attachRawTracepoint(prog, 'sched_switch');
      linkId = link.id;
      link.pin(`${dir}/link`);
      assert.throws(() => link.update(prog2), /BPF_LINK_UPDATE/, 'raw_tp links cannot be updated');
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(linkIds().includes(linkId), 'pinned link still there');
    assert.ok(programIds().includes(progId), 'pinned program still there');
    unlinkSync(`${dir}/link`);
    await assertGone('link', [linkId]);
    unlinkSync(`${dir}/prog`);
    await assertGone('prog', [progId, prog2Id]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
