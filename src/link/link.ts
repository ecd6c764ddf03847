// An attachment of a program: a bpf_link fd, or for older paths the perf event (or other fds) that
// keep the program attached, plus undo actions for what does not die with an fd (tracefs probe
// definitions, PROG_ATTACH to a cgroup). Closing the Link detaches everything it holds.
import type { AttachType } from '../uapi/bpf.js';
import { linkDetach, linkUpdate, objPin } from '../sys/bpf.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { linkInfo, type LinkInfo } from '../sys/info.js';

/**
 * What attaching needs of a loaded program. kernel/'s Program is one; link/ sits below kernel/ (which
 * attaches a collection's programs through it) and so never imports it.
 */
export interface AttachableProgram {
  readonly fd: Fd;
  readonly name: string;
  readonly expectedAttachType?: AttachType;
}

export interface LinkParts {
  /** the bpf_link fd, if the kernel gave one */
  linkFd?: Fd;
  /** fds that keep the attachment alive (perf events, a cgroup dir), closed after the link */
  fds?: Fd[];
  /** undo actions, run last (e.g. an onCleanup() unregister-and-run function) */
  undo?: Array<() => void>;
  /** one link per CPU (perf event sampling) */
  children?: Link[];
}

export class Link {
  private parts: LinkParts;

  constructor(readonly kind: string, parts: LinkParts) {
    this.parts = parts;
  }

  /** The bpf_link fd (throws when this attachment has none, e.g. PERF_EVENT_IOC_SET_BPF fallback). */
  get fd(): Fd {
    const fd = this.parts.linkFd;
    if (fd === undefined || fd < 0) throw new Error(`${this.kind}: no bpf_link fd (closed, or attached without a link)`);
    return fd;
  }

  /** True when the kernel tracks this as a bpf_link (pinnable, updatable, listed by `link list`). */
  get isBpfLink(): boolean {
    return this.parts.linkFd !== undefined && this.parts.linkFd >= 0;
  }

  get closed(): boolean {
    return this.parts.linkFd === undefined && !this.parts.fds?.length && !this.parts.children?.length && !this.parts.undo?.length;
  }

  /** Per-CPU parts of a multi-CPU attachment. */
  get children(): readonly Link[] {
    return this.parts.children ?? [];
  }

  /** Pin the link in bpffs: the attachment then outlives this process. */
  pin(path: string): void {
    objPin(this.fd, path);
  }

  /** Replace the program (BPF_LINK_UPDATE), optionally only if `old` is the current one. */
  update(prog: AttachableProgram, old?: AttachableProgram): void {
    linkUpdate(this.fd, prog.fd, old?.fd);
  }

  /** Detach the program now (BPF_LINK_DETACH); the link fd stays open until close(). */
  detach(): void {
    if (this.isBpfLink) linkDetach(this.fd);
    else this.close();
  }

  info(): LinkInfo {
    return linkInfo(this.fd);
  }

  get id(): number {
    return this.info().id;
  }

  close(): void {
    const p = this.parts;
    this.parts = {};
    for (const c of p.children ?? []) c.close();
    if (p.linkFd !== undefined && p.linkFd >= 0) closeFd(p.linkFd);
    for (const fd of p.fds ?? []) closeFd(fd);
    for (const u of p.undo ?? []) u();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
