// tsbpf's native layer: the system calls Node cannot make by itself, and nothing else.
// Every call returns its result or -errno (never throws for a failed syscall): the TypeScript side
// (src/sys/) turns errno into typed errors with hints. Attribute structs are built in TypeScript and
// passed as byte arrays; pointers inside them come from addressOf().
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, NULL, "tsbpf native: " #call " failed");                  \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

static napi_value num(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static napi_value ret(napi_env env, long r) { return num(env, r < 0 ? -errno : (double)r); }

static int arg_i64(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok ? 0 : -1;
  }
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
  *out = (int64_t)d;
  return 0;
}

// Data pointer and length of a TypedArray, DataView or ArrayBuffer (null, 0 for null/undefined).
static int arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *data = NULL;
    *len = 0;
    return 0;
  }
  bool is;
  napi_is_typedarray(env, v, &is);
  if (is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return -1;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    *len = length * elem;
    return 0;
  }
  napi_is_dataview(env, v, &is);
  if (is) {
    napi_value ab;
    size_t offset;
    return napi_get_dataview_info(env, v, len, data, &ab, &offset) == napi_ok ? 0 : -1;
  }
  napi_is_arraybuffer(env, v, &is);
  if (is) return napi_get_arraybuffer_info(env, v, data, len) == napi_ok ? 0 : -1;
  return -1;
}

#define ARGS(n)                                                                        \
  size_t argc = n;                                                                     \
  napi_value argv[n];                                                                  \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

#define I64(i, name)                                                                   \
  int64_t name;                                                                        \
  if (arg_i64(env, argv[i], &name)) { napi_throw_type_error(env, NULL, "expected a number"); return NULL; }

#define BYTES(i, data, len)                                                            \
  void *data;                                                                          \
  size_t len;                                                                          \
  if (arg_bytes(env, argv[i], &data, &len)) { napi_throw_type_error(env, NULL, "expected bytes"); return NULL; }

// bpf(cmd, attr[, quiet]): the bpf(2) system call with a union bpf_attr built by the caller. With
// quiet, the timer signals of profilers (SIGPROF, SIGALRM, SIGVTALRM) are held back for the call:
// the verifier gives up with EAGAIN whenever a signal is pending, which a sampling profiler makes
// happen at every attempt on a slow machine. Held signals arrive when the call returns.
static napi_value js_bpf(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) { napi_throw_type_error(env, NULL, "expected 2 arguments"); return NULL; }
  I64(0, cmd);
  BYTES(1, attr, len);
  bool quiet = false;
  if (argc > 2) CHECK(napi_get_value_bool(env, argv[2], &quiet));
  sigset_t timers, old;
  if (quiet) {
    sigemptyset(&timers);
    sigaddset(&timers, SIGPROF);
    sigaddset(&timers, SIGALRM);
    sigaddset(&timers, SIGVTALRM);
    pthread_sigmask(SIG_BLOCK, &timers, &old);
  }
  long r = syscall(__NR_bpf, (int)cmd, attr, (unsigned)len);
  int saved = errno;
  if (quiet) pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return ret(env, r);
}

// A bpf_attr registered once and then used by number: map element calls (lookup, update, delete)
// pass the same attr every time, its pointers filled in once, and at a few hundred ns a syscall
// the generic bpf()'s argument checks (typeof, typed-array info: ~150 ns) were a third of the call.
// bpfPrepare(attr) -> slot keeps the array alive (a reference) until bpfRelease(slot); its
// off-heap backing store does not move. bpfSlot(slot * 256 + cmd) -> result or -errno.
struct attr_slot {
  void *attr;
  size_t len;
  napi_ref ref;
};
static struct attr_slot *slots;
static int32_t nslots, slot_free = -1; /* free slots chain through len */

static napi_value js_bpf_prepare(napi_env env, napi_callback_info info) {
  ARGS(1);
  BYTES(0, attr, len);
  int32_t i;
  if (slot_free >= 0) {
    i = slot_free;
    slot_free = (int32_t)slots[i].len;
  } else {
    if ((nslots & (nslots - 1)) == 0) {
      struct attr_slot *grown = realloc(slots, sizeof(*slots) * (nslots ? nslots * 2 : 16));
      if (!grown) return num(env, -ENOMEM);
      slots = grown;
    }
    i = nslots++;
  }
  if (i >= (1 << 22)) return num(env, -ENOMEM);
  slots[i].attr = attr;
  slots[i].len = len;
  CHECK(napi_create_reference(env, argv[0], 1, &slots[i].ref));
  return num(env, i);
}

static napi_value js_bpf_release(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t i;
  CHECK(napi_get_value_int32(env, argv[0], &i));
  if (i < 0 || i >= nslots || !slots[i].ref) return num(env, -EINVAL);
  napi_delete_reference(env, slots[i].ref);
  slots[i].ref = NULL;
  slots[i].attr = NULL;
  slots[i].len = (size_t)slot_free;
  slot_free = i;
  return num(env, 0);
}

static napi_value js_bpf_slot(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  int32_t v;
  CHECK(napi_get_value_int32(env, arg, &v));
  int32_t i = v >> 8;
  if (i < 0 || i >= nslots || !slots[i].ref) return num(env, -EBADF);
  long r = syscall(__NR_bpf, v & 0xff, slots[i].attr, (unsigned)slots[i].len);
  napi_value out;
  napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &out);
  return out;
}

// addressOf(bytes) -> bigint: where the bytes live, for pointers inside bpf_attr. The caller keeps the
// array alive across the syscall; off-heap backing stores do not move.
static napi_value js_address_of(napi_env env, napi_callback_info info) {
  ARGS(1);
  BYTES(0, data, len);
  (void)len;
  napi_value out;
  CHECK(napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)data, &out));
  return out;
}

static napi_value js_perf_event_open(napi_env env, napi_callback_info info) {
  ARGS(5);
  BYTES(0, attr, len);
  I64(1, pid);
  I64(2, cpu);
  I64(3, group);
  I64(4, flags);
  if (len < PERF_ATTR_SIZE_VER0) return num(env, -EINVAL);
  return ret(env, syscall(__NR_perf_event_open, attr, (pid_t)pid, (int)cpu, (int)group, (unsigned long)flags));
}

// ioctl(fd, request, arg): arg is a number, or bytes passed by pointer.
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  ARGS(3);
  I64(0, fd);
  I64(1, req);
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t == napi_number || t == napi_bigint) {
    I64(2, arg);
    return ret(env, ioctl((int)fd, (unsigned long)req, (unsigned long)arg));
  }
  BYTES(2, data, len);
  (void)len;
  return ret(env, ioctl((int)fd, (unsigned long)req, data));
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  I64(0, fd);
  return ret(env, close((int)fd));
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  ARGS(2);
  char path[4096];
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &n));
  I64(1, flags);
  return ret(env, open(path, (int)flags | O_CLOEXEC));
}

// read(fd, bytes) / write(fd, bytes): for non-blocking fds (trace_pipe, sockets), with readiness from poll().
static napi_value js_read(napi_env env, napi_callback_info info) {
  ARGS(2);
  I64(0, fd);
  BYTES(1, data, len);
  return ret(env, read((int)fd, data, len));
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  ARGS(2);
  I64(0, fd);
  BYTES(1, data, len);
  return ret(env, write((int)fd, data, len));
}

// ---- mmap: mapped memory as an ArrayBuffer, without copying ----

struct mapping {
  void *addr;
  size_t len;
  struct mapping *next;
};
static struct mapping *mappings;

static void unmap(struct mapping *m) {
  if (m->addr) munmap(m->addr, m->len);
  m->addr = NULL;
}

static void mapping_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint, **p;
  unmap(m);
  for (p = &mappings; *p; p = &(*p)->next)
    if (*p == m) { *p = m->next; break; }
  free(m);
}

static napi_value js_mmap(napi_env env, napi_callback_info info) {
  ARGS(5);
  I64(0, fd);
  I64(1, len);
  I64(2, prot);
  I64(3, flags);
  I64(4, offset);
  void *addr = mmap(NULL, (size_t)len, (int)prot, (int)flags, (int)fd, (off_t)offset);
  if (addr == MAP_FAILED) return num(env, -errno);
  struct mapping *m = calloc(1, sizeof(*m));
  m->addr = addr;
  m->len = (size_t)len;
  m->next = mappings;
  mappings = m;
  napi_value out;
  CHECK(napi_create_external_arraybuffer(env, addr, (size_t)len, mapping_finalize, m, &out));
  return out;
}

// munmap(arrayBuffer): unmap now (rather than at garbage collection) and detach the buffer.
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  ARGS(1);
  BYTES(0, data, len);
  (void)len;
  for (struct mapping *m = mappings; m; m = m->next) {
    if (m->addr == data) {
      unmap(m);
      napi_detach_arraybuffer(env, argv[0]);
      return num(env, 0);
    }
  }
  return num(env, -EINVAL);
}

// ---- readiness of an fd through libuv (no busy polling) ----

struct poller {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx; /* one per poller: creating it per event costs more than the event */
  int closing;
};

static void poller_closed(uv_handle_t *h) {
  struct poller *p = h->data;
  napi_delete_reference(p->env, p->callback);
  if (p->ctx) napi_async_destroy(p->env, p->ctx);
  free(p);
}

static void poller_event(uv_poll_t *h, int status, int events) {
  struct poller *p = h->data;
  if (p->closing) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, args[2], result;
  napi_get_reference_value(env, p->callback, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, status, &args[0]);
  napi_create_int32(env, events, &args[1]);
  napi_make_callback(env, p->ctx, global, cb, 2, args, &result);
  napi_close_handle_scope(env, scope);
}

static void poller_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct poller *p = data;
  if (!p->closing) {
    p->closing = 1;
    uv_close((uv_handle_t *)&p->handle, poller_closed);
  }
}

// poll(fd, events, callback(status, events)) -> handle; UV_READABLE = 1, UV_WRITABLE = 2.
static napi_value js_poll(napi_env env, napi_callback_info info) {
  ARGS(3);
  I64(0, fd);
  I64(1, events);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  struct poller *p = calloc(1, sizeof(*p));
  p->env = env;
  int rc = uv_poll_init(loop, &p->handle, (int)fd);
  if (rc) { free(p); return num(env, rc); }
  p->handle.data = p;
  napi_create_reference(env, argv[2], 1, &p->callback);
  napi_value resource_name;
  napi_create_string_utf8(env, "tsbpf.poll", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &p->ctx);
  rc = uv_poll_start(&p->handle, (int)events, poller_event);
  if (rc) { p->closing = 1; uv_close((uv_handle_t *)&p->handle, poller_closed); return num(env, rc); }
  napi_value out;
  CHECK(napi_create_external(env, p, NULL, NULL, &out));
  return out;
}

// pollStop(handle): stop watching; the handle is closed and freed by libuv.
static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct poller *p;
  CHECK(napi_get_value_external(env, argv[0], (void **)&p));
  poller_finalize(env, p, NULL);
  return num(env, 0);
}

// ---- sockets (netlink, AF_PACKET) ----

static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  I64(0, domain);
  I64(1, type);
  I64(2, proto);
  return ret(env, socket((int)domain, (int)type | SOCK_CLOEXEC, (int)proto));
}

static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  I64(0, fd);
  I64(1, level);
  I64(2, name);
  BYTES(3, data, len);
  return ret(env, setsockopt((int)fd, (int)level, (int)name, data, (socklen_t)len));
}

// getsockopt(fd, level, name, bytes) -> length written.
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  I64(0, fd);
  I64(1, level);
  I64(2, name);
  BYTES(3, data, len);
  socklen_t l = (socklen_t)len;
  if (getsockopt((int)fd, (int)level, (int)name, data, &l) < 0) return num(env, -errno);
  return num(env, l);
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  I64(0, fd);
  BYTES(1, addr, len);
  return ret(env, bind((int)fd, addr, (socklen_t)len));
}

// sendto(fd, bytes, flags, addr | null)
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  ARGS(4);
  I64(0, fd);
  BYTES(1, data, len);
  I64(2, flags);
  BYTES(3, addr, alen);
  return ret(env, sendto((int)fd, data, len, (int)flags, addr, (socklen_t)alen));
}

// recvfrom(fd, bytes, flags, addr | null) -> bytes received; addr (if given) is filled.
static napi_value js_recvfrom(napi_env env, napi_callback_info info) {
  ARGS(4);
  I64(0, fd);
  BYTES(1, data, len);
  I64(2, flags);
  BYTES(3, addr, alen);
  socklen_t l = (socklen_t)alen;
  return ret(env, recvfrom((int)fd, data, len, (int)flags, addr, addr ? &l : NULL));
}

// ---- the rest ----

static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(4);
  char src[256], target[4096], type[64];
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[0], src, sizeof(src), &n));
  CHECK(napi_get_value_string_utf8(env, argv[1], target, sizeof(target), &n));
  CHECK(napi_get_value_string_utf8(env, argv[2], type, sizeof(type), &n));
  I64(3, flags);
  return ret(env, mount(src, target, type, (unsigned long)flags, NULL));
}

// setns(fd, nstype): move this thread into a namespace (network namespaces for tests and tools).
static napi_value js_setns(napi_env env, napi_callback_info info) {
  ARGS(2);
  I64(0, fd);
  I64(1, type);
  return ret(env, setns((int)fd, (int)type));
}

// clockGettime(clockid) -> bigint nanoseconds (CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7, ...).
static napi_value js_clock_gettime(napi_env env, napi_callback_info info) {
  ARGS(1);
  I64(0, clk);
  struct timespec ts;
  if (clock_gettime((clockid_t)clk, &ts)) return num(env, -errno);
  napi_value out;
  CHECK(napi_create_bigint_uint64(env, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, &out));
  return out;
}

// strerror(errno) -> [name, message], e.g. ["EPERM", "Operation not permitted"].
static napi_value js_strerror(napi_env env, napi_callback_info info) {
  ARGS(1);
  I64(0, e);
  const char *name = strerrorname_np((int)e);
  napi_value out, a, b;
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_string_utf8(env, name ? name : "", NAPI_AUTO_LENGTH, &a));
  CHECK(napi_create_string_utf8(env, strerror((int)e), NAPI_AUTO_LENGTH, &b));
  napi_set_element(env, out, 0, a);
  napi_set_element(env, out, 1, b);
  return out;
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  (void)info;
  return num(env, (double)gettid());
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    {"bpf", js_bpf}, {"bpfPrepare", js_bpf_prepare}, {"bpfRelease", js_bpf_release}, {"bpfSlot", js_bpf_slot},
    {"addressOf", js_address_of}, {"perfEventOpen", js_perf_event_open},
    {"ioctl", js_ioctl}, {"close", js_close}, {"open", js_open}, {"read", js_read}, {"write", js_write},
    {"mmap", js_mmap}, {"munmap", js_munmap}, {"poll", js_poll}, {"pollStop", js_poll_stop},
    {"socket", js_socket}, {"setsockopt", js_setsockopt}, {"getsockopt", js_getsockopt},
    {"bind", js_bind}, {"sendto", js_sendto}, {"recvfrom", js_recvfrom}, {"mount", js_mount},
    {"setns", js_setns}, {"clockGettime", js_clock_gettime}, {"strerror", js_strerror},
    {"gettid", js_gettid},
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value f;
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
    CHECK(napi_set_named_property(env, exports, fns[i].name, f));
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
