{
  "targets": [
    {
      "target_name": "pxepoint_net",
      "sources": ["src/native/udp_device.c", "src/native/udp_batch.c"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
