// The spare CLI process's side of native/launcher.c (src/cli/spare.ts): taking one invocation
// from a listening unix socket, with the caller's fds 0-2 passed as SCM_RIGHTS. All blocking and
// on the main thread on purpose: a spare has nothing else to do until it is taken, and nothing
// of this may make a libuv handle (it would keep the taken process alive, and process.stdin/
// stdout/stderr must not be made before the caller's fds are in place).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>

void throw_errno(napi_env env, int err, const char *syscall_name, const char *detail);
int get_int_arg(napi_env env, napi_value v, int64_t *out);

#define MAX_REQUEST (8 << 20)  // argv + environ: far above ARG_MAX's usual 2 MiB
#define MAX_FDS 3

static int int_args(napi_env env, napi_callback_info info, size_t n, int64_t *out) {
  size_t argc = n;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    if (get_int_arg(env, argv[i], &out[i]) < 0) return -1;
  return 0;
}

static napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

// Waits up to `ms` for POLLIN on fd: 1 ready, 0 timed out, -1 error (errno).
static int wait_readable(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  for (;;) {
    int r = poll(&p, 1, ms);
    if (r >= 0 || errno != EINTR) return r;
  }
}

// spareAccept(listenFd, timeoutMs): the connected fd (close-on-exec), or -1 when no caller came.
napi_value berth_spare_accept(napi_env env, napi_callback_info info) {
  int64_t a[2];
  if (int_args(env, info, 2, a) < 0) return NULL;
  int r = wait_readable((int)a[0], (int)a[1]);
  if (r < 0) return throw_errno(env, errno, "poll", NULL), NULL;
  if (r == 0) return int_value(env, -1);
  int c = accept4((int)a[0], NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) {
    if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR) return int_value(env, -1);
    return throw_errno(env, errno, "accept4", NULL), NULL;
  }
  return int_value(env, c);
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++) close(fds[i]);
}

// spareReceive(fd, timeoutMs): { uid, gid, pid, fds, data } of one request: a native-endian u32
// length, then that many bytes; the fds ride on the first part (SCM_RIGHTS). The peer's
// credentials are the kernel's (SO_PEERCRED), not anything the peer says.
napi_value berth_spare_receive(napi_env env, napi_callback_info info) {
  int64_t a[2];
  if (int_args(env, info, 2, a) < 0) return NULL;
  int fd = (int)a[0], ms = (int)a[1];
  struct ucred cred;
  socklen_t clen = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) return throw_errno(env, errno, "getsockopt", "SO_PEERCRED"), NULL;

  int fds[MAX_FDS], nfds = 0;
  uint32_t want = 0;
  char *buf = NULL;
  size_t have = 0, need = sizeof want;
  char head[sizeof want];
  while (have < need) {
    int r = wait_readable(fd, ms);
    if (r <= 0) {
      close_all(fds, nfds);
      free(buf);
      return throw_errno(env, r == 0 ? ETIMEDOUT : errno, "poll", "spare request"), NULL;
    }
    char *dst = have < sizeof want ? head + have : buf + (have - sizeof want);
    size_t room = have < sizeof want ? sizeof want - have : need - have;
    struct iovec iov = {.iov_base = dst, .iov_len = room};
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int) * MAX_FDS)]; } ctl;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int *got = (int *)CMSG_DATA(c);
      for (int i = 0; i < k; i++) {
        if (nfds < MAX_FDS) fds[nfds++] = got[i];
        else close(got[i]);
      }
    }
    if (n <= 0 || (msg.msg_flags & MSG_CTRUNC)) {
      close_all(fds, nfds);
      free(buf);
      return throw_errno(env, n < 0 ? errno : (n == 0 ? ECONNRESET : EMSGSIZE), "recvmsg", "spare request"), NULL;
    }
    have += n;
    if (have == sizeof want && !buf) {
      memcpy(&want, head, sizeof want);
      if (want > MAX_REQUEST || !(buf = malloc(want ? want : 1))) {
        close_all(fds, nfds);
        return throw_errno(env, E2BIG, "recvmsg", "spare request"), NULL;
      }
      need += want;
    }
  }
  napi_value out, list, data;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "uid", int_value(env, cred.uid));
  napi_set_named_property(env, out, "gid", int_value(env, cred.gid));
  napi_set_named_property(env, out, "pid", int_value(env, cred.pid));
  napi_create_array_with_length(env, nfds, &list);
  for (int i = 0; i < nfds; i++) napi_set_element(env, list, i, int_value(env, fds[i]));
  napi_set_named_property(env, out, "fds", list);
  napi_create_buffer_copy(env, want, buf, NULL, &data);
  napi_set_named_property(env, out, "data", data);
  free(buf);
  return out;
}

// dup2(from, to): `to`, without close-on-exec (what a process's fds 0-2 must be).
napi_value berth_dup2(napi_env env, napi_callback_info info) {
  int64_t a[2];
  if (int_args(env, info, 2, a) < 0) return NULL;
  int r;
  do r = dup2((int)a[0], (int)a[1]); while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, errno, "dup2", NULL), NULL;
  return int_value(env, r);
}

static void *watch(void *arg) {
  int fd = (int)(intptr_t)arg;
  struct pollfd p = {.fd = fd, .events = POLLRDHUP};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
  // The launcher is gone (SIGKILL: it forwards every other signal): the process it stood for
  // ends as a cold CLI would have, at once and without cleanup.
  kill(getpid(), SIGKILL);
  return NULL;
}

static int status_fd = -1;

// The exit status to the launcher, then /dev/null on fds 0-2: the caller's pipes see their end
// (and Node's exit-time reset of its stdio, from what it saw at its start, cannot touch the
// caller's files). Once only.
static void send_status(int code) {
  if (status_fd < 0) return;
  int32_t v = code;
  while (write(status_fd, &v, sizeof v) < 0 && errno == EINTR) {}
  status_fd = -1;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; i < 3 && null >= 0; i++) dup2(null, i);
  if (null > 2) close(null);
}

// At exit(3), with its status: for the exits that JS does not see end to end (an uncaught
// exception's text is printed after 'exit'), so the status comes after it.
static void at_exit(int code, void *arg) { send_status(code); }

// spareFinish(code): sends the status now (from 'exit', before the code cache is written).
napi_value berth_spare_finish(napi_env env, napi_callback_info info) {
  int64_t a[1];
  if (int_args(env, info, 1, a) < 0) return NULL;
  send_status((int)a[0]);
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// spareTaken(fd): the status goes to `fd` at exit (or by spareFinish), and this process is
// killed when the peer of `fd` closes it: a detached thread, not a libuv handle, so it keeps
// nothing alive.
napi_value berth_spare_taken(napi_env env, napi_callback_info info) {
  int64_t a[1];
  if (int_args(env, info, 1, a) < 0) return NULL;
  status_fd = (int)a[0];
  on_exit(at_exit, NULL);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 << 10);
  int r = pthread_create(&t, &attr, watch, (void *)(intptr_t)a[0]);
  pthread_attr_destroy(&attr);
  if (r != 0) return throw_errno(env, r, "pthread_create", NULL), NULL;
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
