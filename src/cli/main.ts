// Entry point of the tsbpf CLI: picks the command from argv, loads only that module, runs it.
// Failures print one line on stderr (reason and what to do; --verbose adds details) and exit non-zero.
import { Command } from 'commander';
import { commands } from './registry.js';
import { reportError } from './errors.js';

async function main(argv: string[]): Promise<void> {
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
  cmd.name(entry.name);
  cmd.exitOverride();
  await cmd.parseAsync(argv.slice(3), { from: 'user' });
}

main(process.argv).catch((err: unknown) => {
  process.exitCode = reportError(err, process.argv.includes('--verbose') || process.argv.includes('-v'));
});
