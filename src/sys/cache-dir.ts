// Where tsbpf keeps what it can make again (CO-RE resolutions, V8's code cache of the CLI):
// $TSBPF_CACHE_DIR, else $XDG_CACHE_HOME/tsbpf, else /var/cache/tsbpf for root and ~/.cache/tsbpf
// for others; TSBPF_CACHE_DIR=off (or empty) disables caching. Never inside the installed package.
// bin/tsbpf has the same rule written out (compiling this file there would cost its start ~0.8 ms);
// test/cli/bundle.test.ts holds the two to the same answers.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TSBPF_CACHE_DIR !== undefined) return env.TSBPF_CACHE_DIR === 'off' || env.TSBPF_CACHE_DIR === '' ? undefined : env.TSBPF_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'tsbpf');
  if (process.getuid?.() === 0) return '/var/cache/tsbpf';
  const home = homedir();
  return home ? join(home, '.cache', 'tsbpf') : undefined;
}
