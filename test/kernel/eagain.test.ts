// The verifier returns EAGAIN when a signal is pending; Program.load loads again (as libbpf does),
// so a program loads under a profiler sampling every 10 µs (SIGPROF), which made one-liners fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';

test('programs load while SIGPROF keeps interrupting the verifier', (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-eagain-'));
  try {
    for (let i = 0; i < 5; i++) {
      const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '10', repoPath('bin/tsbpf'), 'trace', 'BEGIN { printf("ok\\n"); exit() }'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^ok$/m);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
