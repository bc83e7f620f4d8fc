// gzip of a file on a thread of its own (zlib's deflate), with the sha256 and size of what it
// writes: the gzip blob a push makes for a layer kept uncompressed. One thread per call, so a
// push's layers are compressed side by side on every core, with no bytes through JS.
//
// Adaptive: data that deflate cannot shrink (random or already-compressed files) costs it as
// much CPU as data it can, for nothing. Each 1 MiB of input is looked at first: when its bytes'
// order-0 entropy is above 7.97 bits (what compressed and random data show; text, binaries and
// tar headers are far below), it is written as stored blocks (level 0: a copy plus 5 bytes per
// 64 KiB), else deflated at the asked level. The result is one valid gzip stream either way.
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include "detached.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>
#include <zlib.h>
#include <openssl/evp.h>

#define IN_CHUNK (1 << 20)
#define OUT_BUF (2 << 20)
#define STORE_ABOVE_BITS 7.97

typedef struct {
  int src_fd, dst_fd, level;
  napi_threadsafe_function fn;
  char err[256];
  unsigned char digest[32];
  uint64_t in_bytes, out_bytes;
} gzctx;

/** Order-0 entropy of b, in bits per byte. */
static double entropy(const unsigned char *b, size_t n) {
  if (!n) return 0;
  size_t count[256] = {0};
  for (size_t i = 0; i < n; i++) count[b[i]]++;
  double h = 0;
  for (int i = 0; i < 256; i++) {
    if (!count[i]) continue;
    double p = (double)count[i] / (double)n;
    h -= p * log2(p);
  }
  return h;
}

static int write_all(int fd, const unsigned char *b, size_t n) {
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    b += w; n -= (size_t)w;
  }
  return 0;
}

// Writes what deflate produced so far and resets the output buffer.
static int drain(gzctx *c, z_stream *z, unsigned char *out, EVP_MD_CTX *md) {
  size_t have = OUT_BUF - z->avail_out;
  if (have) {
    if (write_all(c->dst_fd, out, have) < 0) {
      snprintf(c->err, sizeof c->err, "writing the gzip blob: %s", strerror(errno));
      return -1;
    }
    EVP_DigestUpdate(md, out, have);
    c->out_bytes += have;
  }
  z->next_out = out;
  z->avail_out = OUT_BUF;
  return 0;
}

static int set_level(gzctx *c, z_stream *z, unsigned char *out, EVP_MD_CTX *md, int level) {
  for (;;) {
    int r = deflateParams(z, level, Z_DEFAULT_STRATEGY);
    if (r == Z_OK) return 0;
    if (r != Z_BUF_ERROR) { snprintf(c->err, sizeof c->err, "deflateParams: %d", r); return -1; }
    if (drain(c, z, out, md) < 0) return -1;
  }
}

static void run_gzip(gzctx *c) {
  unsigned char *in = malloc(IN_CHUNK), *out = malloc(OUT_BUF);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  z_stream z;
  memset(&z, 0, sizeof z);
  int inited = 0;
  if (!in || !out || !md) { snprintf(c->err, sizeof c->err, "out of memory"); goto done; }
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  // windowBits 15 + 16: a gzip header and trailer (mtime 0, no name: the same bytes every time).
  if (deflateInit2(&z, c->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    snprintf(c->err, sizeof c->err, "deflateInit2 failed");
    goto done;
  }
  inited = 1;
  z.next_out = out;
  z.avail_out = OUT_BUF;
  int cur = c->level;
  for (;;) {
    ssize_t n = read(c->src_fd, in, IN_CHUNK);
    if (n < 0) {
      if (errno == EINTR) continue;
      snprintf(c->err, sizeof c->err, "reading the layer: %s", strerror(errno));
      goto done;
    }
    int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    if (n > 0 && c->level > 0) {
      int want = entropy(in, (size_t)n) > STORE_ABOVE_BITS ? 0 : c->level;
      if (want != cur) {
        if (set_level(c, &z, out, md, want) < 0) goto done;
        cur = want;
      }
    }
    z.next_in = in;
    z.avail_in = (uInt)n;
    c->in_bytes += (uint64_t)n;
    int r;
    do {
      r = deflate(&z, flush);
      if (r == Z_STREAM_ERROR) { snprintf(c->err, sizeof c->err, "deflate failed"); goto done; }
      if (z.avail_out == 0 && drain(c, &z, out, md) < 0) goto done;
    } while (z.avail_in > 0 || (flush == Z_FINISH && r != Z_STREAM_END));
    if (flush == Z_FINISH) break;
  }
  if (drain(c, &z, out, md) < 0) goto done;
  if (fdatasync(c->dst_fd) < 0) { snprintf(c->err, sizeof c->err, "fdatasync: %s", strerror(errno)); goto done; }
  unsigned int dl;
  EVP_DigestFinal_ex(md, c->digest, &dl);
done:
  if (inited) deflateEnd(&z);
  EVP_MD_CTX_free(md);
  free(in);
  free(out);
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  gzctx *c = context;
  if (env && js_cb) {
    napi_value args[2], undef, v;
    napi_get_undefined(env, &undef);
    if (c->err[0]) {
      napi_create_string_utf8(env, c->err, NAPI_AUTO_LENGTH, &v);
      napi_create_object(env, &args[0]);
      napi_set_named_property(env, args[0], "message", v);
      args[1] = undef;
    } else {
      char hx[65];
      for (int i = 0; i < 32; i++) sprintf(hx + 2 * i, "%02x", c->digest[i]);
      napi_get_null(env, &args[0]);
      napi_create_object(env, &args[1]);
      napi_create_string_utf8(env, hx, 64, &v); napi_set_named_property(env, args[1], "digest", v);
      napi_create_double(env, (double)c->out_bytes, &v); napi_set_named_property(env, args[1], "size", v);
      napi_create_double(env, (double)c->in_bytes, &v); napi_set_named_property(env, args[1], "inBytes", v);
    }
    napi_call_function(env, undef, js_cb, 2, args, NULL);
  }
  napi_release_threadsafe_function(c->fn, napi_tsfn_release);
  free(c);
}

static void *gzip_thread(void *arg) {
  gzctx *c = arg;
  run_gzip(c);
  napi_call_threadsafe_function(c->fn, NULL, napi_tsfn_blocking);
  return NULL;
}

// gzipFile(srcFd, dstFd, level, cb): reads srcFd to its end, writes the gzip to dstFd (then
// fdatasync); cb(err) or cb(null, {digest, size, inBytes}). The caller closes both fds.
napi_value berth_gzip_file(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t src, dst, level;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_int32(env, argv[0], &src) != napi_ok || napi_get_value_int32(env, argv[1], &dst) != napi_ok ||
      napi_get_value_int32(env, argv[2], &level) != napi_ok || level < 0 || level > 9) {
    napi_throw_type_error(env, NULL, "gzipFile(srcFd, dstFd, level 0-9, cb)");
    return NULL;
  }
  gzctx *c = calloc(1, sizeof *c);
  c->src_fd = src;
  c->dst_fd = dst;
  c->level = level;
  napi_value name;
  napi_create_string_utf8(env, "berth.gzipFile", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, c, call_js, &c->fn) != napi_ok) {
    free(c);
    napi_throw_error(env, NULL, "gzipFile: cannot create the callback");
    return NULL;
  }
  if (start_detached(gzip_thread, c) != 0) {
    napi_release_threadsafe_function(c->fn, napi_tsfn_release);
    free(c);
    napi_throw_error(env, NULL, "gzipFile: pthread_create failed");
    return NULL;
  }
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
