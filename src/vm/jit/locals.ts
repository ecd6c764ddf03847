// The wasm locals of a compiled BPF function: the BPF registers and the temporaries the emitters share.
/** Local index of each BPF register: params r1-r5 and r10, then r0 and r6-r9. */
export const R = [6, 0, 1, 2, 3, 4, 7, 8, 9, 10, 5];
export const PC = 11;
export const TA = 12; // i64 temporaries
export const TB = 13;
export const ADDR = 14; // i32 temporary
export const MA = 15; // i64 temporary: the address of a memory access being checked
export const FUEL = 16; // i32: the run's fuel while this function runs (global 0 across calls)
export const CACHE = 17; // first i64 local caching a control-block word (context and packet bounds)
