// Commands run as users run them (bin/tsbpf, libbpf-tools, a libbpf loader), their output followed
// while they run, stopped with SIGINT as Ctrl+C stops them. Kernel-matrix tests run in guests where
// everything is 8–25× slower than on the host: waits are long, but end as soon as the output is there.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../net-tools/topology.js';

export interface Running {
  proc: ChildProcess;
  /** stdout so far */
  readonly out: string;
  /** stderr so far */
  readonly err: string;
  /** resolves when stdout+stderr match `re` (rejects on exit or after `ms`) */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** SIGINT (Ctrl+C), then the exit code (killed after `ms`) */
  stop(ms?: number): Promise<number | null>;
  /** the exit code, when it exits by itself */
  exited: Promise<number | null>;
}

export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', (d: Buffer) => ((out += d.toString()), poke()));
  proc.stderr!.on('data', (d: Buffer) => ((err += d.toString()), poke()));
  const exited = new Promise<number | null>((res) => proc.on('close', (code) => (res(code), poke())));
  return {
    proc,
    get out() { return out; },
    get err() { return err; },
    exited,
    waitFor(re, ms = 120_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = (out + err).match(re);
          if (m) return done(() => resolve(m));
          if (proc.exitCode !== null || proc.signalCode !== null) done(() => reject(new Error(`${cmd} ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) before ${re}:\n${out}${err}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${re} within ${ms} ms from ${cmd} ${args.join(' ')}:\n${out}${err}`))), ms);
        const done = (f: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(ms = 60_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** bin/tsbpf with these arguments. */
export function tsbpf(args: string[]): Running {
  return start(process.execPath, [...CLI, ...args]);
}
