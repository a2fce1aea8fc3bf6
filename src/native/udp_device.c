/*
 * pxepoint_net: one UDP socket per network interface, for the DHCP listeners.
 *
 * Node's dgram can neither bind a socket to a device (SO_BINDTODEVICE) nor read
 * which interface a broadcast arrived on (IP_PKTINFO). A DHCP server must know
 * both: it answers only on configured interfaces (configmgr-rules.md rule 49) and
 * its broadcast replies must leave through the interface the request came in on.
 * This addon creates the socket with the options Node lacks and hands the file
 * descriptor to dgram (`socket.bind({ fd })`), which does everything else.
 * See docs/decisions/0009-dhcp-interfaces.md.
 *
 * Linux only (SO_BINDTODEVICE); needs CAP_NET_RAW for the device binding (root).
 *
 * The same module carries the TFTP send fast path (openTransferSocket, sockaddrFor,
 * sendWindow: sendmmsg; pollRecv: bounded busy-poll for the ACK; preadNoWait: file
 * reads from the page cache during that poll), further down.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "napi_args.h"
#include "udp_batch.h"

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  char code[32];
  snprintf(code, sizeof code, "E%d", err);
  napi_throw_error(env, code, message);
  return NULL;
}

/*
 * openUdpSocket(device: string, address: string, port: number, recvBuffer?: number): number
 * device "" means no device binding. recvBuffer > 0 asks for that kernel receive buffer
 * with SO_RCVBUFFORCE (root may exceed net.core.rmem_max, which is 208 KiB on a default
 * Debian: a burst of DISCOVERs overflows that while the event loop is busy), falling
 * back to SO_RCVBUF. Returns the bound socket's fd.
 */
static napi_value open_udp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc;
  if (!read_args(env, info, argv, 3, 4, &argc, "openUdpSocket(device, address, port[, recvBuffer]) takes three or four arguments")) return NULL;
  int32_t recv_buffer = 0;
  if (argc == 4) {
    napi_valuetype t;
    if (napi_typeof(env, argv[3], &t) == napi_ok && t == napi_number && napi_get_value_int32(env, argv[3], &recv_buffer) != napi_ok) recv_buffer = 0;
  }
  char device[IFNAMSIZ + 1];
  size_t device_len = 0;
  if (napi_get_value_string_utf8(env, argv[0], device, sizeof device, &device_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "device must be a string");
    return NULL;
  }
  if (device_len >= IFNAMSIZ) {
    napi_throw_range_error(env, NULL, "device name is longer than IFNAMSIZ-1 (15) characters");
    return NULL;
  }
  char address[64];
  size_t address_len = 0;
  if (napi_get_value_string_utf8(env, argv[1], address, sizeof address, &address_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "address must be a string");
    return NULL;
  }
  int32_t port = 0;
  if (napi_get_value_int32(env, argv[2], &port) != napi_ok || port < 0 || port > 65535) {
    napi_throw_range_error(env, NULL, "port must be an integer 0-65535");
    return NULL;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "address must be a dotted IPv4 address");
    return NULL;
  }

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  /* Several sockets share port 67/4011, one per device: each needs SO_REUSEADDR. */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) goto fail_reuse;
  /* Replies to clients without an address go to 255.255.255.255 (RFC 2131 §4.1). */
  if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) goto fail_broadcast;
  if (recv_buffer > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &recv_buffer, sizeof recv_buffer) < 0) {
    /* Not privileged: the capped SO_RCVBUF is still better than the default. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof recv_buffer);
  }
  if (device_len > 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)device_len) < 0) goto fail_device;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) goto fail_bind;

  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;

  int err;
fail_reuse:
  err = errno; close(fd); return throw_errno(env, "setsockopt(SO_REUSEADDR)", err);
fail_broadcast:
  err = errno; close(fd); return throw_errno(env, "setsockopt(SO_BROADCAST)", err);
fail_device:
  err = errno; close(fd); return throw_errno(env, "setsockopt(SO_BINDTODEVICE)", err);
fail_bind:
  err = errno; close(fd); return throw_errno(env, "bind", err);
}

/* closeFd(fd): for an fd that dgram never took over. */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd >= 0) {
    close(fd);
  }
  return NULL;
}

/* ---- TFTP fast path (src/tftp/server.ts, docs/decisions/0003-own-tftp-engine.md) ----
 *
 * Node's dgram spends ~1.6-1.9 us of CPU per send() (a SendWrap, a libuv request, one
 * sendmsg each). A TFTP window is up to 64 datagrams that are all ready at once, so
 * the server sends it with one sendmmsg(2) straight from the transfer's window ring
 * (one Buffer of `slots` x `stride` bytes, packet lengths in a Uint32Array): no JS
 * object per packet, one syscall per window.
 */

static int parse_sockaddr(const char *address, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *len = sizeof *s4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    *len = sizeof *s6;
    return AF_INET6;
  }
  return -1;
}

/*
 * openTransferSocket(address: string, sendBuffer: number, recvBuffer: number): number
 * A non-blocking UDP socket bound to (address, ephemeral port), for dgram's
 * `bind({ fd })`. No SO_REUSEADDR: the kernel must give every transfer a port of its
 * own. Buffers are asked with SO_*BUFFORCE (root may exceed net.core.[rw]mem_max),
 * falling back to the capped SO_*BUF. Returns the fd.
 */
static napi_value open_transfer_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!read_args(env, info, argv, 3, 3, NULL, "openTransferSocket(address, sendBuffer, recvBuffer) takes three arguments")) return NULL;
  char address[64];
  size_t address_len = 0;
  if (napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "address must be a string");
    return NULL;
  }
  int32_t sndbuf = 0, rcvbuf = 0;
  if (napi_get_value_int32(env, argv[1], &sndbuf) != napi_ok) sndbuf = 0;
  if (napi_get_value_int32(env, argv[2], &rcvbuf) != napi_ok) rcvbuf = 0;
  struct sockaddr_storage ss;
  socklen_t sslen;
  int family = parse_sockaddr(address, 0, &ss, &sslen);
  if (family < 0) {
    napi_throw_type_error(env, NULL, "address must be a numeric IPv4 or IPv6 address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

/*
 * sockaddrFor(address: string, port: number): Buffer | null
 * The destination in the kernel's form, computed once per transfer for sendWindow.
 * null when the address is not numeric (e.g. a scoped fe80::1%eth0): use dgram then.
 */
static napi_value sockaddr_for(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_value result;
  napi_get_null(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return result;
  char address[64];
  size_t address_len = 0;
  int32_t port = 0;
  if (napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_len) != napi_ok) return result;
  if (napi_get_value_int32(env, argv[1], &port) != napi_ok || port <= 0 || port > 65535) return result;
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (parse_sockaddr(address, port, &ss, &sslen) < 0) return result;
  void *data;
  if (napi_create_buffer_copy(env, sslen, &ss, &data, &result) != napi_ok) napi_get_null(env, &result);
  return result;
}

#define SEND_BATCH 64
/* A GSO super-datagram must fit one IP packet (64 KiB); the kernel allows 64 segments. */
#define GSO_MAX_BYTES 65000
#define GSO_MAX_SEGS 64

/*
 * sendWindow(fd, dest: Buffer, ring: Buffer, stride: number, lens: Uint32Array,
 *            first: number, count: number, gso?: boolean): number
 * Sends `count` datagrams to `dest`: packet j is ring[slot * stride, + lens[slot]) with
 * slot = (first + j) % lens.length (the window ring wraps). Returns how many were sent:
 * fewer than `count` when the socket buffer is full (EAGAIN/ENOBUFS; the caller sends
 * the rest through dgram, which queues), or -errno when the first one failed otherwise.
 *
 * gso: UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18): runs of full slots
 * go down the stack as one super-datagram of up to 64 KiB that is cut into `stride`-byte
 * datagrams at the device (or by the NIC), so routing, netfilter and the qdisc are paid
 * once per run instead of once per packet. Only the last datagram of a run may be
 * shorter. The kernel refuses it (EINVAL/EIO) when a segment exceeds the path MTU
 * (blksize larger than the MTU) or the device cannot do it: the caller then turns gso off.
 */
static napi_value send_window(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  size_t argc;
  if (!read_args(env, info, argv, 7, 8, &argc, "sendWindow(fd, dest, ring, stride, lens, first, count[, gso]) takes seven or eight arguments")) return NULL;
  int32_t fd, stride, first, count;
  void *dest, *ring;
  size_t dest_len, ring_len;
  napi_typedarray_type ta_type;
  size_t nslots;
  void *lens_data;
  bool gso = false;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &dest, &dest_len) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &ring, &ring_len) != napi_ok ||
      napi_get_value_int32(env, argv[3], &stride) != napi_ok ||
      napi_get_typedarray_info(env, argv[4], &ta_type, &nslots, &lens_data, NULL, NULL) != napi_ok ||
      napi_get_value_int32(env, argv[5], &first) != napi_ok ||
      napi_get_value_int32(env, argv[6], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendWindow: bad argument types");
    return NULL;
  }
  if (argc >= 8 && napi_get_value_bool(env, argv[7], &gso) != napi_ok) gso = false;
  const uint32_t *lens = (const uint32_t *)lens_data;
  if (ta_type != napi_uint32_array || nslots == 0 || stride <= 0 || first < 0 || (size_t)first >= nslots ||
      count < 0 || dest_len > sizeof(struct sockaddr_storage) || (size_t)stride * nslots > ring_len) {
    napi_throw_range_error(env, NULL, "sendWindow: arguments out of range");
    return NULL;
  }
  int max_segs = 1;
  if (gso && stride <= 65535) {
    max_segs = GSO_MAX_BYTES / stride;
    if (max_segs > GSO_MAX_SEGS) max_segs = GSO_MAX_SEGS;
    if (max_segs < 2) max_segs = 1;
  }
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iovs[SEND_BATCH * GSO_MAX_SEGS > 4096 ? 4096 : SEND_BATCH * GSO_MAX_SEGS];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl[SEND_BATCH];
  int segs[SEND_BATCH];
  const size_t iov_cap = sizeof iovs / sizeof iovs[0];
  int32_t sent = 0;
  int err = 0;
  while (sent < count) {
    /* Build up to SEND_BATCH messages, each a run of up to max_segs packets. */
    int nmsg = 0;
    size_t niov = 0;
    int32_t j = sent;
    while (j < count && nmsg < SEND_BATCH && niov + (size_t)max_segs <= iov_cap) {
      struct msghdr *h = &msgs[nmsg].msg_hdr;
      memset(h, 0, sizeof *h);
      h->msg_name = dest;
      h->msg_namelen = (socklen_t)dest_len;
      h->msg_iov = &iovs[niov];
      int k = 0;
      while (j < count && k < max_segs) {
        size_t slot = ((size_t)first + (size_t)j) % nslots;
        uint32_t len = lens[slot];
        if (len > (uint32_t)stride) len = (uint32_t)stride;
        iovs[niov].iov_base = (char *)ring + slot * (size_t)stride;
        iovs[niov].iov_len = len;
        niov++;
        k++;
        j++;
        if (len < (uint32_t)stride) break; /* a short datagram ends a GSO run */
      }
      h->msg_iovlen = (size_t)k;
      if (k > 1) {
        h->msg_control = ctrl[nmsg].buf;
        h->msg_controllen = sizeof ctrl[nmsg].buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(h);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t gso_size = (uint16_t)stride;
        memcpy(CMSG_DATA(cm), &gso_size, sizeof gso_size);
      }
      segs[nmsg] = k;
      msgs[nmsg].msg_len = 0;
      nmsg++;
    }
    int r = sendmmsg(fd, msgs, (unsigned)nmsg, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    for (int m = 0; m < r; m++) sent += segs[m];
    if (r < nmsg) break; /* the buffer filled up midway; the next call would say why */
  }
  napi_value result;
  if (sent == 0 && err != 0 && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS)
    napi_create_int32(env, -err, &result);
  else
    napi_create_int32(env, sent, &result);
  return result;
}

/* Same address and port as the client's sockaddr (from sockaddrFor)? */
static bool same_peer(const struct sockaddr_storage *from, socklen_t from_len, const void *dest, size_t dest_len) {
  const struct sockaddr *d = (const struct sockaddr *)dest;
  if (dest_len < sizeof(sa_family_t) || from->ss_family != d->sa_family) return false;
  if (d->sa_family == AF_INET && dest_len >= sizeof(struct sockaddr_in) && from_len >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from, *b = (const struct sockaddr_in *)dest;
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (d->sa_family == AF_INET6 && dest_len >= sizeof(struct sockaddr_in6) && from_len >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from, *b = (const struct sockaddr_in6 *)dest;
    return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0 &&
           a->sin6_scope_id == b->sin6_scope_id;
  }
  return false;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * pollRecv(fd, dest: Buffer, buf: Buffer, micros: number, watchFd: number): number
 * Bounded busy-poll for the next datagram on a transfer socket, used right after a
 * window was sent, while its ACK is awaited (docs/decisions/0015-tftp-busy-poll.md):
 * checks the socket without sleeping for up to `micros` microseconds, so an ACK that
 * comes back within that time is taken without the wake-up of an idle thread (on a VM,
 * an IPI and a VM exit: tens of microseconds). Like SO_BUSY_POLL, but for one socket,
 * only when an answer is due, and in user space (no NAPI device needed, works on lo).
 * Returns:
 *   n >= 0  a datagram of n bytes from `dest` (the client) was received into `buf`;
 *   -1      nothing within the budget;
 *   -2      something else is waiting, left untouched for the event loop: a datagram
 *           from another source (dgram's handler answers ERROR 5), one larger than
 *           `buf`, or a readable `watchFd` (the request socket; -1: none);
 *   < -2    -errno of a failed poll/recv (also left to the event loop).
 * The datagram source is read with MSG_PEEK first, so nothing but the client's own
 * packets is ever taken from the socket here.
 */
static napi_value poll_recv(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!read_args(env, info, argv, 5, 5, NULL, "pollRecv(fd, dest, buf, micros, watchFd) takes five arguments")) return NULL;
  int32_t fd, micros, watch_fd;
  void *dest, *buf;
  size_t dest_len, buf_len;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &dest, &dest_len) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &buf, &buf_len) != napi_ok ||
      napi_get_value_int32(env, argv[3], &micros) != napi_ok ||
      napi_get_value_int32(env, argv[4], &watch_fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "pollRecv: bad argument types");
    return NULL;
  }
  if (fd < 0 || micros < 0 || micros > 1000000 || buf_len == 0 || dest_len > sizeof(struct sockaddr_storage)) {
    napi_throw_range_error(env, NULL, "pollRecv: arguments out of range");
    return NULL;
  }
  struct pollfd pfds[2] = { { .fd = fd, .events = POLLIN }, { .fd = watch_fd, .events = POLLIN } };
  nfds_t nfds = watch_fd >= 0 ? 2 : 1;
  const int64_t deadline = now_ns() + (int64_t)micros * 1000;
  int32_t ret = -1;
  for (;;) {
    int r = poll(pfds, nfds, 0);
    if (r < 0 && errno != EINTR) {
      ret = -errno;
      break;
    }
    if (r > 0) {
      if (nfds == 2 && (pfds[1].revents & (POLLIN | POLLERR | POLLHUP))) {
        ret = -2;
        break;
      }
      if (pfds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        ret = -2; /* a pending ICMP error or worse: dgram's error handling */
        break;
      }
      if (pfds[0].revents & POLLIN) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd, buf, buf_len, MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC, (struct sockaddr *)&from, &from_len);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
          ret = -errno;
          break;
        }
        if ((size_t)n > buf_len || !same_peer(&from, from_len, dest, dest_len)) {
          ret = -2;
          break;
        }
        n = recv(fd, buf, buf_len, MSG_DONTWAIT);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
          ret = -errno;
          break;
        }
        ret = (int32_t)n;
        break;
      }
    }
    if (now_ns() >= deadline) break;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  napi_value result;
  napi_create_int32(env, ret, &result);
  return result;
}

/*
 * preadNoWait(fd, buf: Buffer, offset: number, length: number, position: number): number
 * pread(2) of file bytes that are already in the page cache, never waiting for the
 * disk (preadv2 with RWF_NOWAIT, Linux 4.14): the TFTP reader calls it on the main
 * thread while a busy-poll waits for an ACK, instead of a thread-pool read whose
 * completion would wait for the event loop. Returns the bytes read (short at the end
 * of the file, or when only part of the range is cached), or -errno: -EAGAIN when the
 * first byte is not cached (read asynchronously then), -EOPNOTSUPP where the file
 * system cannot do it.
 */
static napi_value pread_no_wait(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!read_args(env, info, argv, 5, 5, NULL, "preadNoWait(fd, buf, offset, length, position) takes five arguments")) return NULL;
  int32_t fd;
  void *buf;
  size_t buf_len;
  int64_t offset, length, position;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &buf, &buf_len) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      napi_get_value_int64(env, argv[4], &position) != napi_ok) {
    napi_throw_type_error(env, NULL, "preadNoWait: bad argument types");
    return NULL;
  }
  if (fd < 0 || offset < 0 || length < 0 || position < 0 || (uint64_t)offset + (uint64_t)length > buf_len || length > INT32_MAX) {
    napi_throw_range_error(env, NULL, "preadNoWait: arguments out of range");
    return NULL;
  }
  int32_t ret;
#ifdef RWF_NOWAIT
  struct iovec iov = { .iov_base = (char *)buf + offset, .iov_len = (size_t)length };
  ssize_t n;
  do n = preadv2(fd, &iov, 1, (off_t)position, RWF_NOWAIT);
  while (n < 0 && errno == EINTR);
  ret = n < 0 ? -errno : (int32_t)n;
#else
  ret = -EOPNOTSUPP;
#endif
  napi_value result;
  napi_create_int32(env, ret, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "openUdpSocket", NULL, open_udp_socket, NULL, NULL, NULL, napi_enumerable, NULL },
    { "closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "openTransferSocket", NULL, open_transfer_socket, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sockaddrFor", NULL, sockaddr_for, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sendWindow", NULL, send_window, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pollRecv", NULL, poll_recv, NULL, NULL, NULL, napi_enumerable, NULL },
    { "preadNoWait", NULL, pread_no_wait, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  pxepoint_register_udp_batch(env, exports); /* DHCP: udp_batch.c */
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
