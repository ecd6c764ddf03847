// Long run-queue waits as events (for OTLP), beside runqlat's histogram: a tsbpf script in the
// language of bpftrace's runqslow — wakeup time per task, the wait measured when it is switched in,
// printed past the threshold — read line by line. The waiting task is another than the one the
// probe runs in, so its container comes from /proc/PID/cgroup, in user space.
import { readFileSync } from 'node:fs';
import { compileScript } from '../../script/compile.js';
import { runCompiled } from '../../script/runtime.js';
import { relative } from 'node:path';
import { cgroup2Root, cgroupDir, cgroupIdOf } from '../../tools/common/cgroup.js';
import { unifiedCgroupPath } from '../../tools/common/container.js';
import { containerLabels, type AgentEvent, type SourceContext } from '../source.js';

function script(thresholdUs: number): string {
  return `tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new { @qt[args.pid] = nsecs; }
tracepoint:sched:sched_switch {
  if (args.prev_state == 0) { @qt[args.prev_pid] = nsecs; }
  $t = @qt[args.next_pid];
  if ($t) {
    $us = (nsecs - $t) / 1000;
    delete(@qt[args.next_pid]);
    if ($us >= ${thresholdUs}) { printf("%d %d %s\\n", args.next_pid, $us, args.next_comm); }
  }
}`;
}

export class RunqSlow {
  events = 0;
  private readonly stop = new AbortController();

  /** the scope as /proc/PID/cgroup writes paths ("/a/b"), if there is one */
  private readonly scope: string | undefined;

  private constructor(
    private readonly program: string,
    private readonly ctx: SourceContext,
  ) {
    this.scope = ctx.cgroup ? `/${relative(cgroup2Root(), cgroupDir(ctx.cgroup))}`.replace(/\/+$/, '') || '/' : undefined;
  }

  static async start(program: string, thresholdMs: number, ctx: SourceContext, emit: (e: AgentEvent[]) => void): Promise<RunqSlow> {
    const r = new RunqSlow(program, ctx);
    let partial = '';
    let attached!: () => void;
    let failed!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => ((attached = res), (failed = rej)));
    runCompiled(compileScript(script(Math.round(thresholdMs * 1000)), { fileName: `${program}-runqslow.bt` }), {
      signal: r.stop.signal,
      write: (text) => {
        partial += text;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        const out = lines.map((l) => r.event(l)).filter((e): e is AgentEvent => e !== undefined);
        r.events += out.length;
        if (out.length) emit(out);
      },
      onMaps: () => attached(),
    }).then(
      () => failed(new Error('runqslow script ended')),
      (e) => failed(e),
    );
    await ready;
    return r;
  }

  /** One "PID US COMM" line as an event, if its task is in scope. */
  private event(line: string): AgentEvent | undefined {
    const m = /^(\d+) (\d+) (.*)$/.exec(line);
    if (!m) return undefined;
    const pid = Number(m[1]);
    let path: string | undefined;
    try {
      path = unifiedCgroupPath(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    } catch {
      return undefined; // gone already
    }
    if (!path) return undefined;
    const scope = this.scope;
    if (scope && scope !== '/' && path !== scope && !path.startsWith(`${scope}/`)) return undefined;
    const attributes: Record<string, string | number> = { 'process.pid': pid, 'process.command': m[3]!, 'tsbpf.runq_wait_us': Number(m[2]) };
    try {
      const c = containerLabels(this.ctx, cgroupIdOf(path));
      if (c.container) Object.assign(attributes, { 'container.name': c.container, 'container.id': c.container_id });
      if (c.pod) Object.assign(attributes, { 'k8s.pod.name': c.pod, 'k8s.namespace.name': c.namespace });
    } catch {
      // the cgroup went away
    }
    return { program: this.program, kind: 'sched.runq_wait', timeNs: BigInt(Date.now()) * 1_000_000n, durationNs: BigInt(m[2]!) * 1000n, attributes };
  }

  close(): void {
    this.stop.abort();
  }
}
