// Where a tool's committed kernel object is: beside its source in src/tools/<name>/ (tsx, a
// checkout), or found from the package root when running from dist/ (the objects are not copied
// there; package.json ships src/tools/**/*.bpf.o).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function toolObjectPath(tool: string, file = `${tool}.bpf.o`): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, '..', tool, file);
  if (existsSync(beside)) return beside;
  let dir = here;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'src', 'tools', tool, file);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`kernel object for ${tool} not found (looked for src/tools/${tool}/${file}; run node scripts/build-bpf.js)`);
}
