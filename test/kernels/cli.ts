// Commands run as users run them (bin/tsbpf, libbpf-tools, a libbpf loader), their output followed
// while they run, stopped with SIGINT as Ctrl+C stops them. Kernel-matrix tests run in guests where
// everything is 8–25× slower than on the host: waits are long, but end as soon as the output is there.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { repoPath } from '../helpers/objects.js';
import { CLI } from '../net-tools/topology.js';

export interface Running {
  proc: ChildProcess;
  /** stdout so far */
  readonly out: string;
  /** stderr so far */
  readonly err: string;
  /** resolves when stdout+stderr match `re` (rejects on exit or after `ms`) */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** resolves when `ok(stdout)` holds (rejects on exit or after `ms`) */
  waitUntil(ok: (out: string) => boolean, what: string, ms?: number): Promise<void>;
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
  const until = (ok: () => boolean, what: string, ms: number): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (ok()) return done(resolve);
      if (proc.exitCode !== null || proc.signalCode !== null) done(() => reject(new Error(`${cmd} ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) before ${what}:\n${out}${err}`)));
    };
    const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${ms} ms from ${cmd} ${args.join(' ')}:\n${out}${err}`))), ms);
    const done = (f: () => void): void => {
      clearTimeout(timer);
      waiters.delete(check);
      f();
    };
    waiters.add(check);
    check();
  });
  return {
    proc,
    get out() { return out; },
    get err() { return err; },
    exited,
    waitFor(re, ms = 120_000) {
      let m: RegExpMatchArray | null = null;
      return until(() => (m = (out + err).match(re)) !== null, String(re), ms).then(() => m!);
    },
    waitUntil(ok, what, ms = 120_000) {
      return until(() => ok(out), what, ms);
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

interface LoadedProgram {
  id: number;
  name?: string;
}

function loadedPrograms(): LoadedProgram[] {
  return JSON.parse(execFileSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' })) as LoadedProgram[];
}

/** Program ids loaded now, to compare with after a run. */
export function programsNow(): Set<number> {
  return new Set(loadedPrograms().map((p) => p.id));
}

/**
 * Programs loaded since `before` that carry one of `names` (kernel program names, 15 characters at
 * most): what a run left behind, not what other processes on the machine loaded meanwhile.
 */
export function leftBehind(before: Set<number>, names: string[] | RegExp): string[] {
  const wanted = Array.isArray(names) ? new Set(names.map((n) => n.slice(0, 15))) : undefined;
  const ours = (name: string): boolean => (wanted ? wanted.has(name) : (names as RegExp).test(name));
  return loadedPrograms().filter((p) => !before.has(p.id) && p.name !== undefined && ours(p.name)).map((p) => `${p.name} (id ${p.id})`);
}

/** The program names of a committed tool object (src/tools/<tool>/<tool>.bpf.o). */
export function toolPrograms(tool: string): string[] {
  return parseObject(new Uint8Array(readFileSync(repoPath(`src/tools/${tool}/${tool}.bpf.o`))), tool).programs.map((p) => p.name);
}
