// The committed kernel objects of the tools are what their sources build to: `build-bpf.js --check`
// (sources and objects match the manifest), and a full rebuild gives the same bytes when the
// machine's vmlinux.h and clang are the ones the objects were built with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { needsCommand } from '../helpers/kernel.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const root = repoRoot();
const script = join(root, 'scripts/build-bpf.js');
const TOOLS = ['tcpconnect', 'execsnoop', 'opensnoop', 'tcplife', 'tcpstates', 'runqlat', 'biolatency', 'syscount', 'profile'];

test('every tool has its source, header and committed object, listed in the manifest', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'src/tools/objects.json'), 'utf8')) as { objects: Record<string, unknown> };
  for (const t of TOOLS) {
    for (const f of [`${t}.bpf.c`, `${t}.h`, `${t}.bpf.o`]) assert.ok(existsSync(join(root, 'src/tools', t, f)), `${t}/${f}`);
    assert.ok(manifest.objects[`src/tools/${t}/${t}.bpf.c`], `${t} in objects.json`);
  }
});

test('no committed object is stale (sources unchanged since the build)', () => {
  execFileSync(process.execPath, [script, '--check'], { cwd: root, stdio: 'pipe' });
});

test('a rebuild reproduces the committed objects byte for byte', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const out = mkdtempSync(join(tmpdir(), 'tsbpf-objects-'));
  try {
    execFileSync(process.execPath, [script, '--out', out, 'src/tools/'], { cwd: root, stdio: 'pipe' });
    const committed = JSON.parse(readFileSync(join(root, 'src/tools/objects.json'), 'utf8'));
    const rebuilt = JSON.parse(readFileSync(join(out, 'objects.json'), 'utf8'));
    if (committed.vmlinux.sha256 !== rebuilt.vmlinux.sha256 || committed.clang !== rebuilt.clang) {
      t.diagnostic(`built elsewhere (vmlinux ${committed.vmlinux.sha256.slice(0, 12)} ${committed.clang}); here ${rebuilt.vmlinux.sha256.slice(0, 12)} ${rebuilt.clang}: sources checked only`);
      return;
    }
    for (const [src, entry] of Object.entries(rebuilt.objects as Record<string, { object: string }>)) {
      assert.equal(entry.object, committed.objects[src]?.object, `${src}: committed object differs from a fresh build (run node scripts/build-bpf.js)`);
    }
    assert.ok(Object.keys(rebuilt.objects).length >= TOOLS.length);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
