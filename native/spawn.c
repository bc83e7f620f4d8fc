// spawnDetached(path, argv, envp, cwd, fds): posix_spawn of a process in a session of its own,
// for the shims (conmon), which double-fork away at once. Node's child_process forks the whole
// daemon (its page tables copied, then undone by the exec) and waits on the event loop for the
// child's exec; glibc's posix_spawn uses CLONE_VM|CLONE_VFORK, so the cost no longer grows with
// the daemon's memory. `fds` says what each child fd 0.. is: a parent fd to copy, -1 for
// /dev/null, -2 for the write end of a new pipe (the parent gets its read end), -3 for the
// read end of a new pipe (the parent gets its write end). All other fds are close-on-exec in
// Node. Returns [pid, the parent's end of each pipe slot or -1...]; the caller must reap the
// PID (waitpidNohang below).
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

napi_value berth_spawn_detached(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "spawnDetached(path, argv, envp, cwd, fds)");
    return NULL;
  }
  char *path = get_str(env, a[0]);
  char **argv = get_strv(env, a[1]);
  char **envp = get_strv(env, a[2]);
  char *cwd = get_str(env, a[3]);
  uint32_t nfds = 0;
  napi_get_array_length(env, a[4], &nfds);
  napi_value result = NULL;
  if (!path || !argv || !envp || !cwd || nfds > 16) {
    napi_throw_type_error(env, NULL, "spawnDetached(path, argv, envp, cwd, fds)");
    goto out;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  int mine[16], theirs[16];
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value e;
    int32_t fd = -1;
    napi_get_element(env, a[4], i, &e);
    napi_get_value_int32(env, e, &fd);
    mine[i] = theirs[i] = -1;
    if (fd == -2 || fd == -3) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) < 0) {
        int err = errno;
        for (uint32_t j = 0; j < i; j++) { if (mine[j] >= 0) close(mine[j]); if (theirs[j] >= 0) close(theirs[j]); }
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        throw_errno(env, err, "pipe2", NULL);
        goto out;
      }
      int child_reads = fd == -3;
      mine[i] = p[child_reads ? 1 : 0];
      theirs[i] = p[child_reads ? 0 : 1];
      posix_spawn_file_actions_adddup2(&fa, theirs[i], (int)i); // the copy is not close-on-exec
    } else if (fd < 0) {
      posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    } else {
      posix_spawn_file_actions_adddup2(&fa, fd, (int)i);
    }
  }
  posix_spawn_file_actions_addchdir_np(&fa, cwd);
  // Node ignores SIGPIPE and blocks nothing the child needs: defaults and an empty mask, as
  // child_process gives its children.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int err = posix_spawn(&pid, path, &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  for (uint32_t i = 0; i < nfds; i++) {
    if (theirs[i] >= 0) close(theirs[i]);
    if (err != 0 && mine[i] >= 0) close(mine[i]);
  }
  if (err != 0) {
    throw_errno(env, err, "posix_spawn", path);
    goto out;
  }
  napi_value v;
  napi_create_array_with_length(env, nfds + 1, &result);
  napi_create_int32(env, pid, &v);
  napi_set_element(env, result, 0, v);
  for (uint32_t i = 0; i < nfds; i++) {
    napi_create_int32(env, mine[i], &v);
    napi_set_element(env, result, i + 1, v);
  }
out:
  free(path);
  free(cwd);
  free_strv(argv);
  free_strv(envp);
  return result;
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
