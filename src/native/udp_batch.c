/*
 * pxepoint_net, DHCP part: the replies of one event-loop turn in one sendmmsg(2).
 *
 * Node's dgram costs ~10 us of main-thread CPU per DHCP reply on a small VM (a SendWrap
 * and a libuv request per datagram, one sendmsg(2) each, the address parsed again every
 * time): the largest single cost of full-mode DHCP at 10k exchanges/s. The listener
 * (src/dhcp/reply-sender.ts) copies the replies produced during one turn into a ring
 * (`slots` x `stride` bytes) with their lengths and IPv4 destinations in typed arrays,
 * and hands them over here in one call: no JS object per packet, one syscall per batch.
 * See docs/decisions/0014-dhcp-batched-send.md.
 *
 * Kept apart from udp_device.c (the sockets and the TFTP window send) so each can
 * change on its own; udp_device.c's init registers these exports with one call.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include "napi_args.h"
#include "udp_batch.h"

#define BATCH_MAX 64

/*
 * The datagram ring both directions share: argv[1] ring Buffer, argv[2] stride (bytes per
 * slot), argv[3] lens, argv[4] addrs, argv[5] ports (Uint32Arrays, one entry per slot;
 * addresses IPv4 in host byte order). Checks types and stride > 0; each caller checks the
 * counts it needs against the lengths. Throws (named after `fn`) and answers false otherwise.
 */
typedef struct {
  void *ring;
  size_t ring_len;
  int32_t stride;
  uint32_t *lens, *addrs, *ports;
  size_t n_lens, n_addrs, n_ports;
} datagram_ring;

static bool read_datagram_ring(napi_env env, napi_value *argv, const char *fn, datagram_ring *r) {
  char message[96];
  napi_typedarray_type t_lens, t_addrs, t_ports;
  void *lens, *addrs, *ports;
  if (napi_get_buffer_info(env, argv[1], &r->ring, &r->ring_len) != napi_ok ||
      napi_get_value_int32(env, argv[2], &r->stride) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &t_lens, &r->n_lens, &lens, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[4], &t_addrs, &r->n_addrs, &addrs, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[5], &t_ports, &r->n_ports, &ports, NULL, NULL) != napi_ok) {
    snprintf(message, sizeof message, "%s: bad argument types", fn);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  if (t_lens != napi_uint32_array || t_addrs != napi_uint32_array || t_ports != napi_uint32_array || r->stride <= 0) {
    snprintf(message, sizeof message, "%s: arguments out of range", fn);
    napi_throw_range_error(env, NULL, message);
    return false;
  }
  r->lens = lens;
  r->addrs = addrs;
  r->ports = ports;
  return true;
}

/*
 * sendBatch(fd, ring: Buffer, stride: number, lens: Uint32Array, addrs: Uint32Array,
 *           ports: Uint32Array, count: number, status: Int32Array): number
 * Sends datagram j = ring[j*stride, +lens[j]) to addrs[j]:ports[j] (IPv4, host byte
 * order) for j < count. Returns how many were dealt with: sent, or failed for good
 * (ENETUNREACH, EPERM from a firewall, ...: counted in status[0], the last errno in
 * status[1], and skipped, as dgram reports such a failure and goes on). A return below
 * `count` means the socket buffer is full (EAGAIN/ENOBUFS): the caller sends the rest
 * another way (dgram queues them until the socket is writable).
 */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!read_args(env, info, argv, 8, 8, NULL, "sendBatch(fd, ring, stride, lens, addrs, ports, count, status) takes eight arguments")) return NULL;
  int32_t fd, count;
  datagram_ring r;
  napi_typedarray_type t_status;
  size_t n_status;
  void *status_data;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendBatch: bad argument types");
    return NULL;
  }
  if (!read_datagram_ring(env, argv, "sendBatch", &r)) return NULL;
  if (napi_get_value_int32(env, argv[6], &count) != napi_ok ||
      napi_get_typedarray_info(env, argv[7], &t_status, &n_status, &status_data, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendBatch: bad argument types");
    return NULL;
  }
  if (t_status != napi_int32_array || n_status < 2 || count < 0 || (size_t)count > r.n_lens || (size_t)count > r.n_addrs ||
      (size_t)count > r.n_ports || (size_t)r.stride * (size_t)count > r.ring_len) {
    napi_throw_range_error(env, NULL, "sendBatch: arguments out of range");
    return NULL;
  }
  const uint32_t *lens = r.lens, *addrs = r.addrs, *ports = r.ports;
  void *ring = r.ring;
  int32_t stride = r.stride;
  int32_t *status = status_data;
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iovs[BATCH_MAX];
  struct sockaddr_in dests[BATCH_MAX];
  int32_t done = 0;
  while (done < count) {
    int n = count - done < BATCH_MAX ? count - done : BATCH_MAX;
    for (int k = 0; k < n; k++) {
      int32_t j = done + k;
      uint32_t len = lens[j];
      if (len > (uint32_t)stride) len = (uint32_t)stride;
      iovs[k].iov_base = (char *)ring + (size_t)j * (size_t)stride;
      iovs[k].iov_len = len;
      memset(&dests[k], 0, sizeof dests[k]);
      dests[k].sin_family = AF_INET;
      dests[k].sin_addr.s_addr = htonl(addrs[j]);
      dests[k].sin_port = htons((uint16_t)ports[j]);
      struct msghdr *h = &msgs[k].msg_hdr;
      memset(h, 0, sizeof *h);
      h->msg_name = &dests[k];
      h->msg_namelen = sizeof dests[k];
      h->msg_iov = &iovs[k];
      h->msg_iovlen = 1;
      msgs[k].msg_len = 0;
    }
    int r = sendmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) break;
      /* The first datagram of the batch failed for good: count it, go on with the next. */
      status[0]++;
      status[1] = err;
      done++;
      continue;
    }
    done += r;
    /* r < n: the next one failed; the loop's next sendmmsg starts with it and says why. */
  }
  napi_value result;
  napi_create_int32(env, done, &result);
  return result;
}


/*
 * Batched receive: the mirror image of sendBatch. Node's dgram costs one libuv callback,
 * one Buffer and one JS call per datagram; here a uv_poll on the socket reads up to
 * `slots` datagrams with one recvmmsg(2) into a shared ring and calls JS once per batch
 * with their count (lengths, IPv4 sources and ports in typed arrays over shared memory).
 *
 * The poll watches a dup(2) of the socket's fd: dgram keeps the original (for the replies
 * it still sends, e.g. when the socket buffer is full) and libuv allows one watcher per fd
 * number. JS stops dgram's own reads first (two readers would split the datagrams).
 */
typedef struct {
  uv_poll_t poll;          /* first: the handle's address is the context's */
  napi_env env;
  napi_ref cb;             /* (count) => void */
  napi_ref ring_ref, lens_ref, addrs_ref, ports_ref, stats_ref;
  napi_async_context async;
  char *ring;
  uint32_t *lens, *addrs, *ports;
  double *stats;           /* [0] truncated (dropped), [1] receive errors, [2] last errno */
  int fd;                  /* the dup */
  int stride, slots;
  bool stopped;
} recv_ctx;

#define RECV_MAX 64

static void recv_ctx_free(recv_ctx *c) {
  napi_env env = c->env;
  if (c->cb) napi_delete_reference(env, c->cb);
  if (c->ring_ref) napi_delete_reference(env, c->ring_ref);
  if (c->lens_ref) napi_delete_reference(env, c->lens_ref);
  if (c->addrs_ref) napi_delete_reference(env, c->addrs_ref);
  if (c->ports_ref) napi_delete_reference(env, c->ports_ref);
  if (c->stats_ref) napi_delete_reference(env, c->stats_ref);
  if (c->async) napi_async_destroy(env, c->async);
  if (c->fd >= 0) close(c->fd);
  free(c);
}

static void on_poll_closed(uv_handle_t *h) {
  recv_ctx_free((recv_ctx *)h);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  recv_ctx *c = (recv_ctx *)h;
  if (c->stopped) return;
  if (status < 0) {
    c->stats[1] += 1;
    c->stats[2] = -status;
    return;
  }
  (void)events;
  struct mmsghdr msgs[RECV_MAX];
  struct iovec iovs[RECV_MAX];
  struct sockaddr_in srcs[RECV_MAX];
  int n = c->slots;
  for (int k = 0; k < n; k++) {
    iovs[k].iov_base = c->ring + (size_t)k * (size_t)c->stride;
    iovs[k].iov_len = (size_t)c->stride;
    memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
    msgs[k].msg_hdr.msg_name = &srcs[k];
    msgs[k].msg_hdr.msg_namelen = sizeof srcs[k];
    msgs[k].msg_hdr.msg_iov = &iovs[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
    msgs[k].msg_len = 0;
  }
  int r;
  do r = recvmmsg(c->fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      c->stats[1] += 1;
      c->stats[2] = err;
    }
    return;
  }
  /* Keep the good ones, packed from slot 0: a datagram larger than a slot (MSG_TRUNC) or
   * not from IPv4 is dropped here and counted, never handed over cut short. */
  int count = 0;
  for (int k = 0; k < r; k++) {
    if ((msgs[k].msg_hdr.msg_flags & MSG_TRUNC) || msgs[k].msg_len > (unsigned)c->stride ||
        msgs[k].msg_hdr.msg_namelen < sizeof(struct sockaddr_in) || srcs[k].sin_family != AF_INET) {
      c->stats[0] += 1;
      continue;
    }
    if (count != k) memmove(c->ring + (size_t)count * (size_t)c->stride, c->ring + (size_t)k * (size_t)c->stride, msgs[k].msg_len);
    c->lens[count] = msgs[k].msg_len;
    c->addrs[count] = ntohl(srcs[k].sin_addr.s_addr);
    c->ports[count] = ntohs(srcs[k].sin_port);
    count++;
  }
  if (count == 0) return;
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[1], result;
  napi_get_reference_value(env, c->cb, &cb);
  napi_get_global(env, &recv); /* make_callback needs an object as `this` */
  napi_create_int32(env, count, &argv[0]);
  napi_status st = napi_make_callback(env, c->async, recv, cb, 1, argv, &result);
  if (st == napi_pending_exception) {
    /* The JS side catches per packet; anything else is a bug: report it like any uncaught error. */
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static bool ref_of(napi_env env, napi_value v, napi_ref *out) {
  return napi_create_reference(env, v, 1, out) == napi_ok;
}

/*
 * recvStart(fd, ring: Buffer, stride, lens: Uint32Array, addrs: Uint32Array,
 *           ports: Uint32Array, stats: Float64Array, onBatch: (count) => void): External
 * Watches a dup of `fd` on the main event loop; on each readable event reads up to
 * lens.length datagrams (at most 64) into ring slots of `stride` bytes and calls
 * onBatch(count): datagram j is ring[j*stride, +lens[j]) from addrs[j]:ports[j] (IPv4,
 * host byte order), valid until onBatch returns. Returns a handle for recvStop.
 */
static napi_value recv_start(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!read_args(env, info, argv, 8, 8, NULL, "recvStart(fd, ring, stride, lens, addrs, ports, stats, onBatch) takes eight arguments")) return NULL;
  int32_t fd;
  datagram_ring r;
  napi_typedarray_type t_stats;
  size_t n_stats;
  void *stats_data;
  napi_valuetype t_cb;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "recvStart: bad argument types");
    return NULL;
  }
  if (!read_datagram_ring(env, argv, "recvStart", &r)) return NULL;
  if (napi_get_typedarray_info(env, argv[6], &t_stats, &n_stats, &stats_data, NULL, NULL) != napi_ok ||
      napi_typeof(env, argv[7], &t_cb) != napi_ok || t_cb != napi_function) {
    napi_throw_type_error(env, NULL, "recvStart: bad argument types");
    return NULL;
  }
  size_t slots = r.n_lens;
  if (slots > RECV_MAX) slots = RECV_MAX;
  if (t_stats != napi_float64_array || n_stats < 3 || fd < 0 || slots == 0 ||
      r.n_addrs < slots || r.n_ports < slots || (size_t)r.stride * slots > r.ring_len) {
    napi_throw_range_error(env, NULL, "recvStart: arguments out of range");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "recvStart: no event loop");
    return NULL;
  }
  recv_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, NULL, "recvStart: out of memory");
    return NULL;
  }
  c->env = env;
  c->fd = -1;
  c->ring = r.ring;
  c->lens = r.lens;
  c->addrs = r.addrs;
  c->ports = r.ports;
  c->stats = stats_data;
  c->stride = r.stride;
  c->slots = (int)slots;
  napi_value name;
  napi_create_string_utf8(env, "pxepoint:dhcpRecv", NAPI_AUTO_LENGTH, &name);
  if (!ref_of(env, argv[7], &c->cb) || !ref_of(env, argv[1], &c->ring_ref) || !ref_of(env, argv[3], &c->lens_ref) ||
      !ref_of(env, argv[4], &c->addrs_ref) || !ref_of(env, argv[5], &c->ports_ref) || !ref_of(env, argv[6], &c->stats_ref) ||
      napi_async_init(env, NULL, name, &c->async) != napi_ok) {
    recv_ctx_free(c);
    napi_throw_error(env, NULL, "recvStart: cannot keep the arguments");
    return NULL;
  }
  c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (c->fd < 0) {
    int err = errno;
    recv_ctx_free(c);
    char msg[96];
    snprintf(msg, sizeof msg, "recvStart: dup: %s", strerror(err));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  int rc = uv_poll_init(loop, &c->poll, c->fd);
  if (rc != 0) {
    recv_ctx_free(c); /* never known to libuv */
  } else if ((rc = uv_poll_start(&c->poll, UV_READABLE, on_readable)) != 0) {
    c->stopped = true;
    uv_close((uv_handle_t *)&c->poll, on_poll_closed); /* frees c and the dup */
  }
  if (rc != 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "recvStart: uv_poll: %s", uv_strerror(rc));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, c, NULL, NULL, &handle) != napi_ok) {
    c->stopped = true;
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
    napi_throw_error(env, NULL, "recvStart: cannot create the handle");
    return NULL;
  }
  return handle;
}

/*
 * recvStop(handle): stops the watch and closes the dup once libuv has let go of it
 * (uv_close first, the fd in its callback, which also frees the context). Call it once
 * per handle: the handle is dangling afterwards (src/dhcp/native-recv.ts forgets it).
 */
static napi_value recv_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "recvStop(handle) takes the handle recvStart returned");
    return NULL;
  }
  recv_ctx *c = data;
  if (!c->stopped) {
    c->stopped = true;
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
  }
  return NULL;
}

napi_status pxepoint_register_udp_batch(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recvStart", NULL, recv_start, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recvStop", NULL, recv_stop, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
