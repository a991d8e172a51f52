/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapshot_hold: test helper that opens sockets and keeps them open until
 * SIGTERM/SIGINT, so that a snapshot can find them.
 *
 *   snapshot_hold tcp-server ADDR PORT COUNT   accept COUNT connections
 *   snapshot_hold tcp-client ADDR PORT COUNT [SEND]
 *                                     open COUNT connections, SEND bytes on each
 *   snapshot_hold udp ADDR PORT                 bind one UDP socket (PORT 0: any)
 *
 * Prints key=value lines on stdout, flushed: "listening port=" (server),
 * "conn lport= rport=" per connection (only the first 16), "udp port=",
 * then "ready pid= count=" once everything is open. With SNAPSHOT_HOLD_FORK=1
 * in the environment it then forks, so that parent and child share every
 * socket, and prints "child pid=" (the child must be signalled too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* More would not fit the fd limit of a test machine. */
#define HOLD_COUNT_MAX 100000ul
#define HOLD_SEND_MAX (1ul << 20)
/* Connections printed one per line; the rest only counted. */
#define HOLD_PRINT_MAX 16ul

/* Exit at once from the handler: there is nothing to tidy (the kernel
 * closes the sockets), and a flag checked before pause() could be missed. */
static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_addr(const char *addr, unsigned long port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

static unsigned port_of(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		     : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (r < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Room for count sockets plus stdio. */
static void raise_fd_limit(unsigned long count)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < count + 64) {
		rl.rlim_cur = count + 64 < rl.rlim_max ? count + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int send_all(int fd, unsigned long n)
{
	char buf[4096];

	memset(buf, 'H', sizeof(buf));
	while (n > 0) {
		ssize_t w = send(fd, buf, n < sizeof(buf) ? n : sizeof(buf), MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		n -= (unsigned long)w;
	}
	return 0;
}

static void print_conn(unsigned long i, int fd)
{
	if (i < HOLD_PRINT_MAX)
		printf("conn lport=%u rport=%u\n", port_of(fd, 0), port_of(fd, 1));
}

static int run_server(const struct sockaddr_storage *ss, socklen_t len, unsigned long count)
{
	int one = 1, lfd, fd;
	unsigned long i;

	lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (const struct sockaddr *)ss, len) < 0 || listen(lfd, 4096) < 0)
		return -errno;
	printf("listening port=%u\n", port_of(lfd, 0));
	fflush(stdout);
	for (i = 0; i < count; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return -errno;
		print_conn(i, fd);
	}
	return 0;
}

static int run_client(const struct sockaddr_storage *ss, socklen_t len, unsigned long count,
		      unsigned long send_bytes)
{
	unsigned long i;
	int fd, r;

	for (i = 0; i < count; i++) {
		fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (const struct sockaddr *)ss, len) < 0)
			return -errno;
		r = send_all(fd, send_bytes);
		if (r < 0)
			return r;
		print_conn(i, fd);
	}
	return 0;
}

static int run_udp(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)ss, len) < 0)
		return -errno;
	printf("udp port=%u\n", port_of(fd, 0));
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long port = 0, count = 1, send_bytes = 0;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *mode;
	int r;

	if (argc < 4 || parse_ulong(argv[3], 65535, &port) < 0 ||
	    (argc > 4 && parse_ulong(argv[4], HOLD_COUNT_MAX, &count) < 0) ||
	    (argc > 5 && parse_ulong(argv[5], HOLD_SEND_MAX, &send_bytes) < 0) ||
	    parse_addr(argv[2], port, &ss, &len) < 0) {
		fprintf(stderr, "usage: snapshot_hold tcp-server ADDR PORT COUNT\n"
				"       snapshot_hold tcp-client ADDR PORT COUNT [SEND]\n"
				"       snapshot_hold udp ADDR PORT\n");
		return 2;
	}
	mode = argv[1];
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	raise_fd_limit(count);
	if (strcmp(mode, "tcp-server") == 0)
		r = run_server(&ss, len, count);
	else if (strcmp(mode, "tcp-client") == 0)
		r = run_client(&ss, len, count, send_bytes);
	else if (strcmp(mode, "udp") == 0)
		r = run_udp(&ss, len);
	else
		r = -EINVAL;
	if (r < 0) {
		fprintf(stderr, "snapshot_hold %s: %s\n", mode, strerror(-r));
		return 1;
	}
	printf("ready pid=%d count=%lu\n", (int)getpid(), count);
	fflush(stdout);
	if (getenv("SNAPSHOT_HOLD_FORK") && strcmp(getenv("SNAPSHOT_HOLD_FORK"), "1") == 0) {
		pid_t child = fork();

		if (child < 0) {
			fprintf(stderr, "snapshot_hold: fork: %s\n", strerror(errno));
			return 1;
		}
		if (child > 0) {
			printf("child pid=%d\n", (int)child);
			fflush(stdout);
		}
	}
	/* Everything stays open until a signal ends us. */
	for (;;)
		pause();
	return 0;
}
