// What `tsbpf <command> ...` does, whichever way it was started (dist/src/cli/main.js, or the
// per-command bundle bin/tsbpf picks): run the named command, or print the command list. A failure
// prints one line on stderr (reason and what to do; --verbose adds details) and sets a non-zero exit code.
// The process's life cycle (signals, SIGUSR1, the end of standard output) is src/command/lifecycle.ts:
// held from the first line, and the process exits here once the command is done and its output
// written, with the status the command or the life cycle decided.
import { Command } from 'commander';
import { commands } from './registry.js';
import { VERSION } from '../command/version.js';
import { reportError } from './errors.js';
import { mark } from '../kernel/timing.js';
import { decidedExitStatus, holdSignals } from '../command/lifecycle.js';
import { stdout } from '../sys/stdout.js';

export async function launch(argv: string[]): Promise<void> {
  holdSignals();
  mark('node and tsbpf modules');
  let code: number;
  try {
    code = await runCommand(argv);
  } catch (err: unknown) {
    code = reportError(err, argv.includes('--verbose') || argv.includes('-v'));
  }
  await stdout().drain();
  process.exit(decidedExitStatus() ?? code);
}

async function runCommand(argv: string[]): Promise<number> {
  let name = argv[2];
  let rest = argv.slice(3);
  // `tsbpf help CMD` is `tsbpf CMD --help`
  if (name === 'help' && rest[0] && !rest[0].startsWith('-')) {
    name = rest[0];
    rest = ['--help'];
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    const program = new Command('tsbpf').description('eBPF for TypeScript and Node.js').version(VERSION, '-V, --version');
    for (const c of commands) program.command(c.name).description(c.summary);
    program.showHelpAfterError();
    writeThroughStdout(program);
    program.exitOverride();
    if (name && name !== 'help' && !name.startsWith('-')) program.error(`tsbpf: unknown command '${name}' (see tsbpf --help)`);
    program.parse(argv);
    program.help();
    return 0;
  }
  const cmd = await entry.load();
  mark(`command ${entry.name}`);
  cmd.name(entry.name);
  if (entry.examples) cmd.addHelpText('after', examplesText(entry.examples));
  writeThroughStdout(cmd);
  cmd.exitOverride();
  await cmd.parseAsync(rest, { from: 'user' });
  const c = process.exitCode;
  return typeof c === 'number' ? c : Number(c ?? 0) || 0;
}

/** The EXAMPLES section that ends a command's --help, as libbpf-tools print it. */
export function examplesText(examples: readonly (readonly [string, string])[]): string {
  const width = Math.max(...examples.map(([c]) => c.length));
  const lines = examples.map(([c, what]) => (c.length > 60 ? `    ${c}\n    ${' '.repeat(Math.min(width, 60))}  # ${what}` : `    ${c.padEnd(Math.min(width, 60))}  # ${what}`));
  return `\nEXAMPLES:\n${lines.join('\n')}`;
}

/** Help and version text go through the process's standard output (src/sys/stdout.ts) too. */
function writeThroughStdout(cmd: Command): void {
  cmd.configureOutput({ writeOut: (s) => stdout().write(s) });
  for (const sub of cmd.commands) writeThroughStdout(sub);
}
