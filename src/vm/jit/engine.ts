import { VmError, type Engine, type Runtime, type VmProgram } from '../runtime.js';
export class JitEngine implements Engine {
  constructor(private readonly rt: Runtime) {}
  exec(prog: VmProgram): bigint {
    void this.rt;
    throw new VmError(0, `${prog.name}: JIT not built yet`);
  }
}
