// `tsbpf gen types`: the committed tool types are what the generator makes of the committed objects;
// a generated module passes `tsc --strict` in a project of its own importing 'tsbpf', where a map key
// of the wrong type is a compile error; buffer record types are found, or their absence explained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { generateTypes } from '../../src/gen/objects.js';
import { toolTypeFiles } from '../../src/gen/tools.js';
import { repoPath } from '../helpers/objects.js';
import { bin } from '../helpers/cli.js';

const root = repoPath();
const object = (tool: string): Uint8Array => new Uint8Array(readFileSync(repoPath('src/tools', tool, `${tool}.bpf.o`)));

test('every tool has its generated types, and none is stale against its committed .bpf.o', () => {
  const files = toolTypeFiles(root, { readdirSync, readFileSync, existsSync });
  assert.ok(files.length >= 11, `${files.length} tools`);
  for (const f of files) {
    assert.ok(existsSync(f.path), `${f.path} is missing: run npm run build && node scripts/gen-types.js`);
    assert.equal(readFileSync(f.path, 'utf8'), f.text, `${f.path} is stale: run npm run build && node scripts/gen-types.js`);
  }
});

/** Diagnostics of a strict compile of `files` (name → text) with 'tsbpf' resolving to this checkout's declarations. */
function compile(files: Record<string, string>): ts.Diagnostic[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-gen-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const program = ts.createProgram(Object.keys(files).map((f) => join(dir, f)), {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [repoPath('node_modules/@types')],
      skipLibCheck: true,
      baseUrl: dir,
      paths: { tsbpf: [repoPath('dist/src/index.d.ts')] },
    });
    return [...ts.getPreEmitDiagnostics(program)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const show = (ds: ts.Diagnostic[]): string => ds.map((d) => `${d.file ? `${d.file.fileName.replace(/^.*\//, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`).join('\n');

test('a generated module passes tsc --strict, and a wrong key type does not compile', () => {
  const gen = generateTypes(object('tcpconnect'), { name: 'tcpconnect' });
  const good = `import { TcpconnectObjects, type Ipv4FlowKey } from './tcpconnect.gen.js';
using objs = TcpconnectObjects.load('tcpconnect.bpf.o', { constants: { targ_pid: 42, filter_ports: [80] } });
const k: Ipv4FlowKey = { saddr: 0, daddr: 0, dport: 80, pad: 0 };
const n: bigint | undefined = objs.maps.ipv4_count.get(k);
for (const [key, count] of objs.maps.ipv4_count.entries()) console.log(key.dport, count + 1n);
export async function follow(): Promise<void> {
  for await (const e of objs.ringBuffer('events')) console.log(e.pid, e.comm.toUpperCase(), n);
}
`;
  const clean = compile({ 'package.json': '{"type":"module"}', 'tcpconnect.gen.ts': gen, 'use.ts': good });
  assert.deepEqual(show(clean), '');
  const bad = good.replace('objs.maps.ipv4_count.get(k)', 'objs.maps.ipv4_count.get(k.dport)');
  const errs = compile({ 'package.json': '{"type":"module"}', 'tcpconnect.gen.ts': gen, 'use.ts': bad });
  assert.equal(errs.length, 1, show(errs));
  assert.match(show(errs), /use\.ts:4: Argument of type 'number' is not assignable to parameter of type 'Ipv4FlowKey'/);
});

test('every tool object generates a module that compiles', () => {
  const files: Record<string, string> = { 'package.json': '{"type":"module"}' };
  for (const tool of ['biolatency', 'execsnoop', 'opensnoop', 'profile', 'runqlat', 'syscount', 'tc-limit', 'tcplife', 'tcpstates', 'xdp-shield']) {
    files[`${tool}.gen.ts`] = generateTypes(object(tool), { name: tool });
  }
  assert.equal(show(compile(files)), '');
});

test('constants: ConstantsOf the section types, settable variables only, values as encode() takes them', () => {
  const gen = generateTypes(object('tcpconnect'), { name: 'tcpconnect' });
  const use = (constants: string): string => `import { TcpconnectObjects } from './tcpconnect.gen.js';\nTcpconnectObjects.load('x.bpf.o', { constants: ${constants} }).close();\n`;
  const files = (constants: string): Record<string, string> => ({ 'package.json': '{"type":"module"}', 'tcpconnect.gen.ts': gen, 'use.ts': use(constants) });
  assert.equal(show(compile(files('{ targ_cgroup_id: 7, wakeup_bytes: 1n, do_count: true, filter_ports: [80, 443], targ_pid: undefined }'))), '');
  assert.match(show(compile(files("{ targ_pid: 'x' }"))), /Type 'string' is not assignable to type 'number'/);
  assert.match(show(compile(files("{ 'count_flow.one': 1n }"))), /'count_flow\.one'' does not exist in type 'ConstantsOf<Omit<TcpconnectRodata & TcpconnectBss, "count_flow\.one">>'/);
});

test('the tools share the declarations, variables and maps two or more of them write alike', () => {
  const files = toolTypeFiles(root, { readdirSync, readFileSync, existsSync });
  const common = files.find((f) => f.tool === 'common')!;
  assert.match(common.path, /src\/tools\/common\/objects\.gen\.ts$/);
  assert.match(common.text, /export interface Hist \{/);
  const runqlat = files.find((f) => f.tool === 'runqlat')!.text;
  assert.match(runqlat, /^import \{ type Hist, [^}]*\} from '\.\.\/common\/objects\.gen\.js';$/m);
  assert.doesNotMatch(runqlat, /export interface Hist/);
  // so do the variables and maps they declare alike (tools.bpf.h's cgroup filter, the drops counter)
  assert.match(common.text, /export type SharedRodata = \{[^}]*targ_cgroup_id: bigint;/s);
  assert.match(common.text, /export interface SharedMaps \{[^}]*drops: BpfMap<number, bigint>;/s);
  assert.match(runqlat, /export type RunqlatRodata = Pick<SharedRodata, 'targ_cgroup_id' \| 'targ_cgroup_level'[^>]*> & \{[^}]*targ_tgid: number;/s);
  assert.match(runqlat, /export interface RunqlatMaps extends Pick<SharedMaps, [^>]*'drops'[^>]*> \{/);
  assert.doesNotMatch(runqlat, /^ {2}drops:/m);
  // alone, the module declares it itself
  assert.match(generateTypes(object('runqlat'), { name: 'runqlat' }), /export interface Hist \{/);
});

test('buffer records: inferred from reserve sizes, named by the caller, or left raw with the reason', () => {
  assert.match(generateTypes(object('tcpconnect')), /records: \{ \/\*\* the 96-byte records its programs reserve \*\/ events: recordType<Event>\('struct event'\) \}/);
  assert.match(generateTypes(object('execsnoop')), /records: \{ \/\*\* raw bytes: its records are of several or variable sizes \*\/ events: recordType<Uint8Array>\(\) \}/);
  const named = generateTypes(object('execsnoop'), { records: { events: 'struct event' } });
  assert.match(named, /records: \{ \/\*\* named when generated \*\/ events: recordType<Event>\('struct event'\) \}/);
  // a buffer's map is typed from its records, not declared again
  assert.doesNotMatch(named, /^ {2}events: BpfMap/m);
  assert.throws(() => generateTypes(object('execsnoop'), { records: { events: 'struct nope' } }), /no type 'struct nope'/);
  assert.throws(() => generateTypes(object('execsnoop'), { records: { evts: 'struct event' } }), /no map 'evts'/);
});

test('generated names: static locals are no constants, defaults are shown, data sections are typed', () => {
  const gen = generateTypes(object('tcpconnect'), { name: 'tcpconnect' });
  assert.match(gen, /export type TcpconnectRodata = \{[^}]*'count_flow\.one': bigint;/s);
  // the loader derives the constants from the section types, less what the object does not let it set
  assert.match(gen, /^ {2}fixed: 'count_flow\.one';$/m);
  assert.match(gen, /const volatile __u32, default 4294967295/);
  // and each data section's map from its type
  assert.match(gen, /sections: \{ rodata: TcpconnectRodata; bss: TcpconnectBss \}/);
  assert.doesNotMatch(gen, /BpfMap<number, TcpconnectRodata>/);
});

test('a generated module leaves out what the loader derives: no empty records, no program union, no section maps', () => {
  const gen = generateTypes(object('runqlat'), { name: 'runqlat' });
  assert.doesNotMatch(gen, /records:|Records|recordType|RunqlatProgram|RunqlatConstants|rodata: BpfMap/);
  assert.match(gen, /^export const RunqlatObjects = defineObjects<\{ maps: RunqlatMaps; sections: \{ rodata: RunqlatRodata \}; fixed: 'zero_hist' \}>\(\)\(\{$/m);
  assert.match(gen, /^export type RunqlatObjects = LoadedOf<typeof RunqlatObjects>;$/m);
});

test('tsbpf gen types writes the module; --record and -o work from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-gen-cli-'));
  try {
    const out = join(dir, 'e.gen.ts');
    const r = bin(['gen', 'types', repoPath('src/tools/execsnoop/execsnoop.bpf.o'), '-o', out, '--record', 'events=struct event']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), generateTypes(object('execsnoop'), { name: 'execsnoop', records: { events: 'struct event' } }));
    const bad = bin(['gen', 'types', repoPath('src/tools/execsnoop/execsnoop.bpf.o'), '--record', 'events']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--record takes MAP=TYPE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
