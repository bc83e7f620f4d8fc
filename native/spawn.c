// spawnDetached(path, argv, envp, cwd, fds): posix_spawn of a process in a session of its own,
// for the shims (conmon), which double-fork away at once. Node's child_process forks the whole
// daemon (its page tables copied, then undone by the exec) and waits on the event loop for the
// child's exec; glibc's posix_spawn uses CLONE_VM|CLONE_VFORK, so the cost no longer grows with
// the daemon's memory. `fds` says what each child fd 0.. is: a parent fd to copy, -1 for
// /dev/null, -2 for the write end of a new pipe (the parent gets its read end), -3 for the read
// end of a new pipe (the parent gets its write end). All other fds are close-on-exec in Node.
// Returns [pid, our end of each pipe slot or -1...]; the caller
// must reap the PID (waitpidNohang below).
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

// berth_native.c's: a string argument, malloc'd (a NUL inside is a TypeError); errors as Node's.
int get_string_arg(napi_env env, napi_value v, char **out, int nullable);
void throw_errno(napi_env env, int err, const char *syscall_name, const char *detail);
napi_value make_errno_error(napi_env env, int err, const char *syscall_name, const char *detail);

static char *get_str(napi_env env, napi_value v) {
  char *s;
  return get_string_arg(env, v, &s, 0) == 0 ? s : NULL;
}

// A JS array of strings as a NULL-terminated vector; NULL on a bad argument.
static char **get_strv(napi_env env, napi_value arr) {
  uint32_t n;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **v = calloc(n + 1, sizeof *v);
  if (!v) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || !(v[i] = get_str(env, e))) { free_strv(v); return NULL; }
  }
  return v;
}

// One spawn: its arguments and file actions, made on the JS thread; posix_spawn itself runs on
// the JS thread (spawnDetached) or on a libuv pool thread (spawnDetachedAsync). With
// CLONE_VFORK the calling thread is suspended until the child has exec'd, which on a busy
// machine is milliseconds of waiting for a CPU: the pool thread waits instead of the event loop.
typedef struct {
  char *path, *cwd;
  char **argv, **envp;
  uint32_t nfds;
  int rd[16], wr[16];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int actions_ready;
  pid_t pid;
  int err;
  const char *err_syscall;
  // spawnDetachedAsync's netns: the child starts in the network namespace bound at this file
  // (made there first when netns_create).
  char *netns;
  int netns_create;
  napi_async_work work;
  napi_deferred deferred;
} spawn_req;

static void spawn_req_free(spawn_req *r) {
  if (r->actions_ready) {
    posix_spawn_file_actions_destroy(&r->fa);
    posix_spawnattr_destroy(&r->attr);
  }
  free(r->path);
  free(r->cwd);
  free(r->netns);
  free_strv(r->argv);
  free_strv(r->envp);
  free(r);
}

// Reads (path, argv, envp, cwd, fds), makes the pipes and the file actions. NULL with a JS
// exception pending on a bad argument or a failed pipe2.
static spawn_req *spawn_req_new(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 7;
  napi_value a[7];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  spawn_req *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->path = get_str(env, a[0]);
  r->argv = get_strv(env, a[1]);
  r->envp = get_strv(env, a[2]);
  r->cwd = get_str(env, a[3]);
  int bad_netns = argc >= 6 && get_string_arg(env, a[5], &r->netns, 1) < 0;
  bool create = false;
  if (argc >= 7) napi_get_value_bool(env, a[6], &create);
  r->netns_create = create;
  napi_get_array_length(env, a[4], &r->nfds);
  if (bad_netns || !r->path || !r->argv || !r->envp || !r->cwd || r->nfds > 16) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_type_error(env, NULL, usage);
    spawn_req_free(r);
    return NULL;
  }
  posix_spawn_file_actions_init(&r->fa);
  posix_spawnattr_init(&r->attr);
  r->actions_ready = 1;
  for (uint32_t i = 0; i < r->nfds; i++) {
    napi_value e;
    int32_t fd = -1;
    napi_get_element(env, a[4], i, &e);
    napi_get_value_int32(env, e, &fd);
    r->rd[i] = r->wr[i] = -1;
    if (fd == -2 || fd == -3) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) < 0) {
        int err = errno;
        for (uint32_t j = 0; j < i; j++) { if (r->rd[j] >= 0) close(r->rd[j]); if (r->wr[j] >= 0) close(r->wr[j]); }
        throw_errno(env, err, "pipe2", NULL);
        spawn_req_free(r);
        return NULL;
      }
      // -2: the child writes (p[1]), we read; -3: the child reads (p[0]), we write. rd[i] is
      // our end, wr[i] the child's (closed once spawned).
      r->rd[i] = fd == -2 ? p[0] : p[1];
      r->wr[i] = fd == -2 ? p[1] : p[0];
      posix_spawn_file_actions_adddup2(&r->fa, r->wr[i], (int)i); // the copy is not close-on-exec
    } else if (fd < 0) {
      posix_spawn_file_actions_addopen(&r->fa, (int)i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    } else {
      posix_spawn_file_actions_adddup2(&r->fa, fd, (int)i);
    }
  }
  posix_spawn_file_actions_addchdir_np(&r->fa, r->cwd);
  // Node ignores SIGPIPE and blocks nothing the child needs: defaults and an empty mask, as
  // child_process gives its children.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&r->attr, &all);
  posix_spawnattr_setsigmask(&r->attr, &none);
  posix_spawnattr_setflags(&r->attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  return r;
}

// posix_spawn, then our copies of the pipes' write ends are closed (and the read ends too on
// a failure). Touches no JS value: safe on a pool thread.
static void spawn_req_run(spawn_req *r) {
  r->err = posix_spawn(&r->pid, r->path, &r->fa, &r->attr, r->argv, r->envp);
  if (r->err) r->err_syscall = "posix_spawn";
  for (uint32_t i = 0; i < r->nfds; i++) {
    if (r->wr[i] >= 0) close(r->wr[i]);
    if (r->err != 0 && r->rd[i] >= 0) close(r->rd[i]);
  }
}

// [pid, read end of each pipe slot or -1...], or the errno error (returned in *error).
static napi_value spawn_req_result(napi_env env, spawn_req *r, napi_value *error) {
  napi_value result = NULL;
  *error = NULL;
  if (r->err != 0) {
    *error = make_errno_error(env, r->err, r->err_syscall ? r->err_syscall : "posix_spawn", r->netns && strcmp(r->err_syscall, "posix_spawn") ? r->netns : r->path);
    return NULL;
  }
  napi_value v;
  napi_create_array_with_length(env, r->nfds + 1, &result);
  napi_create_int32(env, r->pid, &v);
  napi_set_element(env, result, 0, v);
  for (uint32_t i = 0; i < r->nfds; i++) {
    napi_create_int32(env, r->rd[i], &v);
    napi_set_element(env, result, i + 1, v);
  }
  return result;
}

napi_value berth_spawn_detached(napi_env env, napi_callback_info info) {
  spawn_req *r = spawn_req_new(env, info, "spawnDetached(path, argv, envp, cwd, fds)");
  if (!r) return NULL;
  if (r->netns) {
    // The JS thread must not change namespaces: only the async form takes one.
    napi_throw_type_error(env, NULL, "spawnDetached takes no netns (spawnDetachedAsync does)");
    spawn_req_free(r);
    return NULL;
  }
  spawn_req_run(r);
  napi_value error;
  napi_value result = spawn_req_result(env, r, &error);
  if (error) napi_throw(env, error);
  spawn_req_free(r);
  return result;
}

// On a thread of its own (namespaces are per thread: the pool thread's must stay the
// daemon's): joins or makes the network namespace, then spawns; the child inherits it.
static void *spawn_in_netns(void *data) {
  spawn_req *r = data;
  int fail = 0;
  if (r->netns_create) {
    // What `unshare --net=FILE` does: a new namespace, bound at the (existing, empty) file.
    if (unshare(CLONE_NEWNET) < 0) fail = errno, r->err_syscall = "unshare";
    else if (mount("/proc/thread-self/ns/net", r->netns, NULL, MS_BIND, NULL) < 0) fail = errno, r->err_syscall = "mount";
  } else {
    int fd = open(r->netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) fail = errno, r->err_syscall = fd < 0 ? "open" : "setns";
    if (fd >= 0) close(fd);
  }
  if (!fail) {
    spawn_req_run(r);
    return NULL;
  }
  r->err = fail;
  for (uint32_t i = 0; i < r->nfds; i++) {
    if (r->wr[i] >= 0) close(r->wr[i]);
    if (r->rd[i] >= 0) close(r->rd[i]);
  }
  return NULL;
}

static void spawn_async_execute(napi_env env, void *data) {
  (void)env;
  spawn_req *r = data;
  if (!r->netns) {
    spawn_req_run(r);
    return;
  }
  pthread_t t;
  int err = pthread_create(&t, NULL, spawn_in_netns, r);
  if (err) {
    r->err = err;
    r->err_syscall = "pthread_create";
    for (uint32_t i = 0; i < r->nfds; i++) {
      if (r->wr[i] >= 0) close(r->wr[i]);
      if (r->rd[i] >= 0) close(r->rd[i]);
    }
    return;
  }
  pthread_join(t, NULL);
}

static void spawn_async_complete(napi_env env, napi_status status, void *data) {
  spawn_req *r = data;
  napi_value error = NULL;
  napi_value result = status == napi_ok ? spawn_req_result(env, r, &error) : NULL;
  if (status != napi_ok) napi_create_string_utf8(env, "spawnDetachedAsync was cancelled", NAPI_AUTO_LENGTH, &error);
  if (error) napi_reject_deferred(env, r->deferred, error);
  else napi_resolve_deferred(env, r->deferred, result);
  napi_delete_async_work(env, r->work);
  spawn_req_free(r);
}

// spawnDetachedAsync(path, argv, envp, cwd, fds, netns?, createNetns?): spawnDetached on a pool
// thread; a promise of the same array. The parent fds named in `fds` must stay open until it
// settles. With netns, the child starts in the network namespace bound at that file (made and
// bound there first with createNetns), as `nsenter --net=` / `unshare --net=` would start it.
napi_value berth_spawn_detached_async(napi_env env, napi_callback_info info) {
  spawn_req *r = spawn_req_new(env, info, "spawnDetachedAsync(path, argv, envp, cwd, fds, netns?, createNetns?)");
  if (!r) return NULL;
  napi_value promise, name;
  napi_create_promise(env, &r->deferred, &promise);
  napi_create_string_utf8(env, "berth:spawn", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, spawn_async_execute, spawn_async_complete, r, &r->work) != napi_ok
      || napi_queue_async_work(env, r->work) != napi_ok) {
    // Not queued: spawn here instead, the promise settles the same way.
    spawn_req_run(r);
    spawn_async_complete(env, napi_ok, r);
  }
  return promise;
}

// waitpidNohang(pid): the exit status once `pid` (a spawnDetached child) has exited and is
// reaped, -1 while it runs, -2 when it is no child of ours.
napi_value berth_waitpid_nohang(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  int32_t pid;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, a[0], &pid) != napi_ok) {
    napi_throw_type_error(env, NULL, "waitpidNohang(pid)");
    return NULL;
  }
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  int32_t out = r == 0 ? -1 : r < 0 ? -2 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  napi_value v;
  napi_create_int32(env, out, &v);
  return v;
}

// sealedCopy(path): a memfd holding a copy of the executable at `path`, sealed against any
// change (F_SEAL_SEAL|SHRINK|GROW|WRITE), close-on-exec. runc and crun re-execute themselves
// from such a copy on every call (the CVE-2019-5736 guard) unless /proc/self/exe already is
// one: run from this copy (/proc/<our pid>/fd/<fd>), they skip the copy and the second exec.
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
napi_value berth_sealed_copy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  char *path = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || !(path = get_str(env, a[0]))) {
    if (!path) napi_throw_type_error(env, NULL, "sealedCopy(path)");
    return NULL;
  }
  napi_value result = NULL;
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) { throw_errno(env, errno, "open", path); free(path); return NULL; }
  int fd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  struct stat st;
  int err = 0;
  const char *what = "memfd_create";
  if (fd < 0) err = errno;
  else if (fstat(in, &st) < 0) { err = errno; what = "fstat"; }
  else {
    off_t off = 0;
    while (off < st.st_size) {
      ssize_t n = sendfile(fd, in, &off, (size_t)(st.st_size - off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) { err = n < 0 ? errno : EIO; what = "sendfile"; break; }
    }
    if (!err && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) { err = errno; what = "fcntl"; }
  }
  close(in);
  if (err) {
    if (fd >= 0) close(fd);
    throw_errno(env, err, what, path);
  } else {
    napi_create_int32(env, fd, &result);
  }
  free(path);
  return result;
}
