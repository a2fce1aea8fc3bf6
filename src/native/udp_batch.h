/* The DHCP batch send (udp_batch.c), registered by udp_device.c's module init. */
#ifndef PXEPOINT_UDP_BATCH_H
#define PXEPOINT_UDP_BATCH_H
#include <node_api.h>

napi_status pxepoint_register_udp_batch(napi_env env, napi_value exports);

#endif
