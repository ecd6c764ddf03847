// Real workloads for kernel tests, in child processes whose PIDs the tests know.
import { spawn, spawnSync } from 'node:child_process';

/** A child that listens on 127.0.0.1 and connects to itself; resolves with its pid and the port. */
export async function connectOnce(): Promise<{ pid: number; port: number }> {
  const script = `const net=require('net');const s=net.createServer().listen(0,'127.0.0.1',()=>{const p=s.address().port;` +
    `const c=net.connect(p,'127.0.0.1',()=>{process.stdout.write(process.pid+' '+p+'\\n');c.destroy();s.close();});});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`connect workload exited with ${code}`);
  const [pid, port] = text.trim().split(' ').map(Number);
  return { pid: pid!, port: port! };
}

/** A child that calls getpid() `n` times (python: every os.getpid() is a system call). */
export function getpidTimes(n: number): { pid: number } {
  const r = spawnSync('python3', ['-c', `import os\nfor _ in range(${n}): os.getpid()\nprint(os.getpid())`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`getpid workload failed: ${r.stderr}`);
  return { pid: Number(r.stdout.trim()) };
}

/**
 * Start a child that waits for a line on stdin, then calls getpid() `n` times; its pid is known first.
 * Dispose of it (`using`) so that a test failing before go() does not leave it waiting.
 */
export function getpidLater(n: number): { pid: number; go: () => Promise<void>; [Symbol.dispose](): void } {
  const child = spawn('python3', ['-c', `import os,sys\nsys.stdin.readline()\nfor _ in range(${n}): os.getpid()`], { stdio: ['pipe', 'ignore', 'inherit'] });
  return {
    pid: child.pid!,
    [Symbol.dispose]: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
    go: async () => {
      child.stdin!.end('go\n');
      const code = await new Promise<number | null>((r) => child.on('close', r));
      if (code !== 0) throw new Error(`getpid workload exited with ${code}`);
    },
  };
}
