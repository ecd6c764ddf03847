// One guest run: boot a prepared kernel under qemu (TCG: there is no /dev/kvm here), run one shell
// command on the host's root (read-only, with a tmpfs on top), and bring back its output and exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { initramfs } from './initramfs.js';
import { cacheDir, MatrixSetupError, type PreparedKernel } from './packages.js';

export interface GuestJob {
  /** a bash command line, run in `cwd` */
  command: string;
  cwd: string;
  env?: Record<string, string>;
  /** seconds before the guest is killed */
  timeout: number;
  /** seconds without a byte of output before the guest shows what hangs and stops the command */
  stall?: number;
  memoryMiB?: number;
  /** every console line as it arrives (kernel messages and the command's output) */
  onLine?: (line: string) => void;
}

export interface GuestResult {
  /** the command's exit code; undefined when the guest died or timed out first */
  rc?: number;
  /** the command's stdout and stderr */
  output: string;
  /** everything the serial console printed */
  console: string;
  timedOut: boolean;
  /** the guest kernel's uptime (ms) when the command started, and when it ended */
  bootMs?: number;
  totalMs?: number;
  /** files the command left in $MATRIX_OUT, by name */
  files: Map<string, string>;
  /** why the guest did not run the command, in one line (qemu's complaint, the initramfs' message) */
  failure?: string;
  /** the command made no output for `stall` seconds and was killed (the console shows where it hung) */
  stalled: boolean;
}

const QEMU = 'qemu-system-x86_64';
const START = 'matrix: command starts';
const STALLED = 'matrix: stalled';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The job's script, run by bash as the guest's PID 1 once the overlay root is in place. */
function jobScript(k: PreparedKernel, job: GuestJob): string {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: 'dumb', LANG: 'C.UTF-8', MATRIX_OUT: '/matrix/out', TSBPF_GUEST_KERNEL: k.spec.name, ...job.env };
  const exports = Object.entries(env).map(([n, v]) => `export ${n}=${shellQuote(v)}`).join('\n');
  return `#!/bin/bash
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
ln -sf /proc/self/fd /dev/fd
ip link set lo up
hostname matrix-${k.spec.name.replace(/\W/g, '-')}
mkdir -p /matrix/out
${exports}
cd ${shellQuote(job.cwd)}
echo "${START} $(cut -d' ' -f1 /proc/uptime)" > /dev/console
set -o pipefail
setsid -w bash -c ${shellQuote(`( ${job.command} ) 2>&1 | tee /matrix/output > /dev/console`)} &
job=$!
# a hang shows where it is: after ${'$'}{stall}s without output, every task's state and kernel stack,
# then the command is killed (the host's timeout would only say that the guest took too long)
stall=${job.stall ?? 600}
( last=-1; quiet=0
  while sleep 15; do
    size=$(stat -c %s /matrix/output 2>/dev/null || echo 0)
    if [ "$size" = "$last" ]; then quiet=$((quiet + 15)); else quiet=0; last=$size; fi
    if [ $quiet -ge $stall ]; then
      { echo "${STALLED}: no output for $stall s; the tasks:"
        ps -eo pid,ppid,stat,wchan:28,etime,args --forest | grep -v ' \\[.*\\]$'
        for t in /proc/[0-9]*; do
          grep -q 'node' $t/cmdline 2>/dev/null || continue
          echo "--- $(cat $t/comm) ${'$'}{t#/proc/} kernel stack:"; cat $t/stack 2>/dev/null | head -20
        done; } > /dev/console 2>&1
      pkill -KILL -s $job; break
    fi
  done ) &
watch=$!
wait $job
echo $? > /matrix/rc
kill $watch 2>/dev/null
cut -d' ' -f1 /proc/uptime > /matrix/uptime
sync
/bin/busybox poweroff -f
`;
}

export function checkQemu(): void {
  if (spawnSync('sh', ['-c', `command -v ${QEMU}`], { stdio: 'ignore' }).status !== 0) {
    throw new MatrixSetupError(`the kernel matrix needs ${QEMU} (apt-get install qemu-system-x86)`);
  }
}

/** Boot `k`, run the job, power off. Guests run one at a time on this machine (a lock in the cache). */
export async function runGuest(k: PreparedKernel, job: GuestJob): Promise<GuestResult> {
  checkQemu();
  const initrd = initramfs(k);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-matrix-'));
  try {
    writeFileSync(join(dir, 'job.sh'), jobScript(k, job), { mode: 0o755 });
    const nine = (path: string, tag: string, ro: boolean): string[] =>
      ['-virtfs', `local,path=${path},mount_tag=${tag},security_model=none${ro ? ',readonly=on' : ''},multidevs=remap`];
    // thread=single: with one host thread per vCPU, a vCPU can run a stale translation of code the
    // kernel has just patched (text_poke_bp's int3, when a tracepoint's static key flips): 6.12 died
    // once in CI with "Oops: int3" in __schedule. One thread for both vCPUs sees every patch at once.
    const qemuArgs = [
      '-accel', 'tcg,thread=single', '-cpu', 'max', '-smp', '2', '-m', String(job.memoryMiB ?? 3072),
      '-kernel', k.vmlinux, '-initrd', initrd,
      // mitigations=off: no page-table isolation, so system calls cost less under emulation
      '-append', 'console=ttyS0 quiet panic=-1 mitigations=off',
      '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nic', 'none',
      ...nine('/', 'hostroot', true), ...nine(dir, 'job', false), ...nine(k.root, 'kpkg', true),
    ];
    // two TCG guests on two cores would each take twice as long: wait for the other to finish (flock
    // --no-fork becomes qemu, so killing it kills the guest)
    const lock = join(cacheDir(), 'guest.lock');
    const p = spawn('flock', ['--no-fork', '-w', '7200', lock, QEMU, ...qemuArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let partial = '';
    let bootMs: number | undefined;
    const utf8 = new StringDecoder('utf8'); // a character may straddle two reads
    const onData = (d: Buffer): void => {
      // the BIOS clears the screen with escape sequences: keep text only
      const text = utf8.write(d).replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1bc/g, '').replace(/\r/g, '');
      consoleText += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith(START)) bootMs = Number(l.slice(START.length)) * 1000;
        else job.onLine?.(l);
      }
    };
    p.stdout.on('data', onData);
    let qemuErr = '';
    p.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      if (!/Multiple devices detected/.test(s)) qemuErr += s;
    });
    // the timeout counts from qemu's first output (its firmware's), not from the wait for the lock
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    p.stdout.once('data', () => {
      timer = setTimeout(() => {
        timedOut = true;
        p.kill('SIGKILL');
      }, job.timeout * 1000);
    });
    await new Promise<void>((resolve) => p.on('close', () => resolve()));
    clearTimeout(timer);
    if (partial) job.onLine?.(partial);
    const rcFile = join(dir, 'rc');
    const files = new Map<string, string>();
    const outDir = join(dir, 'out');
    if (existsSync(outDir)) {
      for (const name of readdirSync(outDir)) files.set(name, readFileSync(join(outDir, name), 'utf8'));
    }
    // qemu refusing to start (no virtfs: "'virtio-9p-pci' is not a valid device model name"), or the
    // initramfs failing to reach the host's files (a kernel without 9p)
    const failure = qemuErr.trim().split('\n')[0] || /matrix-init: (.*)/.exec(consoleText)?.[1];
    return {
      failure: failure ? failure.replace(/^qemu-system-x86_64: /, 'qemu: ') : undefined,
      rc: existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : undefined,
      output: existsSync(join(dir, 'output')) ? readFileSync(join(dir, 'output'), 'utf8') : '',
      console: consoleText,
      timedOut,
      stalled: consoleText.includes(STALLED),
      bootMs,
      totalMs: existsSync(join(dir, 'uptime')) ? Number(readFileSync(join(dir, 'uptime'), 'utf8')) * 1000 : undefined,
      files,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
