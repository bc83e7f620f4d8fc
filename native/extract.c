// Layer extraction off the main thread: one pthread per extraction reads a (gzip, zstd or
// plain) tar stream from an fd (a file) or from Buffers Node hands over (extractFeed), hashes the stream as read
// (the blob digest) and as uncompressed (the diff ID) in the same pass, optionally copies the
// raw bytes to a second fd (the layer's blob), and writes the entries into a private, empty
// directory. The path-safety rules are the layer store's (src/store/layers/extract.ts):
//  - names are cleaned lexically; absolute names are made relative; a name that climbs out
//    with `..` is refused;
//  - every parent is resolved from the root's fd with openat2(RESOLVE_BENEATH|
//    RESOLVE_NO_SYMLINKS): a parent path that holds a symlink is refused, never followed;
//    the last component is created with O_EXCL|O_NOFOLLOW / *at(AT_SYMLINK_NOFOLLOW), after
//    unlinking what a previous entry put there;
//  - hard links only to entries already extracted inside the layer (linkat from a resolved
//    parent fd; never to a directory);
//  - `.wh.<name>` -> 0/0 character device <name>; `.wh..wh..opq` -> trusted.overlay.opaque=y
//    on its directory; other `.wh..wh.*` dropped; trusted.overlay.* xattrs never imported.
// Results and progress come back through napi thread-safe functions.
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include "detached.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/openat2.h>

#include <node_api.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_BUF (1 << 20)
#define OUT_BUF (1 << 20)
#define MAX_META (16 << 20)
#define TEE_FLUSH (8 << 20)
#define ERR_INVALID 1
#define ERR_SYSTEM 2

enum comp { C_NONE, C_GZIP, C_ZSTD };

typedef struct { char *key; unsigned char *val; size_t len; } kv_t;
typedef struct { kv_t *v; size_t n, cap; } kvlist_t;

typedef struct { char *rel; struct timespec mtime; } dirtime_t;

// Fed input: Node hands the stream's Buffers over (extractFeed) instead of writing them into a
// pipe, so the main thread makes no write(2) per chunk and the thread no read(2): each chunk is
// copied once, by the thread. A Buffer is held (napi_ref) until the thread has copied it; refs
// are dropped on the main thread only (at the next feed, a drain, or the end).
typedef struct fitem { struct fitem *next; napi_ref ref; const unsigned char *data; size_t len, pos; } fitem_t;
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  fitem_t *head, *tail;  // not yet copied
  fitem_t *done;         // copied: refs to drop
  size_t queued;         // bytes not yet copied
  int eof, want_drain, stopped;
  int refs;              // the JS handle and the extraction; main thread only
  napi_threadsafe_function fn;
} feed_t;

#define FEED_HIGH (8 << 20)
#define FEED_LOW (2 << 20)
#define CB_DONE ((void *)1)
#define CB_DRAIN ((void *)2)

typedef struct {
  // inputs
  int src_fd, tee_fd;
  feed_t *feed;  // fed from Node instead of src_fd
  int hash;  // 0: no digests wanted (an archive staged for reading, not a layer)
  char *dest;
  // thread-safe functions
  napi_threadsafe_function fn;  // progress (data NULL) and completion (data non-NULL), in order
  atomic_int progress_pending;
  // streams
  enum comp comp;
  unsigned char *raw, *out;
  size_t raw_len, raw_pos;  // raw[raw_pos..raw_len) not yet decompressed
  size_t out_len, out_pos;  // out[out_pos..out_len) not yet consumed by the tar reader
  int raw_eof, out_eof, raw_started;
  z_stream z;
  int z_init, z_ended;
  ZSTD_DStream *zs;
  EVP_MD_CTX *raw_md, *tar_md;
  uint64_t raw_bytes, tar_bytes, last_progress;
  uint64_t tee_flushed;  // blob bytes whose writeback has been started
  // extraction
  int root_fd;
  char *cache_rel;  // parent dir whose fd is cached
  int cache_fd;
  dirtime_t *dirs;
  size_t ndirs, capdirs;
  uint64_t size;
  int have_root_meta;
  uid_t root_uid; gid_t root_gid; mode_t root_mode; struct timespec root_mtime;
  kvlist_t global;
  // result
  int err_kind;
  char err[PATH_MAX + 512];
  unsigned char raw_digest[32], tar_digest[32];
} ectx;

static void set_err(ectx *c, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(ectx *c, int kind, const char *fmt, ...) {
  if (c->err_kind) return;
  c->err_kind = kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
}

// A name for messages: JSON-ish quoting, as the JS side's JSON.stringify.
static const char *q(const char *s, char *buf, size_t n) {
  size_t o = 0;
  if (n < 4) return "";
  buf[o++] = '"';
  for (; *s && o + 6 < n; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') { buf[o++] = '\\'; buf[o++] = (char)ch; }
    else if (ch < 0x20) o += (size_t)snprintf(buf + o, n - o, "\\u%04x", ch);
    else buf[o++] = (char)ch;
  }
  buf[o++] = '"';
  buf[o] = 0;
  return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* input: raw reads, decompression, hashing                                                 */

// Copies queued bytes into dst (up to cap), waiting for the first; 0 once the feed has ended.
static size_t feed_read(feed_t *f, unsigned char *dst, size_t cap) {
  size_t n = 0;
  pthread_mutex_lock(&f->mu);
  while (!f->head && !f->eof) pthread_cond_wait(&f->cv, &f->mu);
  while (f->head && n < cap) {
    fitem_t *it = f->head;
    size_t take = it->len - it->pos;
    if (take > cap - n) take = cap - n;
    // Only this thread advances or pops head, and only the main thread frees done items.
    pthread_mutex_unlock(&f->mu);
    memcpy(dst + n, it->data + it->pos, take);
    pthread_mutex_lock(&f->mu);
    n += take;
    it->pos += take;
    f->queued -= take;
    if (it->pos == it->len) {
      f->head = it->next;
      if (!f->head) f->tail = NULL;
      it->next = f->done;
      f->done = it;
    }
  }
  if (f->want_drain && f->queued <= FEED_LOW) {
    f->want_drain = 0;
    napi_call_threadsafe_function(f->fn, CB_DRAIN, napi_tsfn_nonblocking);
  }
  pthread_mutex_unlock(&f->mu);
  return n;
}

static int raw_fill(ectx *c) {
  if (c->raw_eof) return 0;
  if (c->raw_pos > 0 && c->raw_pos < c->raw_len) {
    memmove(c->raw, c->raw + c->raw_pos, c->raw_len - c->raw_pos);
  }
  c->raw_len -= c->raw_pos;
  c->raw_pos = 0;
  ssize_t n;
  if (c->feed) n = (ssize_t)feed_read(c->feed, c->raw + c->raw_len, RAW_BUF - c->raw_len);
  else do n = read(c->src_fd, c->raw + c->raw_len, RAW_BUF - c->raw_len); while (n < 0 && errno == EINTR);
  if (n < 0) { set_err(c, ERR_SYSTEM, "reading the layer stream: %s", strerror(errno)); return -1; }
  if (n == 0) { c->raw_eof = 1; return 0; }
  if (c->hash) EVP_DigestUpdate(c->raw_md, c->raw + c->raw_len, (size_t)n);
  if (c->tee_fd >= 0) {
    const unsigned char *p = c->raw + c->raw_len;
    size_t left = (size_t)n;
    while (left > 0) {
      ssize_t w = write(c->tee_fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) { set_err(c, ERR_SYSTEM, "writing the layer blob: %s", strerror(errno)); return -1; }
      p += w; left -= (size_t)w;
    }
    // Start the blob's writeback as it grows (asynchronous): the fdatasync at the end then
    // waits for the last few MB, not the whole layer, and the dirty pages stay few.
    uint64_t written = c->raw_bytes + (uint64_t)n;
    if (written - c->tee_flushed >= TEE_FLUSH) {
      (void)sync_file_range(c->tee_fd, (off64_t)c->tee_flushed, (off64_t)(written - c->tee_flushed), SYNC_FILE_RANGE_WRITE);
      c->tee_flushed = written;
    }
  }
  c->raw_len += (size_t)n;
  c->raw_bytes += (uint64_t)n;
  return 1;
}

static void report_progress(ectx *c);

// Makes out[out_pos..out_len) non-empty; 1 ok, 0 end of stream, -1 error.
static int out_fill(ectx *c) {
  if (c->out_pos < c->out_len) return 1;
  if (c->out_eof) return 0;
  c->out_pos = c->out_len = 0;
  if (!c->raw_started) {
    c->raw_started = 1;
    while (c->raw_len < 4) {
      int r = raw_fill(c);
      if (r < 0) return -1;
      if (r == 0) break;
    }
    const unsigned char *h = c->raw;
    if (c->raw_len >= 2 && h[0] == 0x1f && h[1] == 0x8b) c->comp = C_GZIP;
    else if (c->raw_len >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) c->comp = C_ZSTD;
    else if (c->raw_len >= 3 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h') {
      set_err(c, ERR_INVALID, "bzip2-compressed layers are not supported"); return -1;
    } else if (c->raw_len >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) {
      set_err(c, ERR_INVALID, "xz-compressed layers are not supported"); return -1;
    } else c->comp = C_NONE;
    if (c->comp == C_GZIP) {
      memset(&c->z, 0, sizeof c->z);
      if (inflateInit2(&c->z, 16 + MAX_WBITS) != Z_OK) { set_err(c, ERR_SYSTEM, "inflateInit failed"); return -1; }
      c->z_init = 1;
    } else if (c->comp == C_ZSTD) {
      c->zs = ZSTD_createDStream();
      if (!c->zs) { set_err(c, ERR_SYSTEM, "ZSTD_createDStream failed"); return -1; }
      ZSTD_initDStream(c->zs);
    }
  }
  for (;;) {
    if (c->comp == C_NONE) {
      if (c->raw_pos >= c->raw_len) {
        c->raw_pos = c->raw_len = 0;
        int r = raw_fill(c);
        if (r < 0) return -1;
        if (r == 0) { c->out_eof = 1; return 0; }
      }
      // Plain input: consume the raw buffer directly (swap buffers, no copy).
      unsigned char *t = c->out; c->out = c->raw; c->raw = t;
      c->out_pos = c->raw_pos; c->out_len = c->raw_len;
      c->raw_pos = c->raw_len = 0;
    } else if (c->comp == C_GZIP) {
      if (c->raw_pos >= c->raw_len) {
        int r = raw_fill(c);
        if (r < 0) return -1;
        if (r == 0) {
          if (!c->z_ended) { set_err(c, ERR_INVALID, "invalid gzip stream: unexpected end of data"); return -1; }
          c->out_eof = 1; return 0;
        }
      }
      if (c->z_ended) {
        // Another member follows (concatenated gzip), or trailing bytes.
        if (inflateReset(&c->z) != Z_OK) { set_err(c, ERR_SYSTEM, "inflateReset failed"); return -1; }
        c->z_ended = 0;
      }
      c->z.next_in = c->raw + c->raw_pos;
      c->z.avail_in = (uInt)(c->raw_len - c->raw_pos);
      c->z.next_out = c->out;
      c->z.avail_out = OUT_BUF;
      int zr = inflate(&c->z, Z_NO_FLUSH);
      c->raw_pos = c->raw_len - c->z.avail_in;
      c->out_len = OUT_BUF - c->z.avail_out;
      if (zr == Z_STREAM_END) c->z_ended = 1;
      else if (zr != Z_OK && zr != Z_BUF_ERROR) {
        set_err(c, ERR_INVALID, "invalid gzip stream: %s", c->z.msg ? c->z.msg : "corrupt data"); return -1;
      }
    } else {
      if (c->raw_pos >= c->raw_len) {
        int r = raw_fill(c);
        if (r < 0) return -1;
        if (r == 0) {
          if (!c->z_ended) { set_err(c, ERR_INVALID, "invalid zstd stream: unexpected end of data"); return -1; }
          c->out_eof = 1; return 0;
        }
      }
      ZSTD_inBuffer in = { c->raw + c->raw_pos, c->raw_len - c->raw_pos, 0 };
      ZSTD_outBuffer ob = { c->out, OUT_BUF, 0 };
      size_t zr = ZSTD_decompressStream(c->zs, &ob, &in);
      if (ZSTD_isError(zr)) { set_err(c, ERR_INVALID, "invalid zstd stream: %s", ZSTD_getErrorName(zr)); return -1; }
      c->raw_pos += in.pos;
      c->out_len = ob.pos;
      c->z_ended = zr == 0;  // a frame is complete
    }
    if (c->out_len > c->out_pos) {
      // Uncompressed input: the raw digest is the tar's, hashed once.
      if (c->hash && c->comp != C_NONE) EVP_DigestUpdate(c->tar_md, c->out + c->out_pos, c->out_len - c->out_pos);
      c->tar_bytes += c->out_len - c->out_pos;
      if (c->tar_bytes - c->last_progress >= (1 << 20)) report_progress(c);
      return 1;
    }
  }
}

// Reads exactly n bytes into dst; 1 ok, 0 clean end before any byte, -1 error/truncated.
static int read_exact(ectx *c, void *dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    int r = out_fill(c);
    if (r < 0) return -1;
    if (r == 0) {
      if (got == 0) return 0;
      set_err(c, ERR_INVALID, "invalid tar archive: unexpected end of data");
      return -1;
    }
    size_t take = c->out_len - c->out_pos;
    if (take > n - got) take = n - got;
    memcpy((char *)dst + got, c->out + c->out_pos, take);
    c->out_pos += take;
    got += take;
  }
  return 1;
}

// Passes n bytes to fd (or drops them when fd < 0).
static int copy_to(ectx *c, int fd, uint64_t n, const char *what) {
  while (n > 0) {
    int r = out_fill(c);
    if (r < 0) return -1;
    if (r == 0) { set_err(c, ERR_INVALID, "invalid tar archive: unexpected end of data"); return -1; }
    size_t take = c->out_len - c->out_pos;
    if (take > n) take = (size_t)n;
    const unsigned char *p = c->out + c->out_pos;
    size_t left = take;
    while (fd >= 0 && left > 0) {
      ssize_t w = write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) { set_err(c, ERR_SYSTEM, "writing %s: %s", what, strerror(errno)); return -1; }
      p += w; left -= (size_t)w;
    }
    c->out_pos += take;
    n -= take;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* tar headers                                                                              */

static int parse_num(const unsigned char *b, size_t len, uint64_t *out) {
  if (b[0] & 0x80) {
    if (b[0] == 0xff) return -1;  // negative
    uint64_t v = b[0] & 0x7f;
    for (size_t i = 1; i < len; i++) {
      if (v >> 55) return -1;
      v = (v << 8) | b[i];
    }
    *out = v;
    return 0;
  }
  size_t i = 0, end = len;
  while (i < len && (b[i] == ' ' || b[i] == 0)) i++;
  while (end > i && (b[end - 1] == ' ' || b[end - 1] == 0)) end--;
  uint64_t v = 0;
  for (; i < end; i++) {
    if (b[i] < '0' || b[i] > '7') return -1;
    if (v >> 60) return -1;
    v = v * 8 + (uint64_t)(b[i] - '0');
  }
  *out = v;
  return 0;
}

static int zero_block(const unsigned char *b) {
  for (int i = 0; i < 512; i++) if (b[i]) return 0;
  return 1;
}

static char *strndup0(const unsigned char *b, size_t max) {
  size_t n = 0;
  while (n < max && b[n]) n++;
  char *s = malloc(n + 1);
  memcpy(s, b, n);
  s[n] = 0;
  return s;
}

static void kv_clear(kvlist_t *l) {
  for (size_t i = 0; i < l->n; i++) { free(l->v[i].key); free(l->v[i].val); }
  free(l->v);
  memset(l, 0, sizeof *l);
}

static void kv_set(kvlist_t *l, const char *key, size_t klen, const unsigned char *val, size_t vlen) {
  for (size_t i = 0; i < l->n; i++) {
    if (strlen(l->v[i].key) == klen && memcmp(l->v[i].key, key, klen) == 0) {
      free(l->v[i].val);
      l->v[i].val = malloc(vlen + 1);
      memcpy(l->v[i].val, val, vlen);
      l->v[i].val[vlen] = 0;
      l->v[i].len = vlen;
      return;
    }
  }
  if (l->n == l->cap) { l->cap = l->cap ? l->cap * 2 : 8; l->v = realloc(l->v, l->cap * sizeof *l->v); }
  kv_t *e = &l->v[l->n++];
  e->key = malloc(klen + 1); memcpy(e->key, key, klen); e->key[klen] = 0;
  e->val = malloc(vlen + 1); memcpy(e->val, val, vlen); e->val[vlen] = 0;
  e->len = vlen;
}

static const kv_t *kv_get(const kvlist_t *l, const char *key) {
  for (size_t i = 0; i < l->n; i++) if (strcmp(l->v[i].key, key) == 0) return &l->v[i];
  return NULL;
}

static int parse_pax(ectx *c, const unsigned char *b, size_t n, kvlist_t *out) {
  size_t off = 0;
  while (off < n) {
    if (b[off] == 0) break;  // NUL padding of the last block
    size_t len = 0, i = off;
    while (i < n && b[i] >= '0' && b[i] <= '9' && i - off < 12) { len = len * 10 + (size_t)(b[i] - '0'); i++; }
    if (i >= n || b[i] != ' ' || len <= i - off + 1 || off + len > n || b[off + len - 1] != '\n') {
      set_err(c, ERR_INVALID, "invalid tar archive: malformed PAX record at offset %zu", off);
      return -1;
    }
    const unsigned char *rec = b + i + 1;
    size_t rlen = off + len - 1 - (i + 1);
    const unsigned char *eq = memchr(rec, '=', rlen);
    if (!eq || eq == rec) { set_err(c, ERR_INVALID, "invalid tar archive: malformed PAX record at offset %zu: no key", off); return -1; }
    kv_set(out, (const char *)rec, (size_t)(eq - rec), eq + 1, rlen - (size_t)(eq - rec) - 1);
    off += len;
  }
  return 0;
}

static int read_meta_body(ectx *c, uint64_t size, unsigned char **out) {
  if (size > MAX_META) { set_err(c, ERR_INVALID, "invalid tar archive: metadata entry of %llu bytes is too large", (unsigned long long)size); return -1; }
  size_t padded = (size_t)((size + 511) & ~511ULL);
  unsigned char *b = malloc(padded + 1);
  int r = padded ? read_exact(c, b, padded) : 1;
  if (r <= 0) {
    free(b);
    if (r == 0) set_err(c, ERR_INVALID, "invalid tar archive: unexpected end of data");
    return -1;
  }
  b[size] = 0;
  *out = b;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* paths                                                                                    */

// Lexical clean as path.posix.normalize, leading slashes dropped. Returns NULL when the path
// climbs out of the root; "" is the root.
static char *clean_path(const char *name) {
  size_t n = strlen(name);
  char *out = malloc(n + 1);
  size_t o = 0;
  const char *p = name;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *s = p;
    while (*p && *p != '/') p++;
    size_t len = (size_t)(p - s);
    if (len == 1 && s[0] == '.') continue;
    if (len == 2 && s[0] == '.' && s[1] == '.') {
      if (o == 0) { free(out); return NULL; }
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--;
      continue;
    }
    if (o > 0) out[o++] = '/';
    memcpy(out + o, s, len);
    o += len;
  }
  out[o] = 0;
  return out;
}

static long xopenat2(int dirfd, const char *path, int flags, int resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC);
  how.resolve = (uint64_t)resolve;
  long fd;
  do fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how); while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static void cache_drop(ectx *c) {
  if (c->cache_fd >= 0) close(c->cache_fd);
  c->cache_fd = -1;
  free(c->cache_rel);
  c->cache_rel = NULL;
}

static void cache_set(ectx *c, const char *rel, int fd) {
  cache_drop(c);
  c->cache_rel = strdup(rel);
  c->cache_fd = fd;
}

// The fd of directory `dir` (relative, "" = root) for entry `rel`, creating missing parents
// (0755). Returns a borrowed fd (the cache's or the root's), or -1 with the error set.
static int parent_fd(ectx *c, const char *rel, const char *dir, int create) {
  char b1[PATH_MAX + 8], b2[PATH_MAX + 8];
  if (dir[0] == 0) return c->root_fd;
  if (c->cache_rel && strcmp(c->cache_rel, dir) == 0) return c->cache_fd;
  long fd = xopenat2(c->root_fd, dir, O_PATH | O_DIRECTORY, BENEATH);
  if (fd >= 0) { cache_set(c, dir, (int)fd); return (int)fd; }
  // Walk it component by component: say which one is wrong, or create the missing ones.
  int cur = dup(c->root_fd);
  char *copy = strdup(dir);
  char *save = NULL;
  size_t prefix = 0;
  for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
    prefix += strlen(comp) + (prefix ? 1 : 0);
    long next = xopenat2(cur, comp, O_PATH | O_DIRECTORY, BENEATH);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
        char pb[PATH_MAX + 1];
        snprintf(pb, sizeof pb, "%.*s", (int)prefix, dir);
        set_err(c, ERR_SYSTEM, "extracting layer: mkdir %s: %s", pb, strerror(errno));
        close(cur); free(copy); return -1;
      }
      next = xopenat2(cur, comp, O_PATH | O_DIRECTORY, BENEATH);
    }
    if (next < 0) {
      int e = errno;
      char pb[PATH_MAX + 1];
      snprintf(pb, sizeof pb, "%.*s", (int)prefix, dir);
      if (e == ELOOP || e == EXDEV)
        set_err(c, ERR_INVALID, "invalid tar entry %s: refusing to extract through symlink %s", q(rel, b1, sizeof b1), q(pb, b2, sizeof b2));
      else if (e == ENOTDIR)
        set_err(c, ERR_INVALID, "invalid tar entry %s: parent %s is not a directory", q(rel, b1, sizeof b1), q(pb, b2, sizeof b2));
      else if (e == ENOENT)
        set_err(c, ERR_INVALID, "invalid tar entry %s: %s does not exist", q(rel, b1, sizeof b1), q(pb, b2, sizeof b2));
      else
        set_err(c, ERR_SYSTEM, "extracting layer: open %s: %s", pb, strerror(e));
      close(cur); free(copy); return -1;
    }
    close(cur);
    cur = (int)next;
  }
  free(copy);
  cache_set(c, dir, cur);
  return cur;
}

static int rm_rf_at(int dfd, const char *name) {
  if (unlinkat(dfd, name, 0) == 0) return 0;
  if (errno != EISDIR && errno != EPERM) return errno == ENOENT ? 0 : -1;
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  DIR *d = fdopendir(fd);
  if (!d) { close(fd); return -1; }
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (rm_rf_at(fd, e->d_name) < 0) rc = -1;
  }
  closedir(d);
  if (rc < 0) return -1;
  return unlinkat(dfd, name, AT_REMOVEDIR);
}

// Removes whatever is at name unless it and the new entry are both directories (returns 1:
// existing directory kept). -1 on error.
static int clear_target(ectx *c, int pfd, const char *name, int new_is_dir) {
  struct stat st;
  if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -1;
  if (S_ISDIR(st.st_mode)) {
    if (new_is_dir) return 1;
    // The parent cache may point into the removed tree.
    int keep = -1;
    if (pfd == c->cache_fd) { keep = dup(pfd); }
    cache_drop(c);
    int rc = rm_rf_at(keep >= 0 ? keep : pfd, name);
    if (keep >= 0) { int e = errno; close(keep); errno = e; }
    return rc < 0 ? -1 : 0;
  }
  return unlinkat(pfd, name, 0) < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* entries                                                                                  */

typedef struct {
  char type;
  char *name, *linkname;
  uint64_t size, uid, gid, mode, devmajor, devminor;
  struct timespec mtime;
  kvlist_t pax;  // local + global
} entry_t;

static int b64val(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

static size_t b64decode(const unsigned char *in, size_t n, unsigned char *out) {
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64val(in[i]);
    if (v < 0) continue;  // '=' padding and whitespace
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (unsigned char)((acc >> bits) & 0xff); }
  }
  return o;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Sets the entry's xattrs (SCHILY wins over LIBARCHIVE for one name). fd >= 0: fsetxattr;
// else lsetxattr on /proc/self/fd/<pfd>/<name> (symlinks and device nodes, never opened).
// Failures are tolerated (a namespace this file system lacks), as the JS extractor did.
static void apply_xattrs(ectx *c, const entry_t *e, int fd, int pfd, const char *name) {
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < e->pax.n; i++) {
      const kv_t *kv = &e->pax.v[i];
      char xname[XATTR_NAME_MAX + 2];
      unsigned char *val = kv->val;
      size_t vlen = kv->len;
      unsigned char *decoded = NULL;
      if (pass == 0 && strncmp(kv->key, "LIBARCHIVE.xattr.", 17) == 0) {
        const char *enc = kv->key + 17;
        size_t o = 0;
        for (; *enc && o < XATTR_NAME_MAX; enc++) {
          if (*enc == '%' && hexval(enc[1]) >= 0 && hexval(enc[2]) >= 0) {
            xname[o++] = (char)(hexval(enc[1]) * 16 + hexval(enc[2]));
            enc += 2;
          } else xname[o++] = *enc;
        }
        xname[o] = 0;
        if (kv_get(&e->pax, "SCHILY.xattr.") == NULL) {
          char sk[XATTR_NAME_MAX + 16];
          snprintf(sk, sizeof sk, "SCHILY.xattr.%s", xname);
          if (kv_get(&e->pax, sk)) continue;
        }
        decoded = malloc(vlen + 1);
        vlen = b64decode(val, vlen, decoded);
        val = decoded;
      } else if (pass == 1 && strncmp(kv->key, "SCHILY.xattr.", 13) == 0) {
        snprintf(xname, sizeof xname, "%s", kv->key + 13);
      } else continue;
      if (xname[0] == 0 || strncmp(xname, "trusted.overlay.", 16) == 0) { free(decoded); continue; }
      if (fd >= 0) {
        (void)fsetxattr(fd, xname, val, vlen, 0);
      } else {
        char pp[PATH_MAX + 64];
        snprintf(pp, sizeof pp, "/proc/self/fd/%d/%s", pfd, name);
        (void)lsetxattr(pp, xname, val, vlen, 0);
      }
      free(decoded);
    }
  }
}

static void set_times_at(int pfd, const char *name, struct timespec mt) {
  struct timespec ts[2] = { mt, mt };
  (void)utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

#define SYSFAIL(op, rel) do { char qb_[PATH_MAX + 8]; set_err(c, ERR_SYSTEM, "extracting layer: %s %s: %s", op, q(rel, qb_, sizeof qb_), strerror(errno)); goto out; } while (0)

static int add_dir_time(ectx *c, const char *rel, struct timespec mt) {
  if (c->ndirs == c->capdirs) { c->capdirs = c->capdirs ? c->capdirs * 2 : 256; c->dirs = realloc(c->dirs, c->capdirs * sizeof *c->dirs); }
  c->dirs[c->ndirs].rel = strdup(rel);
  c->dirs[c->ndirs].mtime = mt;
  c->ndirs++;
  return 0;
}

static int handle_entry(ectx *c, entry_t *e) {
  char b1[PATH_MAX + 8], b2[PATH_MAX + 8];
  char *rel = clean_path(e->name);
  int rc = -1;
  char *dir = NULL;
  if (!rel) {
    set_err(c, ERR_INVALID, "invalid tar entry %s: path escapes the layer root", q(e->name, b1, sizeof b1));
    return -1;
  }
  mode_t perm = (mode_t)(e->mode & 07777);
  uint64_t body = (e->type == '0' || e->type == 0 || e->type == '7') ? e->size : 0;
  if (rel[0] == 0) {
    if (e->type == '5') {
      c->have_root_meta = 1;
      c->root_uid = (uid_t)e->uid; c->root_gid = (gid_t)e->gid; c->root_mode = perm; c->root_mtime = e->mtime;
    }
    rc = copy_to(c, -1, body, "");
    goto out;
  }
  char *slash = strrchr(rel, '/');
  const char *base = slash ? slash + 1 : rel;
  dir = slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
  if (strlen(base) > NAME_MAX) { errno = ENAMETOOLONG; char qb[PATH_MAX + 8]; set_err(c, ERR_INVALID, "invalid tar entry %s: %s", q(rel, qb, sizeof qb), strerror(ENAMETOOLONG)); goto out; }

  if (strncmp(base, ".wh.", 4) == 0) {
    int pfd = parent_fd(c, rel, dir, 1);
    if (pfd < 0) goto out;
    if (copy_to(c, -1, body, "") < 0) goto out;
    if (strcmp(base, ".wh..wh..opq") == 0) {
      int dfd = dir[0] ? openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : openat(c->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) SYSFAIL("open", dir);
      if (fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0) { int er = errno; close(dfd); errno = er; SYSFAIL("setxattr trusted.overlay.opaque", dir[0] ? dir : "."); }
      close(dfd);
    } else if (strncmp(base, ".wh..wh.", 8) != 0) {
      const char *target = base + 4;
      if (target[0] == 0 || strcmp(target, ".") == 0 || strcmp(target, "..") == 0) {
        set_err(c, ERR_INVALID, "invalid whiteout entry %s", q(e->name, b1, sizeof b1));
        goto out;
      }
      for (int tries = 0;; tries++) {
        if (mknodat(pfd, target, S_IFCHR, makedev(0, 0)) == 0) break;
        if (errno != EEXIST || tries > 0) SYSFAIL("mknod", rel);
        if (clear_target(c, pfd, target, 0) < 0) SYSFAIL("remove", rel);
        pfd = parent_fd(c, rel, dir, 1);
        if (pfd < 0) goto out;
      }
      (void)fchownat(pfd, target, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW);
      set_times_at(pfd, target, e->mtime);
    }
    rc = 0;
    goto out;
  }

  int pfd = parent_fd(c, rel, dir, 1);
  if (pfd < 0) goto out;
  switch (e->type) {
    case '5': {
      int kept = 0;
      for (int tries = 0;; tries++) {
        if (mkdirat(pfd, base, 0700) == 0) break;
        if (errno != EEXIST || tries > 0) SYSFAIL("mkdir", rel);
        int r = clear_target(c, pfd, base, 1);
        if (r < 0) SYSFAIL("remove", rel);
        pfd = parent_fd(c, rel, dir, 1);
        if (pfd < 0) goto out;
        if (r == 1) { kept = 1; break; }
      }
      (void)kept;
      int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) SYSFAIL("open", rel);
      if (fchown(fd, (uid_t)e->uid, (gid_t)e->gid) < 0 || fchmod(fd, perm) < 0) { int er = errno; close(fd); errno = er; SYSFAIL("chown/chmod", rel); }
      apply_xattrs(c, e, fd, -1, NULL);
      add_dir_time(c, rel, e->mtime);
      // The next entries are most likely its children.
      cache_set(c, rel, fd);
      rc = 0;
      break;
    }
    case '0': case 0: case '7': {
      int fd = -1;
      for (int tries = 0;; tries++) {
        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) break;
        if (errno != EEXIST || tries > 0) SYSFAIL("open", rel);
        if (clear_target(c, pfd, base, 0) < 0) SYSFAIL("remove", rel);
        pfd = parent_fd(c, rel, dir, 1);
        if (pfd < 0) goto out;
      }
      if (copy_to(c, fd, e->size, rel) < 0) { close(fd); goto out; }
      if (fchown(fd, (uid_t)e->uid, (gid_t)e->gid) < 0 || fchmod(fd, perm) < 0) { int er = errno; close(fd); errno = er; SYSFAIL("chown/chmod", rel); }
      apply_xattrs(c, e, fd, -1, NULL);
      struct timespec ts[2] = { e->mtime, e->mtime };
      (void)futimens(fd, ts);
      if (close(fd) < 0) SYSFAIL("close", rel);
      c->size += e->size;
      body = 0;
      rc = 0;
      break;
    }
    case '2': {
      for (int tries = 0;; tries++) {
        if (symlinkat(e->linkname, pfd, base) == 0) break;
        if (errno != EEXIST || tries > 0) SYSFAIL("symlink", rel);
        if (clear_target(c, pfd, base, 0) < 0) SYSFAIL("remove", rel);
        pfd = parent_fd(c, rel, dir, 1);
        if (pfd < 0) goto out;
      }
      (void)fchownat(pfd, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW);
      apply_xattrs(c, e, -1, pfd, base);
      set_times_at(pfd, base, e->mtime);
      rc = 0;
      break;
    }
    case '1': {
      char *trel = clean_path(e->linkname);
      if (!trel || trel[0] == 0) {
        if (!trel) set_err(c, ERR_INVALID, "invalid hard link %s -> %s: target is not inside the layer", q(e->name, b1, sizeof b1), q(e->linkname, b2, sizeof b2));
        else set_err(c, ERR_INVALID, "invalid hard link %s: target is the layer root", q(e->name, b1, sizeof b1));
        free(trel);
        goto out;
      }
      char *ts = strrchr(trel, '/');
      char *tdir = ts ? strndup(trel, (size_t)(ts - trel)) : strdup("");
      const char *tbase = ts ? ts + 1 : trel;
      long tfd = tdir[0] ? xopenat2(c->root_fd, tdir, O_PATH | O_DIRECTORY, BENEATH) : dup(c->root_fd);
      struct stat st;
      if (tfd < 0 || fstatat((int)tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        set_err(c, ERR_INVALID, "invalid hard link %s -> %s: target is not inside the layer", q(e->name, b1, sizeof b1), q(e->linkname, b2, sizeof b2));
      } else if (S_ISDIR(st.st_mode)) {
        set_err(c, ERR_INVALID, "invalid hard link %s: target is a directory", q(e->name, b1, sizeof b1));
      } else if (strcmp(trel, rel) == 0) {
        rc = 0;
      } else {
        for (int tries = 0;; tries++) {
          if (linkat((int)tfd, tbase, pfd, base, 0) == 0) { rc = 0; break; }
          if (errno != EEXIST || tries > 0) { char qb_[PATH_MAX + 8]; set_err(c, ERR_SYSTEM, "extracting layer: link %s: %s", q(rel, qb_, sizeof qb_), strerror(errno)); break; }
          if (clear_target(c, pfd, base, 0) < 0) { char qb_[PATH_MAX + 8]; set_err(c, ERR_SYSTEM, "extracting layer: remove %s: %s", q(rel, qb_, sizeof qb_), strerror(errno)); break; }
          pfd = parent_fd(c, rel, dir, 1);
          if (pfd < 0) break;
        }
        if (rc == 0) apply_xattrs(c, e, -1, pfd, base);
      }
      if (tfd >= 0) close((int)tfd);
      free(tdir);
      free(trel);
      break;
    }
    case '3': case '4': case '6': {
      mode_t type = e->type == '3' ? S_IFCHR : e->type == '4' ? S_IFBLK : S_IFIFO;
      dev_t dev = e->type == '6' ? 0 : makedev((unsigned)e->devmajor, (unsigned)e->devminor);
      for (int tries = 0;; tries++) {
        if (mknodat(pfd, base, type | perm, dev) == 0) break;
        if (errno != EEXIST || tries > 0) SYSFAIL("mknod", rel);
        if (clear_target(c, pfd, base, 0) < 0) SYSFAIL("remove", rel);
        pfd = parent_fd(c, rel, dir, 1);
        if (pfd < 0) goto out;
      }
      (void)fchownat(pfd, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW);
      // After chown (which drops set-id bits); the node was just made here, not a symlink.
      (void)fchmodat(pfd, base, perm, 0);
      apply_xattrs(c, e, -1, pfd, base);
      set_times_at(pfd, base, e->mtime);
      rc = 0;
      break;
    }
    default: {
      char tf[8];
      if (e->type >= 0x20 && e->type < 0x7f) snprintf(tf, sizeof tf, "%c", e->type); else snprintf(tf, sizeof tf, "\\u%04x", (unsigned char)e->type);
      set_err(c, ERR_INVALID, "invalid tar entry %s: unsupported type \"%s\"", q(e->name, b1, sizeof b1), tf);
      goto out;
    }
  }
  if (rc == 0 && body) rc = copy_to(c, -1, body, "");
out:
  free(dir);
  free(rel);
  return rc;
}

static int parse_time(const kv_t *kv, struct timespec *out) {
  const char *s = (const char *)kv->val;
  char *end;
  errno = 0;
  long long sec = strtoll(s, &end, 10);
  if (errno || end == s) return -1;
  long nsec = 0;
  if (*end == '.') {
    end++;
    long scale = 100000000;
    while (*end >= '0' && *end <= '9') { if (scale) { nsec += (*end - '0') * scale; scale /= 10; } end++; }
    if (sec < 0 && nsec) { sec -= 1; nsec = 1000000000 - nsec; }
  }
  out->tv_sec = (time_t)sec;
  out->tv_nsec = nsec;
  return 0;
}

static int parse_u64(const kv_t *kv, uint64_t *out) {
  const char *s = (const char *)kv->val;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') return -1;
  *out = v;
  return 0;
}

static void run_tar(ectx *c) {
  unsigned char h[512];
  char *long_name = NULL, *long_link = NULL;
  kvlist_t local = {0};
  for (;;) {
    int r = read_exact(c, h, 512);
    if (r < 0) goto fail;
    if (r == 0) break;  // ended without the end-of-archive blocks: accepted, as tar does
    if (zero_block(h)) break;
    uint64_t sum;
    if (parse_num(h + 148, 8, &sum) < 0) { set_err(c, ERR_INVALID, "invalid tar archive: header checksum mismatch (not a tar archive, or corrupt)"); goto fail; }
    unsigned us = 0; int ss = 0;
    for (int i = 0; i < 512; i++) {
      unsigned char ch = (i >= 148 && i < 156) ? ' ' : h[i];
      us += ch;
      ss += (signed char)ch;
    }
    if (sum != us && (int64_t)sum != ss) { set_err(c, ERR_INVALID, "invalid tar archive: header checksum mismatch (not a tar archive, or corrupt)"); goto fail; }
    char type = (char)h[156];
    uint64_t size;
    if (parse_num(h + 124, 12, &size) < 0) { set_err(c, ERR_INVALID, "invalid tar archive: invalid size in a header"); goto fail; }
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      unsigned char *b;
      if (read_meta_body(c, size, &b) < 0) goto fail;
      int bad = 0;
      if (type == 'x') bad = parse_pax(c, b, (size_t)size, &local);
      else if (type == 'g') bad = parse_pax(c, b, (size_t)size, &c->global);
      else if (type == 'L') { free(long_name); long_name = strndup0(b, (size_t)size); }
      else { free(long_link); long_link = strndup0(b, (size_t)size); }
      free(b);
      if (bad) goto fail;
      continue;
    }
    entry_t e;
    memset(&e, 0, sizeof e);
    e.type = type;
    int posix = memcmp(h + 257, "ustar\0", 6) == 0;
    int ustar = memcmp(h + 257, "ustar", 5) == 0;
    char *n = strndup0(h, 100);
    if (posix && h[345]) {
      char *p = strndup0(h + 345, 155);
      char *j = malloc(strlen(p) + strlen(n) + 2);
      sprintf(j, "%s/%s", p, n);
      free(p); free(n); n = j;
    }
    e.name = n;
    e.linkname = strndup0(h + 157, 100);
    uint64_t mt = 0;
    int bad = parse_num(h + 100, 8, &e.mode) < 0 || parse_num(h + 108, 8, &e.uid) < 0 || parse_num(h + 116, 8, &e.gid) < 0 || parse_num(h + 136, 12, &mt) < 0;
    if (ustar && (parse_num(h + 329, 8, &e.devmajor) < 0 || parse_num(h + 337, 8, &e.devminor) < 0)) bad = 1;
    if (bad) { set_err(c, ERR_INVALID, "invalid tar archive: invalid number in a header"); free(e.name); free(e.linkname); goto fail; }
    e.mtime.tv_sec = (time_t)mt;
    e.size = size;
    if (long_name) { free(e.name); e.name = long_name; long_name = NULL; }
    if (long_link) { free(e.linkname); e.linkname = long_link; long_link = NULL; }
    for (size_t i = 0; i < c->global.n; i++) kv_set(&e.pax, c->global.v[i].key, strlen(c->global.v[i].key), c->global.v[i].val, c->global.v[i].len);
    for (size_t i = 0; i < local.n; i++) kv_set(&e.pax, local.v[i].key, strlen(local.v[i].key), local.v[i].val, local.v[i].len);
    kv_clear(&local);
    const kv_t *kv;
    if ((kv = kv_get(&e.pax, "path"))) { free(e.name); e.name = strndup0(kv->val, kv->len); }
    if ((kv = kv_get(&e.pax, "linkpath"))) { free(e.linkname); e.linkname = strndup0(kv->val, kv->len); }
    if (((kv = kv_get(&e.pax, "size")) && parse_u64(kv, &e.size) < 0) || ((kv = kv_get(&e.pax, "uid")) && parse_u64(kv, &e.uid) < 0) ||
        ((kv = kv_get(&e.pax, "gid")) && parse_u64(kv, &e.gid) < 0) || ((kv = kv_get(&e.pax, "mtime")) && parse_time(kv, &e.mtime) < 0)) {
      set_err(c, ERR_INVALID, "invalid tar archive: invalid PAX record in the header of %s", e.name);
      free(e.name); free(e.linkname); kv_clear(&e.pax); goto fail;
    }
    if (e.uid > UINT32_MAX - 1 || e.gid > UINT32_MAX - 1) {
      set_err(c, ERR_INVALID, "invalid tar entry: uid/gid out of range");
      free(e.name); free(e.linkname); kv_clear(&e.pax); goto fail;
    }
    // Types whose size field announces no data (as Go's archive/tar reads them).
    if (type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6') e.size = 0;
    int er = handle_entry(c, &e);
    uint64_t pad = (512 - (e.size % 512)) % 512;
    free(e.name); free(e.linkname); kv_clear(&e.pax);
    if (er < 0) goto fail;
    if (pad && copy_to(c, -1, pad, "") < 0) goto fail;
  }
  free(long_name); free(long_link); kv_clear(&local);
  // Bytes after the end-of-archive blocks are read (and hashed): the diff ID covers them.
  while (out_fill(c) > 0) c->out_pos = c->out_len;
  if (c->err_kind) return;
  for (size_t i = 0; i < c->ndirs; i++) {
    long fd = xopenat2(c->root_fd, c->dirs[i].rel, O_RDONLY | O_DIRECTORY, BENEATH);
    if (fd < 0) continue;  // replaced later by something else
    struct timespec ts[2] = { c->dirs[i].mtime, c->dirs[i].mtime };
    (void)futimens((int)fd, ts);
    close((int)fd);
  }
  if (c->have_root_meta) {
    if (fchown(c->root_fd, c->root_uid, c->root_gid) < 0 || fchmod(c->root_fd, c->root_mode) < 0) { set_err(c, ERR_SYSTEM, "extracting layer: chown/chmod of the root: %s", strerror(errno)); return; }
    struct timespec ts[2] = { c->root_mtime, c->root_mtime };
    (void)futimens(c->root_fd, ts);
  }
  if (c->tee_fd >= 0 && fdatasync(c->tee_fd) < 0) set_err(c, ERR_SYSTEM, "syncing the layer blob: %s", strerror(errno));
  return;
fail:
  free(long_name); free(long_link); kv_clear(&local);
}

/* ---------------------------------------------------------------------------------------- */
/* thread and napi glue                                                                     */

static void report_progress(ectx *c) {
  c->last_progress = c->tar_bytes;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&c->progress_pending, &expected, 1)) return;
  if (napi_call_threadsafe_function(c->fn, NULL, napi_tsfn_nonblocking) != napi_ok) atomic_store(&c->progress_pending, 0);
}

static void hex(const unsigned char *d, char *out) {
  for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void free_ctx(ectx *c) {
  cache_drop(c);
  if (c->root_fd >= 0) close(c->root_fd);
  if (c->z_init) inflateEnd(&c->z);
  if (c->zs) ZSTD_freeDStream(c->zs);
  EVP_MD_CTX_free(c->raw_md);
  EVP_MD_CTX_free(c->tar_md);
  for (size_t i = 0; i < c->ndirs; i++) free(c->dirs[i].rel);
  free(c->dirs);
  kv_clear(&c->global);
  free(c->raw); free(c->out); free(c->dest);
  free(c);
}

// cb(null, undefined, tarBytes) for progress; cb(err, result) once at the end.
// Main thread: drops the refs of the items in `list`.
static void feed_release(napi_env env, fitem_t *list) {
  while (list) {
    fitem_t *next = list->next;
    if (env) napi_delete_reference(env, list->ref);
    free(list);
    list = next;
  }
}

static fitem_t *feed_take_done(feed_t *f) {
  pthread_mutex_lock(&f->mu);
  fitem_t *d = f->done;
  f->done = NULL;
  pthread_mutex_unlock(&f->mu);
  return d;
}

static void feed_unref(napi_env env, feed_t *f) {
  if (--f->refs > 0) return;
  feed_release(env, f->done);
  feed_release(env, f->head);
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->cv);
  free(f);
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  ectx *c = context;
  if (data == CB_DRAIN) {
    feed_release(env, feed_take_done(c->feed));
    if (!env || !js_cb) return;
    napi_value args[4];
    napi_get_null(env, &args[0]);
    napi_get_undefined(env, &args[1]);
    napi_get_undefined(env, &args[2]);
    napi_get_boolean(env, true, &args[3]);
    napi_call_function(env, args[1], js_cb, 4, args, NULL);
    return;
  }
  if (!data) {
    atomic_store(&c->progress_pending, 0);
    if (!env || !js_cb) return;
    napi_value args[3];
    napi_get_null(env, &args[0]);
    napi_get_undefined(env, &args[1]);
    napi_create_double(env, (double)c->tar_bytes, &args[2]);
    napi_call_function(env, args[1], js_cb, 3, args, NULL);
    return;
  }
  if (c->feed) {
    // The thread is done with the feed: what is queued is dropped, later chunks too.
    feed_t *f = c->feed;
    pthread_mutex_lock(&f->mu);
    f->stopped = 1;
    fitem_t *left = f->head, *done = f->done;
    f->head = f->tail = f->done = NULL;
    f->queued = 0;
    pthread_mutex_unlock(&f->mu);
    feed_release(env, left);
    feed_release(env, done);
    c->feed = NULL;
    feed_unref(env, f);
  }
  if (env && js_cb) {
    napi_value args[2], undef;
    napi_get_undefined(env, &undef);
    if (c->err_kind) {
      napi_value msg, kind;
      napi_create_string_utf8(env, c->err, NAPI_AUTO_LENGTH, &msg);
      napi_create_object(env, &args[0]);
      napi_set_named_property(env, args[0], "message", msg);
      napi_create_string_utf8(env, c->err_kind == ERR_INVALID ? "invalid" : "system", NAPI_AUTO_LENGTH, &kind);
      napi_set_named_property(env, args[0], "kind", kind);
      args[1] = undef;
    } else {
      char hx[65];
      napi_value v;
      napi_get_null(env, &args[0]);
      napi_create_object(env, &args[1]);
      hex(c->raw_digest, hx);
      napi_create_string_utf8(env, hx, 64, &v); napi_set_named_property(env, args[1], "rawDigest", v);
      hex(c->tar_digest, hx);
      napi_create_string_utf8(env, hx, 64, &v); napi_set_named_property(env, args[1], "diffId", v);
      napi_create_double(env, (double)c->raw_bytes, &v); napi_set_named_property(env, args[1], "rawBytes", v);
      napi_create_double(env, (double)c->tar_bytes, &v); napi_set_named_property(env, args[1], "tarBytes", v);
      napi_create_double(env, (double)c->size, &v); napi_set_named_property(env, args[1], "size", v);
      const char *cn = c->comp == C_GZIP ? "gzip" : c->comp == C_ZSTD ? "zstd" : "none";
      napi_create_string_utf8(env, cn, NAPI_AUTO_LENGTH, &v); napi_set_named_property(env, args[1], "compression", v);
    }
    napi_call_function(env, undef, js_cb, 2, args, NULL);
  }
  napi_release_threadsafe_function(c->fn, napi_tsfn_release);
  free_ctx(c);
}

static void *extract_thread(void *arg) {
  ectx *c = arg;
  c->root_fd = open(c->dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (c->root_fd < 0) set_err(c, ERR_SYSTEM, "opening %s: %s", c->dest, strerror(errno));
  else run_tar(c);
  if (!c->err_kind) {
    unsigned int n;
    EVP_DigestFinal_ex(c->raw_md, c->raw_digest, &n);
    EVP_DigestFinal_ex(c->tar_md, c->tar_digest, &n);
    if (c->comp == C_NONE) memcpy(c->tar_digest, c->raw_digest, sizeof c->tar_digest);
  }
  napi_call_threadsafe_function(c->fn, (void *)1, napi_tsfn_blocking);
  return NULL;
}

static int get_i64(napi_env env, napi_value obj, const char *key, int64_t *out, int64_t def) {
  bool has = false;
  napi_value v;
  napi_valuetype t;
  *out = def;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok ? 0 : -1;
}

static void feed_finalize(napi_env env, void *data, void *hint);

// extractTar({fd | feed: 1, dest, teeFd?}, cb) -> the feed's handle (feed) or undefined: cb(null, undefined, tarBytes) as it goes, cb(err, result) at the end.
napi_value berth_extract_tar(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "extractTar(opts, cb)");
    return NULL;
  }
  int64_t fd, tee, hash, fed;
  napi_value destv;
  size_t dlen;
  if (get_i64(env, argv[0], "fd", &fd, -1) < 0 || get_i64(env, argv[0], "feed", &fed, 0) < 0 || (fd < 0 && !fed) ||
      get_i64(env, argv[0], "teeFd", &tee, -1) < 0 || get_i64(env, argv[0], "hash", &hash, 1) < 0 ||
      napi_get_named_property(env, argv[0], "dest", &destv) != napi_ok ||
      napi_get_value_string_utf8(env, destv, NULL, 0, &dlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "extractTar: opts needs fd (or feed) and dest");
    return NULL;
  }
  ectx *c = calloc(1, sizeof *c);
  c->src_fd = fed ? -1 : (int)fd;
  c->tee_fd = (int)tee;
  c->hash = hash != 0;
  c->root_fd = -1;
  c->cache_fd = -1;
  c->dest = malloc(dlen + 1);
  napi_get_value_string_utf8(env, destv, c->dest, dlen + 1, &dlen);
  c->raw = malloc(RAW_BUF);
  c->out = malloc(OUT_BUF);
  c->raw_md = EVP_MD_CTX_new();
  c->tar_md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c->raw_md, EVP_sha256(), NULL);
  EVP_DigestInit_ex(c->tar_md, EVP_sha256(), NULL);
  napi_value name;
  napi_create_string_utf8(env, "berth.extractTar", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, c, call_js, &c->fn) != napi_ok) {
    free_ctx(c);
    napi_throw_error(env, NULL, "extractTar: cannot create the callback");
    return NULL;
  }
  napi_value handle;
  napi_get_undefined(env, &handle);
  if (fed) {
    feed_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->fn = c->fn;
    f->refs = 2;
    if (napi_create_external(env, f, feed_finalize, NULL, &handle) != napi_ok) {
      f->refs = 1;
      feed_unref(env, f);
      napi_release_threadsafe_function(c->fn, napi_tsfn_release);
      free_ctx(c);
      napi_throw_error(env, NULL, "extractTar: cannot create the feed");
      return NULL;
    }
    c->feed = f;
  }
  if (start_detached(extract_thread, c) != 0) {
    if (c->feed) { c->feed->stopped = 1; feed_unref(env, c->feed); c->feed = NULL; }
    napi_release_threadsafe_function(c->fn, napi_tsfn_release);
    free_ctx(c);
    napi_throw_error(env, NULL, "extractTar: pthread_create failed");
    return NULL;
  }
  return handle;
}

static void feed_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  feed_t *f = data;
  // A handle dropped without its end still ends the stream: the thread never waits forever.
  pthread_mutex_lock(&f->mu);
  f->eof = 1;
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
  feed_unref(env, f);
}

// extractFeed(handle, buf | null): queues a Buffer for a fed extraction (null: the end). false:
// enough is queued, wait for the drain callback before the next. A Buffer must not change
// until the thread has copied it (as with a stream's write). After the extraction has ended,
// chunks are dropped (true).
napi_value berth_extract_feed(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  feed_t *f = NULL;
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_external(env, argv[0], (void **)&f) != napi_ok || !f || napi_typeof(env, argv[1], &t) != napi_ok) {
    napi_throw_type_error(env, NULL, "extractFeed(handle, buffer | null)");
    return NULL;
  }
  feed_release(env, feed_take_done(f));
  int room = 1;
  if (t == napi_null || t == napi_undefined) {
    pthread_mutex_lock(&f->mu);
    f->eof = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
  } else {
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
      napi_throw_type_error(env, NULL, "extractFeed: not a Buffer");
      return NULL;
    }
    pthread_mutex_lock(&f->mu);
    if (!f->stopped && !f->eof && len > 0) {
      fitem_t *it = calloc(1, sizeof *it);
      it->data = data;
      it->len = len;
      napi_create_reference(env, argv[1], 1, &it->ref);
      if (f->tail) f->tail->next = it; else f->head = it;
      f->tail = it;
      f->queued += len;
      pthread_cond_signal(&f->cv);
      if (f->queued >= FEED_HIGH) { f->want_drain = 1; room = 0; }
    }
    pthread_mutex_unlock(&f->mu);
  }
  napi_get_boolean(env, room, &out);
  return out;
}

// linkFd(fd, path): a hard link at `path` to the file open as `fd` (linkat through
// /proc/self/fd with AT_SYMLINK_FOLLOW): a file the extractor read becomes a blob uncopied.
napi_value berth_link_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  size_t len;
  char path[PATH_MAX];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], path, sizeof path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "linkFd(fd, path)");
    return NULL;
  }
  char src[64];
  snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, src, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0 || fdatasync(fd) < 0) {
    char msg[PATH_MAX + 64];
    snprintf(msg, sizeof msg, "linkFd %s: %s", path, strerror(errno));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// spreadDirs(path): sets FS_TOPDIR_FL (chattr +T) on the directory, best effort; true when set.
// ext4's Orlov allocator then places each new directory made in it in a group of its own with
// many free inodes, instead of beside its parent. That matters where extractions run: ext4
// without a journal (this VM's root) skips, at every inode it allocates, the free inodes of its
// group deleted in the last 60 s (300 s while their inode table block is dirty), each skip a
// buffer lookup (ialloc.c recently_deleted), so a layer extracted where another was just
// removed paid O(files x deleted) in the kernel: sys time 1.2-2.3 s instead of 0.15 s for the
// debian base layer here. Journaled ext4 has no such scan. Other filesystems: no-op.
napi_value berth_spread_dirs(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1], out;
  char path[PATH_MAX];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "spreadDirs(path)");
    return NULL;
  }
  int ok = 0;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
      if (flags & FS_TOPDIR_FL) ok = 1;
      else { flags |= FS_TOPDIR_FL; ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0; }
    }
    close(fd);
  }
  napi_get_boolean(env, ok, &out);
  return out;
}
