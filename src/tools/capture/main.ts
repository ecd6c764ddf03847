// `node dist/src/tools/capture/main.js ARGS` runs `tsbpf capture ARGS` on its own (for benchmarks
// and scripts; the tsbpf CLI mounts captureProgram() instead).
import { captureCommand } from './cli.js';

process.exitCode = await captureCommand(process.argv.slice(2));
