/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of enrich/docker.h and the resolver's Docker path against a fake
 * Docker daemon: a unix-socket server in a thread of this test that answers
 * well (Content-Length, chunked, unframed), with errors, with malformed or
 * huge answers, slowly, or not at all.
 *
 * Usage: test_docker FIXTURE_DIR   (answers come from FIXTURE_DIR/docker/)
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "enrich/container.h"
#include "enrich/docker.h"
#include "test_util.h"

#define ID_WEB "dea789073b3ac558481126ebdbd6500f8bf2bfa959fef6c79c40d435159bfea4"
#define ID_POD "5f0c2d0e8a3b4c1d9e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
#define ID_SANDBOX "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"
#define ID_OTHER1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID_OTHER2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID_OTHER3 "3333333333333333333333333333333333333333333333333333333333333333"

/* Timing slack over a deadline on a noisy 2-core machine. */
#define SLACK_MS 150
/* How long the fake server keeps a silent connection open at most. */
#define SERVER_HOLD_MS 3000
/* Most bytes a "huge" answer writes before giving up on the client. */
#define HUGE_MAX (64u << 20)

enum mode {
	M_GOOD,		/* Content-Length, whole answer at once */
	M_CHUNKED_SLOW, /* chunked, in small pieces with pauses, within the deadline */
	M_UNFRAMED,	/* no length: the body ends at close */
	M_POD,		/* inspect of a cri-dockerd-labelled container */
	M_LIST,		/* GET /containers/json */
	M_404,
	M_500,
	M_BADJSON,
	M_TRAILING_JUNK, /* valid JSON followed by garbage */
	M_CUT_BODY,	 /* Content-Length larger than what is sent, then close */
	M_CUT_CHUNKED,	 /* chunked, closed before the last chunk */
	M_BAD_CHUNK,	 /* chunk size not hex */
	M_GARBAGE,	 /* not HTTP at all */
	M_CLOSE,	 /* closes without answering */
	M_NOANSWER,	 /* reads the request, never answers */
	M_DRIP,		 /* one byte every 20 ms */
	M_NOACCEPT,	 /* never accepts the connection */
	M_HUGE_CL,	 /* announces 100 MiB */
	M_HUGE_STREAM,	 /* unframed body that never ends */
	M_HUGE_CHUNKED,	 /* chunks that never end */
	M_HUGE_HEADERS,	 /* headers that never end */
	M_EVENTS,	 /* GET /events: a chunked event stream, then silence */
};

struct server {
	char dir[64];
	char path[96]; /* fits sockaddr_un's 108 bytes */
	int lfd;
	pthread_t thread;
	atomic_int mode;
	atomic_int stop;
	atomic_int requests; /* complete requests read */
	char request_line[512];
};

static const char *fixtures;
static char *body_web, *body_pod, *body_list;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *slurp(const char *name)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/docker/%s", fixtures, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	return buf;
}

/* Write all of it, or give up when the client has gone. */
static int put(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int putf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int putf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(fd, buf, (size_t)n);
}

static int answer_json(int fd, const char *body)
{
	if (putf(fd,
		 "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 strlen(body)) < 0)
		return -1;
	return put(fd, body, strlen(body));
}

/* Keep the connection open, silent, until the client closes it. */
static void hold(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[256];
	double end = now_ms() + SERVER_HOLD_MS;

	while (now_ms() < end) {
		if (poll(&p, 1, 50) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
			return;
	}
}

/* Send until the client stops reading (or HUGE_MAX). */
static void flood(int fd, const char *block, size_t len)
{
	for (size_t sent = 0; sent < HUGE_MAX; sent += len)
		if (put(fd, block, len) < 0)
			return;
}

/* Docker's event stream as the daemon writes it: one JSON object and a
 * newline per event, chunked. The first event is split across chunks in
 * the middle of a string; a line longer than any event is skipped; a
 * rename gives the new name. */
static void serve_events(int fd)
{
	static const char create[] =
	    "{\"status\":\"create\",\"id\":\"" ID_OTHER1 "\",\"from\":\"img:1\","
	    "\"Type\":\"container\",\"Action\":\"create\",\"Actor\":{\"ID\":\"" ID_OTHER1
	    "\",\"Attributes\":{\"image\":\"img:1\",\"name\":\"burst-1\","
	    "\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.pod.namespace\":\"shop\"}},"
	    "\"scope\":\"local\",\"time\":1700000000,\"timeNano\":1700000000000000000}\n";
	static const char rename_[] =
	    "{\"Type\":\"container\",\"Action\":\"rename\",\"Actor\":{\"ID\":\"" ID_OTHER2
	    "\",\"Attributes\":{\"image\":\"img:2\",\"name\":\"renamed\","
	    "\"oldName\":\"/before\"}}}\n";
	static char longline[DOCKER_EVENT_LINE_MAX + 100];
	size_t half = sizeof(create) / 2;

	putf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n");
	putf(fd, "%zx\r\n", half);
	put(fd, create, half);
	put(fd, "\r\n", 2);
	usleep(20000);
	putf(fd, "%zx\r\n", sizeof(create) - 1 - half);
	put(fd, create + half, sizeof(create) - 1 - half);
	put(fd, "\r\n", 2);
	memset(longline, 'x', sizeof(longline) - 1);
	longline[0] = '{';
	longline[sizeof(longline) - 2] = '\n';
	putf(fd, "%zx\r\n", sizeof(longline) - 1);
	put(fd, longline, sizeof(longline) - 1);
	put(fd, "\r\n", 2);
	putf(fd, "%zx\r\n", sizeof(rename_) - 1);
	put(fd, rename_, sizeof(rename_) - 1);
	put(fd, "\r\n", 2);
	hold(fd);
}

static void serve(struct server *s, int fd)
{
	static char block[65536];
	char req[2048];
	size_t len = 0;
	const char *body;

	/* read the request head */
	while (len < sizeof(req) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			return;
		n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (!strstr(req, "\r\n\r\n"))
		return;
	snprintf(s->request_line, sizeof(s->request_line), "%.*s", (int)strcspn(req, "\r\n"), req);
	body = strstr(s->request_line, "/containers/json ") ? body_list : body_web;
	atomic_fetch_add(&s->requests, 1);
	if (strstr(s->request_line, "GET /events?")) {
		if (atomic_load(&s->mode) == M_EVENTS)
			serve_events(fd);
		else
			putf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		return;
	}

	switch (atomic_load(&s->mode)) {
	case M_GOOD:
		answer_json(fd, body);
		break;
	case M_POD:
		answer_json(fd, body_pod);
		break;
	case M_LIST:
		answer_json(fd, body_list);
		break;
	case M_CHUNKED_SLOW: {
		size_t n = strlen(body), off = 0;

		putf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n");
		/* uneven chunks, one with an extension, split across writes */
		while (off < n) {
			size_t c = n - off < 700 ? n - off : 700;

			putf(fd, off == 0 ? "%zx;name=value\r\n" : "%zX\r\n", c);
			usleep(5000);
			put(fd, body + off, c / 2);
			usleep(5000);
			put(fd, body + off + c / 2, c - c / 2);
			put(fd, "\r\n", 2);
			off += c;
		}
		put(fd, "0\r\n", 3);
		usleep(5000);
		put(fd, "\r\n", 2);
		hold(fd); /* the client must stop at the last chunk, not wait for close */
		break;
	}
	case M_UNFRAMED:
		putf(fd, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n");
		put(fd, body, strlen(body));
		break;
	case M_404:
		putf(fd, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
			 "Content-Length: 29\r\n\r\n{\"message\":\"No such contain\"}");
		break;
	case M_500:
		putf(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}");
		break;
	case M_BADJSON:
		answer_json(fd, "{\"Id\":\"" ID_WEB "\",\"Name\":\"/web\",\"Config\":{\"Image\":");
		break;
	case M_TRAILING_JUNK:
		answer_json(fd, "{\"Id\":\"" ID_WEB "\",\"Name\":\"/web\"} and more");
		break;
	case M_CUT_BODY:
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(body) + 100);
		put(fd, body, strlen(body));
		break;
	case M_CUT_CHUNKED:
		putf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
		     strlen(body));
		put(fd, body, strlen(body));
		put(fd, "\r\n", 2);
		break;
	case M_BAD_CHUNK:
		putf(fd,
		     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
		break;
	case M_GARBAGE:
		putf(fd, "SSH-2.0-OpenSSH_9.2\r\n");
		hold(fd);
		break;
	case M_CLOSE:
		break;
	case M_NOANSWER:
		hold(fd);
		break;
	case M_DRIP:
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
		for (int i = 0; i < SERVER_HOLD_MS / 20; i++) {
			if (put(fd, "{", 1) < 0)
				break;
			usleep(20000);
		}
		break;
	case M_HUGE_CL:
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n");
		memset(block, ' ', sizeof(block));
		flood(fd, block, sizeof(block));
		break;
	case M_HUGE_STREAM:
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[");
		memset(block, ' ', sizeof(block));
		flood(fd, block, sizeof(block));
		break;
	case M_HUGE_CHUNKED: {
		size_t hl;

		putf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		memset(block, ' ', sizeof(block));
		hl = (size_t)snprintf(block, sizeof(block), "%x\r\n", 60000);
		block[hl + 60000] = '\r';
		block[hl + 60001] = '\n';
		flood(fd, block, hl + 60002);
		break;
	}
	case M_HUGE_HEADERS:
		putf(fd, "HTTP/1.1 200 OK\r\n");
		memset(block, 'a', sizeof(block));
		memcpy(block, "X-Pad: ", 7);
		block[sizeof(block) - 2] = '\r';
		block[sizeof(block) - 1] = '\n';
		flood(fd, block, sizeof(block));
		break;
	case M_NOACCEPT:
		break;
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		int fd;

		if (atomic_load(&s->mode) == M_NOACCEPT) {
			usleep(10000);
			continue;
		}
		if (poll(&p, 1, 20) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

static int server_start(struct server *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/ebpfdump-docker-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/docker.sock", s->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->lfd, 16) < 0)
		return -1;
	return pthread_create(&s->thread, NULL, server_main, s) == 0 ? 0 : -1;
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

/* One inspect in a given mode: the result, its time, and the info. */
static int inspect(struct server *s, enum mode m, const char *id, struct container_info *info,
		   double *ms, const char **why)
{
	double t0;
	int r;

	atomic_store(&s->mode, m);
	memset(info, 0, sizeof(*info));
	t0 = now_ms();
	r = docker_inspect(s->path, id, CONTAINER_TIMEOUT_MS, info, why);
	*ms = now_ms() - t0;
	return r;
}

static void test_answers(struct server *s)
{
	static const struct {
		enum mode mode;
		int expect;
		const char *what;
	} cases[] = {
	    {M_GOOD, 0, "content-length"},
	    {M_CHUNKED_SLOW, 0, "chunked, slow, held open"},
	    {M_UNFRAMED, 0, "unframed until close"},
	    {M_404, -ESRCH, "404"},
	    {M_500, -EBADMSG, "500"},
	    {M_BADJSON, -EBADMSG, "malformed json"},
	    {M_TRAILING_JUNK, -EBADMSG, "json with trailing junk"},
	    {M_CUT_BODY, -EBADMSG, "body shorter than content-length"},
	    {M_CUT_CHUNKED, -EBADMSG, "chunked without last chunk"},
	    {M_BAD_CHUNK, -EBADMSG, "chunk size not hex"},
	    {M_GARBAGE, -EBADMSG, "not http"},
	    {M_CLOSE, -EBADMSG, "closed without answer"},
	    {M_HUGE_CL, -EMSGSIZE, "announces 100 MiB"},
	    {M_HUGE_STREAM, -EMSGSIZE, "endless unframed body"},
	    {M_HUGE_CHUNKED, -EMSGSIZE, "endless chunks"},
	    {M_HUGE_HEADERS, -EMSGSIZE, "endless headers"},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct container_info info;
		const char *why = "unset";
		double ms;
		int r = inspect(s, cases[i].mode, ID_WEB, &info, &ms, &why);

		if (r != cases[i].expect || ms > CONTAINER_TIMEOUT_MS + SLACK_MS)
			fprintf(stderr, "%s: got %d (%s) in %.0f ms, expected %d\n", cases[i].what,
				r, why ? why : "-", ms, cases[i].expect);
		test_count(r == cases[i].expect);
		/* Bad answers are refused as soon as they are seen to be bad,
		 * not at the deadline (huge ones included). */
		test_count(ms < CONTAINER_TIMEOUT_MS);
		if (r == 0) {
			CHECK_STR(info.id, ID_WEB);
			CHECK_STR(info.name, "web");
			CHECK_STR(info.image, "ebpfdump-busybox:test");
			CHECK(info.runtime == CONTAINER_RUNTIME_DOCKER);
			CHECK(why == NULL);
		} else {
			CHECK(why && strcmp(why, "unset") != 0);
		}
	}
	CHECK_STR(s->request_line, "GET /containers/" ID_WEB "/json HTTP/1.1");
}

static void test_pod_labels(struct server *s)
{
	struct container_info info;
	double ms;

	CHECK(inspect(s, M_POD, ID_POD, &info, &ms, NULL) == 0);
	CHECK_STR(info.id, ID_POD);
	CHECK_STR(info.name, "app"); /* the Kubernetes name, not k8s_app_... */
	CHECK_STR(info.pod, "frontend-7d9f-x2kq");
	CHECK_STR(info.namespace_, "shop");
	CHECK_STR(info.sandbox_id, ID_SANDBOX);
	CHECK(!info.sandbox);
}

/* A daemon that never answers costs the deadline, no more, no less. */
static void test_timeouts(struct server *s)
{
	static const enum mode modes[] = {M_NOANSWER, M_DRIP, M_NOACCEPT};

	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct container_info info;
		const char *why = NULL;
		double ms;
		int r = inspect(s, modes[i], ID_WEB, &info, &ms, &why);

		printf("timeout case %u: %d (%s) after %.1f ms\n", i, r, why ? why : "-", ms);
		CHECK(r == -ETIMEDOUT);
		CHECK(ms >= CONTAINER_TIMEOUT_MS - 5);
		CHECK(ms <= CONTAINER_TIMEOUT_MS + SLACK_MS);
	}
	atomic_store(&s->mode, M_GOOD);
	usleep(50000); /* let the server drain what M_NOACCEPT left queued */
}

static void test_unreachable(void)
{
	char dir[] = "/tmp/ebpfdump-docker-XXXXXX", path[96];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct container_info info;
	const char *why = NULL;
	int fd;

	if (!CHECK(mkdtemp(dir)))
		return;
	snprintf(path, sizeof(path), "%s/docker.sock", dir);
	CHECK(docker_inspect(path, ID_WEB, CONTAINER_TIMEOUT_MS, &info, &why) == -ENOENT);
	CHECK(why != NULL);
	/* a socket file nobody listens on any more */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(docker_inspect(path, ID_WEB, CONTAINER_TIMEOUT_MS, &info, &why) == -ECONNREFUSED);
	unlink(path);
	rmdir(dir);
}

/* Ids are data: nothing but a plain name reaches the request line. */
static void test_bad_ids(struct server *s)
{
	static const char *const ids[] = {
	    "", "../../info", "web json", "a\r\nHost: evil", "a%2fb", "a?all=1", "a/b",
	};
	int before = atomic_load(&s->requests);
	struct container_info info;
	char longid[DOCKER_ID_MAX + 2];

	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CHECK(docker_inspect(s->path, ids[i], CONTAINER_TIMEOUT_MS, &info, NULL) ==
		      -EINVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK(docker_inspect(s->path, longid, CONTAINER_TIMEOUT_MS, &info, NULL) == -EINVAL);
	CHECK(atomic_load(&s->requests) == before);
}

struct list_seen {
	unsigned n;
	char names[8][EVENT_NAME_MAX + 1];
	bool sandbox[8];
};

static int on_container(const struct container_info *info, void *userdata)
{
	struct list_seen *seen = userdata;

	if (seen->n < 8) {
		snprintf(seen->names[seen->n], sizeof(seen->names[0]), "%s", info->name);
		seen->sandbox[seen->n] = info->sandbox;
	}
	seen->n++;
	return 0;
}

static int stop_early(const struct container_info *info, void *userdata)
{
	(void)info;
	(void)userdata;
	return -ECANCELED;
}

static void test_list(struct server *s)
{
	struct list_seen seen = {0};

	atomic_store(&s->mode, M_LIST);
	CHECK(docker_list(s->path, CONTAINER_TIMEOUT_MS, on_container, &seen, NULL) == 3);
	CHECK_STR(s->request_line, "GET /containers/json HTTP/1.1");
	CHECK(seen.n == 3);
	CHECK_STR(seen.names[0], "web");
	CHECK_STR(seen.names[1], "app");
	CHECK(seen.sandbox[2]);
	CHECK(docker_list(s->path, CONTAINER_TIMEOUT_MS, stop_early, NULL, NULL) == -ECANCELED);
	atomic_store(&s->mode, M_POD); /* an object where an array belongs */
	CHECK(docker_list(s->path, CONTAINER_TIMEOUT_MS, on_container, &seen, NULL) == -EBADMSG);
}

static struct container_resolver *resolver_for(struct server *s)
{
	char proc[4096];
	struct container_config cfg = {
	    .proc_root = proc,
	    .docker_socket = s->path,
	    .podman_socket = "",
	    .containerd_socket = "",
	    .crio_socket = "",
	    .containerd_root = "",
	    .crio_root = "",
	    .podman_root = "",
	    .backoff_ms = 400,
	    .negative_ttl_ms = 100,
	};
	struct container_resolver *r = NULL;

	snprintf(proc, sizeof(proc), "%s/proc", fixtures);
	CHECK(container_resolver_new(&cfg, &r) == 0);
	return r;
}

static void leaf_event(struct event *ev, const char *leaf)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->cgroup, sizeof(ev->cgroup), "%s", leaf);
	EVENT_SET(ev, ITEM_CGROUP);
}

static void test_resolver(struct server *s)
{
	struct container_resolver *r = resolver_for(s);
	const char *why;
	struct event ev;
	double t0, ms;
	int before;

	if (!r)
		return;
	/* pid 105 of the fake /proc is in /docker/<ID_WEB> */
	atomic_store(&s->mode, M_GOOD);
	memset(&ev, 0, sizeof(ev));
	ev.pid = 105;
	EVENT_SET(&ev, ITEM_PID);
	CHECK(container_resolve_event(r, &ev, &why) == 1);
	CHECK_STR(ev.container, "web");
	CHECK_STR(ev.runtime, "docker");
	CHECK_STR(ev.image, "ebpfdump-busybox:test");
	CHECK_STR(ev.container_id, ID_WEB);

	/* cached: Docker is not asked again */
	before = atomic_load(&s->requests);
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "web");
	CHECK(atomic_load(&s->requests) == before);

	/* a stuck daemon: one deadline, a reason, then skipped at once */
	atomic_store(&s->mode, M_NOANSWER);
	leaf_event(&ev, "docker-" ID_OTHER1 ".scope");
	t0 = now_ms();
	CHECK(container_resolve_event(r, &ev, &why) == -ETIMEDOUT);
	ms = now_ms() - t0;
	CHECK(ms <= CONTAINER_TIMEOUT_MS + SLACK_MS);
	CHECK(why && strstr(why, "docker") && strstr(why, s->path));
	if (why)
		printf("reason for a stuck daemon: %s\n", why);
	CHECK_STR(ev.container_id, ID_OTHER1);
	CHECK_STR(ev.runtime, "docker");
	CHECK(!EVENT_HAS(&ev, ITEM_CONTAINER));

	before = atomic_load(&s->requests);
	leaf_event(&ev, "docker-" ID_OTHER2 ".scope");
	t0 = now_ms();
	CHECK(container_resolve_event(r, &ev, &why) == -EAGAIN);
	CHECK(now_ms() - t0 < 20);
	CHECK(why == NULL);
	CHECK_STR(ev.container_id, ID_OTHER2);
	/* the cached container still resolves while Docker is skipped */
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK(atomic_load(&s->requests) == before);

	/* after the backoff it is asked again; the same failure is not
	 * reported twice */
	usleep(450 * 1000);
	leaf_event(&ev, "docker-" ID_OTHER3 ".scope");
	CHECK(container_resolve_event(r, &ev, &why) == -ETIMEDOUT);
	CHECK(why == NULL);

	/* recovery: the daemon answers again after the backoff */
	usleep(450 * 1000);
	atomic_store(&s->mode, M_POD);
	leaf_event(&ev, "docker-" ID_POD ".scope");
	CHECK(container_resolve_event(r, &ev, &why) == 1);
	CHECK_STR(ev.pod, "frontend-7d9f-x2kq");
	CHECK_STR(ev.namespace_, "shop");
	CHECK_STR(ev.container, "app");

	/* a container that disappeared: 404, reason names it */
	atomic_store(&s->mode, M_404);
	leaf_event(&ev, "/docker/" ID_OTHER2);
	usleep(150 * 1000); /* past the negative TTL of the earlier skip */
	CHECK(container_resolve_event(r, &ev, &why) == -ESRCH);
	CHECK(why && strstr(why, "222222222222"));
	container_resolver_free(r);

	/* priming: one list request names every container */
	r = resolver_for(s);
	if (!r)
		return;
	atomic_store(&s->mode, M_LIST);
	CHECK(container_resolver_prime(r, &why) == 3);
	atomic_store(&s->mode, M_NOANSWER);
	before = atomic_load(&s->requests);
	leaf_event(&ev, "docker-" ID_POD ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.pod, "frontend-7d9f-x2kq");
	CHECK(atomic_load(&s->requests) == before);
	container_resolver_free(r);
}

/* Names are asked for again after the positive TTL (a docker rename reaches
 * later events); a daemon that cannot answer then leaves the old names. */
static void test_revalidate(struct server *s)
{
	char proc[4096];
	struct container_config cfg = {
	    .proc_root = proc,
	    .docker_socket = s->path,
	    .podman_socket = "",
	    .containerd_socket = "",
	    .crio_socket = "",
	    .containerd_root = "",
	    .crio_root = "",
	    .podman_root = "",
	    .backoff_ms = 400,
	    .positive_ttl_ms = 100,
	};
	struct container_resolver *r = NULL;
	struct event ev;
	uint64_t answers;
	int before;

	snprintf(proc, sizeof(proc), "%s/proc", fixtures);
	CHECK(container_resolver_new(&cfg, &r) == 0);
	if (!r)
		return;
	atomic_store(&s->mode, M_GOOD);
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "web");
	answers = container_resolver_answers(r);
	CHECK(answers == 1);
	/* renamed (the daemon now answers another name): within the TTL
	 * the cache answers, after it the new name */
	atomic_store(&s->mode, M_POD);
	before = atomic_load(&s->requests);
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "web");
	CHECK(atomic_load(&s->requests) == before);
	usleep(150 * 1000);
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "app");
	CHECK(atomic_load(&s->requests) == before + 1);
	CHECK(container_resolver_answers(r) == answers + 1);
	/* the daemon stops answering: the names known are kept */
	atomic_store(&s->mode, M_NOANSWER);
	usleep(150 * 1000);
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "app");
	CHECK(container_resolver_answers(r) == answers + 1);
	container_resolver_free(r);
}

/* The cache holds CONTAINER_CACHE_SIZE containers, no more: after four
 * times as many others, the first is asked for again, the last is not. */
static void test_cache_bound(struct server *s)
{
	struct container_resolver *r = resolver_for(s);
	const unsigned n = 4 * CONTAINER_CACHE_SIZE;
	char leaf[128];
	struct event ev;
	int before;

	if (!r)
		return;
	atomic_store(&s->mode, M_GOOD);
	for (unsigned i = 0; i < n; i++) {
		snprintf(leaf, sizeof(leaf), "docker-%064x.scope", i + 1);
		leaf_event(&ev, leaf);
		if (container_resolve_event(r, &ev, NULL) != 1) {
			CHECK(!"every container resolves");
			break;
		}
	}
	before = atomic_load(&s->requests);
	snprintf(leaf, sizeof(leaf), "docker-%064x.scope", n);
	leaf_event(&ev, leaf);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK(atomic_load(&s->requests) == before);
	snprintf(leaf, sizeof(leaf), "docker-%064x.scope", 1);
	leaf_event(&ev, leaf);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK(atomic_load(&s->requests) == before + 1);
	container_resolver_free(r);
}

struct stream_seen {
	struct container_info info[4];
	int n;
};

static int on_stream(const struct container_info *info, void *userdata)
{
	struct stream_seen *seen = userdata;

	if (seen->n < 4)
		seen->info[seen->n++] = *info;
	return 0;
}

/* Docker's event stream: names of new and renamed containers as they come. */
static void test_events_stream(struct server *s)
{
	struct docker_events *ev = NULL;
	struct stream_seen seen = {0};
	const char *why = NULL;
	double end;

	atomic_store(&s->mode, M_EVENTS);
	CHECK(docker_events_open(s->path, CONTAINER_TIMEOUT_MS, &ev, &why) == 0);
	if (!ev)
		return;
	CHECK(strstr(s->request_line, "GET /events?filters=") != NULL);
	end = now_ms() + 2000;
	while (seen.n < 2 && now_ms() < end) {
		struct pollfd p = {.fd = docker_events_fd(ev), .events = POLLIN};

		poll(&p, 1, 100);
		CHECK(docker_events_read(ev, on_stream, &seen) >= 0);
	}
	CHECK(seen.n == 2); /* the over-long line is skipped */
	CHECK_STR(seen.info[0].id, ID_OTHER1);
	CHECK_STR(seen.info[0].name, "burst-1");
	CHECK_STR(seen.info[0].image, "img:1");
	CHECK_STR(seen.info[0].pod, "web-0");
	CHECK_STR(seen.info[0].namespace_, "shop");
	CHECK_STR(seen.info[1].id, ID_OTHER2);
	CHECK_STR(seen.info[1].name, "renamed");
	docker_events_close(ev);

	/* A daemon without the stream (404): refused, with the reason. */
	atomic_store(&s->mode, M_GOOD);
	CHECK(docker_events_open(s->path, CONTAINER_TIMEOUT_MS, &ev, &why) == -EBADMSG);
	CHECK(why && strstr(why, "status"));
}

/* Asynchronous mode: no call waits for the runtime; the names come in at
 * container_resolver_poll(), and a stop does not wait for a stuck daemon. */
static void test_async(struct server *s)
{
	struct container_resolver *r = resolver_for(s);
	struct pollfd p;
	struct event ev;
	double t0, ms;
	int e;

	if (!r)
		return;
	CHECK(container_resolver_fd(r) == -1);
	CHECK(container_resolver_start_async(r) == 0);
	CHECK(container_resolver_fd(r) >= 0);
	atomic_store(&s->mode, M_CHUNKED_SLOW); /* tens of ms per answer */
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	t0 = now_ms();
	e = container_resolve_event(r, &ev, NULL);
	ms = now_ms() - t0;
	CHECK(e == -EINPROGRESS);
	CHECK(ms < 20);
	CHECK_STR(ev.container_id, ID_WEB);
	CHECK(!EVENT_HAS(&ev, ITEM_CONTAINER));
	/* asked once, however often the event comes meanwhile */
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == -EINPROGRESS);
	p = (struct pollfd){.fd = container_resolver_fd(r), .events = POLLIN};
	CHECK(poll(&p, 1, 2000) == 1);
	CHECK(container_resolver_poll(r, NULL) == 1);
	leaf_event(&ev, "docker-" ID_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "web");

	/* A daemon that never answers: free() returns at once. */
	atomic_store(&s->mode, M_NOANSWER);
	leaf_event(&ev, "docker-" ID_POD ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == -EINPROGRESS);
	usleep(50000); /* the worker is waiting on it now */
	t0 = now_ms();
	container_resolver_free(r);
	ms = now_ms() - t0;
	CHECK(ms < 50);
	usleep(300000); /* let the server see the close before the next test */
}

int main(int argc, char **argv)
{
	struct server s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
		return 2;
	}
	fixtures = argv[1];
	signal(SIGPIPE, SIG_IGN);
	body_web = slurp("inspect_web.json");
	body_pod = slurp("inspect_pod.json");
	body_list = slurp("list.json");
	if (server_start(&s) < 0) {
		perror("fake docker server");
		return 2;
	}
	test_answers(&s);
	test_pod_labels(&s);
	test_timeouts(&s);
	test_unreachable();
	test_bad_ids(&s);
	test_list(&s);
	test_resolver(&s);
	test_revalidate(&s);
	test_cache_bound(&s);
	test_events_stream(&s);
	test_async(&s);
	server_stop(&s);
	free(body_web);
	free(body_pod);
	free(body_list);
	return test_summary();
}
