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
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "udp_batch.h"

#define BATCH_MAX 64

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
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8) {
    napi_throw_type_error(env, NULL, "sendBatch(fd, ring, stride, lens, addrs, ports, count, status) takes eight arguments");
    return NULL;
  }
  int32_t fd, stride, count;
  void *ring;
  size_t ring_len;
  napi_typedarray_type t_lens, t_addrs, t_ports, t_status;
  size_t n_lens, n_addrs, n_ports, n_status;
  void *lens_data, *addrs_data, *ports_data, *status_data;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &ring, &ring_len) != napi_ok ||
      napi_get_value_int32(env, argv[2], &stride) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &t_lens, &n_lens, &lens_data, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[4], &t_addrs, &n_addrs, &addrs_data, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[5], &t_ports, &n_ports, &ports_data, NULL, NULL) != napi_ok ||
      napi_get_value_int32(env, argv[6], &count) != napi_ok ||
      napi_get_typedarray_info(env, argv[7], &t_status, &n_status, &status_data, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendBatch: bad argument types");
    return NULL;
  }
  if (t_lens != napi_uint32_array || t_addrs != napi_uint32_array || t_ports != napi_uint32_array || t_status != napi_int32_array ||
      n_status < 2 || stride <= 0 || count < 0 || (size_t)count > n_lens || (size_t)count > n_addrs || (size_t)count > n_ports ||
      (size_t)stride * (size_t)count > ring_len) {
    napi_throw_range_error(env, NULL, "sendBatch: arguments out of range");
    return NULL;
  }
  const uint32_t *lens = lens_data, *addrs = addrs_data, *ports = ports_data;
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

napi_status pxepoint_register_udp_batch(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
