// What `tsbpf <command> ...` does, whichever way it was started (dist/src/cli/main.js, or the
// per-command bundle bin/tsbpf picks): run the named command, or print the command list. A failure
// prints one line on stderr (reason and what to do; --verbose adds details) and sets a non-zero exit code.
import { Command } from 'commander';
import { commands } from './registry.js';
import { reportError } from './errors.js';
import { mark } from '../kernel/timing.js';

export async function launch(argv: string[]): Promise<void> {
  mark('node and tsbpf modules');
  try {
    const name = argv[2];
    const entry = commands.find((c) => c.name === name);
    if (!entry) {
      const program = new Command('tsbpf').description('eBPF for TypeScript and Node.js').version('0.1.0', '-V, --version');
      for (const c of commands) program.command(c.name).description(c.summary);
      program.showHelpAfterError();
      if (name && !name.startsWith('-')) program.error(`tsbpf: unknown command '${name}' (see tsbpf --help)`);
      program.parse(argv);
      program.help();
      return;
    }
    const cmd = await entry.load();
    mark(`command ${entry.name}`);
    cmd.name(entry.name);
    cmd.exitOverride();
    await cmd.parseAsync(argv.slice(3), { from: 'user' });
  } catch (err: unknown) {
    process.exitCode = reportError(err, argv.includes('--verbose') || argv.includes('-v'));
  }
}
