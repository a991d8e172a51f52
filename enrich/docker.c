/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker Engine API client: bounded HTTP/1.1 GET over a unix socket, json-c. */
#define _GNU_SOURCE /* strcasestr */
#include "enrich/docker.h"
#include "util/clock.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Chunked framing adds a few bytes per chunk; the raw answer may exceed
 * the body limit by this much before it is refused. */
#define DOCKER_FRAMING_SLACK (DOCKER_RESPONSE_MAX / 8)
#define DOCKER_RAW_MAX (DOCKER_HEADER_MAX + DOCKER_RESPONSE_MAX + DOCKER_FRAMING_SLACK)
/* First read buffer; grows by doubling up to DOCKER_RAW_MAX. */
#define DOCKER_BUF_INITIAL 16384u
/* Longest chunk-size line ("1a2b;ext=..."). */
#define DOCKER_CHUNK_LINE_MAX 256u
/* How often a connect is retried while the daemon's backlog is full. */
#define DOCKER_BUSY_RETRY_MS 10

/* One request's raw answer and what its header says. */
struct http_answer {
	char *buf;
	size_t len, cap;
	size_t header_end;	  /* offset of the body, 0 until the header is complete */
	int status;		  /* HTTP status code */
	long long content_length; /* -1 when absent */
	bool chunked;
	char *body; /* decoded body (points into buf, or malloc'd when chunked) */
	size_t body_len;
	bool body_owned;
};

static int left_ms(uint64_t deadline)
{
	uint64_t now = clock_ms(CLOCK_MONOTONIC);

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for events on fd until the deadline. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int left = left_ms(deadline), r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		return 0; /* readiness, hang-up or error: the next call says which */
	}
}

static int unix_connect(const char *path, uint64_t deadline, int *ret_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* The listen backlog is full: the daemon is not
			 * accepting. Unix sockets cannot be polled for this, so
			 * retry until the deadline. */
			int left = left_ms(deadline);

			if (left <= 0) {
				r = -ETIMEDOUT;
				goto fail;
			}
			poll(NULL, 0, left < DOCKER_BUSY_RETRY_MS ? left : DOCKER_BUSY_RETRY_MS);
			continue;
		}
		if (errno == EINPROGRESS) {
			socklen_t sl = sizeof(r);

			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				goto fail;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &sl) < 0) {
				r = -errno;
				goto fail;
			}
			if (r) {
				r = -r;
				goto fail;
			}
			break;
		}
		r = -errno;
		goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

static int send_all(int fd, const char *data, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(fd, POLLOUT, deadline);

			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *find_crlf(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '\r' && s[i + 1] == '\n')
			return s + i;
	return NULL;
}

/* Status line and the two headers that frame the body. */
static int parse_header(struct http_answer *a)
{
	const char *p = a->buf, *end = a->buf + a->header_end - 2;
	const char *eol = find_crlf(p, (size_t)(end + 2 - p));
	int status = 0;

	if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -EBADMSG;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EBADMSG;
		status = status * 10 + (p[i] - '0');
	}
	a->status = status;
	a->content_length = -1;
	for (p = eol + 2; p < end; p = eol + 2) {
		const char *colon, *v;
		size_t name_len, v_len;

		eol = find_crlf(p, (size_t)(end + 2 - p));
		if (!eol)
			return -EBADMSG;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			return -EBADMSG;
		name_len = (size_t)(colon - p);
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		v_len = (size_t)(eol - v);
		if (name_len == 14 && strncasecmp(p, "content-length", 14) == 0) {
			long long cl = 0;

			if (v_len == 0)
				return -EBADMSG;
			for (size_t i = 0; i < v_len && v[i] != ' ' && v[i] != '\t'; i++) {
				if (v[i] < '0' || v[i] > '9')
					return -EBADMSG;
				cl = cl * 10 + (v[i] - '0');
				if (cl > (long long)DOCKER_RESPONSE_MAX)
					return -EMSGSIZE;
			}
			a->content_length = cl;
		} else if (name_len == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
			for (size_t i = 0; i + 7 <= v_len; i++)
				if (strncasecmp(v + i, "chunked", 7) == 0)
					a->chunked = true;
		}
	}
	return 0;
}

/* Decode a chunked body (RFC 9112 section 7.1) into a new buffer. Returns 0
 * when the last chunk was seen, -EAGAIN when more input is needed, -EBADMSG
 * or -EMSGSIZE. */
static int decode_chunked(const char *in, size_t n, char **ret, size_t *ret_len)
{
	char *out = malloc(n ? n : 1);
	size_t pos = 0, out_len = 0;
	int r;

	if (!out)
		return -ENOMEM;
	for (;;) {
		const char *eol = find_crlf(in + pos, n - pos);
		size_t size = 0, i = pos;
		bool digits = false;

		if (!eol) {
			r = n - pos > DOCKER_CHUNK_LINE_MAX ? -EBADMSG : -EAGAIN;
			goto fail;
		}
		if ((size_t)(eol - (in + pos)) > DOCKER_CHUNK_LINE_MAX) {
			r = -EBADMSG;
			goto fail;
		}
		for (; in + i < eol; i++) {
			char c = in[i];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				break;
			size = size * 16 + d;
			digits = true;
			if (size > DOCKER_RESPONSE_MAX) {
				r = -EMSGSIZE;
				goto fail;
			}
		}
		/* only chunk extensions or whitespace may follow the size */
		if (!digits || (in + i < eol && in[i] != ';' && in[i] != ' ' && in[i] != '\t')) {
			r = -EBADMSG;
			goto fail;
		}
		pos = (size_t)(eol - in) + 2;
		if (size == 0) {
			/* trailer lines until an empty one */
			for (;;) {
				eol = find_crlf(in + pos, n - pos);
				if (!eol) {
					r = -EAGAIN;
					goto fail;
				}
				if (eol == in + pos)
					break;
				pos = (size_t)(eol - in) + 2;
			}
			*ret = out;
			*ret_len = out_len;
			return 0;
		}
		if (out_len + size > DOCKER_RESPONSE_MAX) {
			r = -EMSGSIZE;
			goto fail;
		}
		if (n - pos < size + 2) {
			r = -EAGAIN;
			goto fail;
		}
		memcpy(out + out_len, in + pos, size);
		out_len += size;
		pos += size;
		if (in[pos] != '\r' || in[pos + 1] != '\n') {
			r = -EBADMSG;
			goto fail;
		}
		pos += 2;
	}
fail:
	free(out);
	return r;
}

/* Is the answer complete? 1 yes (body set), 0 need more, negative on error.
 * at_eof: the peer closed, so whatever is there is all there will be. */
static int answer_complete(struct http_answer *a, size_t old_len, bool at_eof)
{
	int r;

	if (a->len >= 7 && memcmp(a->buf, "HTTP/1.", 7) != 0)
		return -EBADMSG; /* not HTTP: no need to wait for more */
	if (!a->header_end) {
		size_t from = old_len > 3 ? old_len - 3 : 0;

		for (size_t i = from; i + 3 < a->len; i++) {
			if (memcmp(a->buf + i, "\r\n\r\n", 4) == 0) {
				a->header_end = i + 4;
				break;
			}
		}
		if (!a->header_end) {
			if (a->len > DOCKER_HEADER_MAX)
				return -EMSGSIZE;
			return at_eof ? -EBADMSG : 0;
		}
		r = parse_header(a);
		if (r < 0)
			return r;
	}
	if (a->chunked) {
		static const char last[] = "0\r\n\r\n";
		size_t n = a->len - a->header_end;
		char *body;
		size_t body_len;

		/* Decoding is tried only when the input could be complete,
		 * so a big answer read in many pieces is decoded once. */
		if (!at_eof && (n < 5 || memcmp(a->buf + a->len - 5, last, 5) != 0))
			return n > DOCKER_RESPONSE_MAX + DOCKER_FRAMING_SLACK ? -EMSGSIZE : 0;
		r = decode_chunked(a->buf + a->header_end, n, &body, &body_len);
		if (r == -EAGAIN)
			return at_eof ? -EBADMSG : 0;
		if (r < 0)
			return r;
		a->body = body;
		a->body_len = body_len;
		a->body_owned = true;
		return 1;
	}
	if (a->content_length >= 0) {
		if (a->len - a->header_end >= (size_t)a->content_length) {
			a->body = a->buf + a->header_end;
			a->body_len = (size_t)a->content_length;
			return 1;
		}
		return at_eof ? -EBADMSG : 0;
	}
	/* no framing: the body ends when the peer closes */
	if (a->len - a->header_end > DOCKER_RESPONSE_MAX)
		return -EMSGSIZE;
	if (!at_eof)
		return 0;
	a->body = a->buf + a->header_end;
	a->body_len = a->len - a->header_end;
	return 1;
}

static void answer_done(struct http_answer *a)
{
	if (a->body_owned)
		free(a->body);
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

static int read_answer(int fd, struct http_answer *a, uint64_t deadline)
{
	for (;;) {
		size_t old_len = a->len;
		ssize_t n;
		int r;

		if (a->len == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : DOCKER_BUF_INITIAL;
			char *p;

			if (a->cap >= DOCKER_RAW_MAX)
				return -EMSGSIZE;
			if (cap > DOCKER_RAW_MAX)
				cap = DOCKER_RAW_MAX;
			p = realloc(a->buf, cap);
			if (!p)
				return -ENOMEM;
			a->buf = p;
			a->cap = cap;
		}
		n = recv(fd, a->buf + a->len, a->cap - a->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		a->len += (size_t)n;
		r = answer_complete(a, old_len, n == 0);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

/* Only plain names reach the request line: no spaces, slashes, CR/LF or
 * percent signs that could change what is asked. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DOCKER_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int http_get(const char *socket_path, const char *target, unsigned timeout_ms,
		    struct http_answer *a, const char **reason)
{
	uint64_t deadline = clock_ms(CLOCK_MONOTONIC) + timeout_ms;
	char req[DOCKER_ID_MAX + 128];
	int fd = -1, r, len;

	memset(a, 0, sizeof(*a));
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: ebpfdump\r\n"
		       "Accept: application/json\r\nConnection: close\r\n\r\n",
		       target);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		*reason = "request too long";
		return -EINVAL;
	}
	r = unix_connect(socket_path, deadline, &fd);
	if (r < 0) {
		*reason = r == -ETIMEDOUT ? "connect timed out" : "cannot connect";
		return r;
	}
	r = send_all(fd, req, (size_t)len, deadline);
	if (r < 0) {
		*reason = r == -ETIMEDOUT ? "request timed out" : "cannot send request";
		goto out;
	}
	r = read_answer(fd, a, deadline);
	if (r == -ETIMEDOUT)
		*reason = "no complete answer in time";
	else if (r == -EMSGSIZE)
		*reason = "answer too large";
	else if (r == -EBADMSG)
		*reason = "malformed HTTP answer";
	else if (r < 0)
		*reason = "cannot read answer";
out:
	close(fd);
	if (r < 0)
		answer_done(a);
	return r;
}

static int parse_json(const char *body, size_t len, struct json_object **ret)
{
	struct json_tokener *tok = json_tokener_new_ex(DOCKER_JSON_DEPTH_MAX);
	struct json_object *o;
	size_t end;

	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	/* whitespace may follow the value, nothing else */
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (body[end] != ' ' && body[end] != '\n' && body[end] != '\r' &&
		    body[end] != '\t') {
			json_object_put(o);
			json_tokener_free(tok);
			return -EBADMSG;
		}
	}
	json_tokener_free(tok);
	*ret = o;
	return 0;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void copy_json_str(char *dst, size_t size, struct json_object *v, bool strip_slash)
{
	const char *s;
	size_t n;

	if (!v || !json_object_is_type(v, json_type_string))
		return;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (strip_slash && n > 0 && s[0] == '/') {
		s++;
		n--;
	}
	event_copy_str(dst, size, s, n);
}

/* The fields inspect and list answers share, once located. */
static void fill_info(struct container_info *info, struct json_object *id, struct json_object *name,
		      struct json_object *image, struct json_object *labels)
{
	struct json_object *type;

	memset(info, 0, sizeof(*info));
	info->runtime = CONTAINER_RUNTIME_DOCKER;
	copy_json_str(info->id, sizeof(info->id), id, false);
	copy_json_str(info->name, sizeof(info->name), name, true);
	copy_json_str(info->image, sizeof(info->image), image, false);
	/* cri-dockerd's labels (also set by hand to make a container look
	 * like a pod's): the Kubernetes container name beats Docker's
	 * generated "k8s_<container>_<pod>_<ns>_<uid>_<n>". */
	copy_json_str(info->name, sizeof(info->name),
		      member(labels, "io.kubernetes.container.name"), false);
	copy_json_str(info->pod, sizeof(info->pod), member(labels, "io.kubernetes.pod.name"),
		      false);
	copy_json_str(info->namespace_, sizeof(info->namespace_),
		      member(labels, "io.kubernetes.pod.namespace"), false);
	copy_json_str(info->sandbox_id, sizeof(info->sandbox_id),
		      member(labels, "io.kubernetes.sandbox.id"), false);
	type = member(labels, "io.kubernetes.docker.type");
	if (type && json_object_is_type(type, json_type_string) &&
	    strcmp(json_object_get_string(type), "podsandbox") == 0)
		info->sandbox = true;
}

int docker_inspect(const char *socket_path, const char *id, unsigned timeout_ms,
		   struct container_info *ret, const char **ret_reason)
{
	const char *reason = NULL;
	struct http_answer a;
	struct json_object *o = NULL, *config;
	struct container_info info;
	char target[DOCKER_ID_MAX + 32];
	int r;

	if (!socket_path || !id || !plain_name(id)) {
		reason = "container id is not a plain name";
		r = -EINVAL;
		goto out;
	}
	snprintf(target, sizeof(target), "/containers/%s/json", id);
	r = http_get(socket_path, target, timeout_ms, &a, &reason);
	if (r < 0)
		goto out;
	if (a.status == 404) {
		reason = "no such container";
		r = -ESRCH;
		goto done;
	}
	if (a.status != 200) {
		reason = "unexpected HTTP status";
		r = -EBADMSG;
		goto done;
	}
	r = parse_json(a.body, a.body_len, &o);
	if (r < 0 || !json_object_is_type(o, json_type_object)) {
		reason = "malformed JSON";
		r = r < 0 ? r : -EBADMSG;
		goto done;
	}
	config = member(o, "Config");
	fill_info(&info, member(o, "Id"), member(o, "Name"), member(config, "Image"),
		  member(config, "Labels"));
	if (!info.id[0])
		event_copy_str(info.id, sizeof(info.id), id, strlen(id));
	*ret = info;
	r = 0;
done:
	json_object_put(o);
	answer_done(&a);
out:
	if (ret_reason)
		*ret_reason = reason;
	return r;
}

int docker_list(const char *socket_path, unsigned timeout_ms, docker_list_fn fn, void *userdata,
		const char **ret_reason)
{
	const char *reason = NULL;
	struct http_answer a;
	struct json_object *o = NULL;
	size_t n;
	int r;

	if (!socket_path || !fn) {
		r = -EINVAL;
		goto out;
	}
	r = http_get(socket_path, "/containers/json", timeout_ms, &a, &reason);
	if (r < 0)
		goto out;
	if (a.status != 200) {
		reason = "unexpected HTTP status";
		r = -EBADMSG;
		goto done;
	}
	r = parse_json(a.body, a.body_len, &o);
	if (r < 0 || !json_object_is_type(o, json_type_array)) {
		reason = "malformed JSON";
		r = r < 0 ? r : -EBADMSG;
		goto done;
	}
	n = json_object_array_length(o);
	if (n > DOCKER_LIST_MAX)
		n = DOCKER_LIST_MAX;
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(o, i), *names, *name;
		struct container_info info;

		if (!c || !json_object_is_type(c, json_type_object))
			continue;
		/* a list answer has "Names": ["/name"] where inspect has "Name" */
		names = member(c, "Names");
		name = names && json_object_is_type(names, json_type_array)
			   ? json_object_array_get_idx(names, 0)
			   : NULL;
		fill_info(&info, member(c, "Id"), name, member(c, "Image"), member(c, "Labels"));
		if (!info.id[0])
			continue;
		r = fn(&info, userdata);
		if (r < 0)
			goto done;
	}
	r = (int)n;
done:
	json_object_put(o);
	answer_done(&a);
out:
	if (ret_reason)
		*ret_reason = reason;
	return r;
}

/* ---- the event stream (GET /events) ---- */

struct docker_events {
	int fd;
	bool chunked;
	size_t chunk_left;	/* bytes of the current chunk still to come */
	bool in_size;		/* reading a chunk-size line */
	bool skip_crlf;		/* the CRLF after a chunk's data */
	bool discarding;	/* a line over DOCKER_EVENT_LINE_MAX: up to its end */
	char size_line[DOCKER_CHUNK_LINE_MAX];
	size_t size_len;
	char line[DOCKER_EVENT_LINE_MAX];
	size_t line_len;
};

int docker_events_open(const char *socket_path, unsigned timeout_ms, struct docker_events **ret,
		       const char **ret_reason)
{
	/* {"type":["container"],"event":["create","start","rename"]} */
	static const char req[] =
	    "GET /events?filters=%7B%22type%22%3A%5B%22container%22%5D%2C%22event%22%3A%5B"
	    "%22create%22%2C%22start%22%2C%22rename%22%5D%7D HTTP/1.1\r\nHost: docker\r\n"
	    "User-Agent: ebpfdump\r\nAccept: application/json\r\n\r\n";
	uint64_t deadline = clock_ms(CLOCK_MONOTONIC) + timeout_ms;
	char head[DOCKER_HEADER_MAX];
	size_t len = 0;
	const char *reason = NULL, *end = NULL;
	struct docker_events *s = NULL;
	int fd = -1, r;

	r = unix_connect(socket_path, deadline, &fd);
	if (r < 0) {
		reason = r == -ETIMEDOUT ? "connect timed out" : "cannot connect";
		goto fail;
	}
	r = send_all(fd, req, sizeof(req) - 1, deadline);
	if (r < 0) {
		reason = "cannot send request";
		goto fail;
	}
	/* The header, byte by byte (it is short): what follows it is the
	 * stream's, read later. */
	while (!end) {
		ssize_t n;

		if (len == sizeof(head) - 1) {
			reason = "header too large";
			r = -EMSGSIZE;
			goto fail;
		}
		n = recv(fd, head + len, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0) {
				reason = "no answer in time";
				goto fail;
			}
			continue;
		}
		if (n <= 0) {
			reason = "closed before answering";
			r = n < 0 ? -errno : -EPIPE;
			goto fail;
		}
		len++;
		head[len] = '\0';
		if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
			end = head + len;
	}
	if (strncmp(head, "HTTP/1.", 7) != 0 || strncmp(head + 8, " 200", 4) != 0) {
		reason = "unexpected HTTP status";
		r = -EBADMSG;
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto fail;
	}
	s->fd = fd;
	s->chunked = strcasestr(head, "\r\ntransfer-encoding: chunked") != NULL;
	s->in_size = s->chunked;
	*ret = s;
	if (ret_reason)
		*ret_reason = NULL;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (ret_reason)
		*ret_reason = reason;
	return r;
}

int docker_events_fd(const struct docker_events *s)
{
	return s->fd;
}

void docker_events_close(struct docker_events *s)
{
	if (s) {
		close(s->fd);
		free(s);
	}
}

/* One event line: a container's names from Actor.Attributes (the image, the
 * name, and the container's labels). Returns fn's value, 0 for lines that
 * name no container, -EBADMSG for lines that are not JSON. */
static int event_line(const char *line, size_t len, docker_list_fn fn, void *userdata)
{
	struct json_object *o = NULL, *actor, *attrs;
	struct container_info info;
	int r;

	if (len == 0)
		return 0;
	r = parse_json(line, len, &o);
	if (r < 0)
		return r;
	actor = member(o, "Actor");
	attrs = member(actor, "Attributes");
	fill_info(&info, member(actor, "ID"), member(attrs, "name"), member(attrs, "image"),
		  attrs);
	r = info.id[0] && info.name[0] ? fn(&info, userdata) : 0;
	json_object_put(o);
	return r;
}

/* Body bytes (de-chunked) into lines. */
static int take_bytes(struct docker_events *s, const char *p, size_t n, docker_list_fn fn,
		      void *userdata, int *events)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (p[i] != '\n') {
			if (s->discarding)
				continue;
			if (s->line_len == sizeof(s->line)) {
				s->discarding = true; /* an event this long is no container's */
				s->line_len = 0;
				continue;
			}
			s->line[s->line_len++] = p[i];
			continue;
		}
		if (s->discarding) {
			s->discarding = false;
			continue;
		}
		r = event_line(s->line, s->line_len, fn, userdata);
		s->line_len = 0;
		if (r < 0)
			return r;
		(*events)++;
	}
	return 0;
}

int docker_events_read(struct docker_events *s, docker_list_fn fn, void *userdata)
{
	char buf[16384];
	int events = 0;

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
		size_t i = 0;
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return events;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE; /* the daemon closed the stream */
		if (!s->chunked) {
			r = take_bytes(s, buf, (size_t)n, fn, userdata, &events);
			if (r < 0)
				return r;
			continue;
		}
		while (i < (size_t)n) {
			if (s->skip_crlf) {
				/* "\r\n" after a chunk's data: skip up to the '\n' */
				if (buf[i++] == '\n') {
					s->skip_crlf = false;
					s->in_size = true;
				}
				continue;
			}
			if (s->in_size) {
				char c = buf[i++], *e;
				unsigned long long size;

				if (c != '\n') {
					if (s->size_len == sizeof(s->size_line) - 1)
						return -EBADMSG;
					s->size_line[s->size_len++] = c;
					continue;
				}
				s->size_line[s->size_len] = '\0';
				s->size_len = 0;
				size = strtoull(s->size_line, &e, 16);
				if (e == s->size_line)
					return -EBADMSG;
				if (size == 0)
					return -EPIPE; /* the last chunk: the stream ended */
				s->chunk_left = (size_t)size;
				s->in_size = false;
				continue;
			}
			{
				size_t take = (size_t)n - i;

				if (take > s->chunk_left)
					take = s->chunk_left;
				r = take_bytes(s, buf + i, take, fn, userdata, &events);
				if (r < 0)
					return r;
				i += take;
				s->chunk_left -= take;
				if (s->chunk_left == 0)
					s->skip_crlf = true;
			}
		}
	}
}
