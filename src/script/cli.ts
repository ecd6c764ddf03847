// `tsbpf trace`: bpftrace's command line over tsbpf's compiler and runtime.
//   tsbpf trace [-e SCRIPT | FILE.bt | 'SCRIPT'] [-p PID] [-c CMD] [-l [PATTERN]] [-d] [-f json] [--unsafe] [ARGS...]
import { Command, CommanderError } from 'commander';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { hostMachine, listTracepoints } from './compile.js';
import { wildcardMatch } from './probes.js';
import { runScript } from './runtime.js';
import { hasKernelBtf } from '../kernel/vmlinux.js';
import { startRun } from '../command/lifecycle.js';
import { requirePrivileges, ADMIN, TRACING } from '../command/privileges.js';
import { stdout } from '../sys/stdout.js';
import { EXIT_SETUP_FAILED, exitStatusOf, withExitStatus } from './error.js';

export interface TraceFlags {
  e?: string;
  pid?: string;
  c?: string;
  l?: string | boolean;
  d?: boolean;
  f?: string;
  unsafe?: boolean;
  vm?: boolean;
  q?: boolean;
  o?: string;
  k?: number;
  v?: boolean;
  version?: boolean;
  info?: boolean;
  include?: string[];
  I?: string[];
  B?: string;
  warnings?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const increase = (_: unknown, prev: number): number => prev + 1;

/**
 * The words of a -c command as bpftrace splits them (quotes group, a backslash escapes, nothing is
 * expanded: no variables, globs or `;`), its program found on PATH.
 */
export function commandWords(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let any = false;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") (quote = ch), (any = true);
    else if (ch === '\\' && i + 1 < cmd.length) (cur += cmd[++i]), (any = true);
    else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (quote) throw new Error(`unterminated quote in -c command: ${cmd}`);
  if (cur || any) out.push(cur);
  return out;
}

function findProgram(name: string): string {
  const ok = (p: string): boolean => {
    try {
      return existsSync(p) && (statSync(p).mode & 0o111) !== 0 && statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) {
    if (ok(name)) return name;
  } else {
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) if (dir && ok(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  throw withExitStatus(new Error(`Failed to fork child: path '${name}' does not exist or is not executable`), EXIT_SETUP_FAILED);
}

/** Probes matching a bpftrace-style pattern (`tracepoint:sched:*`, `*sock*`), one per line. */
export function listProbes(pattern = '*'): string[] {
  const all: string[] = [];
  for (const t of listTracepoints()) all.push(`tracepoint:${t}`);
  for (const t of listTracepoints()) all.push(`rawtracepoint:${t.split(':')[1]}`);
  for (const s of ['alignment-faults', 'bpf-output', 'context-switches', 'cpu-clock', 'cpu-migrations', 'dummy', 'emulation-faults', 'major-faults', 'minor-faults', 'page-faults', 'task-clock']) {
    all.push(`software:${s}:`);
  }
  const pat = pattern.includes(':') ? pattern : `*${pattern}*`;
  return all.filter((p) => wildcardMatch(pat, p) || wildcardMatch(pat.replace(/^t:/, 'tracepoint:'), p));
}

/** -lv: a tracepoint's fields as its format file declares them (bpftrace's layout), common_ ones left out. */
function tracepointFields(probe: string, format: (cat: string, ev: string) => string | undefined): string {
  const m = /^tracepoint:([^:]+):(.+)$/.exec(probe);
  const text = m ? format(m[1]!, m[2]!) : undefined;
  if (!text) return '';
  let out = '';
  for (const line of text.split('\n')) {
    const f = /^\s*field:([^;]*);/.exec(line);
    if (f && !/\bcommon_\w+$/.test(f[1]!.replace(/\[.*\]$/, '').trim())) out += `    ${f[1]!.trim()}\n`;
  }
  return out;
}

/**
 * The trace command exits as bpftrace 0.17 does: 1 for a usage error (an unknown option; commander's
 * own status would become the CLI's 2), 255 when setting up fails (error.ts).
 */
class TraceCommand extends Command {
  override async parseAsync(...a: Parameters<Command['parseAsync']>): Promise<this> {
    try {
      return await super.parseAsync(...a);
    } catch (e) {
      // commander has printed the message; --help and --version end with status 0, thrown on
      if (e instanceof CommanderError && e.exitCode !== 0) {
        process.exitCode = 1;
        return this;
      }
      const status = exitStatusOf(e);
      if (status === undefined) throw e;
      const err = e as Error & { shown?: boolean };
      if (!err.shown) process.stderr.write(err.name === 'ScriptError' ? `${err.message}\n` : `tsbpf: ${err.message}\n`);
      process.exitCode = status;
      return this;
    }
  }
}

/** -p: bpftrace refuses a process that does not exist before anything else (exit status 1). */
function checkPid(pid: string | undefined): void {
  if (pid === undefined) return;
  if (!/^\d+$/.test(pid)) throw new Error(`-p: '${pid}' is not a process id`);
  try {
    process.kill(Number(pid), 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new Error(`-p ${pid}: No such process`);
  }
}

export function traceCommand(): Command {
  return new TraceCommand('trace')
    .description('run a bpftrace-language script: tsbpf compiles, loads and attaches it itself (no clang, no LLVM)')
    .argument('[script]', "script text, or a .bt file")
    .argument('[args...]', 'positional parameters $1, $2, ...')
    .option('-e <script>', 'script text')
    .option('-p, --pid <pid>', 'attach uprobes and usdt probes to this process only')
    .option('-c <cmd>', 'run this command and trace until it exits ($cpid is its pid)')
    .option('-l [pattern]', 'list probes matching the pattern (-lv: with tracepoint fields; uprobe:FILE:*, usdt:FILE:* list a file\'s)')
    .option('-d', 'print the generated bytecode (-dd: the same)')
    .option('-f <format>', 'output format: text or json', 'text')
    .option('-o <file>', 'write the output to this file')
    .option('-q', 'keep messages quiet (no "Attaching N probes...")')
    .option('-v', 'verbose: the programs loaded, on stderr')
    .option('-k', 'warn when a helper that changes state fails (-kk: every helper, reads too)', increase, 0)
    .option('-I <dir>', 'add a directory to the #include search path', collect)
    .option('--include <file>', 'an #include file read before the script', collect)
    .option('-B <mode>', "output buffering ('full', 'line', 'none'): tsbpf writes each event as it comes")
    .option('--no-warnings', 'no warning messages')
    .option('--usdt-file-activation', 'accepted for bpftrace scripts (a usdt probe\'s semaphore is counted up in every process while attached)')
    .option('--info', "what this kernel offers scripts (helpers, map and probe types)")
    .option('-V, --version', "tsbpf's version")
    .option('--unsafe', 'allow system()')
    .option('--vm', "run on tsbpf's VM instead of the kernel (BEGIN, END and interval probes; no privileges)")
    .action(async (script: string | undefined, args: string[], flags: TraceFlags) => {
      if (flags.version) {
        const { VERSION } = await import('../command/version.js');
        stdout().write(`tsbpf v${VERSION}\n`);
        return;
      }
      if (flags.info) {
        const { infoText } = await import('./info.js');
        const { VERSION } = await import('../command/version.js');
        requirePrivileges('trace --info (trying the kernel)', ADMIN);
        // on stderr, as bpftrace prints it
        process.stderr.write(infoText(`v${VERSION}`));
        return;
      }
      checkPid(flags.pid);
      if (flags.B !== undefined && !['full', 'line', 'none'].includes(flags.B)) throw new Error(`invalid buffering mode: ${flags.B}`);
      if (flags.l !== undefined) {
        // -lv arrives as -l with the value "v": a verbose listing of the pattern that follows
        const verbose = flags.v === true || flags.l === 'v';
        const pat = typeof flags.l === 'string' && flags.l !== 'v' ? flags.l : script ?? '*';
        const us = /^(usdt|U):([^:]+):?(.*)$/.exec(pat);
        if (us) {
          // the file's USDT notes, as usdt:PATH:PROVIDER:NAME
          const { parseElf } = await import('../elf/reader.js');
          const { usdtProbes } = await import('../elf/usdt.js');
          const { uprobeFile } = await import('./uprobe-target.js');
          const want = us[3] || '*';
          const lines = new Set<string>();
          for (const n of usdtProbes(parseElf(new Uint8Array(readFileSync(uprobeFile(us[2]!)))))) {
            if (wildcardMatch(want, `${n.provider}:${n.name}`) || wildcardMatch(want, n.name)) lines.add(`usdt:${us[2]}:${n.provider}:${n.name}\n`);
          }
          stdout().write([...lines].join(''));
          return;
        }
        const up = /^(uprobe|uretprobe|ur|u):([^:]+):?(.*)$/.exec(pat);
        if (up) {
          // uprobes of one file: its function symbols (-lv: with their parameters, from its DWARF)
          const { listUprobes, uprobeParamLines } = await import('./uprobe-target.js');
          const elf = { ...(await import('../elf/reader.js')), ...(await import('../elf/symbols.js')) };
          // bpftrace lists uretprobes as such, without arguments (a return probe has none)
          const ret = up[1] === 'uretprobe' || up[1] === 'ur';
          const params = (l: string): string => (verbose && !ret ? uprobeParamLines(up[2]!, l.slice(l.lastIndexOf(':') + 1)).map((p) => `${p}\n`).join('') : '');
          const lines = listUprobes(up[2]!, (n) => wildcardMatch(up[3] || '*', n), elf).map((l) => (ret ? l.replace(/^uprobe:/, 'uretprobe:') : l));
          stdout().write(lines.map((l) => `${l}\n${params(l)}`).join(''));
          return;
        }
        requirePrivileges('trace -l (reading tracefs)', ADMIN);
        stdout().write(listProbes(pat).map((l) => `${l}\n${verbose ? tracepointFields(l, hostMachine.tracepointFormat!) : ''}`).join(''));
        return;
      }
      let source: string;
      let fileName = 'stdin';
      let params = args;
      if (flags.e !== undefined) {
        source = flags.e;
        if (script !== undefined) params = [script, ...args];
      } else if (script === '-') {
        // bpftrace - : the script on standard input
        source = readFileSync(0, 'utf8');
      } else if (script !== undefined && !script.includes('{')) {
        // a word with no braces is a file name (no script is without a block)
        try {
          source = readFileSync(script, 'utf8');
        } catch (e) {
          const m = /^\w+: (.*?),/.exec((e as Error).message);
          const why = m ? m[1]! : (e as Error).message;
          throw withExitStatus(new Error(`failed to open file '${script}': ${why[0]!.toUpperCase()}${why.slice(1)}`), EXIT_SETUP_FAILED);
        }
        fileName = script;
      } else if (script !== undefined) source = script;
      else throw new Error('no script: give -e SCRIPT, a .bt file, or the script text');
      if (flags.f !== 'text' && flags.f !== 'json') throw new Error(`unknown output format '${flags.f}' (text, json)`);
      if (flags.include?.length || flags.I?.length || /^\s*#/m.test(source)) {
        const { preprocess } = await import('./preprocess.js');
        // scripts keep header-only definitions under #ifndef BPFTRACE_HAVE_BTF (dcsnoop.bt): BTF has them
        const predefined = hasKernelBtf() ? ['BPFTRACE_HAVE_BTF'] : [];
        source = preprocess(source, { fileName, include: flags.include ?? [], dirs: flags.I ?? [], predefined });
      }
      // -o FILE: everything the script prints goes to the file
      let outFd: number | undefined;
      const write = flags.o !== undefined ? (s: string): void => void writeSync(outFd!, s) : undefined;
      if (flags.o !== undefined) outFd = openSync(flags.o, 'w');
      if (flags.vm) {
        // Modules only --vm needs are loaded only then: start-up time is a feature.
        const { compileForVm, runInVm } = await import('./vm.js');
        const run = startRun({ json: flags.f === 'json' });
        try {
          await runInVm(compileForVm(source, { fileName, params }), { write: write ?? ((s) => stdout().write(s)), json: flags.f === 'json', signal: run.signal, quiet: flags.q });
        } finally {
          run.end();
          if (outFd !== undefined) closeSync(outFd);
        }
        return;
      }
      requirePrivileges('trace', TRACING);
      // Ctrl-C, SIGTERM, SIGHUP end tracing like bpftrace's: END runs and the maps print (a second
      // signal exits at once); SIGUSR1 prints the maps now (src/command/lifecycle.ts).
      const run = startRun({ json: flags.f === 'json' });
      let child: ChildProcess | undefined;
      let release: (() => void) | undefined;
      try {
        if (flags.c) {
          // Start the command held at a pipe read, so that its pid is known before compiling
          // (for $cpid) and it runs only once every probe is attached. (child_process, and the net and
          // stream modules it loads, only for -c: start-up.)
          const { spawn } = await import('node:child_process');
          const argv = commandWords(flags.c);
          if (!argv.length) throw new Error('-c: an empty command');
          argv[0] = findProgram(argv[0]!);
          child = spawn('/bin/sh', ['-c', 'read _ <&3; exec 3<&-; exec "$@"', 'sh', ...argv], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
          const gate = child.stdio[3] as NodeJS.WritableStream;
          release = () => void gate.write('\n');
          child.on('exit', () => setTimeout(() => run.stop(), 50));
        }
        await runScript(source, {
          fileName, params, unsafe: flags.unsafe, json: flags.f === 'json', debug: flags.d, quiet: flags.q, verbose: flags.v, write, helperErrors: flags.k,
          pid: flags.pid ? Number(flags.pid) : undefined, cpid: child?.pid, signal: run.signal,
          onAttached: () => release?.(),
          onUsr1: (print) => (run.onUsr1 = print),
        });
      } finally {
        run.end();
        if (outFd !== undefined) closeSync(outFd);
        if (child && child.exitCode === null) child.kill();
      }
    });
}
