/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The extcap toolbar: control sentences, control pipe framing, the filter. */
#include "extcap/control.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A whole message of the largest size fits the read buffer, so a complete
 * message is always parsed from one contiguous buffer. */
#define CONTROL_BUF_LEN (CONTROL_HEADER_LEN + CONTROL_PAYLOAD_MAX)
/* The length field counts the control number and the command. */
#define CONTROL_LEN_MIN 2u

struct control {
	int in_fd, out_fd;
	uint8_t buf[CONTROL_BUF_LEN];
	size_t used;
	uint32_t skip; /* payload bytes of an oversized message still to drop */
	uint64_t dropped;
};

int control_print_sentences(FILE *out)
{
	fprintf(out,
		"control {number=%d}{type=boolean}{display=Pause}{default=false}"
		"{tooltip=While checked, nothing is written to the capture; the kernel "
		"probes stay attached and go on counting}\n",
		CONTROL_PAUSE);
	fprintf(out,
		"control {number=%d}{type=string}{display=Process filter}"
		"{tooltip=Only events and packets of matching processes or containers, "
		"applied at once. Words match a command, container or pod name; or "
		"key=value with pid, ppid, uid, gid, comm, pcomm, exe, user, group, "
		"container, container_id, pod, namespace, image, cgroup, host. Any term "
		"may match; * and ? are wildcards. Empty: everything}"
		"{placeholder=e.g. curl nginx* container=web pid=1234}\n",
		CONTROL_FILTER);
	fprintf(out,
		"control {number=%d}{type=button}{role=logger}{display=Log}"
		"{tooltip=The capture log: start, filter changes, losses}\n",
		CONTROL_LOG);
	fprintf(out,
		"control {number=%d}{type=button}{role=restore}{display=Restore}"
		"{tooltip=Back to no pause and no filter}\n",
		CONTROL_RESTORE);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

/* O_RDWR on a fifo never waits for the other side on Linux (see
 * control.h); O_NONBLOCK makes reads and writes never wait either. */
static int open_pipe(const char *path, int *ret_fd)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int control_open(const char *in_path, const char *out_path, struct control **ret)
{
	struct control *c = calloc(1, sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	c->in_fd = c->out_fd = -1;
	if (in_path)
		r = open_pipe(in_path, &c->in_fd);
	if (r == 0 && out_path)
		r = open_pipe(out_path, &c->out_fd);
	if (r < 0) {
		control_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int control_fd(const struct control *c)
{
	return c ? c->in_fd : -1;
}

uint64_t control_dropped(const struct control *c)
{
	return c ? c->dropped : 0;
}

struct control *control_free(struct control *c)
{
	if (!c)
		return NULL;
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	free(c);
	return NULL;
}

static void consume(struct control *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->used - n);
	c->used -= n;
}

/* Take one message, or one unit of bad input, from the buffer. Returns 1,
 * 0 (incomplete), -EBADMSG or -EMSGSIZE like control_read. */
static int parse_one(struct control *c, struct control_msg *ret)
{
	uint32_t len;

	if (c->skip) {
		size_t n = c->used < c->skip ? c->used : c->skip;

		consume(c, n);
		c->skip -= (uint32_t)n;
		if (c->skip)
			return 0; /* -EMSGSIZE was reported when the header came */
	}
	if (c->used == 0)
		return 0;
	if (c->buf[0] != CONTROL_SYNC_BYTE) {
		/* Resynchronise at the next sync byte; report the run once. */
		uint8_t *sync = memchr(c->buf, CONTROL_SYNC_BYTE, c->used);

		consume(c, sync ? (size_t)(sync - c->buf) : c->used);
		return -EBADMSG;
	}
	if (c->used < 4)
		return 0;
	len = (uint32_t)c->buf[1] << 16 | (uint32_t)c->buf[2] << 8 | c->buf[3];
	if (len < CONTROL_LEN_MIN) {
		consume(c, 4 + len); /* at most 5 bytes, all buffered */
		return -EBADMSG;
	}
	if (len - CONTROL_LEN_MIN > CONTROL_PAYLOAD_MAX) {
		uint32_t total = 4 + len;

		/* Drop what is buffered now, the rest as it arrives. */
		if (c->used >= total) {
			consume(c, total);
		} else {
			c->skip = total - (uint32_t)c->used;
			c->used = 0;
		}
		return -EMSGSIZE;
	}
	if (c->used < 4 + len)
		return 0;
	ret->number = c->buf[4];
	ret->command = c->buf[5];
	ret->len = len - CONTROL_LEN_MIN;
	memcpy(ret->payload, c->buf + CONTROL_HEADER_LEN, ret->len);
	ret->payload[ret->len] = '\0';
	consume(c, 4 + len);
	return 1;
}

int control_read(struct control *c, struct control_msg *ret)
{
	for (;;) {
		ssize_t n;
		int r = parse_one(c, ret);

		if (r != 0)
			return r;
		if (c->in_fd < 0)
			return 0;
		/* parse_one leaves less than one whole message, so there is room. */
		n = read(c->in_fd, c->buf + c->used, sizeof(c->buf) - c->used);
		if (n > 0) {
			c->used += (size_t)n;
			continue;
		}
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		return -errno;
	}
}

int control_send(struct control *c, uint8_t number, uint8_t command, const void *payload,
		 size_t len)
{
	uint8_t msg[CONTROL_HEADER_LEN + CONTROL_PAYLOAD_MAX];
	size_t total = CONTROL_HEADER_LEN + len;
	uint32_t wire_len = (uint32_t)len + CONTROL_LEN_MIN;
	ssize_t n;

	if (len > CONTROL_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (!c || c->out_fd < 0)
		return 0;
	msg[0] = CONTROL_SYNC_BYTE;
	msg[1] = (uint8_t)(wire_len >> 16);
	msg[2] = (uint8_t)(wire_len >> 8);
	msg[3] = (uint8_t)wire_len;
	msg[4] = number;
	msg[5] = command;
	if (len)
		memcpy(msg + CONTROL_HEADER_LEN, payload, len);
	do {
		n = write(c->out_fd, msg, total);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)total)
		return 0;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	/* EAGAIN, or a short write, which a pipe does not do for messages up to
	 * PIPE_BUF: the reader is not keeping up; drop rather than block. */
	c->dropped++;
	return -EAGAIN;
}

static size_t cut(const char *text)
{
	size_t len = strlen(text);

	return len > CONTROL_PAYLOAD_MAX ? CONTROL_PAYLOAD_MAX : len;
}

int control_send_status(struct control *c, const char *text)
{
	return control_send(c, CONTROL_NONE, CONTROL_CMD_STATUSBAR, text, cut(text));
}

int control_send_log(struct control *c, const char *line)
{
	char buf[CONTROL_PAYLOAD_MAX];
	struct timespec ts;
	struct tm tm;
	size_t len = 0, n = strlen(line);

	/* Local time of day, as Wireshark's own time column shows it. */
	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm))
		len = strftime(buf, sizeof(buf), "%H:%M:%S ", &tm);
	if (n > sizeof(buf) - 1 - len)
		n = sizeof(buf) - 1 - len;
	memcpy(buf + len, line, n);
	len += n;
	buf[len++] = '\n'; /* Wireshark's log window shows the text as sent */
	return control_send(c, CONTROL_LOG, CONTROL_CMD_ADD, buf, len);
}

int control_send_message(struct control *c, uint8_t command, const char *text)
{
	if (command != CONTROL_CMD_INFORMATION && command != CONTROL_CMD_WARNING &&
	    command != CONTROL_CMD_ERROR)
		return -EINVAL;
	return control_send(c, CONTROL_NONE, command, text, cut(text));
}

int control_send_value(struct control *c, uint8_t number, const char *text)
{
	return control_send(c, number, CONTROL_CMD_SET, text, cut(text));
}

bool control_msg_bool(const struct control_msg *m)
{
	return m->len > 0 && m->payload[0] != 0;
}

/* --- status bar ------------------------------------------------------------ */

int control_format_counters(char *buf, size_t size, const struct control_counters *k)
{
	int n;

	if (size == 0)
		return -EINVAL;
	n = snprintf(buf, size,
		     "eBPF: %" PRIu64 " events, %" PRIu64 " packets (%" PRIu64 " merged), %" PRIu64
		     " kernel drops",
		     k->events, k->packets, k->merged, k->kernel_drops);
	if (n >= 0 && (size_t)n < size && k->filtered)
		n += snprintf(buf + n, size - (size_t)n, ", %" PRIu64 " filtered", k->filtered);
	if (n >= 0 && (size_t)n < size && k->paused)
		n += snprintf(buf + n, size - (size_t)n, ", paused");
	if (n < 0)
		return -EINVAL;
	return (size_t)n < size ? n : (int)size - 1;
}

int control_send_counters(struct control *c, const struct control_counters *k)
{
	char text[256];
	int n = control_format_counters(text, sizeof(text), k);

	return n < 0 ? n : control_send(c, CONTROL_NONE, CONTROL_CMD_STATUSBAR, text, (size_t)n);
}

/* --- filter ------------------------------------------------------------------ */

enum filter_key {
	KEY_WORD = 1, /* comm, container, pod, container id prefix */
	KEY_PID,
	KEY_PPID,
	KEY_UID,
	KEY_GID,
	KEY_COMM,
	KEY_PCOMM,
	KEY_EXE,
	KEY_USER,
	KEY_GROUP,
	KEY_CONTAINER,
	KEY_CONTAINER_ID,
	KEY_POD,
	KEY_NAMESPACE,
	KEY_IMAGE,
	KEY_CGROUP,
	KEY_HOST,
};

struct filter_key_spec {
	const char *name;
	uint8_t key;
	uint8_t item; /* the event item it reads */
	bool number;
};

static const struct filter_key_spec filter_keys[] = {
	{ "pid", KEY_PID, ITEM_PID, true },
	{ "ppid", KEY_PPID, ITEM_PPID, true },
	{ "uid", KEY_UID, ITEM_UID, true },
	{ "gid", KEY_GID, ITEM_GID, true },
	{ "comm", KEY_COMM, ITEM_COMM, false },
	{ "pcomm", KEY_PCOMM, ITEM_PCOMM, false },
	{ "exe", KEY_EXE, ITEM_EXE, false },
	{ "user", KEY_USER, ITEM_USER, false },
	{ "group", KEY_GROUP, ITEM_GROUP, false },
	{ "container", KEY_CONTAINER, ITEM_CONTAINER, false },
	{ "container_id", KEY_CONTAINER_ID, ITEM_CONTAINER_ID, false },
	{ "pod", KEY_POD, ITEM_POD, false },
	{ "namespace", KEY_NAMESPACE, ITEM_NAMESPACE, false },
	{ "image", KEY_IMAGE, ITEM_IMAGE, false },
	{ "cgroup", KEY_CGROUP, ITEM_CGROUP, false },
	{ "host", KEY_HOST, ITEM_HOST, false },
	{ NULL, 0, 0, false },
};

static const struct filter_key_spec *key_by_name(const char *name, size_t len)
{
	for (const struct filter_key_spec *k = filter_keys; k->name; k++)
		if (strlen(k->name) == len && memcmp(k->name, name, len) == 0)
			return k;
	return NULL;
}

static const struct filter_key_spec *key_by_id(uint8_t key)
{
	for (const struct filter_key_spec *k = filter_keys; k->name; k++)
		if (k->key == key)
			return k;
	return NULL;
}

static bool is_separator(char ch)
{
	return ch == ' ' || ch == ',' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int parse_term(const char *t, size_t len, struct control_filter_term *term, char *errbuf,
		      size_t errlen)
{
	const char *eq = memchr(t, '=', len);
	const char *value = t;
	size_t vlen = len;

	memset(term, 0, sizeof(*term));
	term->key = KEY_WORD;
	if (eq) {
		const struct filter_key_spec *k = key_by_name(t, (size_t)(eq - t));

		if (!k) {
			snprintf(errbuf, errlen,
				 "unknown filter key '%.*s'; known: pid, ppid, uid, gid, comm, pcomm, "
				 "exe, user, group, container, container_id, pod, namespace, image, "
				 "cgroup, host",
				 (int)(eq - t), t);
			return -EINVAL;
		}
		term->key = k->key;
		value = eq + 1;
		vlen = len - (size_t)(eq - t) - 1;
		if (vlen == 0) {
			snprintf(errbuf, errlen, "filter term '%.*s' has no value", (int)len, t);
			return -EINVAL;
		}
		if (k->number) {
			uint64_t v = 0;

			for (size_t i = 0; i < vlen && v <= UINT32_MAX; i++) {
				if (value[i] < '0' || value[i] > '9')
					v = UINT64_MAX;
				else
					v = v * 10 + (uint64_t)(value[i] - '0');
			}
			if (v > UINT32_MAX) {
				snprintf(errbuf, errlen, "filter term '%.*s': %s needs a number "
					 "from 0 to %u", (int)len, t, k->name, UINT32_MAX);
				return -EINVAL;
			}
			term->number = (uint32_t)v;
			return 0;
		}
	}
	if (vlen > CONTROL_FILTER_VALUE_MAX) {
		snprintf(errbuf, errlen, "filter term '%.20s...' is longer than %u bytes", t,
			 CONTROL_FILTER_VALUE_MAX);
		return -EINVAL;
	}
	memcpy(term->value, value, vlen);
	term->value[vlen] = '\0';
	if (memchr(term->value, '\0', vlen)) {
		snprintf(errbuf, errlen, "filter term holds a NUL byte");
		return -EINVAL;
	}
	term->wildcard = strpbrk(term->value, "*?[") != NULL;
	return 0;
}

int control_filter_parse(const char *text, size_t len, struct control_filter *ret, char *errbuf,
			 size_t errlen)
{
	struct control_filter f = { 0 };
	size_t i = 0;

	if (len > CONTROL_FILTER_TEXT_MAX) {
		snprintf(errbuf, errlen, "filter longer than %u bytes", CONTROL_FILTER_TEXT_MAX);
		return -EINVAL;
	}
	while (i < len) {
		size_t start;
		int r;

		while (i < len && is_separator(text[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_separator(text[i]))
			i++;
		if (f.n_terms == CONTROL_FILTER_TERMS_MAX) {
			snprintf(errbuf, errlen, "more than %u filter terms",
				 CONTROL_FILTER_TERMS_MAX);
			return -EINVAL;
		}
		r = parse_term(text + start, i - start, &f.terms[f.n_terms], errbuf, errlen);
		if (r < 0)
			return r;
		f.n_terms++;
	}
	*ret = f;
	return 0;
}

static bool match_string(const struct control_filter_term *t, const char *s, bool prefix)
{
	if (t->wildcard)
		return fnmatch(t->value, s, 0) == 0;
	if (prefix)
		return strncmp(s, t->value, strlen(t->value)) == 0;
	return strcmp(s, t->value) == 0;
}

static const char *event_string(const struct event *ev, uint8_t key)
{
	switch (key) {
	case KEY_COMM:
		return ev->comm;
	case KEY_PCOMM:
		return ev->pcomm;
	case KEY_EXE:
		return ev->exe;
	case KEY_USER:
		return ev->user;
	case KEY_GROUP:
		return ev->group;
	case KEY_CONTAINER:
		return ev->container;
	case KEY_CONTAINER_ID:
		return ev->container_id;
	case KEY_POD:
		return ev->pod;
	case KEY_NAMESPACE:
		return ev->namespace_;
	case KEY_IMAGE:
		return ev->image;
	case KEY_CGROUP:
		return ev->cgroup;
	case KEY_HOST:
		return ev->host;
	}
	return NULL;
}

static uint32_t event_number(const struct event *ev, uint8_t key)
{
	switch (key) {
	case KEY_PID:
		return ev->pid;
	case KEY_PPID:
		return ev->ppid;
	case KEY_UID:
		return ev->uid;
	case KEY_GID:
		return ev->gid;
	}
	return 0;
}

static bool match_term(const struct control_filter_term *t, const struct event *ev)
{
	const struct filter_key_spec *k;

	if (t->key == KEY_WORD) {
		/* An empty id would match every prefix: require the item. */
		return (EVENT_HAS(ev, ITEM_COMM) && match_string(t, ev->comm, false)) ||
		       (EVENT_HAS(ev, ITEM_CONTAINER) && match_string(t, ev->container, false)) ||
		       (EVENT_HAS(ev, ITEM_POD) && match_string(t, ev->pod, false)) ||
		       (EVENT_HAS(ev, ITEM_CONTAINER_ID) && ev->container_id[0] &&
			match_string(t, ev->container_id, true));
	}
	k = key_by_id(t->key);
	if (!k || !EVENT_HAS(ev, k->item))
		return false;
	if (k->number)
		return event_number(ev, t->key) == t->number;
	return match_string(t, event_string(ev, t->key), t->key == KEY_CONTAINER_ID);
}

bool control_filter_match(const struct control_filter *f, const struct event *ev)
{
	if (!f || f->n_terms == 0)
		return true;
	for (unsigned i = 0; i < f->n_terms; i++)
		if (match_term(&f->terms[i], ev))
			return true;
	return false;
}
