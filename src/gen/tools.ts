// The built-in tools' generated types: src/tools/<tool>/<tool>.gen.ts from the committed
// <tool>.bpf.o beside it. One definition for scripts/gen-types.js (which writes them) and the test
// that fails when one is stale. The file system comes in as functions: this layer imports no Node
// built-ins.
import { generateTypes } from './objects.js';

interface Fs {
  readdirSync(dir: string): string[];
  readFileSync(path: string): Uint8Array;
  existsSync(path: string): boolean;
}

/** Where each tool's types go and what they must say. */
export function toolTypeFiles(root: string, fs: Fs): { tool: string; path: string; text: string }[] {
  const tools = `${root.replace(/\/$/, '')}/src/tools`;
  const out: { tool: string; path: string; text: string }[] = [];
  for (const tool of fs.readdirSync(tools).sort()) {
    const object = `${tools}/${tool}/${tool}.bpf.o`;
    if (!fs.existsSync(object)) continue;
    const text = generateTypes(new Uint8Array(fs.readFileSync(object)), { name: tool, importFrom: '../../kernel/typed.js', source: `${tool}.bpf.o` });
    out.push({ tool, path: `${tools}/${tool}/${tool}.gen.ts`, text });
  }
  return out;
}
