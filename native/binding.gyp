{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["berth_native.c", "extract.c", "gzip.c", "idmap.c", "spawn.c", "seccomp.c", "fsbatch.c", "spare.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-lz", "-lzstd", "-lcrypto", "-lm", "-lseccomp"]
    }
  ]
}
