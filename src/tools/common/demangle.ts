// C++ (Itanium ABI) symbol names demangled by binutils' c++filt, every name of a profile in one
// call: `_ZN2v88internal7Isolate4InitEv` → `v8::internal::Isolate::Init()`. Without c++filt the
// names stay as they are (still correct, only harder to read).
import { spawnSync } from 'node:child_process';

/** name → demangled name, for the names that are mangled (start with _Z); others map to themselves. */
export function demangleAll(names: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const mangled: string[] = [];
  for (const n of names) {
    out.set(n, n);
    // (one name per line: a name with a newline, which no symbol table holds, is left alone)
    if (n.startsWith('_Z') && !n.includes('\n')) mangled.push(n);
  }
  if (!mangled.length) return out;
  const r = spawnSync('c++filt', [], { input: mangled.join('\n') + '\n', encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return out;
  const lines = r.stdout.split('\n');
  if (lines.length < mangled.length) return out;
  mangled.forEach((n, i) => out.set(n, lines[i]!));
  return out;
}
