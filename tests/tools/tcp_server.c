/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcp_server: test helper with exact control over one side of a TCP
 * connection. Listens, then a worker thread (so tid != pid) accepts
 * --count connections one after the other; on each it sends --send bytes,
 * receives exactly --recv bytes, then either closes at once (--close-first)
 * or waits for the peer to close (EOF or reset) and closes after it;
 * --rst closes with SO_LINGER 0, which sends a reset. --accept-delay-ms MS
 * waits MS before the first accept (connections wait in the accept queue).
 *
 * Prints key=value lines on stdout: "listening pid= port=" once, then
 * "accepted pid= tid= ppid= lport= rport= sent= received=" per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xfer.h"

/* Upper bounds on what a test may ask for. */
#define XFER_MAX (1ull << 30)
#define COUNT_MAX 100000

struct server {
	int listen_fd;
	unsigned long long send_bytes, recv_bytes;
	long count;
	unsigned long long accept_delay_ms;
	bool close_first, rst;
	int status;
};

static void wait_peer_close(int fd)
{
	char buf[4096];
	ssize_t r;

	do
		r = recv(fd, buf, sizeof(buf), 0);
	while (r > 0 || (r < 0 && errno == EINTR));
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	long tid = syscall(SYS_gettid);

	if (s->accept_delay_ms)
		usleep((useconds_t)(s->accept_delay_ms * 1000));
	for (long i = 0; i < s->count; i++) {
		struct sockaddr_storage local, peer;
		socklen_t len = sizeof(peer);
		unsigned long long got;
		int fd = accept(s->listen_fd, (struct sockaddr *)&peer, &len);

		if (fd < 0) {
			perror("tcp_server: accept");
			s->status = 1;
			return NULL;
		}
		len = sizeof(local);
		getsockname(fd, (struct sockaddr *)&local, &len);
		if (send_all(fd, s->send_bytes, 'S') < 0)
			s->status = 1;
		got = recv_exact(fd, s->recv_bytes);
		if (got != s->recv_bytes)
			s->status = 1;
		if (!s->close_first)
			wait_peer_close(fd);
		if (s->rst) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		printf("accepted pid=%d tid=%ld ppid=%d lport=%u rport=%u sent=%llu "
		       "received=%llu\n",
		       getpid(), tid, getppid(), port_of(&local), port_of(&peer), s->send_bytes,
		       got);
		fflush(stdout);
		close(fd);
	}
	return NULL;
}

static int parse_size(const char *arg, unsigned long long max, unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "send", required_argument, NULL, 's' },
		{ "recv", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "close-first", no_argument, NULL, 'f' },
		{ "rst", no_argument, NULL, 'R' },
		{ "accept-delay-ms", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct server s = { .count = 1 };
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const char *addr = "127.0.0.1";
	unsigned long long port = 0, count = 1;
	socklen_t len;
	pthread_t th;
	int c, one = 1;

	while ((c = getopt_long(argc, argv, "l:p:s:r:c:fRD:", opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 'l':
			addr = optarg;
			break;
		case 'p':
			r = parse_size(optarg, 65535, &port);
			break;
		case 's':
			r = parse_size(optarg, XFER_MAX, &s.send_bytes);
			break;
		case 'r':
			r = parse_size(optarg, XFER_MAX, &s.recv_bytes);
			break;
		case 'c':
			r = parse_size(optarg, COUNT_MAX, &count);
			s.count = (long)count;
			break;
		case 'f':
			s.close_first = true;
			break;
		case 'R':
			s.rst = true;
			break;
		case 'D':
			r = parse_size(optarg, 60000, &s.accept_delay_ms);
			break;
		default:
			r = -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "usage: tcp_server [--listen ADDR] [--port P] [--send M] "
					"[--recv N] [--count K] [--close-first] [--rst] "
					"[--accept-delay-ms MS]\n");
			return 2;
		}
	}

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "tcp_server: bad address %s\n", addr);
		return 2;
	}
	s.listen_fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (s.listen_fd < 0 ||
	    setsockopt(s.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s.listen_fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(s.listen_fd, SOMAXCONN) < 0) {
		perror("tcp_server");
		return 1;
	}
	len = sizeof(ss);
	getsockname(s.listen_fd, (struct sockaddr *)&ss, &len);
	printf("listening pid=%d port=%u\n", getpid(), port_of(&ss));
	fflush(stdout);

	if (pthread_create(&th, NULL, serve, &s) != 0) {
		fprintf(stderr, "tcp_server: cannot start a thread\n");
		return 1;
	}
	pthread_join(th, NULL);
	close(s.listen_fd);
	return s.status;
}
