// The summary of a node:test TAP report (the guest writes one; the host reads it back).
export interface TapSummary {
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  durationMs: number;
  /** names of failed tests, with their file where the report says it */
  failures: string[];
}

export function parseTap(text: string): TapSummary {
  const n = (key: string): number => Number(new RegExp(`^# ${key} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? 0);
  const failures: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]!);
    if (!m) continue;
    // a failed file reports its failed tests as subtests: name the leaves (and the file)
    const indent = m[1]!.length;
    const next = lines.slice(i + 1).find((l) => /^\s*(not )?ok \d+ - /.test(l));
    const hasChildFailure = next !== undefined && /^\s*not ok/.test(next) && (/^\s*/.exec(next)![0].length > indent);
    if (indent === 0 || !hasChildFailure) failures.push(m[2]!.trim());
  }
  return { tests: n('tests'), pass: n('pass'), fail: n('fail'), skipped: n('skipped'), durationMs: n('duration_ms'), failures };
}
