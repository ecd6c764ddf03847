// CPU sets from sysfs: per-CPU map values have one slot per *possible* CPU; perf buffers and
// sampling open one event per *online* CPU.
import { readFileSync } from 'node:fs';

/** Parse a kernel CPU list like "0-3,5,7-8" into sorted CPU numbers. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad CPU list "${text.trim()}"`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo) throw new Error(`bad CPU range "${part}"`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

const cache = new Map<string, number[]>();
function cpuList(which: 'possible' | 'online'): number[] {
  let v = cache.get(which);
  if (!v) {
    v = parseCpuList(readFileSync(`/sys/devices/system/cpu/${which}`, 'utf8'));
    // Online CPUs can change (hotplug); possible CPUs cannot.
    if (which === 'possible') cache.set(which, v);
  }
  return v;
}

export const possibleCpus = (): number[] => cpuList('possible');
export const onlineCpus = (): number[] => cpuList('online');

/** How many values a per-CPU map slot holds: highest possible CPU + 1. */
export function possibleCpuCount(): number {
  const l = possibleCpus();
  return l.length ? l[l.length - 1]! + 1 : 1;
}
