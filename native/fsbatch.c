// Batches of small filesystem calls done in one libuv pool job each: the removal of a
// container is a few dozen unlinks, rmdirs and small reads, and each one done through node:fs
// is a round trip to the pool and back (with a promise, a FileHandle, a wake-up of a pool
// thread that preempts the event loop on a busy machine). Here a whole batch is one job.
//   removeTreesAsync(paths)        rm -rf of each absolute path (never following a symlink)
//   rmdirsAsync(paths)             rmdir of each path: errno per path (0: removed)
//   unmountHeldAsync(target, fl)   open target, umount2(target, fl), close: false when it cannot
//                                  be opened or nothing is mounted there (EINVAL)
//   readFilesAsync(paths, max)     up to `max` bytes of each file and its mtime, null if missing
//   writeFileAtomicAsync([tmp, file, ...], data | data[], mode, durability)
//                                  a record write: tmp made with mode, written, fsynced (durability
//                                  >= 1), closed, renamed over file (tmp unlinked if that fails),
//                                  the directory fsynced (durability 2); with several pairs, each
//                                  pair in turn with its own data, stopping at the first failure
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>

int get_string_arg(napi_env env, napi_value v, char **out, int nullable);
napi_value make_errno_error(napi_env env, int err, const char *syscall_name, const char *detail);
int get_int_arg(napi_env env, napi_value v, int64_t *out);
napi_value queue_pool_work(napi_env env, const char *name, napi_async_execute_callback execute,
                           napi_async_complete_callback complete, void *data, napi_deferred *deferred, napi_async_work *work);

enum batch_op { OP_REMOVE_TREES, OP_RMDIRS, OP_UNMOUNT_HELD, OP_READ_FILES, OP_WRITE_ATOMIC };

typedef struct {
  enum batch_op op;
  char **paths;
  uint32_t n;
  int64_t arg;  // umount2 flags, or the read limit
  int *errs;    // per path: 0 or an errno
  char **bufs;  // OP_READ_FILES: contents
  size_t *lens;
  double *mtimes;
  // the first failure of a batch that rejects as a whole
  int err;
  const char *err_syscall;
  uint32_t err_index;
  int result;  // OP_UNMOUNT_HELD: 1 unmounted, 0 nothing mounted
  // OP_WRITE_ATOMIC: each pair's data (copies), the files' mode and the durability
  char **datas;
  size_t *data_lens;
  int64_t mode, durability;
  napi_async_work work;
  napi_deferred deferred;
} batch_req;

static void batch_free(batch_req *r) {
  for (uint32_t i = 0; i < r->n; i++) {
    free(r->paths[i]);
    if (r->bufs) free(r->bufs[i]);
  }
  free(r->paths);
  free(r->errs);
  free(r->bufs);
  free(r->lens);
  free(r->mtimes);
  if (r->datas)
    for (uint32_t i = 0; i < r->n / 2; i++) free(r->datas[i]);
  free(r->datas);
  free(r->data_lens);
  free(r);
}

// Deep enough for any layer a container writes; deeper trees fail with ELOOP (the caller
// falls back to node:fs).
#define MAX_DEPTH 512

// Removes `name` under `dirfd`, a directory's contents first. 0 or an errno; ENOENT is success.
static int remove_at(int dirfd, const char *name, int depth, const char **syscall_name) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR && errno != EPERM) {
    *syscall_name = "unlink";
    return errno;
  }
  if (depth >= MAX_DEPTH) {
    *syscall_name = "open";
    return ELOOP;
  }
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    *syscall_name = "open";
    return errno == ENOTDIR || errno == ELOOP ? EPERM : errno;  // an unlink that EPERM'd a file
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    *syscall_name = "fdopendir";
    return e;
  }
  int err = 0;
  struct dirent *ent;
  // entries already returned are unlinked while the directory is read, as rm -rf does
  while (!err && (ent = readdir(d)) != NULL) {
    if (ent->d_name[0] == '.' && (ent->d_name[1] == 0 || (ent->d_name[1] == '.' && ent->d_name[2] == 0))) continue;
    err = remove_at(fd, ent->d_name, depth + 1, syscall_name);
  }
  closedir(d);
  if (err) return err;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
  *syscall_name = "rmdir";
  return errno;
}

static void read_one(batch_req *r, uint32_t i) {
  int fd = open(r->paths[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    r->errs[i] = errno;
    return;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    r->errs[i] = errno;
    close(fd);
    return;
  }
  r->mtimes[i] = (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1e6;
  // sized from fstat, grown for files that report no size (/proc, cgroupfs), never past the limit
  size_t limit = (size_t)r->arg, len = 0;
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  if (cap > limit) cap = limit;
  char *buf = malloc(cap ? cap : 1);
  if (!buf) {
    r->errs[i] = ENOMEM;
    close(fd);
    return;
  }
  while (len < limit) {
    if (len == cap) {
      size_t grown = cap * 2 > limit ? limit : cap * 2;
      char *nb = realloc(buf, grown);
      if (!nb) {
        r->errs[i] = ENOMEM;
        break;
      }
      buf = nb;
      cap = grown;
    }
    ssize_t k = read(fd, buf + len, cap - len);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      r->errs[i] = errno;
      break;
    }
    if (k == 0) break;
    len += (size_t)k;
  }
  close(fd);
  r->bufs[i] = buf;
  r->lens[i] = len;
}

static void fail(batch_req *r, const char *syscall_name, uint32_t index) {
  r->err = errno;
  r->err_syscall = syscall_name;
  r->err_index = index;
}

// pair i: paths[2i] is the temp file, paths[2i+1] the record, datas[i] what it holds
static void write_atomic(batch_req *r, uint32_t i) {
  const char *tmp = r->paths[2 * i], *data = r->datas[i];
  char *file = r->paths[2 * i + 1];
  size_t len = r->data_lens[i];
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)r->mode);
  if (fd < 0) return fail(r, "open", 2 * i);
  size_t off = 0;
  while (off < len) {
    ssize_t k = write(fd, data + off, len - off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      fail(r, "write", 2 * i);
      break;
    }
    off += (size_t)k;
  }
  if (!r->err && r->durability >= 1 && fsync(fd) < 0) fail(r, "fsync", 2 * i);
  if (close(fd) < 0 && !r->err && errno != EINTR) fail(r, "close", 2 * i);
  if (!r->err && rename(tmp, file) < 0) fail(r, "rename", 2 * i + 1);
  if (r->err) {
    int e = errno;
    unlink(tmp);
    errno = e;
    return;
  }
  if (r->durability >= 2) {
    // the directory of the record, for the rename's own durability
    char *slash = strrchr(file, '/');
    if (!slash) return;
    *slash = 0;
    int dfd = open(slash == file ? "/" : file, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *slash = '/';
    if (dfd < 0) return fail(r, "open", 2 * i + 1);
    if (fsync(dfd) < 0) fail(r, "fsync", 2 * i + 1);
    close(dfd);
  }
}

static void batch_execute(napi_env env, void *data) {
  batch_req *r = data;
  switch (r->op) {
    case OP_REMOVE_TREES:
      for (uint32_t i = 0; i < r->n; i++) {
        const char *sc = "unlink";
        int e = remove_at(AT_FDCWD, r->paths[i], 0, &sc);
        if (e && !r->err) {
          r->err = e;
          r->err_syscall = sc;
          r->err_index = i;
        }
      }
      break;
    case OP_RMDIRS:
      for (uint32_t i = 0; i < r->n; i++) r->errs[i] = rmdir(r->paths[i]) == 0 ? 0 : errno;
      break;
    case OP_UNMOUNT_HELD: {
      // The directory handle is held across the detach so that the last reference, and with it
      // the overlay's teardown (a sync of its upper filesystem), is dropped here by close().
      int fd = open(r->paths[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) break;  // nothing there to unmount (or to hold)
      if (umount2(r->paths[0], (int)r->arg) == 0) r->result = 1;
      else if (errno != EINVAL && errno != ENOENT) {
        r->err = errno;
        r->err_syscall = "umount2";
      }
      close(fd);
      break;
    }
    case OP_READ_FILES:
      for (uint32_t i = 0; i < r->n; i++) read_one(r, i);
      break;
    case OP_WRITE_ATOMIC:
      for (uint32_t i = 0; i < r->n / 2 && !r->err; i++) write_atomic(r, i);
      break;
  }
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  batch_req *r = data;
  napi_value v;
  if (status != napi_ok) {
    napi_create_string_utf8(env, "filesystem batch was cancelled", NAPI_AUTO_LENGTH, &v);
    napi_reject_deferred(env, r->deferred, v);
    goto done;
  }
  if (r->err) {
    napi_reject_deferred(env, r->deferred, make_errno_error(env, r->err, r->err_syscall, r->paths[r->err_index]));
    goto done;
  }
  switch (r->op) {
    case OP_REMOVE_TREES:
    case OP_WRITE_ATOMIC:
      napi_get_undefined(env, &v);
      break;
    case OP_UNMOUNT_HELD:
      napi_get_boolean(env, r->result, &v);
      break;
    case OP_RMDIRS:
      napi_create_array_with_length(env, r->n, &v);
      for (uint32_t i = 0; i < r->n; i++) {
        napi_value e;
        napi_create_int32(env, r->errs[i], &e);
        napi_set_element(env, v, i, e);
      }
      break;
    case OP_READ_FILES:
      for (uint32_t i = 0; i < r->n; i++) {
        int e = r->errs[i];
        if (e && e != ENOENT && e != ENOTDIR) {
          napi_reject_deferred(env, r->deferred, make_errno_error(env, e, "open", r->paths[i]));
          goto done;
        }
      }
      napi_create_array_with_length(env, r->n, &v);
      for (uint32_t i = 0; i < r->n; i++) {
        napi_value item;
        if (r->errs[i]) {
          napi_get_null(env, &item);
        } else {
          napi_value text, mtime;
          napi_create_object(env, &item);
          napi_create_string_utf8(env, r->bufs[i], r->lens[i], &text);
          napi_create_double(env, r->mtimes[i], &mtime);
          napi_set_named_property(env, item, "text", text);
          napi_set_named_property(env, item, "mtimeMs", mtime);
        }
        napi_set_element(env, v, i, item);
      }
      break;
  }
  napi_resolve_deferred(env, r->deferred, v);
done:
  napi_delete_async_work(env, r->work);
  batch_free(r);
}

// A batch of `op` on `paths` (an array, or with `one` a single path), absolute each.
static batch_req *new_batch(napi_env env, napi_value paths, int one, enum batch_op op) {
  bool is_array = false;
  napi_is_array(env, paths, &is_array);
  if (!one && !is_array) {
    napi_throw_type_error(env, NULL, "expected an array of paths");
    return NULL;
  }
  batch_req *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->op = op;
  uint32_t n = 1;
  if (!one) napi_get_array_length(env, paths, &n);
  r->paths = calloc(n ? n : 1, sizeof *r->paths);
  r->errs = calloc(n ? n : 1, sizeof *r->errs);
  if (op == OP_READ_FILES) {
    r->bufs = calloc(n ? n : 1, sizeof *r->bufs);
    r->lens = calloc(n ? n : 1, sizeof *r->lens);
    r->mtimes = calloc(n ? n : 1, sizeof *r->mtimes);
  }
  if (!r->paths || !r->errs || (op == OP_READ_FILES && (!r->bufs || !r->lens || !r->mtimes))) {
    batch_free(r);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value el = paths;
    if (!one) napi_get_element(env, paths, i, &el);
    if (get_string_arg(env, el, &r->paths[i], 0) < 0) {
      batch_free(r);
      return NULL;
    }
    r->n = i + 1;
    // relative paths would depend on the cwd, which may change while the job waits
    if (r->paths[i][0] != '/') {
      batch_free(r);
      napi_throw_type_error(env, NULL, "paths must be absolute");
      return NULL;
    }
  }
  return r;
}

static napi_value submit(napi_env env, batch_req *r) {
  return queue_pool_work(env, "berth:fsbatch", batch_execute, batch_complete, r, &r->deferred, &r->work);
}

// (paths[] or one path, number?) and the batch queued.
static napi_value queue_batch(napi_env env, napi_callback_info info, enum batch_op op) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int one = op == OP_UNMOUNT_HELD, wants_num = op == OP_UNMOUNT_HELD || op == OP_READ_FILES;
  if (argc < (size_t)(wants_num ? 2 : 1)) {
    napi_throw_type_error(env, NULL, one ? "expected (path, flags)" : wants_num ? "expected (paths[], maxBytes)" : "expected (paths[])");
    return NULL;
  }
  int64_t num = 0;
  if (wants_num && get_int_arg(env, argv[1], &num) < 0) return NULL;
  if (op == OP_READ_FILES && (num < 0 || num > (1 << 24))) {
    napi_throw_range_error(env, NULL, "maxBytes must be within 0..16 MiB");
    return NULL;
  }
  batch_req *r = new_batch(env, argv[0], one, op);
  if (!r) return NULL;
  r->arg = num;
  return submit(env, r);
}

napi_value berth_remove_trees_async(napi_env env, napi_callback_info info) { return queue_batch(env, info, OP_REMOVE_TREES); }
napi_value berth_rmdirs_async(napi_env env, napi_callback_info info) { return queue_batch(env, info, OP_RMDIRS); }
napi_value berth_unmount_held_async(napi_env env, napi_callback_info info) { return queue_batch(env, info, OP_UNMOUNT_HELD); }
napi_value berth_read_files_async(napi_env env, napi_callback_info info) { return queue_batch(env, info, OP_READ_FILES); }

// A copy of a Buffer's or a string's bytes; -1 with an exception pending.
static int copy_data(napi_env env, napi_value v, char **out, size_t *out_len) {
  bool is_buffer = false;
  napi_is_buffer(env, v, &is_buffer);
  size_t len;
  if (is_buffer) {
    void *bytes;
    napi_get_buffer_info(env, v, &bytes, &len);
    *out = malloc(len ? len : 1);
    if (*out) memcpy(*out, bytes, len);
  } else {
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
      napi_throw_type_error(env, NULL, "data must be a Buffer or a string");
      return -1;
    }
    *out = malloc(len + 1);
    if (*out) napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  }
  if (!*out) {
    napi_throw_error(env, NULL, "out of memory");
    return -1;
  }
  *out_len = len;
  return 0;
}

// writeFileAtomicAsync([tmp, file, ...], data | data[]: Buffer | string, mode, durability 0..2):
// one data for one pair, an array of one per pair for several
napi_value berth_write_file_atomic_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int64_t mode, durability;
  if (argc < 4 || get_int_arg(env, argv[2], &mode) < 0 || get_int_arg(env, argv[3], &durability) < 0) {
    if (argc < 4) napi_throw_type_error(env, NULL, "expected ([tmp, file, ...], data, mode, durability)");
    return NULL;
  }
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  bool many = false;
  napi_is_array(env, argv[1], &many);
  uint32_t pairs = n / 2, given = 1;
  if (many) napi_get_array_length(env, argv[1], &given);
  if (n == 0 || n % 2 != 0 || given != pairs) {
    napi_throw_type_error(env, NULL, "expected [tmp, file] pairs, and one data per pair");
    return NULL;
  }
  batch_req *r = new_batch(env, argv[0], 0, OP_WRITE_ATOMIC);
  if (!r) return NULL;
  r->mode = mode;
  r->durability = durability;
  r->datas = calloc(pairs, sizeof *r->datas);
  r->data_lens = calloc(pairs, sizeof *r->data_lens);
  if (!r->datas || !r->data_lens) {
    batch_free(r);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < pairs; i++) {
    napi_value el = argv[1];
    if (many) napi_get_element(env, argv[1], i, &el);
    if (copy_data(env, el, &r->datas[i], &r->data_lens[i]) < 0) {
      batch_free(r);
      return NULL;
    }
  }
  return submit(env, r);
}
