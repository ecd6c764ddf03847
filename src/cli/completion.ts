// tsbpf completion bash|zsh|fish: a shell completion script, made from the commands themselves (every
// command's commander definition is loaded: names, subcommands, options and whether they take a
// value), so it cannot fall behind them. Words that are not options complete as file names.
import { Command } from 'commander';
import { commands } from './registry.js';
import { stdout } from '../sys/stdout.js';

export interface CommandShape {
  name: string;
  summary: string;
  options: { flags: string[]; takesValue: boolean; description: string }[];
  subcommands: CommandShape[];
}

function shapeOf(cmd: Command, name = cmd.name(), summary = cmd.description()): CommandShape {
  return {
    name,
    summary,
    options: cmd.options.map((o) => ({ flags: [o.short, o.long].filter((f): f is string => !!f), takesValue: o.required || o.optional, description: o.description })),
    subcommands: cmd.commands.filter((c) => c.name() !== 'help').map((c) => shapeOf(c)),
  };
}

/** Every command's shape (loads every command module: for the completion command only). */
export async function commandShapes(): Promise<CommandShape[]> {
  const out: CommandShape[] = [];
  for (const c of commands) out.push(shapeOf(await c.load(), c.name, c.summary));
  return out;
}

const words = (xs: string[]): string => xs.join(' ');
const flagsOf = (s: CommandShape): string[] => s.options.flatMap((o) => o.flags);
/** single-quoted for a shell, with ' escaped */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashScript(shapes: CommandShape[]): string {
  const cases = shapes.map((s) => {
    const subs = s.subcommands.map((sub) => `        ${sub.name}) words="${words(flagsOf(sub))}" ;;`).join('\n');
    const body = s.subcommands.length
      ? `      if [ "$COMP_CWORD" -eq 2 ]; then words="${words(s.subcommands.map((x) => x.name))} ${words(flagsOf(s))}"; else case "\${COMP_WORDS[2]}" in\n${subs}\n      esac; fi`
      : `      words="${words(flagsOf(s))}"`;
    return `    ${s.name})\n${body} ;;`;
  });
  return `# bash completion for tsbpf (tsbpf completion bash)
_tsbpf() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${words(['help', ...shapes.map((s) => s.name)])} --help --version"
  else
    case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    help) words="${words(shapes.map((s) => s.name))}" ;;
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  if [ "$COMP_CWORD" -gt 1 ] && [[ "$cur" != -* ]]; then COMPREPLY+=( $(compgen -f -- "$cur") ); fi
}
complete -o filenames -F _tsbpf tsbpf
`;
}

export function zshScript(shapes: CommandShape[]): string {
  const describe = (xs: CommandShape[]): string => xs.map((s) => sq(`${s.name}:${s.summary.replace(/:/g, '\\:')}`)).join(' ');
  const optSpecs = (s: CommandShape): string =>
    s.options.map((o) => `${o.flags.length > 1 ? `'(${o.flags.join(' ')})'{${o.flags.join(',')}}` : o.flags[0]}${sq(`[${o.description.replace(/[[\]:]/g, ' ')}]${o.takesValue ? ':value:_files' : ''}`)}`).join(' ');
  const cases = shapes.map((s) => {
    if (!s.subcommands.length) return `    ${s.name}) _arguments -s ${optSpecs(s)} '*:file:_files' ;;`;
    const subs = s.subcommands.map((sub) => `        ${sub.name}) _arguments -s ${optSpecs(sub)} '*:file:_files' ;;`).join('\n');
    return `    ${s.name})\n      if (( CURRENT == 3 )); then local -a subs; subs=(${describe(s.subcommands)}); _describe 'subcommand' subs; else case $words[3] in\n${subs}\n      esac; fi ;;`;
  });
  return `#compdef tsbpf
# zsh completion for tsbpf (tsbpf completion zsh > "\${fpath[1]}/_tsbpf")
_tsbpf() {
  if (( CURRENT == 2 )); then
    local -a cmds
    cmds=(${describe(shapes)} 'help:help for a command')
    _describe 'command' cmds
    return
  fi
  case $words[2] in
${cases.join('\n')}
    help) local -a cmds; cmds=(${describe(shapes)}); _describe 'command' cmds ;;
  esac
}
_tsbpf "$@"
`;
}

export function fishScript(shapes: CommandShape[]): string {
  const lines = ['# fish completion for tsbpf (tsbpf completion fish > ~/.config/fish/completions/tsbpf.fish)', 'complete -c tsbpf -f'];
  const all = shapes.map((s) => s.name).join(' ');
  for (const s of [...shapes, { name: 'help', summary: 'help for a command', options: [], subcommands: [] }]) lines.push(`complete -c tsbpf -n "not __fish_seen_subcommand_from ${all} help" -a ${s.name} -d ${sq(s.summary)}`);
  lines.push(`complete -c tsbpf -n "__fish_seen_subcommand_from help" -a ${sq(all)}`);
  const option = (cond: string, o: CommandShape['options'][number]): string => {
    const parts = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`));
    return `complete -c tsbpf -n ${sq(cond)} ${parts.join(' ')}${o.takesValue ? ' -r -F' : ''} -d ${sq(o.description)}`;
  };
  for (const s of shapes) {
    const here = `__fish_seen_subcommand_from ${s.name}`;
    lines.push(`complete -c tsbpf -n ${sq(here)} -F`);
    for (const o of s.options) lines.push(option(here, o));
    for (const sub of s.subcommands) {
      lines.push(`complete -c tsbpf -n ${sq(`${here}; and not __fish_seen_subcommand_from ${s.subcommands.map((x) => x.name).join(' ')}`)} -a ${sub.name} -d ${sq(sub.summary)}`);
      for (const o of sub.options) lines.push(option(`${here}; and __fish_seen_subcommand_from ${sub.name}`, o));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionCommand(): Command {
  return new Command('completion')
    .description('print a completion script for bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const make = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell];
      if (!make) throw new Error(`completion: no completion for '${shell}' (bash, zsh or fish)`);
      stdout().write(make(await commandShapes()));
    });
}
