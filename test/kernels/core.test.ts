// CO-RE across kernels: every committed object (the tools' and the examples') loads unchanged on this
// kernel, program by program — its field relocations resolved against this kernel's BTF, its maps
// created, its code verified. The only programs allowed to fail are those whose kind the kernel
// refuses (fentry/fexit where the fentry probe says EPERM), and they must fail for that reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collection } from '../../src/kernel/collection.js';
import { parseObject } from '../../src/object/load-spec.js';
import { fentry } from '../../src/kernel/features.js';
import { needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';

function objects(): string[] {
  const out: string[] = [];
  for (const base of ['src/tools', 'examples']) {
    for (const dir of readdirSync(repoPath(base), { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      for (const f of readdirSync(repoPath(base, dir.name))) if (f.endsWith('.bpf.o')) out.push(join(base, dir.name, f));
    }
  }
  return out.sort();
}

const FENTRY_LIKE = /^(fentry|fexit|fmod_ret)\//;

test('every committed object loads on this kernel, program by program (CO-RE)', (t) => {
  if (!needsRoot(t)) return;
  const files = objects();
  assert.ok(files.length >= 10, `found ${files.length} objects`);
  const failures: string[] = [];
  let loaded = 0;
  for (const file of files) {
    const spec = parseObject(new Uint8Array(readFileSync(repoPath(file))), file);
    for (const prog of spec.programs) {
      const name = prog.name;
      try {
        Collection.load(repoPath(file), { programs: [name] }).close();
        loaded++;
      } catch (e) {
        const msg = (e as Error).message;
        if (FENTRY_LIKE.test(prog.section) && !fentry().ok && /EPERM|not permitted/.test(msg)) continue;
        failures.push(`${file} ${name} (SEC("${prog.section}")): ${msg.split('\n')[0]}`);
      }
    }
  }
  t.diagnostic(`${loaded} programs loaded from ${files.length} objects`);
  assert.deepEqual(failures, []);
});
