// One path of the verifier's exploration (its pc, abstract state, checkpoint and jump trail), the
// rejection that ends a program's verification, and the kernel's limits the verifier applies.
import type { State } from './state.js';

/** The verifier's verdict against the program: the instruction, the reason, the registers involved. */
export class Reject extends Error {
  constructor(
    readonly pc: number,
    readonly reason: string,
    readonly regs: number[] = [],
    readonly hint?: string,
  ) {
    super(reason);
  }
}

// The kernel's limits.
export const MAX_CALL_FRAMES = 8;
export const MAX_BPF_STACK = 512;
export const MAX_PACKET_OFF = 0xffff;
export const BPF_MAX_VAR_OFF = 1 << 29;

export interface Checkpoint {
  /** Dropped (undefined) once evicted from its pc's list; the node stays for branch counting. */
  state: State | undefined;
  parent: Checkpoint | undefined;
  branches: number;
  /** Prune attempts that failed/succeeded: states that never help are dropped (as the kernel does). */
  miss: number;
  hit: number;
  /** Stack slots (frame * 64 + slot) some path from here reads before overwriting: pruning
   *  against this state compares only those (the kernel's stack liveness). Complete once
   *  `branches` reaches 0. */
  read: Set<number>;
  /** Slots wholly written between the parent checkpoint and this one: read marks stop here. */
  writtenBefore: Set<number>;
}

export interface Trail {
  pc: number;
  prev: Trail | undefined;
}

export interface Path {
  pc: number;
  state: State;
  cp: Checkpoint | undefined;
  /** The jumps taken to get here, newest first (shared with the paths forked off this one). */
  trail: Trail | undefined;
  /** Instructions and jumps since this path last stored a checkpoint (the kernel's heuristic:
   *  remember a state only every few jumps, which keeps the lists to compare short). */
  sinceInsns: number;
  sinceJumps: number;
  /** Stack slots wholly written since `cp` (a read of one is not a read of cp's value). */
  written: Set<number>;
  /** `written` is shared with a forked path: copy it before adding. */
  writtenShared: boolean;
}

/** Kinds of load one instruction made: a checked load, a probe read through a tracing argument. */
export const PLAIN = 1;
export const PROBE = 2;

