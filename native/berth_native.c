// berth_native: the few syscalls Node lacks.
//
//  - SOCK_SEQPACKET unix sockets (conmon's attach socket): connect, packet reads driven by a
//    uv_poll_t on the main loop (never blocks the loop or the threadpool), non-blocking send,
//    shutdown, close; whether the listening side has accepted the connection (sock_diag).
//  - mount(2), umount2(2), setns(2), openat2(2).
//  - mknod(2), mkfifo(3), [l]setxattr(2), [l]listxattr(2), [l]getxattr(2) for the layer store.
//
// Errors are thrown as Error objects with .code (e.g. "ENOENT"), .errno and .syscall, like Node's.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <node_api.h>
#include <uv.h>

#define CHECK(call)                                                                                \
  do {                                                                                             \
    napi_status status_ = (call);                                                                  \
    if (status_ != napi_ok) {                                                                      \
      napi_throw_error(env, NULL, "napi call failed: " #call);                                    \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

static const char *errno_name(int err) {
  const char *n = strerrorname_np(err);
  return n ? n : "EUNKNOWN";
}

// Not static: spawn.c rejects its promises with it.
napi_value make_errno_error(napi_env env, int err, const char *syscall_name, const char *detail) {
  char msg[PATH_MAX + 128];
  if (detail)
    snprintf(msg, sizeof msg, "%s %s: %s (%s)", syscall_name, detail, strerror(err), errno_name(err));
  else
    snprintf(msg, sizeof msg, "%s: %s (%s)", syscall_name, strerror(err), errno_name(err));
  napi_value code, message, error, errnum, sc;
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  return error;
}

// Not static: idmap.c throws the same errors.
void throw_errno(napi_env env, int err, const char *syscall_name, const char *detail) {
  napi_throw(env, make_errno_error(env, err, syscall_name, detail));
}

// Reads a string argument into a malloc'd buffer; null/undefined gives *out = NULL.
// Not static: spawn.c reads its arguments with it.
int get_string_arg(napi_env env, napi_value v, char **out, int nullable) {
  napi_valuetype t;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (nullable && (t == napi_null || t == napi_undefined)) return 0;
  if (t != napi_string) {
    napi_throw_type_error(env, NULL, "expected a string argument");
    return -1;
  }
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -1;
  char *s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, NULL, "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {  // embedded NUL
    free(s);
    napi_throw_type_error(env, NULL, "string argument contains a NUL byte");
    return -1;
  }
  *out = s;
  return 0;
}

// Not static: fsbatch.c reads its numbers with it.
int get_int_arg(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    napi_throw_type_error(env, NULL, "expected a number argument");
    return -1;
  }
  return napi_get_value_int64(env, v, out) == napi_ok ? 0 : -1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* ------------------------------------------------------------------------------------------- */
/* SOCK_SEQPACKET                                                                               */

// seqpacketConnect(path): fd. Non-blocking, close-on-exec. Paths longer than sun_path are
// reached through /proc/self/fd/<dirfd>/<basename>.
static napi_value seqpacket_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "seqpacketConnect(path)");
    return NULL;
  }
  char *path;
  if (get_string_arg(env, argv[0], &path, 0) < 0) return NULL;

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  int dirfd = -1;
  if (strlen(path) < sizeof(addr.sun_path)) {
    memcpy(addr.sun_path, path, strlen(path) + 1);
  } else {
    char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
      free(path);
      throw_errno(env, ENAMETOOLONG, "connect", NULL);
      return NULL;
    }
    *slash = '\0';
    dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    *slash = '/';
    if (dirfd < 0) {
      int err = errno;
      throw_errno(env, err, "connect", path);
      free(path);
      return NULL;
    }
    int n = snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, slash + 1);
    if (n < 0 || (size_t)n >= sizeof addr.sun_path) {
      close(dirfd);
      throw_errno(env, ENAMETOOLONG, "connect", path);
      free(path);
      return NULL;
    }
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    if (dirfd >= 0) close(dirfd);
    throw_errno(env, err, "socket", NULL);
    free(path);
    return NULL;
  }
  int r;
  do {
    r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  } while (r < 0 && errno == EINTR);
  int err = errno;
  if (dirfd >= 0) close(dirfd);
  if (r < 0) {
    close(fd);
    throw_errno(env, err, "connect", path);
    free(path);
    return NULL;
  }
  free(path);
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

enum { EV_DATA = 1, EV_EOF = 2, EV_WRITABLE = 3, EV_ERROR = 4 };

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb_ref;
  napi_ref self_ref;
  napi_async_context actx;
  int fd;
  int events;      // current uv_poll interest
  int read_eof;    // no more reads
  int paused;      // reading stopped by the caller (backpressure)
  int closed;      // spClose was called
  int poll_closed; // uv_close finished (or poll never initialised)
  int finalized;   // JS object was collected
} sp_handle;

static void sp_free_if_done(sp_handle *h) {
  if (h->poll_closed && h->finalized) free(h);
}

static void sp_on_close(uv_handle_t *handle) {
  sp_handle *h = (sp_handle *)handle->data;
  h->poll_closed = 1;
  sp_free_if_done(h);
}

static void sp_finalize(napi_env env, void *data, void *hint) {
  sp_handle *h = (sp_handle *)data;
  h->finalized = 1;
  if (!h->closed) {
    // Only reachable at environment teardown (the object is strongly referenced while open).
    h->closed = 1;
    if (h->fd >= 0) close(h->fd);
    h->fd = -1;
    return;  // leak h: the loop may be gone, the poll handle cannot be closed safely.
  }
  sp_free_if_done(h);
}

static void sp_poll_cb(uv_poll_t *poll, int status, int events);

static void sp_update_poll(sp_handle *h, int events) {
  if (h->closed) return;
  if (events == h->events) return;
  h->events = events;
  if (events == 0)
    uv_poll_stop(&h->poll);
  else
    uv_poll_start(&h->poll, events, sp_poll_cb);
}

// Calls the JS callback (type, payload). Returns 0, or -1 if the handle was closed meanwhile.
static int sp_emit(sp_handle *h, int type, napi_value payload_or_null, int have_payload) {
  napi_env env = h->env;
  napi_value cb, recv, argv[2], result;
  if (napi_get_reference_value(env, h->cb_ref, &cb) != napi_ok || cb == NULL) return -1;
  // napi_make_callback needs an object as receiver (undefined throws a TypeError).
  if (h->self_ref == NULL || napi_get_reference_value(env, h->self_ref, &recv) != napi_ok || recv == NULL)
    napi_get_global(env, &recv);
  napi_create_int32(env, type, &argv[0]);
  if (have_payload)
    argv[1] = payload_or_null;
  else
    napi_get_undefined(env, &argv[1]);
  napi_status st = napi_make_callback(env, h->actx, recv, cb, 2, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  return h->closed ? -1 : 0;
}

#define SP_BUF_SIZE 65536
#define SP_MAX_PACKETS_PER_WAKEUP 64

static void sp_poll_cb(uv_poll_t *poll, int status, int events) {
  sp_handle *h = (sp_handle *)poll->data;
  if (h->closed) return;
  napi_env env = h->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  if (status < 0) {
    // libuv reports POLLERR as UV_EBADF; the socket's pending error says what it was (a listener
    // that closed with us still in its backlog leaves ECONNRESET, an end for the reader).
    int err = -status;  // libuv errors are -errno on Linux
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (status == UV_EBADF && getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr != 0) err = soerr;
    napi_value e;
    napi_create_int32(env, err, &e);
    sp_update_poll(h, 0);
    sp_emit(h, EV_ERROR, e, 1);
    goto out;
  }

  if ((events & (UV_READABLE | UV_DISCONNECT)) && !h->read_eof) {
    static char buf[SP_BUF_SIZE];
    for (int i = 0; i < SP_MAX_PACKETS_PER_WAKEUP && !h->paused && !h->closed; i++) {
      ssize_t n = recv(h->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        int err = errno;
        napi_value e;
        napi_create_int32(env, err, &e);
        h->read_eof = 1;
        sp_update_poll(h, 0);
        sp_emit(h, EV_ERROR, e, 1);
        goto out;
      }
      if (n == 0) {
        h->read_eof = 1;
        sp_update_poll(h, h->events & UV_WRITABLE);
        if (sp_emit(h, EV_EOF, NULL, 0) < 0) goto out;
        break;
      }
      napi_value b;
      void *data;
      if (napi_create_buffer_copy(env, (size_t)n, buf, &data, &b) != napi_ok) break;
      if (sp_emit(h, EV_DATA, b, 1) < 0) goto out;
    }
  }

  if ((events & UV_WRITABLE) && !h->closed && (h->events & UV_WRITABLE)) {
    sp_emit(h, EV_WRITABLE, NULL, 0);
  }
out:
  napi_close_handle_scope(env, scope);
}

static sp_handle *get_handle(napi_env env, napi_value obj) {
  void *p = NULL;
  if (napi_unwrap(env, obj, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a seqpacket handle");
    return NULL;
  }
  return (sp_handle *)p;
}

// seqpacketOpen(fd, onEvent(type, payload)): handle. Starts polling for reads at once.
static napi_value seqpacket_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd;
  if (argc < 2 || get_int_arg(env, argv[0], &fd) < 0) return NULL;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "seqpacketOpen(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  sp_handle *h = calloc(1, sizeof *h);
  if (!h) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  h->env = env;
  h->fd = (int)fd;
  h->poll_closed = 1;
  int r = uv_poll_init(loop, &h->poll, h->fd);
  if (r < 0) {
    free(h);
    throw_errno(env, -r, "uv_poll_init", NULL);
    return NULL;
  }
  h->poll_closed = 0;
  h->poll.data = h;

  napi_value obj, name;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_wrap(env, obj, h, sp_finalize, NULL, NULL));
  CHECK(napi_create_reference(env, argv[1], 1, &h->cb_ref));
  CHECK(napi_create_reference(env, obj, 1, &h->self_ref));
  CHECK(napi_create_string_utf8(env, "berth:seqpacket", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, obj, name, &h->actx));
  sp_update_poll(h, UV_READABLE | UV_DISCONNECT);
  return obj;
}

// seqpacketSend(handle, buffer): bytes sent (one packet), or -errno (e.g. -EAGAIN).
static napi_value seqpacket_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "seqpacketSend(handle, buffer)");
    return NULL;
  }
  sp_handle *h = get_handle(env, argv[0]);
  if (!h) return NULL;
  void *data;
  size_t len;
  bool isbuf;
  CHECK(napi_is_buffer(env, argv[1], &isbuf));
  if (!isbuf) {
    napi_throw_type_error(env, NULL, "expected a Buffer");
    return NULL;
  }
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  ssize_t n;
  if (h->closed) {
    n = -EBADF;
  } else {
    do {
      n = send(h->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) n = -errno;
  }
  napi_value result;
  CHECK(napi_create_int64(env, (int64_t)n, &result));
  return result;
}

// seqpacketWantWrite(handle, bool): emit EV_WRITABLE when the socket can take a packet.
static napi_value seqpacket_want_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sp_handle *h = argc >= 1 ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  bool want = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &want);
  int ev = h->read_eof || h->paused ? 0 : (UV_READABLE | UV_DISCONNECT);
  if (want) ev |= UV_WRITABLE;
  sp_update_poll(h, ev);
  return undefined(env);
}

// seqpacketSetReading(handle, bool): stop or resume reading (backpressure from a slow reader).
static napi_value seqpacket_set_reading(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sp_handle *h = argc >= 1 ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  bool reading = true;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &reading);
  h->paused = !reading;
  int ev = h->read_eof || h->paused ? 0 : (UV_READABLE | UV_DISCONNECT);
  sp_update_poll(h, ev | (h->events & UV_WRITABLE));
  return undefined(env);
}

// seqpacketShutdown(handle, how): how is 0 (SHUT_RD), 1 (SHUT_WR) or 2 (SHUT_RDWR).
static napi_value seqpacket_shutdown(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sp_handle *h = argc >= 1 ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  int64_t how = SHUT_WR;
  if (argc >= 2 && get_int_arg(env, argv[1], &how) < 0) return NULL;
  if (!h->closed && shutdown(h->fd, (int)how) < 0 && errno != ENOTCONN) {
    throw_errno(env, errno, "shutdown", NULL);
    return NULL;
  }
  return undefined(env);
}

// Whether the listener has accept()ed our connection: 1 yes, 0 not yet, -ENOTCONN if the peer
// went away with nothing left for us to read, other -errno if the kernel cannot tell (no
// unix_diag). connect() on a unix socket returns as soon as the connection is queued in the
// listener's backlog; until accept() the server's end has no inode, so sock_diag reports our
// peer's inode as 0 (what `ss -x` shows as "* 0"). The inode is 0 again once the server closed
// its end: data waiting for us then still proves the accept (nothing is sent before it), and a
// shut-down socket without data means gone (a listener closed with us in its backlog resets us).
static int sp_peer_accepted(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return -errno;
  struct {
    struct nlmsghdr nlh;
    struct unix_diag_req req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.req.sdiag_family = AF_UNIX;
  msg.req.udiag_states = ~0U;
  msg.req.udiag_ino = (uint32_t)st.st_ino;
  msg.req.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
  msg.req.udiag_cookie[0] = ~0U;  // INET_DIAG_NOCOOKIE: look up by inode alone
  msg.req.udiag_cookie[1] = ~0U;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do {
    n = sendto(nl, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    close(nl);
    return -err;
  }
  // The kernel answers within sendto(): the reply is already queued, recv never waits.
  long buf[1024];
  do {
    n = recv(nl, buf, sizeof buf, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(nl);
  if (n < 0) return -err;
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (!NLMSG_OK(h, (size_t)n)) return -EPROTO;
  if (h->nlmsg_type == NLMSG_ERROR) {
    struct nlmsgerr *e = NLMSG_DATA(h);
    return e->error < 0 ? e->error : -EPROTO;
  }
  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) return -EPROTO;
  struct unix_diag_msg *m = NLMSG_DATA(h);
  int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *m);
  int have_peer = 0, shut = 0;
  uint32_t peer_ino = 0, rqueue = 0;
  for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
      have_peer = 1;
      peer_ino = *(uint32_t *)RTA_DATA(a);
    } else if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
      rqueue = ((struct unix_diag_rqlen *)RTA_DATA(a))->udiag_rqueue;
    } else if (a->rta_type == UNIX_DIAG_SHUTDOWN && RTA_PAYLOAD(a) >= 1) {
      shut = *(uint8_t *)RTA_DATA(a);
    }
  }
  if (peer_ino != 0 || rqueue > 0) return 1;
  if (!have_peer || shut) return -ENOTCONN;
  return 0;
}

// seqpacketPeerAccepted(handle): 1, 0 or -errno (see sp_peer_accepted).
static napi_value seqpacket_peer_accepted(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sp_handle *h = argc >= 1 ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  int r = h->closed ? -EBADF : sp_peer_accepted(h->fd);
  napi_value result;
  CHECK(napi_create_int32(env, r, &result));
  return result;
}

// seqpacketClose(handle): stops polling and closes the fd. Idempotent.
static napi_value seqpacket_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sp_handle *h = argc >= 1 ? get_handle(env, argv[0]) : NULL;
  if (!h) return NULL;
  if (h->closed) return undefined(env);
  h->closed = 1;
  uv_poll_stop(&h->poll);
  // uv_poll_stop has removed the fd from epoll: it can be closed now.
  int fd = h->fd;
  h->fd = -1;
  uv_close((uv_handle_t *)&h->poll, sp_on_close);
  close(fd);
  napi_async_destroy(env, h->actx);
  napi_delete_reference(env, h->cb_ref);
  h->cb_ref = NULL;
  napi_delete_reference(env, h->self_ref);
  h->self_ref = NULL;
  return undefined(env);
}

/* ------------------------------------------------------------------------------------------- */
/* mount / umount2 / setns / openat2                                                            */

// mount(source|null, target, fstype|null, flags, data|null)
static napi_value do_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
    return NULL;
  }
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  int64_t flags = 0;
  napi_value ret = NULL;
  if (get_string_arg(env, argv[0], &source, 1) < 0) goto done;
  if (get_string_arg(env, argv[1], &target, 0) < 0) goto done;
  if (get_string_arg(env, argv[2], &fstype, 1) < 0) goto done;
  if (get_int_arg(env, argv[3], &flags) < 0) goto done;
  if (get_string_arg(env, argv[4], &data, 1) < 0) goto done;
  if (mount(source, target, fstype, (unsigned long)flags, data) < 0) {
    throw_errno(env, errno, "mount", target);
    goto done;
  }
  ret = undefined(env);
done:
  free(source);
  free(target);
  free(fstype);
  free(data);
  return ret;
}

// umount2(target, flags)
static napi_value do_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "umount2(target, flags)");
    return NULL;
  }
  char *target;
  int64_t flags = 0;
  if (get_string_arg(env, argv[0], &target, 0) < 0) return NULL;
  if (argc >= 2 && get_int_arg(env, argv[1], &flags) < 0) {
    free(target);
    return NULL;
  }
  if (umount2(target, (int)flags) < 0) {
    throw_errno(env, errno, "umount2", target);
    free(target);
    return NULL;
  }
  free(target);
  return undefined(env);
}

// mountAsync(source, target, fstype, flags, data) and umount2Async(target, flags): the same
// calls on a libuv pool thread, promises of undefined. A mount or an unmount is milliseconds
// of kernel work (the namespace lock, an overlay's setup), which the event loop need not wait
// out. Not for calls that depend on the process's cwd (relative paths): the pool thread shares
// it, but it may change meanwhile.
typedef struct {
  int is_mount;
  char *source, *target, *fstype, *data;
  int64_t flags;
  int err;
  napi_async_work work;
  napi_deferred deferred;
} mount_req;

static void mount_req_free(mount_req *r) {
  free(r->source);
  free(r->target);
  free(r->fstype);
  free(r->data);
  free(r);
}

static void mount_execute(napi_env env, void *data) {
  mount_req *r = data;
  int rc = r->is_mount ? mount(r->source, r->target, r->fstype, (unsigned long)r->flags, r->data) : umount2(r->target, (int)r->flags);
  r->err = rc < 0 ? errno : 0;
}

static void mount_complete(napi_env env, napi_status status, void *data) {
  mount_req *r = data;
  if (status != napi_ok) {
    napi_value e;
    napi_create_string_utf8(env, "mount request was cancelled", NAPI_AUTO_LENGTH, &e);
    napi_reject_deferred(env, r->deferred, e);
  } else if (r->err) {
    napi_reject_deferred(env, r->deferred, make_errno_error(env, r->err, r->is_mount ? "mount" : "umount2", r->target));
  } else {
    napi_resolve_deferred(env, r->deferred, undefined(env));
  }
  napi_delete_async_work(env, r->work);
  mount_req_free(r);
}

// A promise settled by `complete` once `execute` has run on the pool (or here, when the work
// cannot be queued). Not static: fsbatch.c queues its batches with it.
napi_value queue_pool_work(napi_env env, const char *name, napi_async_execute_callback execute,
                           napi_async_complete_callback complete, void *data, napi_deferred *deferred, napi_async_work *work) {
  napi_value promise, resource;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  if (napi_create_async_work(env, NULL, resource, execute, complete, data, work) != napi_ok
      || napi_queue_async_work(env, *work) != napi_ok) {
    execute(env, data); // not queued: done here, settled the same way
    complete(env, napi_ok, data);
  }
  return promise;
}

static napi_value queue_mount_req(napi_env env, mount_req *r) {
  return queue_pool_work(env, "berth:mount", mount_execute, mount_complete, r, &r->deferred, &r->work);
}

// Reads mountAsync's (source, target, fstype, flags, data) or umount2Async's (target, flags?)
// and queues the call.
static napi_value mount_async(napi_env env, napi_callback_info info, int is_mount) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < (is_mount ? 5 : 1)) {
    napi_throw_type_error(env, NULL, is_mount ? "mountAsync(source, target, fstype, flags, data)" : "umount2Async(target, flags)");
    return NULL;
  }
  mount_req *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->is_mount = is_mount;
  int bad = is_mount
    ? get_string_arg(env, argv[0], &r->source, 1) < 0 || get_string_arg(env, argv[1], &r->target, 0) < 0
      || get_string_arg(env, argv[2], &r->fstype, 1) < 0 || get_int_arg(env, argv[3], &r->flags) < 0
      || get_string_arg(env, argv[4], &r->data, 1) < 0
    : get_string_arg(env, argv[0], &r->target, 0) < 0 || (argc >= 2 && get_int_arg(env, argv[1], &r->flags) < 0);
  if (bad) {
    mount_req_free(r);
    return NULL;
  }
  return queue_mount_req(env, r);
}

static napi_value do_mount_async(napi_env env, napi_callback_info info) { return mount_async(env, info, 1); }
static napi_value do_umount2_async(napi_env env, napi_callback_info info) { return mount_async(env, info, 0); }

// setns(fd, nstype): for the calling thread (the main JS thread).
static napi_value do_setns(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd, nstype = 0;
  if (argc < 1 || get_int_arg(env, argv[0], &fd) < 0) return NULL;
  if (argc >= 2 && get_int_arg(env, argv[1], &nstype) < 0) return NULL;
  if (setns((int)fd, (int)nstype) < 0) {
    throw_errno(env, errno, "setns", NULL);
    return NULL;
  }
  return undefined(env);
}

// openat2(dirfd, path, flags, mode, resolve): fd. O_CLOEXEC is always added.
static napi_value do_openat2(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "openat2(dirfd, path, flags, mode, resolve)");
    return NULL;
  }
  int64_t dirfd, flags, mode, resolve;
  char *path;
  if (get_int_arg(env, argv[0], &dirfd) < 0) return NULL;
  if (get_string_arg(env, argv[1], &path, 0) < 0) return NULL;
  if (get_int_arg(env, argv[2], &flags) < 0 || get_int_arg(env, argv[3], &mode) < 0 ||
      get_int_arg(env, argv[4], &resolve) < 0) {
    free(path);
    return NULL;
  }
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)flags | O_CLOEXEC;
  // openat2 refuses a mode without O_CREAT or O_TMPFILE (EINVAL). O_TMPFILE includes the
  // O_DIRECTORY bit, so test for all of it, not any of it.
  how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? (uint64_t)mode : 0;
  how.resolve = (uint64_t)resolve;
  long fd;
  do {
    fd = syscall(SYS_openat2, (int)dirfd, path, &how, sizeof how);
  } while (fd < 0 && errno == EINTR);  // EAGAIN (RESOLVE_CACHED or a racing rename) is returned
  if (fd < 0) {
    throw_errno(env, errno, "openat2", path);
    free(path);
    return NULL;
  }
  free(path);
  napi_value result;
  CHECK(napi_create_int32(env, (int)fd, &result));
  return result;
}

/* ------------------------------------------------------------------------------------------- */
/* mknod / mkfifo / xattrs (layer store: whiteouts, device nodes, opaque dirs, capabilities)    */

// mknod(path, mode, major, minor): mode includes the file type (S_IFCHR, S_IFBLK, S_IFIFO,
// S_IFREG). Subject to the umask, like mknod(2).
static napi_value do_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "mknod(path, mode, major, minor)");
    return NULL;
  }
  char *path;
  int64_t mode, maj, min;
  if (get_string_arg(env, argv[0], &path, 0) < 0) return NULL;
  if (get_int_arg(env, argv[1], &mode) < 0 || get_int_arg(env, argv[2], &maj) < 0 ||
      get_int_arg(env, argv[3], &min) < 0) {
    free(path);
    return NULL;
  }
  if (maj < 0 || min < 0 || maj > 0xffffffffLL || min > 0xffffffffLL) {
    free(path);
    napi_throw_range_error(env, NULL, "mknod: major/minor out of range");
    return NULL;
  }
  if (mknod(path, (mode_t)mode, makedev((unsigned int)maj, (unsigned int)min)) < 0) {
    throw_errno(env, errno, "mknod", path);
    free(path);
    return NULL;
  }
  free(path);
  return undefined(env);
}

// mkfifo(path, mode)
static napi_value do_mkfifo(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "mkfifo(path, mode)");
    return NULL;
  }
  char *path;
  int64_t mode;
  if (get_string_arg(env, argv[0], &path, 0) < 0) return NULL;
  if (get_int_arg(env, argv[1], &mode) < 0) {
    free(path);
    return NULL;
  }
  if (mkfifo(path, (mode_t)mode) < 0) {
    throw_errno(env, errno, "mkfifo", path);
    free(path);
    return NULL;
  }
  free(path);
  return undefined(env);
}

// Reads a boolean argument (missing/undefined = def).
static int get_bool_arg(napi_env env, size_t argc, napi_value *argv, size_t i, bool def, bool *out) {
  *out = def;
  if (i >= argc) return 0;
  napi_valuetype t;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_boolean) {
    napi_throw_type_error(env, NULL, "expected a boolean argument");
    return -1;
  }
  return napi_get_value_bool(env, argv[i], out) == napi_ok ? 0 : -1;
}

// setxattr(path, name, value: Buffer, flags, follow): follow=false is lsetxattr (the default
// for the layer store: a symlink's own attributes, never its target's). Values are raw bytes.
static napi_value do_setxattr(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "setxattr(path, name, value, flags, follow)");
    return NULL;
  }
  bool isbuf;
  CHECK(napi_is_buffer(env, argv[2], &isbuf));
  if (!isbuf) {
    napi_throw_type_error(env, NULL, "setxattr: value must be a Buffer");
    return NULL;
  }
  void *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[2], &data, &len));
  int64_t flags = 0;
  if (argc >= 4) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[3], &t));
    if (t != napi_undefined && get_int_arg(env, argv[3], &flags) < 0) return NULL;
  }
  bool follow;
  if (get_bool_arg(env, argc, argv, 4, false, &follow) < 0) return NULL;
  char *path = NULL, *name = NULL;
  napi_value ret = NULL;
  if (get_string_arg(env, argv[0], &path, 0) < 0) goto done;
  if (get_string_arg(env, argv[1], &name, 0) < 0) goto done;
  int r = follow ? setxattr(path, name, data, len, (int)flags) : lsetxattr(path, name, data, len, (int)flags);
  if (r < 0) {
    char detail[PATH_MAX + 64];
    snprintf(detail, sizeof detail, "%s %s", path, name);
    throw_errno(env, errno, follow ? "setxattr" : "lsetxattr", detail);
    goto done;
  }
  ret = undefined(env);
done:
  free(path);
  free(name);
  return ret;
}

// listxattr(path, follow): string[] of attribute names (follow=false is llistxattr).
static napi_value do_listxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "listxattr(path, follow)");
    return NULL;
  }
  bool follow;
  if (get_bool_arg(env, argc, argv, 1, false, &follow) < 0) return NULL;
  char *path;
  if (get_string_arg(env, argv[0], &path, 0) < 0) return NULL;
  const char *sc = follow ? "listxattr" : "llistxattr";
  char stackbuf[1024];
  char *buf = stackbuf;
  ssize_t n;
  // The list can grow between the size query and the read (ERANGE): retry a few times.
  for (int attempt = 0;; attempt++) {
    n = follow ? listxattr(path, buf, buf == stackbuf ? sizeof stackbuf : 0)
               : llistxattr(path, buf, buf == stackbuf ? sizeof stackbuf : 0);
    if (n >= 0 || errno != ERANGE || attempt >= 4) break;
    // Too small: ask for the size, then read into a heap buffer of that size.
    ssize_t need = follow ? listxattr(path, NULL, 0) : llistxattr(path, NULL, 0);
    if (need < 0) { n = need; break; }
    if (buf != stackbuf) free(buf);
    buf = malloc((size_t)need + 1);
    if (!buf) {
      free(path);
      napi_throw_error(env, NULL, "out of memory");
      return NULL;
    }
    n = follow ? listxattr(path, buf, (size_t)need) : llistxattr(path, buf, (size_t)need);
    if (n >= 0 || errno != ERANGE) break;
    free(buf);
    buf = stackbuf;
  }
  if (n < 0) {
    int err = errno;
    if (buf != stackbuf) free(buf);
    throw_errno(env, err, sc, path);
    free(path);
    return NULL;
  }
  free(path);
  napi_value arr;
  if (napi_create_array(env, &arr) != napi_ok) {
    if (buf != stackbuf) free(buf);
    napi_throw_error(env, NULL, "napi_create_array failed");
    return NULL;
  }
  uint32_t idx = 0;
  ssize_t off = 0;
  while (off < n) {
    size_t l = strnlen(buf + off, (size_t)(n - off));
    if (l > 0) {
      napi_value s;
      napi_create_string_utf8(env, buf + off, l, &s);
      napi_set_element(env, arr, idx++, s);
    }
    off += (ssize_t)l + 1;
  }
  if (buf != stackbuf) free(buf);
  return arr;
}

// getxattr(path, name, follow): Buffer (follow=false is lgetxattr).
static napi_value do_getxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "getxattr(path, name, follow)");
    return NULL;
  }
  bool follow;
  if (get_bool_arg(env, argc, argv, 2, false, &follow) < 0) return NULL;
  char *path = NULL, *name = NULL;
  napi_value ret = NULL;
  char stackbuf[4096];
  char *buf = stackbuf;
  size_t cap = sizeof stackbuf;
  ssize_t n;
  if (get_string_arg(env, argv[0], &path, 0) < 0) goto done;
  if (get_string_arg(env, argv[1], &name, 0) < 0) goto done;
  for (int attempt = 0;; attempt++) {
    n = follow ? getxattr(path, name, buf, cap) : lgetxattr(path, name, buf, cap);
    if (n >= 0 || errno != ERANGE || attempt >= 4) break;
    ssize_t need = follow ? getxattr(path, name, NULL, 0) : lgetxattr(path, name, NULL, 0);
    if (need < 0) { n = need; break; }
    if (buf != stackbuf) free(buf);
    cap = (size_t)need + 1;
    buf = malloc(cap);
    if (!buf) {
      buf = stackbuf;
      napi_throw_error(env, NULL, "out of memory");
      goto done;
    }
  }
  if (n < 0) {
    char detail[PATH_MAX + 64];
    snprintf(detail, sizeof detail, "%s %s", path, name);
    throw_errno(env, errno, follow ? "getxattr" : "lgetxattr", detail);
    goto done;
  }
  void *out;
  if (napi_create_buffer_copy(env, (size_t)n, buf, &out, &ret) != napi_ok) {
    ret = NULL;
    napi_throw_error(env, NULL, "napi_create_buffer_copy failed");
  }
done:
  if (buf != stackbuf) free(buf);
  free(path);
  free(name);
  return ret;
}

// Layer extraction (extract.c).
napi_value berth_extract_tar(napi_env env, napi_callback_info info);
napi_value berth_link_fd(napi_env env, napi_callback_info info);
napi_value berth_gzip_file(napi_env env, napi_callback_info info);
napi_value berth_spread_dirs(napi_env env, napi_callback_info info);
napi_value berth_extract_feed(napi_env env, napi_callback_info info);
// Idmapped mounts (idmap.c).
napi_value berth_userns_open(napi_env env, napi_callback_info info);
napi_value berth_idmap_mount(napi_env env, napi_callback_info info);
napi_value berth_userns_netns(napi_env env, napi_callback_info info);
// Shim processes (spawn.c).
napi_value berth_spawn_detached(napi_env env, napi_callback_info info);
napi_value berth_spawn_detached_async(napi_env env, napi_callback_info info);
napi_value berth_waitpid_nohang(napi_env env, napi_callback_info info);
// Seccomp filters compiled as crun compiles them (seccomp.c).
napi_value berth_compile_seccomp(napi_env env, napi_callback_info info);
napi_value berth_sealed_copy(napi_env env, napi_callback_info info);
// Batches of small filesystem calls in one pool job (fsbatch.c).
napi_value berth_remove_trees_async(napi_env env, napi_callback_info info);
napi_value berth_rmdirs_async(napi_env env, napi_callback_info info);
napi_value berth_unmount_held_async(napi_env env, napi_callback_info info);
napi_value berth_read_files_async(napi_env env, napi_callback_info info);
napi_value berth_write_file_atomic_async(napi_env env, napi_callback_info info);
// The spare CLI process taking an invocation from native/launcher.c (spare.c).
napi_value berth_spare_accept(napi_env env, napi_callback_info info);
napi_value berth_spare_receive(napi_env env, napi_callback_info info);
napi_value berth_dup2(napi_env env, napi_callback_info info);
napi_value berth_spare_taken(napi_env env, napi_callback_info info);
napi_value berth_spare_finish(napi_env env, napi_callback_info info);

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"seqpacketConnect", NULL, seqpacket_connect, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketOpen", NULL, seqpacket_open, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketSetReading", NULL, seqpacket_set_reading, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketSend", NULL, seqpacket_send, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketWantWrite", NULL, seqpacket_want_write, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketShutdown", NULL, seqpacket_shutdown, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketClose", NULL, seqpacket_close, NULL, NULL, NULL, napi_default, NULL},
      {"seqpacketPeerAccepted", NULL, seqpacket_peer_accepted, NULL, NULL, NULL, napi_default, NULL},
      {"mount", NULL, do_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount2", NULL, do_umount2, NULL, NULL, NULL, napi_default, NULL},
      {"mountAsync", NULL, do_mount_async, NULL, NULL, NULL, napi_default, NULL},
      {"umount2Async", NULL, do_umount2_async, NULL, NULL, NULL, napi_default, NULL},
      {"setns", NULL, do_setns, NULL, NULL, NULL, napi_default, NULL},
      {"openat2", NULL, do_openat2, NULL, NULL, NULL, napi_default, NULL},
      {"mknod", NULL, do_mknod, NULL, NULL, NULL, napi_default, NULL},
      {"mkfifo", NULL, do_mkfifo, NULL, NULL, NULL, napi_default, NULL},
      {"setxattr", NULL, do_setxattr, NULL, NULL, NULL, napi_default, NULL},
      {"listxattr", NULL, do_listxattr, NULL, NULL, NULL, napi_default, NULL},
      {"getxattr", NULL, do_getxattr, NULL, NULL, NULL, napi_default, NULL},
      {"extractTar", NULL, berth_extract_tar, NULL, NULL, NULL, napi_default, NULL},
      {"linkFd", NULL, berth_link_fd, NULL, NULL, NULL, napi_default, NULL},
      {"gzipFile", NULL, berth_gzip_file, NULL, NULL, NULL, napi_default, NULL},
      {"spreadDirs", NULL, berth_spread_dirs, NULL, NULL, NULL, napi_default, NULL},
      {"extractFeed", NULL, berth_extract_feed, NULL, NULL, NULL, napi_default, NULL},
      {"usernsOpen", NULL, berth_userns_open, NULL, NULL, NULL, napi_default, NULL},
      {"idmapMount", NULL, berth_idmap_mount, NULL, NULL, NULL, napi_default, NULL},
      {"usernsNetns", NULL, berth_userns_netns, NULL, NULL, NULL, napi_default, NULL},
      {"spawnDetached", NULL, berth_spawn_detached, NULL, NULL, NULL, napi_default, NULL},
      {"spawnDetachedAsync", NULL, berth_spawn_detached_async, NULL, NULL, NULL, napi_default, NULL},
      {"waitpidNohang", NULL, berth_waitpid_nohang, NULL, NULL, NULL, napi_default, NULL},
      {"compileSeccomp", NULL, berth_compile_seccomp, NULL, NULL, NULL, napi_default, NULL},
      {"sealedCopy", NULL, berth_sealed_copy, NULL, NULL, NULL, napi_default, NULL},
      {"removeTreesAsync", NULL, berth_remove_trees_async, NULL, NULL, NULL, napi_default, NULL},
      {"rmdirsAsync", NULL, berth_rmdirs_async, NULL, NULL, NULL, napi_default, NULL},
      {"unmountHeldAsync", NULL, berth_unmount_held_async, NULL, NULL, NULL, napi_default, NULL},
      {"readFilesAsync", NULL, berth_read_files_async, NULL, NULL, NULL, napi_default, NULL},
      {"writeFileAtomicAsync", NULL, berth_write_file_atomic_async, NULL, NULL, NULL, napi_default, NULL},
      {"spareAccept", NULL, berth_spare_accept, NULL, NULL, NULL, napi_default, NULL},
      {"spareReceive", NULL, berth_spare_receive, NULL, NULL, NULL, napi_default, NULL},
      {"dup2", NULL, berth_dup2, NULL, NULL, NULL, napi_default, NULL},
      {"spareTaken", NULL, berth_spare_taken, NULL, NULL, NULL, napi_default, NULL},
      {"spareFinish", NULL, berth_spare_finish, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
