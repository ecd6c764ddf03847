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
  // a parent's result line comes after its subtests': a failed parent whose subtests failed is not named again
  let deeperFailed = new Map<number, boolean>();
  for (const line of text.split('\n')) {
    const m = /^(\s*)(not )?ok \d+ - (.*)$/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    const childFailed = [...deeperFailed].some(([d, f]) => d > indent && f);
    deeperFailed = new Map([...deeperFailed].filter(([d]) => d < indent));
    if (m[2]) {
      if (!childFailed) failures.push(m[3]!.trim());
      deeperFailed.set(indent, true);
    } else if (!deeperFailed.has(indent)) deeperFailed.set(indent, false);
  }
  return { tests: n('tests'), pass: n('pass'), fail: n('fail'), skipped: n('skipped'), durationMs: n('duration_ms'), failures };
}
