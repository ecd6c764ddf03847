// What every tool's command shares: option parsers that fail with a clear message, lost-event
// reporting, the cgroup/container columns, and where the output goes.
import { InvalidArgumentError, type Command } from 'commander';
import { CgroupResolver } from './cgroup.js';
import { stdout } from '../../command/index.js';
import { Identities, identityLabel } from './container-names.js';
import { pad } from '../../output/table.js';

export function parseIntArg(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`invalid ${name}: ${v}`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`invalid ${name}: ${v} (${min}..${max})`);
    return n;
  };
}

export function parseIntList(name: string, min: number, max: number, maxCount: number) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    if (!parts.length || parts.length > maxCount) throw new InvalidArgumentError(`invalid ${name}: ${v} (1 to ${maxCount} values)`);
    return parts.map(parseIntArg(name, min, max));
  };
}

export function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`invalid duration: ${v}`);
  return n;
}

/** -4 / -6: the address family to trace, undefined for both. */
export function familyOf(o: { ipv4?: boolean; ipv6?: boolean }): 4 | 6 | undefined {
  if (o.ipv4 && o.ipv6) throw new Error('-4 and -6 exclude each other');
  return o.ipv4 ? 4 : o.ipv6 ? 6 : undefined;
}

/** Adds the options every tool has: --cgroup, --show-cgroup, --json, -v, --duration. */
export function commonOptions(cmd: Command): Command {
  return cmd
    .option('--cgroup <path>', 'only tasks in this cgroup v2 (path under the cgroup2 mount, or full path) and below it')
    .option('--show-cgroup', 'add the cgroup path and container (docker, containerd, cri-o, podman, kubepods) to each line')
    .option('--json', 'one JSON object per line')
    .option('-v, --verbose', 'say which hook was chosen and more')
    .option('--duration <seconds>', 'stop after this many seconds', parseSeconds);
}

/** Reports lost events on stderr (and as JSON lines) whenever the count grows, checked each second. */
export class LostReporter {
  private reported = 0;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly source: () => number,
    private readonly out: (line: string) => void,
    private readonly json: boolean,
  ) {
    this.timer = setInterval(() => this.check(), 1000);
    this.timer.unref();
  }

  check(): void {
    const n = this.source();
    if (n > this.reported) {
      const d = n - this.reported;
      this.reported = n;
      if (this.json) this.out(`${JSON.stringify({ type: 'lost', lost: d, total: n })}\n`);
      else io.err(`Lost ${d} events (${n} in total)\n`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.check();
  }
}

/** cgroup id -> path and container (named where the runtime's files say), for --show-cgroup and --json. */
export class CgroupNames {
  private readonly resolver = new CgroupResolver();
  private readonly identities = new Identities(this.resolver);

  describe(id: bigint): { cgroupPath?: string; container?: { runtime: string; id: string; name?: string; pod?: string; podName?: string; namespace?: string } } {
    const p = this.resolver.path(id);
    if (!p) return {};
    const c = this.identities.of(id);
    if (!c) return { cgroupPath: p };
    const container: NonNullable<ReturnType<CgroupNames['describe']>['container']> = { runtime: c.runtime, id: c.id };
    if (c.name) container.name = c.name;
    if (c.pod) {
      container.pod = c.pod.uid;
      if (c.pod.name) container.podName = c.pod.name;
      if (c.pod.namespace) container.namespace = c.pod.namespace;
    }
    return { cgroupPath: p, container };
  }

  /** The text column: the container (runtime:shortid(name)) when there is one, else the cgroup path. */
  column(id: bigint): string {
    const p = this.resolver.path(id);
    if (!p) return `cgroup:${id}`;
    const c = this.identities.of(id);
    return c ? identityLabel(c) : p;
  }
}

/** Where the commands write: stdout and stderr (replaceable, so tests can capture a command's output). */
const toStdout = (s: string): void => stdout().write(s);
export const io = {
  /** text the command owes (headers, summaries, listings) */
  out: toStdout,
  /**
   * `n` event records as one text: dropped, and counted as lost, while standard output is not read
   * (src/sys/stdout.ts). Where `out` was replaced (a caller capturing the output), they go there.
   */
  records: (s: string, n: number): void => (io.out === toStdout ? void stdout().record(s, n) : io.out(s)),
  err: (s: string): void => void process.stderr.write(s),
};

/**
 * The output of one run: `write` for text the command owes, `record` for event lines, which are
 * gathered per turn of the event loop into one write (a write per line costs a syscall each) and
 * dropped as lost while the reader does not keep up. Order is kept: owed text goes after the
 * records before it.
 */
export type Writer = ((s: string) => void) & { record(s: string): void; flush(): void };

export function stdoutWriter(): Writer {
  let pending: string[] = [];
  const flush = (): void => {
    if (!pending.length) return;
    const text = pending.join('');
    const n = pending.length;
    pending = [];
    io.records(text, n);
  };
  const write = (s: string): void => {
    flush();
    io.out(s);
  };
  const record = (s: string): void => {
    if (!pending.length) setImmediate(flush);
    pending.push(s);
  };
  return Object.assign(write, { record, flush });
}

/** The -t and -U flags of libbpf-tools' event tools: a TIME(s) column (seconds since the first event) and a UID column. */
export interface TimeUidOptions {
  timestamp?: boolean;
  printUid?: boolean;
}

/**
 * The headers of the TIME(s) and UID columns, TIME(s) `timeWidth` wide; `sep` after each (execsnoop's
 * C prints a space there that its rows do not have).
 */
export function timeUidHeader(o: TimeUidOptions, timeWidth: number, sep = ''): string {
  return (o.timestamp ? pad('TIME(s)', timeWidth) + sep : '') + (o.printUid ? pad('UID', 6) + sep : '');
}

/** The TIME(s) and UID cells of event `e` (`ts` in µs, as `startTs`, the first event's). */
export function timeUidCells(o: TimeUidOptions, timeWidth: number, e: { ts: number; uid: number }, startTs: number): string {
  return (o.timestamp ? pad(((e.ts - startTs) / 1e6).toFixed(3), timeWidth) : '') + (o.printUid ? pad(e.uid, 6) : '');
}
