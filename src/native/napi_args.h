/* Argument reading shared by the addon's entry points (udp_device.c, udp_batch.c). */
#ifndef PXEPOINT_NAPI_ARGS_H
#define PXEPOINT_NAPI_ARGS_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Reads up to `max` arguments into argv (missing ones are undefined) and, when `argc` is
 * not NULL, stores how many the caller passed. Fewer than `min`: throws a TypeError with
 * `usage` (e.g. "sendBatch(fd, ...) takes eight arguments") and returns false.
 */
static inline bool read_args(napi_env env, napi_callback_info info, napi_value *argv, size_t min, size_t max,
                             size_t *argc, const char *usage) {
  size_t n = max;
  if (napi_get_cb_info(env, info, &n, argv, NULL, NULL) != napi_ok || n < min) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  if (argc) *argc = n;
  return true;
}

#endif
