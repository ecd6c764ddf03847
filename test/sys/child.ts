// Run a snippet of ESM in a child node process that can import tsbpf modules (compiled .js under
// dist/, or .ts through tsx when the tests run from source).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** URL of a tsbpf module given as a path from the package root, e.g. 'src/sys/cleanup.js'. */
export function moduleUrl(fromRoot: string): { url: string; needsTsx: boolean } {
  const js = new URL(`../../${fromRoot}`, import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js.href, needsTsx: false };
  const ts = fileURLToPath(js).replace(/\.js$/, '.ts');
  return { url: pathToFileURL(ts).href, needsTsx: true };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Start `code` (an ES module body); `onLine` sees each stdout line and may signal the child.
 */
export function runChild(code: string, needsTsx: boolean, onLine: (line: string, kill: (s: NodeJS.Signals) => void) => void = () => {}): Promise<ChildResult> {
  const args = [...(needsTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../../', import.meta.url)).replace(/dist\/$/, '') });
  let stdout = '', stderr = '', partial = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) onLine(l, (s) => child.kill(s));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
