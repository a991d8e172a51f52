/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP load generator for the kernel-overhead and zero-loss benchmarks:
 * connect/send/close cycles against its own server for a fixed time.
 *
 * One server thread accepts, reads the payload, closes; each client thread
 * loops socket → connect → write → wait for the server's FIN → close. The
 * server closes first so that TIME_WAIT lands on the server's side and the
 * client never runs out of ephemeral ports at high rates. With
 * --server-netns/--client-netns each thread first joins a named network
 * namespace (/var/run/netns/NAME), so one process drives a veth pair.
 *
 * With --udp the clients instead send datagrams of --bytes as fast as they
 * can (the live-capture benchmark's packet flood) and a cycle is one
 * datagram sent.
 *
 * Prints: "loadgen: connections=N failed=F seconds=S cycles_per_s=R
 * cpu_us_per_cycle=C" (user + system CPU of the whole process per cycle:
 * less noisy than the rate on a shared machine, and it includes the time
 * the kernel spends in BPF programs run in our context).
 *
 * usage: loadgen [--duration S] [--clients N] [--bytes N] [--addr IPV4]
 *                [--port P] [--server-netns NAME] [--client-netns NAME] [--udp 1]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS_MAX 64
#define PAYLOAD_MAX 65536
#define DURATION_MAX 3600
#define NETNS_NAME_MAX 200

struct config {
	double duration;
	int clients;
	size_t bytes;
	struct sockaddr_in addr;
	const char *server_netns, *client_netns;
	bool udp;
};

static struct config cfg = { .duration = 5, .clients = 1, .bytes = 64 };
static atomic_bool stop;
static atomic_uint_fast64_t connections, failures;
static int listen_fd = -1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* setns() on CLONE_NEWNET changes only the calling thread's namespace,
 * which is what lets server and client sit on the two ends of a veth. */
static int join_netns(const char *name)
{
	char path[NETNS_NAME_MAX + 32];
	int fd, r;

	if (!name)
		return 0;
	if (strlen(name) > NETNS_NAME_MAX)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int read_until_eof_or(int fd, size_t want)
{
	char buf[4096];
	size_t got = 0;

	while (want == 0 || got < want) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return 0;
}

static void *udp_server_main(void *arg)
{
	char buf[PAYLOAD_MAX];

	struct timeval tv = { .tv_usec = 100000 };

	(void)arg;
	/* shutdown() does not wake recv() on an unconnected UDP socket: poll
	 * the flag every 100 ms instead. */
	setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!atomic_load(&stop))
		recv(listen_fd, buf, sizeof(buf), 0);
	return NULL;
}

static void *server_main(void *arg)
{
	if (cfg.udp)
		return udp_server_main(arg);
	/* Serve until the listener is shut down, after every client is done:
	 * stopping on the flag could leave a client waiting for our FIN. */
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* shutdown() of listen_fd at the end */
		}
		read_until_eof_or(fd, cfg.bytes);
		close(fd);
	}
	return NULL;
}

static int one_cycle(const char *payload)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t off = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&cfg.addr, sizeof(cfg.addr)) < 0) {
		r = -errno;
		goto out;
	}
	while (off < cfg.bytes) {
		ssize_t n = write(fd, payload + off, cfg.bytes - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	r = read_until_eof_or(fd, 0); /* the server's FIN */
out:
	close(fd);
	return r;
}

static void *client_main(void *arg)
{
	static char payload[PAYLOAD_MAX];

	(void)arg;
	if (join_netns(cfg.client_netns) < 0) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	if (cfg.udp) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		uint64_t sent = 0, failed = 0;

		if (fd < 0 || connect(fd, (const struct sockaddr *)&cfg.addr, sizeof(cfg.addr)) < 0) {
			atomic_fetch_add(&failures, 1);
			return NULL;
		}
		/* Counted locally: an atomic per datagram would be the bottleneck. */
		while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
			if (send(fd, payload, cfg.bytes, 0) >= 0)
				sent++;
			else
				failed++;
		}
		close(fd);
		atomic_fetch_add(&connections, sent);
		atomic_fetch_add(&failures, failed);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		if (one_cycle(payload) == 0)
			atomic_fetch_add(&connections, 1);
		else
			atomic_fetch_add(&failures, 1);
	}
	return NULL;
}

static int parse_args(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	long port = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return -EINVAL;
		i++;
		if (!strcmp(o, "--duration"))
			cfg.duration = atof(v);
		else if (!strcmp(o, "--clients"))
			cfg.clients = atoi(v);
		else if (!strcmp(o, "--bytes"))
			cfg.bytes = (size_t)atol(v);
		else if (!strcmp(o, "--addr"))
			addr = v;
		else if (!strcmp(o, "--port"))
			port = atol(v);
		else if (!strcmp(o, "--server-netns"))
			cfg.server_netns = v;
		else if (!strcmp(o, "--client-netns"))
			cfg.client_netns = v;
		else if (!strcmp(o, "--udp"))
			cfg.udp = atoi(v) != 0;
		else
			return -EINVAL;
	}
	if (cfg.duration <= 0 || cfg.duration > DURATION_MAX || cfg.clients < 1 ||
	    cfg.clients > CLIENTS_MAX || cfg.bytes > PAYLOAD_MAX || port < 0 || port > 65535)
		return -EINVAL;
	cfg.addr.sin_family = AF_INET;
	cfg.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &cfg.addr.sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/* The listening socket is made by the main thread inside the server's
 * namespace, so the port is known before any client starts. */
static int open_listener(void)
{
	struct sockaddr_in a = cfg.addr;
	socklen_t alen = sizeof(a);
	int one = 1, r;

	r = join_netns(cfg.server_netns);
	if (r < 0)
		return r;
	listen_fd = socket(AF_INET, (cfg.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -errno;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (!cfg.udp && listen(listen_fd, 4096) < 0))
		return -errno;
	if (getsockname(listen_fd, (struct sockaddr *)&a, &alen) < 0)
		return -errno;
	cfg.addr.sin_port = a.sin_port;
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t server, clients[CLIENTS_MAX];
	struct rusage ru;
	uint64_t n, f;
	double t0, t, cpu;
	int r;

	if (parse_args(argc, argv) < 0) {
		fprintf(stderr, "usage: loadgen [--duration S] [--clients N] [--bytes N] "
				"[--addr IPV4] [--port P] [--server-netns NAME] "
				"[--client-netns NAME] [--udp 1]\n");
		return 2;
	}
	r = open_listener();
	if (r < 0) {
		fprintf(stderr, "loadgen: cannot listen on %s: %s\n",
			inet_ntoa(cfg.addr.sin_addr), strerror(-r));
		return 1;
	}
	if (pthread_create(&server, NULL, server_main, NULL) != 0)
		return 1;
	t0 = now_s();
	for (int i = 0; i < cfg.clients; i++)
		if (pthread_create(&clients[i], NULL, client_main, NULL) != 0)
			return 1;
	while ((t = now_s() - t0) < cfg.duration)
		usleep(t + 0.05 < cfg.duration ? 50000 : (useconds_t)((cfg.duration - t) * 1e6) + 1);
	atomic_store(&stop, true);
	for (int i = 0; i < cfg.clients; i++)
		pthread_join(clients[i], NULL);
	t = now_s() - t0;
	n = atomic_load(&connections);
	f = atomic_load(&failures);
	shutdown(listen_fd, SHUT_RDWR); /* wakes accept() */
	pthread_join(server, NULL);
	close(listen_fd);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("loadgen: connections=%llu failed=%llu seconds=%.3f cycles_per_s=%.0f "
	       "cpu_us_per_cycle=%.3f\n",
	       (unsigned long long)n, (unsigned long long)f, t, (double)n / t,
	       n ? cpu * 1e6 / (double)n : 0.0);
	return f && !n ? 1 : 0;
}
