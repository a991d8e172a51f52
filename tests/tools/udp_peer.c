/* SPDX-License-Identifier: GPL-2.0-or-later */
/* udp_peer: test helper for one UDP endpoint with exact control over the
 * system calls used. A worker thread (so tid != pid) binds, optionally
 * connects, sends --send datagrams of --size bytes with the chosen call
 * (send, write, sendto, sendmsg, sendmmsg) and receives up to --recv
 * datagrams with the chosen call (recv, read, recvfrom, recvmsg,
 * recvmmsg) until it has them or nothing arrived for --idle-ms.
 * --ports K spreads the sends over K consecutive destination ports (K
 * flows; nobody needs to listen there).
 *
 * Prints "ready pid= tid= lport=" once bound (so a test can start the
 * probe or the peer), waits for --go FILE to exist if given, and prints
 * "done pid= tid= lport= sent= sent_bytes= received= received_bytes=
 * peer= peer_port=" (the last sender seen) at the end. Exit status 0, 1 on
 * errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Upper bounds on what a test may ask for. */
#define DATAGRAMS_MAX 10000000ull
#define SIZE_MAX_UDP 65507u /* largest IPv4 UDP payload */
#define BATCH_MAX 1024u	    /* the kernel's UIO_MAXIOV for sendmmsg/recvmmsg */
#define IDLE_MS_MAX 600000u
#define GO_WAIT_MS 30000 /* longest wait for --go */
#define PORTS_MAX 65535u

enum call { CALL_DEFAULT, CALL_PLAIN, CALL_RW, CALL_TO, CALL_MSG, CALL_MMSG };

struct peer {
	struct sockaddr_storage bind, to;
	socklen_t bind_len, to_len;
	bool has_to, connect, verbose;
	unsigned long long send_n, recv_n;
	unsigned size, batch, idle_ms, rcvbuf, ports, base_port;
	enum call send_call, recv_call;
	const char *comm, *go;
	int status;
};

static int parse_addr(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const void *a = ss->ss_family == AF_INET6
			    ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
			    : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		snprintf(buf, size, "none");
		return;
	}
	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

static int wait_go(const char *path)
{
	struct stat st;

	for (int waited = 0; waited < GO_WAIT_MS; waited += 10) {
		if (stat(path, &st) == 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Sends n datagrams; retries what the kernel could not queue right now. */
static int send_all(struct peer *pe, int fd, char *buf, unsigned long long *ret_sent)
{
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	unsigned long long sent = 0;
	const struct sockaddr *to = pe->has_to ? (const struct sockaddr *)&pe->to : NULL;
	socklen_t to_len = pe->has_to ? pe->to_len : 0;

	while (sent < pe->send_n) {
		ssize_t w;

		if (pe->ports > 1) {
			unsigned port = pe->base_port + (unsigned)(sent % pe->ports);

			if (pe->to.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&pe->to)->sin6_port = htons((uint16_t)port);
			else
				((struct sockaddr_in *)&pe->to)->sin_port = htons((uint16_t)port);
		}

		switch (pe->send_call) {
		case CALL_PLAIN:
			w = send(fd, buf, pe->size, 0);
			break;
		case CALL_RW:
			w = write(fd, buf, pe->size);
			break;
		case CALL_MSG: {
			struct iovec one = {.iov_base = buf, .iov_len = pe->size};
			struct msghdr mh = {.msg_name = (void *)to,
					    .msg_namelen = to_len,
					    .msg_iov = &one,
					    .msg_iovlen = 1};

			w = sendmsg(fd, &mh, 0);
			break;
		}
		case CALL_MMSG: {
			unsigned long long left = pe->send_n - sent;
			unsigned k = left < pe->batch ? (unsigned)left : pe->batch;
			int m;

			memset(msgs, 0, sizeof(msgs[0]) * k);
			for (unsigned i = 0; i < k; i++) {
				iov[i] = (struct iovec){.iov_base = buf, .iov_len = pe->size};
				msgs[i].msg_hdr.msg_name = (void *)to;
				msgs[i].msg_hdr.msg_namelen = to_len;
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			m = sendmmsg(fd, msgs, k, 0);
			if (m > 0) {
				sent += (unsigned)m;
				continue;
			}
			w = m;
			break;
		}
		default:
			w = sendto(fd, buf, pe->size, 0, to, to_len);
			break;
		}
		if (w < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
			usleep(100);
			continue;
		}
		if (w < 0) {
			fprintf(stderr, "udp_peer: send: %s\n", strerror(errno));
			*ret_sent = sent;
			return -errno;
		}
		sent++;
	}
	*ret_sent = sent;
	return 0;
}

/* Receives until n datagrams or an idle timeout (SO_RCVTIMEO). */
static int recv_all(struct peer *pe, int fd, char *buf, size_t buf_size, unsigned long long *ret_n,
		    unsigned long long *ret_bytes, struct sockaddr_storage *from)
{
	static char bufs[BATCH_MAX][2048]; /* recvmmsg: datagrams of test sizes */
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_storage froms[BATCH_MAX];
	unsigned long long n = 0, bytes = 0;

	while (n < pe->recv_n) {
		socklen_t from_len = sizeof(*from);
		ssize_t r;

		switch (pe->recv_call) {
		case CALL_PLAIN:
			r = recv(fd, buf, buf_size, 0);
			break;
		case CALL_RW:
			r = read(fd, buf, buf_size);
			break;
		case CALL_MSG: {
			struct iovec one = {.iov_base = buf, .iov_len = buf_size};
			struct msghdr mh = {.msg_name = from,
					    .msg_namelen = sizeof(*from),
					    .msg_iov = &one,
					    .msg_iovlen = 1};

			r = recvmsg(fd, &mh, 0);
			break;
		}
		case CALL_MMSG: {
			unsigned long long left = pe->recv_n - n;
			unsigned k = left < pe->batch ? (unsigned)left : pe->batch;
			int m;

			memset(msgs, 0, sizeof(msgs[0]) * k);
			for (unsigned i = 0; i < k; i++) {
				iov[i] =
				    (struct iovec){.iov_base = bufs[i], .iov_len = sizeof(bufs[i])};
				msgs[i].msg_hdr.msg_name = &froms[i];
				msgs[i].msg_hdr.msg_namelen = sizeof(froms[i]);
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			m = recvmmsg(fd, msgs, k, MSG_WAITFORONE, NULL);
			if (m > 0) {
				for (int i = 0; i < m; i++)
					bytes += msgs[i].msg_len;
				*from = froms[m - 1];
				n += (unsigned)m;
				continue;
			}
			r = m;
			break;
		}
		default:
			r = recvfrom(fd, buf, buf_size, 0, (struct sockaddr *)from, &from_len);
			break;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* idle: the sender is done */
		if (r < 0) {
			fprintf(stderr, "udp_peer: recv: %s\n", strerror(errno));
			return -errno;
		}
		n++;
		bytes += (unsigned long long)r;
	}
	*ret_n = n;
	*ret_bytes = bytes;
	return 0;
}

static void *worker(void *arg)
{
	struct peer *pe = arg;
	struct sockaddr_storage local, from;
	socklen_t local_len = sizeof(local);
	struct timeval tv = {.tv_sec = pe->idle_ms / 1000, .tv_usec = (pe->idle_ms % 1000) * 1000};
	unsigned long long sent = 0, received = 0, received_bytes = 0;
	long tid = syscall(SYS_gettid);
	static char buf[SIZE_MAX_UDP + 1];
	char from_s[INET6_ADDRSTRLEN];
	int fd, r = 0;

	pe->status = 1;
	memset(&from, 0, sizeof(from));
	if (pe->comm)
		prctl(PR_SET_NAME, pe->comm, 0, 0, 0);
	fd = socket(pe->bind.ss_family, SOCK_DGRAM, IPPROTO_UDP);
	if (fd < 0 || bind(fd, (struct sockaddr *)&pe->bind, pe->bind_len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		fprintf(stderr, "udp_peer: socket/bind: %s\n", strerror(errno));
		return NULL;
	}
	if (pe->rcvbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &pe->rcvbuf, sizeof(pe->rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &pe->rcvbuf, sizeof(pe->rcvbuf)) < 0) {
		fprintf(stderr, "udp_peer: SO_RCVBUF: %s\n", strerror(errno));
		return NULL;
	}
	if (pe->connect && connect(fd, (struct sockaddr *)&pe->to, pe->to_len) < 0) {
		fprintf(stderr, "udp_peer: connect: %s\n", strerror(errno));
		return NULL;
	}
	getsockname(fd, (struct sockaddr *)&local, &local_len);
	printf("ready pid=%d tid=%ld lport=%u\n", getpid(), tid, port_of(&local));
	fflush(stdout);
	if (pe->go && wait_go(pe->go) < 0) {
		fprintf(stderr, "udp_peer: %s did not appear\n", pe->go);
		return NULL;
	}

	memset(buf, 'U', sizeof(buf));
	if (pe->send_n)
		r = send_all(pe, fd, buf, &sent);
	if (r == 0 && pe->recv_n)
		r = recv_all(pe, fd, buf, sizeof(buf), &received, &received_bytes, &from);
	close(fd);
	addr_str(&from, from_s, sizeof(from_s));
	printf("done pid=%d tid=%ld lport=%u sent=%llu sent_bytes=%llu received=%llu "
	       "received_bytes=%llu peer=%s peer_port=%u\n",
	       getpid(), tid, port_of(&local), sent, sent * pe->size, received, received_bytes,
	       from_s, from.ss_family ? port_of(&from) : 0);
	fflush(stdout);
	pe->status = r < 0 ? 1 : 0;
	return NULL;
}

static int parse_call(const char *s, bool sending, enum call *ret)
{
	static const struct {
		const char *send, *recv;
		enum call call;
	} names[] = {
	    {"send", "recv", CALL_PLAIN},	 {"write", "read", CALL_RW},
	    {"sendto", "recvfrom", CALL_TO},	 {"sendmsg", "recvmsg", CALL_MSG},
	    {"sendmmsg", "recvmmsg", CALL_MMSG}, {NULL, NULL, CALL_DEFAULT},
	};

	for (int i = 0; names[i].send; i++) {
		if (strcmp(s, sending ? names[i].send : names[i].recv) == 0) {
			*ret = names[i].call;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_u(const char *s, unsigned long long max, unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || !*s || s[0] == '-' || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: udp_peer --bind ADDR [--port P] [--peer ADDR --peer-port P] [--connect]\n"
		"                [--send N] [--size BYTES] [--send-call send|write|sendto|"
		"sendmsg|sendmmsg]\n"
		"                [--recv N] [--recv-call recv|read|recvfrom|recvmsg|recvmmsg]\n"
		"                [--batch K] [--idle-ms MS] [--rcvbuf BYTES] [--comm NAME]\n"
		"                [--go FILE] [--ports K]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bind", required_argument, NULL, 'b'},   {"port", required_argument, NULL, 'p'},
	    {"peer", required_argument, NULL, 'P'},   {"peer-port", required_argument, NULL, 'q'},
	    {"connect", no_argument, NULL, 'c'},      {"send", required_argument, NULL, 's'},
	    {"size", required_argument, NULL, 'z'},   {"send-call", required_argument, NULL, 'S'},
	    {"recv", required_argument, NULL, 'r'},   {"recv-call", required_argument, NULL, 'R'},
	    {"batch", required_argument, NULL, 'k'},  {"idle-ms", required_argument, NULL, 'i'},
	    {"rcvbuf", required_argument, NULL, 'B'}, {"comm", required_argument, NULL, 'C'},
	    {"go", required_argument, NULL, 'g'},     {"ports", required_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct peer pe = {.size = 100, .batch = 8, .idle_ms = 2000};
	const char *bind_s = NULL, *peer_s = NULL;
	unsigned long long port = 0, peer_port = 0, v;
	pthread_t t;
	int c;

	while ((c = getopt_long(argc, argv, "b:p:P:q:cs:z:S:r:R:k:i:B:C:g:K:h", opts, NULL)) !=
	       -1) {
		int bad = 0;

		switch (c) {
		case 'b':
			bind_s = optarg;
			break;
		case 'P':
			peer_s = optarg;
			break;
		case 'p':
			bad = parse_u(optarg, 65535, &port);
			break;
		case 'q':
			bad = parse_u(optarg, 65535, &peer_port);
			break;
		case 'c':
			pe.connect = true;
			break;
		case 's':
			bad = parse_u(optarg, DATAGRAMS_MAX, &pe.send_n);
			break;
		case 'r':
			bad = parse_u(optarg, DATAGRAMS_MAX, &pe.recv_n);
			break;
		case 'z':
			bad = parse_u(optarg, SIZE_MAX_UDP, &v);
			pe.size = (unsigned)v;
			break;
		case 'k':
			bad = parse_u(optarg, BATCH_MAX, &v);
			bad = bad || v == 0;
			pe.batch = (unsigned)v;
			break;
		case 'i':
			bad = parse_u(optarg, IDLE_MS_MAX, &v);
			bad = bad || v == 0;
			pe.idle_ms = (unsigned)v;
			break;
		case 'B':
			bad = parse_u(optarg, 1u << 30, &v);
			pe.rcvbuf = (unsigned)v;
			break;
		case 'S':
			bad = parse_call(optarg, true, &pe.send_call);
			break;
		case 'R':
			bad = parse_call(optarg, false, &pe.recv_call);
			break;
		case 'C':
			pe.comm = optarg;
			break;
		case 'g':
			pe.go = optarg;
			break;
		case 'K':
			bad = parse_u(optarg, PORTS_MAX, &v);
			bad = bad || v == 0;
			pe.ports = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
		if (bad) {
			fprintf(stderr, "udp_peer: bad value %s\n", optarg);
			return 1;
		}
	}
	if (!bind_s || optind < argc ||
	    parse_addr(bind_s, (unsigned)port, &pe.bind, &pe.bind_len) ||
	    (peer_s && parse_addr(peer_s, (unsigned)peer_port, &pe.to, &pe.to_len)) ||
	    (pe.connect && !peer_s) || (pe.send_n && !peer_s) ||
	    (pe.ports > 1 &&
	     (pe.connect || peer_port + pe.ports - 1 > 65535 || pe.send_call == CALL_MMSG))) {
		usage(stderr);
		return 1;
	}
	/* A connected socket never names its peer in the call (sendto,
	 * sendmsg and sendmmsg pass no address), and sends with send()
	 * unless told otherwise. */
	pe.has_to = peer_s && !pe.connect;
	pe.base_port = (unsigned)peer_port;
	if (pe.connect && pe.send_call == CALL_DEFAULT)
		pe.send_call = CALL_PLAIN;
	if (pe.comm)
		prctl(PR_SET_NAME, pe.comm, 0, 0, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pthread_create(&t, NULL, worker, &pe) != 0) {
		fprintf(stderr, "udp_peer: cannot start a thread\n");
		return 1;
	}
	pthread_join(t, NULL);
	return pe.status;
}
