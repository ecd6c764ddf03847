// Running bin/tsbpf from the built checkout, as a user does.
import { spawnSync } from 'node:child_process';
import { repoPath } from './objects.js';

export interface BinResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `tsbpf args` to completion (a minute at most). */
export function bin(args: string[], env: NodeJS.ProcessEnv = process.env): BinResult {
  const r = spawnSync(process.execPath, [repoPath('bin/tsbpf'), ...args], { encoding: 'utf8', env, timeout: 60_000, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
