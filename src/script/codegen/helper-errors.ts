// -k / -kk: a helper call that fails reports it, as bpftrace's do: right after the call, a negative
// return sends an event record [format id][return value][site] and user space prints
// `stdin:1:18-31: WARNING: Failed to map_delete_elem: No such file or directory (-2)` with the
// script line. -k checks the helpers that change state (map updates and deletes, signals, stack
// ids), -kk the reads from memory as well (probe_read*).
import { Builder, FP, R0, R1, R2, R3, R4, imm } from '../../isa/builder.js';
import type { HelperName } from '../../isa/helpers.js';
import type { Pos } from '../ast.js';
import { EVENTS_MAP } from '../maps.js';

const LEVEL1 = new Set(['map_update_elem', 'map_delete_elem', 'send_signal', 'get_stackid']);
const LEVEL2 = new Set(['probe_read', 'probe_read_str', 'probe_read_user', 'probe_read_user_str', 'probe_read_kernel', 'probe_read_kernel_str']);

export interface HelperErrorOptions {
  /** 1: -k, 2: -kk */
  level: 1 | 2;
  /** the event format of the warnings */
  format: number;
  /** where each checked call is (the record carries the index): filled as code is generated */
  sites: { pos: Pos; helper: string }[];
}

/** Whether a helper's failure is reported at this level. */
export const checkedHelper = (name: string, level: 1 | 2): boolean => LEVEL1.has(name) || (level === 2 && LEVEL2.has(name));

/** A builder whose helper calls are followed by the check (the frame slot for the record from `slot`). */
export class CheckingBuilder extends Builder {
  private inside = false;

  constructor(private readonly o: HelperErrorOptions, private readonly slot: () => { off: number; release: () => void }) {
    super();
  }

  override call(helper: HelperName | `bpf_${HelperName}` | number): this {
    super.call(helper);
    const name = typeof helper === 'number' ? '' : helper.replace(/^bpf_/, '');
    if (this.inside || !checkedHelper(name, this.o.level)) return this;
    this.inside = true;
    const pos = this.currentSpan;
    const site = this.o.sites.length;
    this.o.sites.push({ pos: pos as Pos, helper: name });
    const ok = this.newLabel('helper_ok');
    const s = this.slot();
    this.jmp('s>=', R0, imm(0), ok);
    this.stx('u64', FP, R0, s.off + 8).mov64(R1, imm(this.o.format)).stx('u64', FP, R1, s.off).st('u64', FP, s.off + 16, site);
    this.ldMap(R1, EVENTS_MAP).mov64(R2, FP).add64(R2, imm(s.off)).mov64(R3, imm(24)).mov64(R4, imm(0)).call('ringbuf_output');
    // the caller sees the helper's own return value
    this.ldx('u64', R0, FP, s.off + 8);
    this.label(ok);
    s.release();
    this.inside = false;
    return this;
  }
}
