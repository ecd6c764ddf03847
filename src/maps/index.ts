// Maps and the event buffers over them.
export { BpfMap, UpdateFlags, type MapCreateOptions } from './map.js';
export { RingBuffer, type RingBufferOptions } from './ringbuf.js';
export { PerfBuffer, type PerfBufferOptions, type PerfSampleRecord } from './perfbuf.js';
export * as codecs from './codec.js';
export type { Codec, LpmKey } from './codec.js';
