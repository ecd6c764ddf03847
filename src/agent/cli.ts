// `tsbpf agent --config FILE`: run the agent until SIGTERM/SIGINT (clean stop: pins removed),
// SIGUSR2 (stop for a restart: pins kept, the next agent goes on counting) ; SIGHUP reloads.
// `--check` only validates the config (exit 1 with the line of the first error).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Agent } from './agent.js';
import { parseConfig } from './config.js';
import { serve } from './server.js';
import { startRun } from '../command/lifecycle.js';

export interface AgentCliOptions {
  config: string;
  check?: boolean;
  node?: string;
}

export async function runAgent(o: AgentCliOptions): Promise<void> {
  if (o.node !== undefined && !/^[a-zA-Z0-9_.-]{1,63}$/.test(o.node)) throw new Error(`--node '${o.node}' is not a node name (letters, digits, _ . -)`);
  const overrides = o.node ? { node: o.node } : {};
  const config = parseConfig(readFileSync(o.config, 'utf8'), o.config, overrides);
  if (o.check) {
    process.stdout.write(`${o.config}: ok (${config.programs.length} programs)\n`);
    return;
  }
  const agent = await Agent.fromConfig(config, { overrides });
  const srv = await serve(agent, config.listen.host, config.listen.port);
  agent.log.info('listening', { address: `${config.listen.host}:${srv.port}`, node: config.node, pins: agent.pinRoot });
  // SIGTERM/SIGINT stop the run (the life cycle of every command); SIGHUP reloads instead of stopping;
  // SIGUSR2 stops keeping the pins, for a restart that goes on counting
  const run = startRun();
  let busy = Promise.resolve();
  run.onHup = () => void (busy = busy.then(() => agent.reload().then(() => undefined)));
  let keepPins = false;
  const usr2 = (): void => {
    keepPins = true;
    run.stop('stopped');
  };
  process.on('SIGUSR2', usr2);
  try {
    await new Promise<void>((res) => (run.signal.aborted ? res() : run.signal.addEventListener('abort', () => res(), { once: true })));
    await busy;
    await srv.close();
    await agent.stop(keepPins);
  } finally {
    process.off('SIGUSR2', usr2);
    run.end();
  }
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('serve eBPF metrics to Prometheus (and events over OTLP) from the programs a YAML config names')
    .requiredOption('-c, --config <file>', 'the YAML config')
    .option('--node <name>', "the node label (default: the config's node, else the host name)")
    .option('--check', 'validate the config and exit')
    .action(async (o: AgentCliOptions) => runAgent(o));
}
