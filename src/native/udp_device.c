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
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "openUdpSocket(device, address, port[, recvBuffer]) takes three or four arguments");
    return NULL;
  }
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "openUdpSocket", NULL, open_udp_socket, NULL, NULL, NULL, napi_enumerable, NULL },
    { "closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
