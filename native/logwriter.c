/*
 * berth-logwriter: the writer of one container's rotated log.
 *
 * conmon writes the container's output as k8s-file lines ("TIME STREAM P|F TEXT\n") into a FIFO
 * that this program creates; it appends them to <dir>/<stem>.<gen>.log and starts the next
 * generation before a record that would take the current file past max-size, so no file grows
 * past max-size except a file holding one longer record alone (conmon's records are at most a
 * pipe read, 8 KiB, long). Files are only ever created and
 * deleted, never renamed: a reader that holds generation g knows g is complete once g+1 exists.
 * <dir>/<stem>.log is a symlink to the current generation.
 *
 *   berth-logwriter FIFO LOG MAX-SIZE MAX-FILE      (LOG is <dir>/<stem>.log, or <dir>/<stem>)
 *
 * Generations older than the last MAX-FILE are deleted, except those a reader still needs:
 * berthd writes "<pid> <gen>\n" to <LOG>.pin while a reader opens the files or follows, and
 * generations >= gen are kept while that pid lives (berthd deletes nothing itself; a pin of a
 * dead pid is ignored). After conmon's exit it waits for the pin to go (a minute at most).
 *
 * It outlives berthd, as conmon does: it holds only the FIFO's read end, so it sees end of file
 * when conmon (the only writer) exits, and exits once the FIFO is drained. A slow disk blocks
 * conmon's write, and so the container's, as with Docker; memory stays one buffer.
 *
 * When all is written it removes the FIFO (berthd waits for that before it reports the exit, as
 * Docker closes a container's log before it marks it stopped).
 *
 * Ready protocol: once the FIFO and the log are open it writes one byte on fd 1 and closes fd 1
 * and 2 (berthd starts conmon only then); on a setup failure it prints why on fd 2, exits 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int dfd = -1;          /* the log directory */
static int out = -1;          /* the current generation */
/* Sized so that every name made from them fits NAME_MAX (the base name is checked to fit). */
static char stem[NAME_MAX - 36];
static char link_name[NAME_MAX - 32];
static char pin_name[NAME_MAX - 24];
static long long max_size;    /* 0: never rotate */
static unsigned long long max_file = 1;
static unsigned long long gen, oldest;
static long long cur_size;

static void die(const char *what)
{
	fprintf(stderr, "berth-logwriter: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void gen_name(char *buf, size_t n, unsigned long long g)
{
	snprintf(buf, n, "%s.%llu.log", stem, g);
}

/* The generation in a file name, or 0. */
static unsigned long long parse_gen(const char *name)
{
	size_t sl = strlen(stem);
	if (strncmp(name, stem, sl) != 0 || name[sl] != '.')
		return 0;
	const char *p = name + sl + 1;
	char *end;
	if (*p < '0' || *p > '9')
		return 0;
	unsigned long long g = strtoull(p, &end, 10);
	return strcmp(end, ".log") == 0 ? g : 0;
}

static void write_all(const char *p, size_t n)
{
	while (out >= 0 && n > 0) {
		ssize_t w = write(out, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* disk full or gone: the line is lost, the container goes on */
		}
		p += w;
		n -= (size_t)w;
		cur_size += w;
	}
}

static void update_link(void)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 8];
	gen_name(name, sizeof name, gen);
	snprintf(tmp, sizeof tmp, "%s.tmp", link_name);
	unlinkat(dfd, tmp, 0);
	if (symlinkat(name, dfd, tmp) == 0 && renameat(dfd, tmp, dfd, link_name) != 0)
		unlinkat(dfd, tmp, 0);
}

/* The generation berthd's followers still need, or ULLONG_MAX when none is pinned. */
static unsigned long long pinned(void)
{
	char buf[64];
	int fd = openat(dfd, pin_name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ULLONG_MAX;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0; /* being written: keep everything this time */
	buf[n] = 0;
	long pid;
	unsigned long long g;
	if (sscanf(buf, "%ld %llu", &pid, &g) != 2 || pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return ULLONG_MAX; /* berthd died: nobody follows */
	return g;
}

/* Deletes the generations past max-file that no follower needs; returns whether some are left. */
static int cleanup(int ignore_pin)
{
	unsigned long long keep_from = gen >= max_file ? gen - max_file + 1 : 1;
	unsigned long long limit = keep_from;
	if (!ignore_pin && oldest < keep_from) {
		unsigned long long p = pinned();
		if (p < limit)
			limit = p;
	}
	char name[NAME_MAX + 1];
	for (; oldest < limit; oldest++) {
		gen_name(name, sizeof name, oldest);
		unlinkat(dfd, name, 0);
	}
	return oldest < keep_from;
}

/* At start a failure is fatal (berthd fails the start); later the records are dropped until the
 * next rotation tries again (a full disk must not stop the container). */
static void open_gen(int append, int fatal)
{
	char name[NAME_MAX + 1];
	gen_name(name, sizeof name, gen);
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0640);
	cur_size = 0;
	if (out < 0) {
		if (fatal)
			die(name);
		return;
	}
	struct stat st;
	cur_size = fstat(out, &st) == 0 ? st.st_size : 0;
	if (append)
		lseek(out, 0, SEEK_END);
	update_link();
}

static int rotate(void)
{
	if (out >= 0)
		close(out);
	gen++;
	/* The oldest goes before the next is made: never more than max-file files. */
	int pending = cleanup(0);
	open_gen(0, 0);
	return pending;
}

/* Continue after the newest generation on disk (a restarted container appends, as Docker's). */
static void scan(void)
{
	DIR *d = fdopendir(dup(dfd));
	if (!d)
		die("opendir");
	struct dirent *e;
	gen = 0;
	oldest = ULLONG_MAX;
	while ((e = readdir(d))) {
		unsigned long long g = parse_gen(e->d_name);
		if (!g)
			continue;
		if (g > gen)
			gen = g;
		if (g < oldest)
			oldest = g;
	}
	closedir(d);
	if (!gen)
		gen = oldest = 1;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: berth-logwriter FIFO LOG MAX-SIZE MAX-FILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	max_size = atoll(argv[3]);
	max_file = strtoull(argv[4], NULL, 10);
	if (max_file < 1)
		max_file = 1;

	char dirbuf[PATH_MAX];
	snprintf(dirbuf, sizeof dirbuf, "%s", argv[2]);
	char *slash = strrchr(dirbuf, '/');
	const char *base = slash ? slash + 1 : dirbuf;
	size_t bl = strlen(base);
	if (bl < 1 || bl >= sizeof link_name) {
		fprintf(stderr, "berth-logwriter: the log's file name is too long\n");
		return 2;
	}
	size_t sl = bl > 4 && strcmp(base + bl - 4, ".log") == 0 ? bl - 4 : bl;
	if (sl >= sizeof stem) {
		fprintf(stderr, "berth-logwriter: the log's file name is too long\n");
		return 2;
	}
	memcpy(link_name, base, bl + 1);
	memcpy(stem, base, sl);
	memcpy(pin_name, base, bl);
	memcpy(pin_name + bl, ".pin", 5);
	if (slash)
		*slash = 0;
	dfd = open(slash ? (dirbuf[0] ? dirbuf : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die("open log directory");
	scan();
	open_gen(1, 1);
	int pending = cleanup(0);

	unlink(argv[1]);
	if (mkfifo(argv[1], 0600) != 0)
		die("mkfifo");
	/* Non-blocking open: no writer yet. poll() reports no POLLHUP until a first writer has
	 * come and gone (Linux), and read() ends at 0 only after that. */
	int fifo = open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0)
		die("open fifo");
	if (write(1, "\n", 1) != 1)
		die("ready");
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}

	static char buf[64 * 1024];
	size_t len = 0;
	int midline = 0; /* the buffer filled without a newline: the rest of that line follows */
	for (;;) {
		struct pollfd p = { .fd = fifo, .events = POLLIN };
		int r = poll(&p, 1, pending ? 200 : -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (r == 0) {
			pending = cleanup(0);
			continue;
		}
		ssize_t n = read(fifo, buf + len, sizeof buf - len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (n == 0)
			break; /* conmon exited and the FIFO is drained */
		len += (size_t)n;

		size_t off = 0, batch = 0; /* buf[batch, off) goes to the current file */
		for (;;) {
			char *nl = memchr(buf + off, '\n', len - off);
			if (!nl)
				break;
			size_t line = (size_t)(nl - (buf + off)) + 1;
			if (!midline && max_size > 0 && cur_size + (long long)(off - batch) > 0 &&
			    cur_size + (long long)(off - batch + line) > max_size) {
				write_all(buf + batch, off - batch);
				batch = off;
				pending = rotate();
			}
			midline = 0;
			off += line;
		}
		write_all(buf + batch, off - batch);
		if (off == 0 && len == sizeof buf) {
			/* One line longer than the buffer: it goes out in pieces, to this file. */
			write_all(buf, len);
			off = len;
			midline = 1;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
	}
	if (len)
		write_all(buf, len); /* a last record cut short: kept as it is */
	if (out >= 0)
		close(out);
	/* The FIFO gone says "all written": berthd reports the container's exit only then. */
	unlink(argv[1]);
	/* Followers of a stopped container finish quickly; wait for them, a minute at most. */
	for (int i = 0; pending && i < 300; i++) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		pending = cleanup(0);
	}
	cleanup(1);
	return 0;
}
