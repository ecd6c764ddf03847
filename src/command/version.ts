// tsbpf's version, as `tsbpf --version` prints it: package.json's (a test holds them equal; the CLI
// bundle does not read package.json at start).
export const VERSION = '0.2.0';
