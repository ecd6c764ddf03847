// What every command built on tsbpf shares (the CLI's own, the tools', a script's): one life cycle
// (signals, --duration, the exit status), standard output that never blocks the event loop, and the
// privileges check before anything is loaded. The package exports it as `tsbpf/command`.
export { startRun, currentRun, holdSignals, decidedExitStatus, Run, EXIT_OUTPUT_CLOSED, type RunOptions, type StopReason } from './lifecycle.js';
export { requirePrivileges, missingCapabilities, effectiveCapabilities, PrivilegeError, TRACING, NETWORKING, ADMIN, type Capability } from './privileges.js';
export { stdout, Output, OUTPUT_LIMIT, type OutputEnd } from '../sys/stdout.js';
