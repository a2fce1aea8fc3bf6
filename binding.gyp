{
  "targets": [
    {
      "target_name": "pxepoint_net",
      "sources": ["src/native/udp_device.c"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
