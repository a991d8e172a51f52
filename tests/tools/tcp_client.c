/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcp_client: test helper with exact control over one side of a TCP
 * connection. A worker thread (so tid != pid) connects, sends --send
 * bytes, receives exactly --recv bytes, optionally waits for the server to
 * close first (--wait-eof), then closes; --rst closes with SO_LINGER 0,
 * which sends a reset instead of a FIN. --repeat K does all that K times
 * in a row (a burst of connections from one thread). --abandon-ms MS starts
 * a non-blocking connect and closes the socket MS ms later, before any
 * answer (to an address that never answers): "abandoned pid= ... lport=".
 * --thread-name NAME names the worker thread (as a resolver library names
 * its threads), so its events' comm and thread differ.
 *
 * Prints one key=value line on stdout: "connected pid= tid= ppid= lport=
 * sent= received=" or "failed pid= tid= ppid= errno=" per connection. Exit
 * status 0, or 3 when connect() failed, 1 on other errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xfer.h"

/* Upper bounds on what a test may ask for. */
#define XFER_MAX (1ull << 30)
#define REPEAT_MAX 100000

struct client {
	struct sockaddr_storage peer;
	socklen_t peer_len;
	unsigned long long send_bytes, recv_bytes, repeat, abandon_ms;
	bool wait_eof, rst;
	const char *thread_name;
	int status;
};

static unsigned local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void run_once(struct client *c, long tid)
{
	unsigned long long got;
	char buf[4096];
	int fd = socket(c->peer.ss_family, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("tcp_client: socket");
		c->status = 1;
		return;
	}
	if (c->abandon_ms) {
		/* Start the handshake, give up before it ends: close() in SYN_SENT. */
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    (connect(fd, (struct sockaddr *)&c->peer, c->peer_len) < 0 &&
		     errno != EINPROGRESS)) {
			printf("failed pid=%d tid=%ld ppid=%d errno=%d\n", getpid(), tid, getppid(),
			       errno);
			c->status = 3;
			close(fd);
			return;
		}
		usleep((useconds_t)(c->abandon_ms * 1000));
		printf("abandoned pid=%d tid=%ld ppid=%d lport=%u\n", getpid(), tid, getppid(),
		       local_port(fd));
		close(fd);
		return;
	}
	if (connect(fd, (struct sockaddr *)&c->peer, c->peer_len) < 0) {
		printf("failed pid=%d tid=%ld ppid=%d errno=%d\n", getpid(), tid, getppid(), errno);
		c->status = 3;
		close(fd);
		return;
	}
	if (send_all(fd, c->send_bytes, 'C') < 0)
		c->status = 1;
	got = recv_exact(fd, c->recv_bytes);
	if (got != c->recv_bytes)
		c->status = 1;
	if (c->wait_eof) {
		ssize_t r;

		do
			r = recv(fd, buf, sizeof(buf), 0);
		while (r > 0 || (r < 0 && errno == EINTR));
	}
	if (c->rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	printf("connected pid=%d tid=%ld ppid=%d lport=%u sent=%llu received=%llu\n", getpid(), tid,
	       getppid(), local_port(fd), c->send_bytes, got);
	close(fd);
}

static void *run(void *arg)
{
	struct client *c = arg;
	long tid = syscall(SYS_gettid);

	if (c->thread_name && prctl(PR_SET_NAME, c->thread_name, 0, 0, 0) < 0) {
		perror("tcp_client: PR_SET_NAME");
		c->status = 1;
		return NULL;
	}
	for (unsigned long long i = 0; i < c->repeat && c->status == 0; i++)
		run_once(c, tid);
	return NULL;
}

static int parse_num(const char *arg, unsigned long long max, unsigned long long *ret)
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
		{ "connect", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "send", required_argument, NULL, 's' },
		{ "recv", required_argument, NULL, 'r' },
		{ "wait-eof", no_argument, NULL, 'w' },
		{ "rst", no_argument, NULL, 'R' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "abandon-ms", required_argument, NULL, 'A' },
		{ "thread-name", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct client cl = { .repeat = 1 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&cl.peer;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cl.peer;
	const char *addr = NULL;
	unsigned long long port = 0;
	pthread_t th;
	int c;

	while ((c = getopt_long(argc, argv, "c:p:s:r:wRn:A:T:", opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 'c':
			addr = optarg;
			break;
		case 'p':
			r = parse_num(optarg, 65535, &port);
			break;
		case 's':
			r = parse_num(optarg, XFER_MAX, &cl.send_bytes);
			break;
		case 'r':
			r = parse_num(optarg, XFER_MAX, &cl.recv_bytes);
			break;
		case 'w':
			cl.wait_eof = true;
			break;
		case 'R':
			cl.rst = true;
			break;
		case 'n':
			r = parse_num(optarg, REPEAT_MAX, &cl.repeat);
			if (cl.repeat == 0)
				r = -EINVAL;
			break;
		case 'A':
			r = parse_num(optarg, 60000, &cl.abandon_ms);
			break;
		case 'T':
			cl.thread_name = optarg;
			break;
		default:
			r = -EINVAL;
		}
		if (r < 0) {
			addr = NULL;
			break;
		}
	}
	if (!addr || !port) {
		fprintf(stderr, "usage: tcp_client --connect ADDR --port P [--send N] [--recv M] "
				"[--wait-eof] [--rst] [--repeat K] [--abandon-ms MS] "
				"[--thread-name NAME]\n");
		return 2;
	}
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		cl.peer_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		cl.peer_len = sizeof(*sin6);
	} else {
		fprintf(stderr, "tcp_client: bad address %s\n", addr);
		return 2;
	}
	if (pthread_create(&th, NULL, run, &cl) != 0) {
		fprintf(stderr, "tcp_client: cannot start a thread\n");
		return 1;
	}
	pthread_join(th, NULL);
	return cl.status;
}
