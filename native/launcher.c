// berth-launch: bin/berth's way to a warm CLI. Node takes ~40 ms to start, twice a whole
// `docker ps`, so the CLI keeps spares: node processes that have loaded the CLI bundle and wait,
// each on a listening unix socket, for one invocation (src/cli/spare.ts). This program hands
// one its argv, environ, cwd, umask and fds 0-2, forwards signals to it, waits for its exit
// status and exits with it. Each spare runs one command only, so no state leaks between
// commands. Whenever anything is not as expected it runs the CLI cold instead, as bin/berth
// always did: `node MAIN ARGS...`.
//
// usage: berth-launch MAIN ARGS...   (MAIN: dist/cli/launch.js; berth.js and spare.js beside it)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_POOL 4
#define PROTOCOL "berth-spare-2"
#define ACK_MS 5000

extern char **environ;
static int debug;
static char **cold_argv;
static struct timespec t0;

static double elapsed_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6;
}

// The cold path: exactly what bin/berth ran before there was a launcher.
static void __attribute__((noreturn)) cold(const char *why) {
  if (debug) fprintf(stderr, "berth-launch: cold (%s) at %.1f ms\n", why, elapsed_ms());
  execvp("node", cold_argv);
  fprintf(stderr, "berth: cannot run node: %s\n", strerror(errno));
  exit(127);
}

/* ---- where the spares live ----------------------------------------------------------------- */

// A directory of our own: made 0700, and refused unless it is a real directory (no symlink),
// owned by us and closed to everyone else, so no other user can reach or plant a socket in it.
static int spare_dir(char *out, size_t n) {
  const char *d = getenv("BERTH_CLI_SPARE_DIR");
  if (d && *d) snprintf(out, n, "%s", d);
  else {
    const char *t = getenv("TMPDIR");
    snprintf(out, n, "%s/berth-cli-%u", t && *t ? t : "/tmp", (unsigned)geteuid());
  }
  mkdir(out, 0700);
  struct stat st;
  return lstat(out, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) == 0700 ? 0 : -1;
}

// What the kernel confines this process with beyond its uid: capabilities, no_new_privs,
// seccomp (the lines of /proc/self/status) and the LSM label. A caller confined more than a
// spare must not have its command run by that spare: this goes into the hash (callers alike
// share spares) and into the request (the spare compares it with its own).
static void confinement(char *out, size_t n) {
  char line[512];
  size_t len = 0;
  out[0] = 0;
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp", 7))
      len += snprintf(out + len, len < n ? n - len : 0, "%s", line);
  if (f) fclose(f);
  int fd = open("/proc/self/attr/current", O_RDONLY);
  if (fd >= 0 && len < n - 1) {
    ssize_t r = read(fd, out + len, n - 1 - len);
    if (r > 0) len += r;
  }
  if (fd >= 0) close(fd);
  out[len < n ? len : n - 1] = 0;
}
static char confined[2048];

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  for (const unsigned char *c = p; n--; c++) h = (h ^ *c) * 0x100000001b3ULL;
  return h;
}

// A spare is for one install and one kind of caller: the bundle's real path and mtime, the node
// binary, and what a process takes in at its start and cannot change later (the locale, for
// ICU; the fd limit). Two checkouts, a rebuilt bundle or another node never share spares.
static uint64_t install_hash(const char *bundle, const char *node) {
  struct stat st;
  uint64_t h = 0xcbf29ce484222325ULL;
  if (stat(bundle, &st) < 0) return 0;
  h = fnv(h, bundle, strlen(bundle) + 1);
  h = fnv(h, &st.st_mtim, sizeof st.st_mtim);
  h = fnv(h, &st.st_size, sizeof st.st_size);
  h = fnv(h, node, strlen(node) + 1);
  h = fnv(h, confined, strlen(confined));
  for (char **e = environ; *e; e++)
    if (!strncmp(*e, "LANG=", 5) || !strncmp(*e, "LC_", 3)) h = fnv(h, *e, strlen(*e) + 1);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  h = fnv(h, &rl, sizeof rl);
  // the credentials and priority a process keeps from its parent: `sg`, `newgrp` or `nice`
  // callers get spares of their own
  gid_t groups[256];
  int ng = getgroups(256, groups);
  uid_t ids[2] = {geteuid(), getegid()};
  int nice = getpriority(PRIO_PROCESS, 0);
  h = fnv(h, ids, sizeof ids);
  h = fnv(h, &nice, sizeof nice);
  return ng > 0 ? fnv(h, groups, ng * sizeof *groups) : h;
}

// node as execvp would find it, made absolute (the spare is started with execve).
static int find_node(char *out) {
  const char *path = getenv("PATH");
  char cand[PATH_MAX];
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    size_t len = strcspn(p, ":");
    snprintf(cand, sizeof cand, "%.*s/node", (int)len, len ? p : ".");
    if (access(cand, X_OK) == 0 && realpath(cand, out)) return 0;
    p += len + (p[len] == ':');
  }
  return -1;
}

static int sock_addr(struct sockaddr_un *a, const char *path) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a->sun_path) return -1;
  strcpy(a->sun_path, path);
  return 0;
}

/* ---- making a spare ------------------------------------------------------------------------ */

// The listening socket is made here, before the spare exists, under a temporary name renamed
// over the slot's name (atomic): a launcher that comes while the spare boots connects at once
// and waits in the backlog for the rest of that boot, never more than a cold start. The spare
// gets it as fd 3 and its inode (to notice when its name is taken over) as an argument.
static void spawn_spare(const char *path, const char *node, const char *script) {
  char tmp[sizeof(((struct sockaddr_un *)0)->sun_path) + 32];
  struct sockaddr_un a;
  struct stat st;
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  if (sock_addr(&a, tmp) < 0) return;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  unlink(tmp);
  mode_t old = umask(077);  // 0600; the spare adds u+x when it is ready to take a call
  int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 16) == 0 && lstat(tmp, &st) == 0 && rename(tmp, path) == 0;
  umask(old);
  if (!ok) {
    unlink(tmp);
    close(fd);
    return;
  }
  char ino[32];
  snprintf(ino, sizeof ino, "%llu", (unsigned long long)st.st_ino);
  // What a spare may take in at its start (it gets the caller's environ when taken): the locale
  // is in the hash, the rest is the spare's own.
  char *envp[64];
  int n = 0;
  for (char **e = environ; *e && n < 62; e++)
    if (!strncmp(*e, "PATH=", 5) || !strncmp(*e, "LANG=", 5) || !strncmp(*e, "LC_", 3) || !strncmp(*e, "BERTH_NATIVE=", 13) ||
        !strncmp(*e, "BERTH_CLI_SPARE_IDLE_MS=", 24))
      envp[n++] = *e;
  envp[n] = NULL;
  char *argv[] = {"node", (char *)script, (char *)path, ino, NULL};
  pid_t pid = fork();
  if (pid == 0) {
    // A session of its own and a second fork: no shell waits on it, a Ctrl-C in the caller's
    // terminal does not reach it, and (not a session leader) it can never gain a terminal.
    setsid();
    if (fork() != 0) _exit(0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || chdir("/") < 0) _exit(1);
    for (int i = 0; i < 3; i++) dup2(null, i);
    if (fd == 3) fcntl(3, F_SETFD, 0);
    else dup2(fd, 3);
    if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
      for (int i = 4; i < 1024; i++) close(i);
    execve(node, argv, envp);
    _exit(127);
  }
  close(fd);
  if (pid > 0) waitpid(pid, NULL, 0);
}

// Every empty slot of the pool gets a spare.
static void fill_pool(char (*slot)[sizeof(((struct sockaddr_un *)0)->sun_path)], const int *state, int pool, const char *node, const char *script) {
  for (int i = 0; i < pool; i++)
    if (state[i] == 0) spawn_spare(slot[i], node, script);
}

/* ---- handing over -------------------------------------------------------------------------- */

static volatile sig_atomic_t worker, forwarded;

static void on_signal(int sig) {
  if (sig == SIGTSTP) {  // the worker stops, then we do (SIGCONT continues both)
    if (worker) kill(worker, SIGSTOP);
    raise(SIGSTOP);
    return;
  }
  if (worker) kill(worker, sig);
  if (sig != SIGCONT && sig != SIGWINCH) forwarded = sig;
}

static const int FORWARD[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGTSTP, SIGCONT};

// What libuv changes on the caller's terminal (raw mode, O_NONBLOCK): a cold Node puts back at
// its exit what it saw at its start; a spare saw /dev/null, so this does it for it.
static struct termios saved_tio[3];
static int saved_fl[3], is_tty[3];

static void save_terminal(void) {
  for (int i = 0; i < 3; i++) {
    saved_fl[i] = fcntl(i, F_GETFL);
    is_tty[i] = tcgetattr(i, &saved_tio[i]) == 0;
  }
}

static void restore_terminal(void) {
  signal(SIGTTOU, SIG_IGN);  // in the background, tcsetattr would stop us
  for (int i = 0; i < 3; i++) {
    if (is_tty[i]) tcsetattr(i, TCSANOW, &saved_tio[i]);
    if (saved_fl[i] >= 0) fcntl(i, F_SETFL, saved_fl[i]);
  }
}

struct buf { char *p; size_t len, cap; };

static void put(struct buf *b, const char *s) {
  size_t n = strlen(s) + 1;
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    if (!(b->p = realloc(b->p, b->cap))) cold("out of memory");
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

// The request: NUL-terminated strings after a u32 length; fds 0-2 ride on it. The spare refuses
// a caller in other namespaces or under another root (its cwd, its /proc and its network would
// not be the caller's), or confined otherwise than itself.
static int send_request(int s, int argc, char **argv, const char *cwd) {
  static const char *NS[] = {"mnt", "pid", "net", "user", "uts", "ipc", "cgroup"};
  struct buf b = {0};
  char tmp[PATH_MAX], link[64];
  struct stat root;
  put(&b, "...");  // 4 bytes: the length, filled in below
  put(&b, PROTOCOL);
  put(&b, cwd);
  mode_t mask = umask(0);
  umask(mask);
  snprintf(tmp, sizeof tmp, "%o", (unsigned)mask);
  put(&b, tmp);
  for (size_t i = 0; i < sizeof NS / sizeof *NS; i++) {
    snprintf(link, sizeof link, "/proc/self/ns/%s", NS[i]);
    ssize_t n = readlink(link, tmp, sizeof tmp - 1);
    tmp[n > 0 ? n : 0] = 0;
    put(&b, tmp);
  }
  if (stat("/", &root) < 0) return -1;
  snprintf(tmp, sizeof tmp, "%llu:%llu", (unsigned long long)root.st_dev, (unsigned long long)root.st_ino);
  put(&b, tmp);
  put(&b, confined);
  snprintf(tmp, sizeof tmp, "%d", argc);
  put(&b, tmp);
  for (int i = 0; i < argc; i++) put(&b, argv[i]);
  for (char **e = environ; *e; e++) put(&b, *e);
  uint32_t len = b.len - sizeof len;
  memcpy(b.p, &len, sizeof len);
  int fds[3] = {0, 1, 2};
  union { struct cmsghdr h; char space[CMSG_SPACE(sizeof fds)]; } ctl;
  memset(&ctl, 0, sizeof ctl);
  size_t off = 0;
  while (off < len + sizeof len) {
    struct iovec iov = {.iov_base = b.p + off, .iov_len = len + sizeof len - off};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (off == 0) {  // the fds with the first byte
      msg.msg_control = &ctl;
      msg.msg_controllen = sizeof ctl;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof fds);
      memcpy(CMSG_DATA(c), fds, sizeof fds);
    }
    ssize_t n = sendmsg(s, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    off += n;
  }
  free(b.p);
  return 0;
}

// One int32 from the spare: 0 when the whole of it came, -1 at EOF or an error. Signals
// interrupt the wait (no SA_RESTART) and are forwarded by their handler.
static int read_int(int s, int32_t *v) {
  size_t got = 0;
  while (got < sizeof *v) {
    ssize_t n = read(s, (char *)v + got, sizeof *v - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += n;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: berth-launch MAIN ARGS...\n");
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  cold_argv = malloc(sizeof(char *) * (argc + 1));
  cold_argv[0] = "node";
  for (int i = 1; i <= argc; i++) cold_argv[i] = argv[i];
  const char *dbg = getenv("BERTH_CLI_SPARE_DEBUG");
  debug = dbg && *dbg && strcmp(dbg, "0");
  const char *on = getenv("BERTH_CLI_SPARE");
  if (on && !strcmp(on, "0")) cold("BERTH_CLI_SPARE=0");
  // Node reads most NODE_* at its start (the spare started without them); these few it reads
  // when used, or never in the CLI (NODE_TEST_CONTEXT: node --test's children, the test suite)
  static const char *LATE[] = {"NODE_TEST_CONTEXT=", "NODE_ENV=", "NODE_TLS_REJECT_UNAUTHORIZED=", "NODE_PATH=", NULL};
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "NODE_", 5) && strncmp(*e, "UV_", 3)) continue;
    const char **l = LATE;
    while (*l && strncmp(*e, *l, strlen(*l))) l++;
    if (!*l) cold("NODE_* or UV_* set");
  }
  for (int i = 0; i < 3; i++)
    if (fcntl(i, F_GETFL) < 0) cold("fd 0-2 closed");
  // a background job: a cold CLI reading or changing the terminal gets SIGTTIN/SIGTTOU, a spare
  // (in a session of its own) would not
  for (int i = 0; i < 3; i++) {
    pid_t fg = tcgetpgrp(i);
    if (fg >= 0 && fg != getpgrp()) cold("not in the terminal's foreground");
  }
  char cwd[PATH_MAX];
  struct stat here, there;
  if (!getcwd(cwd, sizeof cwd) || stat(".", &here) < 0 || stat(cwd, &there) < 0 || here.st_dev != there.st_dev || here.st_ino != there.st_ino)
    cold("cwd unreachable by its path");

  char dir[PATH_MAX], node[PATH_MAX], bundle[PATH_MAX], script[PATH_MAX], base[PATH_MAX];
  if (spare_dir(dir, sizeof dir) < 0) cold("spare directory unsafe");
  if (find_node(node) < 0) cold("no node on PATH");
  char *slash = strrchr(argv[1], '/');
  snprintf(base, sizeof base, "%.*s/berth.js", slash ? (int)(slash - argv[1]) : 1, slash ? argv[1] : ".");
  if (!realpath(base, bundle)) cold("no bundle");
  snprintf(script, sizeof script, "%.*s/spare.js", (int)(strrchr(bundle, '/') - bundle), bundle);
  if (access(script, R_OK) < 0) cold("no spare.js");
  confinement(confined, sizeof confined);
  uint64_t hash = install_hash(bundle, node);
  const char *ps = getenv("BERTH_CLI_SPARE_POOL");
  int pool = ps ? atoi(ps) : 2;
  if (pool < 1) pool = 1;
  if (pool > MAX_POOL) pool = MAX_POOL;
  // Refill after the command by default: a spare booting at the take competes with the command
  // for the CPU (measured on 2 cores: bench/cli.ts, docs/status.md); BERTH_CLI_SPARE_REFILL=take
  const char *refill = getenv("BERTH_CLI_SPARE_REFILL");
  int refill_at_end = !(refill && !strcmp(refill, "take"));

  // The slots: ready spares first (u+x on the socket), then ones still booting.
  struct sockaddr_un a;
  char slot[MAX_POOL][sizeof a.sun_path];
  int state[MAX_POOL];  // 0: none, 1: booting, 2: ready
  for (int i = 0; i < pool; i++) {
    struct stat st;
    // room for spawn_spare's temporary name too
    if ((size_t)snprintf(slot[i], sizeof slot[i], "%s/%016llx-%d.sock", dir, (unsigned long long)hash, i) + 16 >= sizeof slot[i])
      cold("spare directory path too long");
    state[i] = lstat(slot[i], &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid() ? 1 + !!(st.st_mode & S_IXUSR) : 0;
  }
  int s = -1, taken = -1;
  for (int want = 2; want >= 1 && s < 0; want--)
    for (int i = 0; i < pool && s < 0; i++) {
      if (state[i] != want) continue;
      sock_addr(&a, slot[i]);
      int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct ucred cred;
      socklen_t clen = sizeof cred;
      if (c >= 0 && connect(c, (struct sockaddr *)&a, sizeof a) == 0 && getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.uid == geteuid()) {
        s = c;
        taken = i;
      } else {
        if (c >= 0) close(c);
        state[i] = 0;  // a spare that is gone (or not ours) left its name: replace it
      }
    }
  if (s < 0) {
    fill_pool(slot, state, pool, node, script);
    cold("no spare yet");
  }

  // Signals wait (blocked) until the worker's pid is known, then go to it.
  enum { NFORWARD = sizeof FORWARD / sizeof *FORWARD };
  sigset_t block, old;
  sigemptyset(&block);
  struct sigaction sa, before[NFORWARD];
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: read_int sees EINTR
  for (int i = 0; i < NFORWARD; i++) {
    sigaction(FORWARD[i], &sa, &before[i]);
    sigaddset(&block, FORWARD[i]);
  }
  sigprocmask(SIG_BLOCK, &block, &old);
  save_terminal();
  int32_t pid = 0, code;
  // A spare still booting answers within its boot; one that does not in ACK_MS is stuck
  // (stopped, swapped out): cold, and it ends when it finds us gone.
  struct pollfd pf = {.fd = s, .events = POLLIN};
  int acked = send_request(s, argc - 2, argv + 2, cwd) == 0 && poll(&pf, 1, ACK_MS) == 1 && read_int(s, &pid) == 0 && pid > 0;
  if (!acked) {
    // refused (another namespace) or raced by a second caller into a spare that took the first:
    // nothing of ours ran there
    close(s);
    // a refusing spare is gone: the next caller of its namespaces makes the next one
    if (pid != -1) spawn_spare(slot[taken], node, script);
    // a signal that came meanwhile acts as it would have without us (a Ctrl-C ends the call)
    for (int i = 0; i < NFORWARD; i++) sigaction(FORWARD[i], &before[i], NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    cold(pid < 0 ? "spare refused the caller" : "spare went away");
  }
  worker = pid;
  if (debug) fprintf(stderr, "berth-launch: spare %d at %.1f ms\n", (int)pid, elapsed_ms());
  sigprocmask(SIG_SETMASK, &old, NULL);
  // The slot taken gets a new spare (and any found empty): after the command, or at the take
  // (it boots while the command runs).
  state[taken] = 0;
  if (!refill_at_end) fill_pool(slot, state, pool, node, script);
  int got = read_int(s, &code) == 0;
  restore_terminal();
  if (refill_at_end) fill_pool(slot, state, pool, node, script);
  if (debug) fprintf(stderr, "berth-launch: spare %d %s at %.1f ms\n", (int)pid, got ? "exited" : "ended", elapsed_ms());
  if (got) return code;
  if (forwarded) {  // it died of the signal we passed on: so do we, as a cold CLI would have
    signal(forwarded, SIG_DFL);
    raise(forwarded);
  }
  fprintf(stderr, "berth: the CLI process %d ended without an exit status (killed?)\n", (int)pid);
  return 1;
}
