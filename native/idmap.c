// Idmapped mounts for user-namespace remapping (daemon.json userns-remap): a container's
// rootfs is the overlay mount seen through a mapping, so container root (host uid 100000, say)
// reads and writes files stored as uid 0, and no layer is ever chowned.
//
//   usernsOpen(uidMap, gidMap) -> fd   a user namespace carrying the mappings ("0 100000 65536\n")
//   idmapMount(src, dst, usernsFd)     open_tree(src, OPEN_TREE_CLONE) + mount_setattr(IDMAP) +
//                                      move_mount onto dst
//
// The namespace comes from a child cloned with CLONE_NEWUSER that does nothing but wait: its
// parent (this process, root on the host) writes the child's uid_map and gid_map, opens
// /proc/<child>/ns/user and lets the child go. The fd keeps the namespace alive.
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void throw_errno(napi_env env, int err, const char *syscall_name, const char *detail);

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = strlen(text);
  ssize_t w = write(fd, text, n);
  int e = errno;
  close(fd);
  if (w != (ssize_t)n) {
    errno = w < 0 ? e : EIO;
    return -1;
  }
  return 0;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok && len < size - 1 ? 0 : -1;
}

// Writes the child's uid_map and gid_map; 0, or the errno with *what naming the file.
static int write_maps(long pid, const char *uid_map, const char *gid_map, const char **what) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/uid_map", pid);
  if (write_file(path, uid_map) < 0) {
    *what = "uid_map";
    return errno;
  }
  snprintf(path, sizeof path, "/proc/%ld/gid_map", pid);
  if (write_file(path, gid_map) < 0) {
    *what = "gid_map";
    return errno;
  }
  return 0;
}

// The child: blocks on the pipe until the parent closes its end, then exits. Only raw
// syscalls here: it is a copy of a multithreaded process.
static void wait_and_exit(int rfd, int wfd) {
  char c;
  syscall(SYS_close, wfd);
  while (syscall(SYS_read, rfd, &c, 1) < 0 && errno == EINTR) {}
  syscall(SYS_exit_group, 0);
}

napi_value berth_userns_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char uid_map[4096], gid_map[4096];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      get_string(env, argv[0], uid_map, sizeof uid_map) < 0 || get_string(env, argv[1], gid_map, sizeof gid_map) < 0) {
    napi_throw_type_error(env, NULL, "usernsOpen(uidMap, gidMap)");
    return NULL;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    throw_errno(env, errno, "pipe2", NULL);
    return NULL;
  }
  // fork-like clone (no new stack) into a new user namespace.
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    throw_errno(env, e, "clone", "CLONE_NEWUSER");
    return NULL;
  }
  if (pid == 0) wait_and_exit(p[0], p[1]);
  close(p[0]);
  char path[64];
  int err = 0, fd = -1;
  const char *what = NULL;
  err = write_maps(pid, uid_map, gid_map, &what);
  if (!err) {
    snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { err = errno; what = "ns/user"; }
  }
  close(p[1]);
  while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {}
  if (err) {
    throw_errno(env, err, "usernsOpen", what);
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

napi_value berth_idmap_mount(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char src[PATH_MAX], dst[PATH_MAX];
  int32_t userns;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      get_string(env, argv[0], src, sizeof src) < 0 || get_string(env, argv[1], dst, sizeof dst) < 0 ||
      napi_get_value_int32(env, argv[2], &userns) != napi_ok) {
    napi_throw_type_error(env, NULL, "idmapMount(src, dst, usernsFd)");
    return NULL;
  }
  int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) {
    throw_errno(env, errno, "open_tree", src);
    return NULL;
  }
  struct mount_attr attr = {0};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)userns;
  if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int e = errno;
    close(tree);
    throw_errno(env, e, "mount_setattr", src);
    return NULL;
  }
  if (move_mount(tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    int e = errno;
    close(tree);
    throw_errno(env, e, "move_mount", dst);
    return NULL;
  }
  close(tree);
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// usernsNetns(uidMap, gidMap, usernsFile, netnsFile): a user namespace with the mappings and a
// network namespace owned by it (loopback up), bound at the two (existing) files. A container
// that joins both can later be entered by `runc exec`, which joins the user namespace first and
// then needs its privilege over the network namespace.
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static void netns_child(int go_r, int go_w, int done_r, int done_w) {
  char c;
  syscall(SYS_close, go_w);
  syscall(SYS_close, done_r);
  while (syscall(SYS_read, go_r, &c, 1) < 0 && errno == EINTR) {}
  char status = 0;
  if (syscall(SYS_unshare, CLONE_NEWNET) < 0) status = 1;
  if (!status) {
    long s = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (s < 0 || syscall(SYS_ioctl, s, SIOCGIFFLAGS, &ifr) < 0) status = 2;
    ifr.ifr_flags |= IFF_UP;
    if (!status && syscall(SYS_ioctl, s, SIOCSIFFLAGS, &ifr) < 0) status = 2;
  }
  syscall(SYS_write, done_w, &status, 1);
  wait_and_exit(go_r, done_w);
}

napi_value berth_userns_netns(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char uid_map[4096], gid_map[4096], user_file[PATH_MAX], net_file[PATH_MAX];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      get_string(env, argv[0], uid_map, sizeof uid_map) < 0 || get_string(env, argv[1], gid_map, sizeof gid_map) < 0 ||
      get_string(env, argv[2], user_file, sizeof user_file) < 0 || get_string(env, argv[3], net_file, sizeof net_file) < 0) {
    napi_throw_type_error(env, NULL, "usernsNetns(uidMap, gidMap, usernsFile, netnsFile)");
    return NULL;
  }
  int go[2], done[2];
  if (pipe2(go, O_CLOEXEC) < 0) {
    throw_errno(env, errno, "pipe2", NULL);
    return NULL;
  }
  if (pipe2(done, O_CLOEXEC) < 0) {
    int e = errno;
    close(go[0]);
    close(go[1]);
    throw_errno(env, e, "pipe2", NULL);
    return NULL;
  }
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    int e = errno;
    close(go[0]); close(go[1]); close(done[0]); close(done[1]);
    throw_errno(env, e, "clone", "CLONE_NEWUSER");
    return NULL;
  }
  if (pid == 0) netns_child(go[0], go[1], done[0], done[1]);
  close(go[0]);
  close(done[1]);
  char path[64];
  int err = 0;
  const char *what = NULL;
  err = write_maps(pid, uid_map, gid_map, &what);
  if (!err) {
    char status = 9;
    if (write(go[1], "g", 1) != 1 || read(done[0], &status, 1) != 1 || status != 0) {
      err = status == 1 ? EPERM : EIO;
      what = status == 2 ? "loopback up" : "unshare(CLONE_NEWNET)";
    }
  }
  if (!err) {
    snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
    if (mount(path, user_file, NULL, MS_BIND, NULL) < 0) { err = errno; what = user_file; }
  }
  if (!err) {
    snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
    if (mount(path, net_file, NULL, MS_BIND, NULL) < 0) {
      err = errno;
      what = net_file;
      umount2(user_file, MNT_DETACH);
    }
  }
  close(go[1]);
  close(done[0]);
  while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {}
  if (err) {
    throw_errno(env, err, "usernsNetns", what);
    return NULL;
  }
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
