// The script-language corpus: small cases in plain text files (test/script/corpus/*.cases), each a
// command line and what its output must show, in the spirit of bpftrace's runtime tests (written
// here). A case is a block of `KEY value` lines; blocks are separated by blank lines; `#` starts a
// comment line.
//
//   NAME          what the case shows (unique in its file)
//   PROG          the script, given with -e (one line)
//   ARGS          more arguments before the script, shell-like words ("-f json", "-c 'sleep 1'")
//   POSITIONAL    arguments after the script ($1, $2, …)
//   EXPECT        a line the output must contain, exactly (several: in this order)
//   EXPECT_REGEX  a regular expression a line of the output must match
//   EXPECT_NOT    a regular expression no line may match
//   STDERR        a regular expression stderr must match
//   EXIT          the exit status (default 0)
//   TIMEOUT       seconds before Ctrl+C is sent (default 5), as a user stops a script
//   AFTER         a shell command run once the probes are attached (the workload)
//   BEFORE        a shell command run in the case's directory before the tracer starts (building
//                 the program a uprobe case traces: `cc -g -o prog prog.c` of a WRITE'n source)
//   STDIN         text given on standard input (`\n` a newline, `\\` a backslash: `\\n` in printf): `-` reads the script there
//   WRITE         `NAME text`: a file written in the case's own directory before it runs (`\n`
//                 for a newline); `{dir}` in ARGS, PROG, POSITIONAL and AFTER is that directory
//   FILE          the script as a file (escaped as STDIN): its path is the argument after ARGS
//   OUTPUT_FILE   a file of the case's directory (-o) whose lines are judged with the output
//   REQUIRES      kprobes | fentry | bpftrace-differs (a kernel feature the case needs; or: bpftrace
//                 is known to answer differently, so the differential mode does not count it)

export interface CorpusCase {
  file: string;
  line: number;
  name: string;
  prog?: string;
  args: string[];
  positional: string[];
  expect: string[];
  expectRegex: RegExp[];
  expectNot: RegExp[];
  stderr: RegExp[];
  exit: number;
  timeout: number;
  after?: string;
  before?: string;
  requires: string[];
  stdin?: string;
  files: { name: string; text: string }[];
  script?: string;
  outputFile?: string;
}

/** `\n` a newline, `\t` a tab, `\\` a backslash (so a script's own `\n` is written `\\n`). */
const unescape = (v: string): string => v.replace(/\\([nt\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));

export class CorpusError extends Error {}

const KEYS = new Set(['NAME', 'PROG', 'ARGS', 'POSITIONAL', 'EXPECT', 'EXPECT_REGEX', 'EXPECT_NOT', 'STDERR', 'EXIT', 'TIMEOUT', 'AFTER', 'BEFORE', 'REQUIRES', 'STDIN', 'WRITE', 'FILE', 'OUTPUT_FILE']);

/** Shell-like words: spaces separate, single or double quotes group, no expansion. */
export function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let any = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (quote) throw new CorpusError(`unterminated quote in: ${s}`);
  if (cur || any) out.push(cur);
  return out;
}

export function parseCases(text: string, file: string): CorpusCase[] {
  const cases: CorpusCase[] = [];
  let cur: CorpusCase | undefined;
  const lines = text.split('\n');
  const err = (n: number, msg: string): CorpusError => new CorpusError(`${file}:${n + 1}: ${msg}`);
  const finish = (n: number): void => {
    if (!cur) return;
    if (!cur.name) throw err(n, 'a case without NAME');
    if (!cur.prog && !cur.args.length && cur.script === undefined) throw err(n, `case "${cur.name}": no PROG or ARGS`);
    if (!cur.expect.length && !cur.expectRegex.length && !cur.expectNot.length && !cur.stderr.length && cur.exit === 0) throw err(n, `case "${cur.name}": nothing expected`);
    if (cases.some((c) => c.name === cur!.name)) throw err(n, `case "${cur.name}" twice`);
    cases.push(cur);
    cur = undefined;
  };
  lines.forEach((raw, n) => {
    const line = raw.trimEnd();
    if (line.startsWith('#')) return;
    if (!line.trim()) return finish(n);
    const m = /^([A-Z_]+)(?: (.*))?$/.exec(line);
    if (!m || !KEYS.has(m[1]!)) throw err(n, `not a KEY value line: ${line}`);
    const [key, value = ''] = [m[1]!, m[2]];
    cur ??= { file, line: n + 1, name: '', args: [], positional: [], expect: [], expectRegex: [], expectNot: [], stderr: [], exit: 0, timeout: 5, requires: [], files: [] };
    const regex = (v: string): RegExp => {
      try {
        return new RegExp(v);
      } catch (e) {
        throw err(n, `bad regular expression: ${(e as Error).message}`);
      }
    };
    switch (key) {
      case 'NAME': cur.name = value; break;
      case 'PROG': cur.prog = value; break;
      case 'ARGS': cur.args = words(value); break;
      case 'POSITIONAL': cur.positional = words(value); break;
      case 'EXPECT': cur.expect.push(value); break;
      case 'EXPECT_REGEX': cur.expectRegex.push(regex(value)); break;
      case 'EXPECT_NOT': cur.expectNot.push(regex(value)); break;
      case 'STDERR': cur.stderr.push(regex(value)); break;
      case 'EXIT': cur.exit = Number(value); break;
      case 'TIMEOUT': cur.timeout = Number(value); break;
      case 'AFTER': cur.after = value; break;
      case 'BEFORE': cur.before = value; break;
      case 'REQUIRES': cur.requires.push(...words(value)); break;
      case 'STDIN': cur.stdin = unescape(value); break;
      case 'FILE': cur.script = unescape(value); break;
      case 'OUTPUT_FILE': cur.outputFile = value; break;
      case 'WRITE': {
        const sp = value.indexOf(' ');
        if (sp < 1) throw err(n, 'WRITE wants a file name and its text');
        cur.files.push({ name: value.slice(0, sp), text: unescape(value.slice(sp + 1)) });
        break;
      }
    }
    if ((key === 'EXIT' || key === 'TIMEOUT') && !Number.isFinite(Number(value))) throw err(n, `${key} wants a number`);
  });
  finish(lines.length);
  return cases;
}

/** What a case's run showed against what it expects: the reasons it fails (none: it passes). */
export function judge(c: CorpusCase, out: string, err: string, code: number | null): string[] {
  const why: string[] = [];
  const lines = out.split('\n');
  let at = 0;
  for (const e of c.expect) {
    const i = lines.indexOf(e, at);
    if (i < 0) why.push(`no line ${JSON.stringify(e)}${lines.includes(e) ? ' in this order' : ''}`);
    else at = i + 1;
  }
  for (const r of c.expectRegex) if (!lines.some((l) => r.test(l))) why.push(`no line matches ${r}`);
  for (const r of c.expectNot) {
    const l = lines.find((x) => r.test(x));
    if (l !== undefined) why.push(`line ${JSON.stringify(l)} matches ${r}`);
  }
  for (const r of c.stderr) if (!r.test(err)) why.push(`stderr does not match ${r}`);
  if (code !== c.exit) why.push(`exit ${code}, expected ${c.exit}`);
  return why;
}
