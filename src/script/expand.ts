// Wildcard attach points become one per match: tracepoints and kernel functions as the machine lists
// them (kfunc targets: those the kernel's BTF has too).
import type { Btf } from '../btf/btf.js';
import { BtfKind } from '../btf/types.js';
import type { AttachPoint, Program } from './ast.js';
import type { ScriptMachine } from './compile-for.js';
import { ScriptError } from './error.js';
import { hasWildcard, provider, wildcardMatch } from './probes.js';

const FUNCTION_PROVIDERS = new Set(['kprobe', 'kretprobe', 'kfunc', 'kretfunc']);

/** Names of the functions in the kernel's BTF (kfunc targets). */
function btfFunctionNames(b: Btf | undefined): Set<string> {
  const names = new Set<string>();
  if (b) for (const t of b.types) if (t.kind === BtfKind.FUNC) names.add(t.name);
  return names;
}

export function expandWildcards(prog: Program, env: ScriptMachine, source: string, fileName: string): void {
  let tps: string[] | undefined;
  let kfuncs: Set<string> | undefined;
  for (const probe of prog.probes) {
    const aps: AttachPoint[] = [];
    probe.several = probe.attachPoints.length > 1 || probe.attachPoints.some((ap) => ap.parts.some(hasWildcard));
    // a function wildcard matching nothing is an error only when no attach point of its probe is left
    // (bpftrace: `kprobe:lookup_fast, kprobe:lookup_fast.constprop.*` runs where only one exists)
    let unmatched: ScriptError | undefined;
    const none = (e: ScriptError): void => void (unmatched ??= e);
    for (const ap of probe.attachPoints) {
      const prov = provider(ap);
      const last = ap.parts[ap.parts.length - 1]!;
      if (prov === 'tracepoint' && ap.parts.length === 3 && (hasWildcard(ap.parts[1]!) || hasWildcard(ap.parts[2]!))) {
        tps ??= env.tracepoints?.() ?? [];
        const pat = `${ap.parts[1]}:${ap.parts[2]}`;
        const hits = tps.filter((t) => wildcardMatch(pat, t));
        // (a tracepoint wildcard must match, even beside others: bpftrace's rule)
        if (!hits.length) throw new ScriptError(`tracepoints not found: ${pat}`, ap.pos, source, fileName);
        for (const h of hits) aps.push({ raw: `tracepoint:${h}`, parts: ['tracepoint', ...h.split(':')], pos: ap.pos });
      } else if (FUNCTION_PROVIDERS.has(prov) && ap.parts.length >= 2 && hasWildcard(last)) {
        let hits = (env.traceableFunctions?.() ?? []).filter((f) => wildcardMatch(last, f));
        if (prov === 'kfunc' || prov === 'kretfunc') {
          kfuncs ??= btfFunctionNames(env.btf?.());
          hits = hits.filter((f) => kfuncs!.has(f));
        }
        if (!hits.length) none(new ScriptError(`No probes matched: ${ap.raw}`, ap.pos, source, fileName));
        for (const h of hits.sort()) aps.push({ raw: `${prov}:${h}`, parts: [prov, h], pos: ap.pos });
      } else if (prov === 'usdt' && (ap.parts.length === 3 || ap.parts.length === 4)) {
        // usdt:path:[provider:]name, wildcards in either: one attach point per note that matches
        const path = ap.parts[1]!;
        const [pp, np] = ap.parts.length === 4 ? [ap.parts[2]!, ap.parts[3]!] : ['*', ap.parts[2]!];
        let notes: { provider: string; name: string }[];
        try {
          notes = env.usdtProbes?.(path) ?? [];
        } catch (e) {
          throw new ScriptError(`usdt target file '${path}': ${(e as Error).message}`, ap.pos, source, fileName);
        }
        // (a usdt probe the file lacks is left out, as bpftrace leaves it: "No probes to attach" if none is left)
        const hits = notes.filter((n) => wildcardMatch(pp, n.provider) && wildcardMatch(np, n.name));
        const seen = new Set<string>();
        for (const h of hits) {
          const k = `${h.provider}:${h.name}`;
          if (seen.has(k)) continue;
          seen.add(k);
          aps.push({ raw: `usdt:${path}:${k}`, parts: ['usdt', path, h.provider, h.name], pos: ap.pos });
        }
      } else if ((prov === 'uprobe' || prov === 'uretprobe') && ap.parts.length === 3 && hasWildcard(last)) {
        let names: string[];
        try {
          names = env.userFunctions?.(ap.parts[1]!) ?? [];
        } catch (e) {
          throw new ScriptError(`uprobe target file '${ap.parts[1]}': ${(e as Error).message}`, ap.pos, source, fileName);
        }
        // (matching nothing, it is left out as a missing function is: bpftrace's "No probes to attach")
        const hits = names.filter((f) => wildcardMatch(last, f));
        for (const h of hits) aps.push({ raw: `${prov}:${ap.parts[1]}:${h}`, parts: [prov, ap.parts[1]!, h], pos: ap.pos });
      } else aps.push(ap);
    }
    if (!aps.length && unmatched) throw unmatched;
    probe.attachPoints = aps;
  }
  prog.probes = prog.probes.filter((p) => p.attachPoints.length);
}
