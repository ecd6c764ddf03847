// Shared test conditions for tests that need the real kernel.
// Outside CI a kernel test skips (with the reason) where the machine cannot run it; under CI=true
// nothing skips: a missing capability fails the test loudly.
import type { TestContext } from 'node:test';
import { execFileSync } from 'node:child_process';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** True if this process may use bpf(2) as root; otherwise skip (or fail under CI). */
export function needsRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  if (inCI) throw new Error('kernel test needs root (CAP_BPF, CAP_SYS_ADMIN) and CI=true forbids skipping');
  t.skip('needs root (CAP_BPF, CAP_SYS_ADMIN)');
  return false;
}

/** True if `cmd` is on PATH; otherwise skip (or fail under CI). */
export function needsCommand(t: TestContext, cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (inCI) throw new Error(`test needs '${cmd}' on PATH and CI=true forbids skipping (.ci/run installs it)`);
    t.skip(`needs ${cmd}`);
    return false;
  }
}

/** Ids of BPF programs currently loaded in the kernel (from bpftool), to check tests leave nothing behind. */
export function loadedProgramIds(): number[] {
  const out = execFileSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { id: number }[]).map((p) => p.id);
}
