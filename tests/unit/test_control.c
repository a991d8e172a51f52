/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of extcap/control: framing over real fifos (as Wireshark
 * creates them), partial and bad input, full pipes, the toolbar sentences,
 * the status text and the process/container filter.
 *
 * usage: test_control [framing|bad|full|sentences|counters|filter]  (none: all) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extcap/control.h"
#include "test_util.h"

static char dir[PATH_MAX];
static char fifo_a[PATH_MAX + 8], fifo_b[PATH_MAX + 8];

static void make_fifos(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_control.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(fifo_a, sizeof(fifo_a), "%s/a", dir);
	snprintf(fifo_b, sizeof(fifo_b), "%s/b", dir);
	if (mkfifo(fifo_a, 0600) < 0 || mkfifo(fifo_b, 0600) < 0) {
		perror("mkfifo");
		exit(2);
	}
}

static void remove_fifos(void)
{
	unlink(fifo_a);
	unlink(fifo_b);
	rmdir(dir);
}

/* Wireshark's end of a control pipe, as it opens it (nonblocking read). */
static int peer_open_read(const char *path)
{
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static int peer_open_write(const char *path)
{
	return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

static size_t frame(uint8_t *buf, uint8_t number, uint8_t command, const void *payload,
		    size_t len)
{
	uint32_t wire = (uint32_t)len + 2;

	buf[0] = 'T';
	buf[1] = (uint8_t)(wire >> 16);
	buf[2] = (uint8_t)(wire >> 8);
	buf[3] = (uint8_t)wire;
	buf[4] = number;
	buf[5] = command;
	memcpy(buf + 6, payload, len);
	return len + 6;
}

static void write_all(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len) {
		perror("write");
		exit(2);
	}
}

static void test_framing(void)
{
	static struct control_msg m;
	struct control *in = NULL, *out = NULL;
	uint8_t buf[64];
	size_t n;
	int peer, r;

	make_fifos();
	/* Both open without the other side present: nothing blocks. */
	CHECK(control_open(fifo_a, NULL, &in) == 0);
	CHECK(control_open(NULL, fifo_a, &out) == 0);
	CHECK(control_fd(in) >= 0);
	CHECK(control_fd(out) == -1);
	CHECK(control_read(in, &m) == 0); /* nothing yet */

	/* Our sender to our reader: what Wireshark's reader would see. */
	CHECK(control_send_status(out, "eBPF: 1 events") == 0);
	CHECK(control_read(in, &m) == 1);
	CHECK_EQ_U64(m.number, CONTROL_NONE);
	CHECK_EQ_U64(m.command, CONTROL_CMD_STATUSBAR);
	CHECK_STR(m.payload, "eBPF: 1 events");
	CHECK_EQ_U64(m.len, strlen("eBPF: 1 events"));
	CHECK(control_send_log(out, "capture started") == 0);
	CHECK(control_read(in, &m) == 1);
	CHECK_EQ_U64(m.number, CONTROL_LOG);
	CHECK_EQ_U64(m.command, CONTROL_CMD_ADD);
	/* "HH:MM:SS capture started\n": the time of day first. */
	CHECK_EQ_U64(m.len, strlen("12:34:56 capture started\n"));
	CHECK(m.payload[2] == ':' && m.payload[5] == ':' && m.payload[8] == ' ');
	CHECK_STR(m.payload + 9, "capture started\n");
	CHECK(control_read(in, &m) == 0);
	in = control_free(in);
	out = control_free(out);

	/* Wireshark writing a boolean, byte by byte: nothing until complete. */
	CHECK(control_open(fifo_b, NULL, &in) == 0);
	peer = peer_open_write(fifo_b);
	CHECK(peer >= 0);
	n = frame(buf, CONTROL_PAUSE, CONTROL_CMD_SET, "\1", 1);
	for (size_t i = 0; i < n; i++) {
		CHECK(control_read(in, &m) == 0);
		write_all(peer, buf + i, 1);
	}
	CHECK(control_read(in, &m) == 1);
	CHECK_EQ_U64(m.number, CONTROL_PAUSE);
	CHECK_EQ_U64(m.command, CONTROL_CMD_SET);
	CHECK(control_msg_bool(&m));

	/* Several messages in one write, including an empty payload. */
	n = frame(buf, CONTROL_FILTER, CONTROL_CMD_SET, "curl", 4);
	n += frame(buf + n, 0, CONTROL_CMD_INITIALIZED, "", 0);
	n += frame(buf + n, CONTROL_PAUSE, CONTROL_CMD_SET, "\0", 1);
	write_all(peer, buf, n);
	CHECK(control_read(in, &m) == 1);
	CHECK_STR(m.payload, "curl");
	CHECK(control_read(in, &m) == 1);
	CHECK_EQ_U64(m.command, CONTROL_CMD_INITIALIZED);
	CHECK_EQ_U64(m.len, 0);
	CHECK(control_read(in, &m) == 1);
	CHECK(!control_msg_bool(&m));
	CHECK(control_read(in, &m) == 0);

	/* The writer goes away and comes back (Wireshark stop/start): the
	 * pipe does not turn into an endless end-of-file. */
	close(peer);
	CHECK(control_read(in, &m) == 0);
	peer = peer_open_write(fifo_b);
	CHECK(peer >= 0);
	n = frame(buf, CONTROL_FILTER, CONTROL_CMD_SET, "", 0);
	write_all(peer, buf, n);
	r = control_read(in, &m);
	CHECK(r == 1);
	CHECK_EQ_U64(m.len, 0);
	close(peer);
	in = control_free(in);

	/* The largest payload passes whole; one more byte is refused. */
	{
		static uint8_t big[CONTROL_HEADER_LEN + CONTROL_PAYLOAD_MAX + 1];
		static char payload[CONTROL_PAYLOAD_MAX + 1];
		int rd;

		memset(payload, 'x', sizeof(payload));
		CHECK(control_open(NULL, fifo_a, &out) == 0);
		rd = peer_open_read(fifo_a);
		CHECK(control_send(out, CONTROL_LOG, CONTROL_CMD_ADD, payload,
				   CONTROL_PAYLOAD_MAX) == 0);
		CHECK(control_send(out, CONTROL_LOG, CONTROL_CMD_ADD, payload,
				   CONTROL_PAYLOAD_MAX + 1) == -EMSGSIZE);
		CHECK(read(rd, big, sizeof(big)) == (ssize_t)(CONTROL_HEADER_LEN +
							       CONTROL_PAYLOAD_MAX));
		CHECK(big[0] == 'T' && big[4] == CONTROL_LOG && big[5] == CONTROL_CMD_ADD);
		CHECK_EQ_U64((uint32_t)big[1] << 16 | (uint32_t)big[2] << 8 | big[3],
			     CONTROL_PAYLOAD_MAX + 2);
		close(rd);
		out = control_free(out);
	}

	/* No paths: a toolbar-less capture (tshark) sends into the void. */
	CHECK(control_open(NULL, NULL, &out) == 0);
	CHECK(control_send_status(out, "nobody listens") == 0);
	CHECK(control_read(out, &m) == 0);
	out = control_free(out);
	CHECK(control_free(NULL) == NULL);
	CHECK(control_send_status(NULL, "x") == 0);

	/* A path that cannot be opened: an error, *ret untouched. */
	out = (struct control *)&m;
	CHECK(control_open("/nonexistent/dir/fifo", NULL, &out) == -ENOENT);
	CHECK(out == (struct control *)&m);
	remove_fifos();
}

static void test_bad_input(void)
{
	static struct control_msg m;
	static uint8_t buf[3 * CONTROL_PAYLOAD_MAX];
	struct control *in = NULL;
	size_t n;
	int peer;

	make_fifos();
	CHECK(control_open(fifo_a, NULL, &in) == 0);
	peer = peer_open_write(fifo_a);

	/* Garbage before a message: reported once, then the message. */
	memcpy(buf, "garbage", 7);
	n = 7 + frame(buf + 7, CONTROL_FILTER, CONTROL_CMD_SET, "a", 1);
	write_all(peer, buf, n);
	CHECK(control_read(in, &m) == -EBADMSG);
	CHECK(control_read(in, &m) == 1);
	CHECK_STR(m.payload, "a");

	/* A length too short for number and command. */
	n = 0;
	buf[n++] = 'T';
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 7;
	n += frame(buf + n, CONTROL_FILTER, CONTROL_CMD_SET, "b", 1);
	write_all(peer, buf, n);
	CHECK(control_read(in, &m) == -EBADMSG);
	CHECK(control_read(in, &m) == 1);
	CHECK_STR(m.payload, "b");

	/* An oversized message arriving in pieces is skipped as a whole. */
	{
		uint32_t payload = 2 * CONTROL_PAYLOAD_MAX, wire = payload + 2;
		size_t first = 100;

		buf[0] = 'T';
		buf[1] = (uint8_t)(wire >> 16);
		buf[2] = (uint8_t)(wire >> 8);
		buf[3] = (uint8_t)wire;
		buf[4] = CONTROL_FILTER;
		buf[5] = CONTROL_CMD_SET;
		memset(buf + 6, 'T', payload); /* sync bytes inside must not confuse */
		n = 6 + payload;
		n += frame(buf + n, CONTROL_FILTER, CONTROL_CMD_SET, "after", 5);
		write_all(peer, buf, first);
		CHECK(control_read(in, &m) == -EMSGSIZE);
		CHECK(control_read(in, &m) == 0);
		write_all(peer, buf + first, n - first);
		CHECK(control_read(in, &m) == 1);
		CHECK_STR(m.payload, "after");
		CHECK(control_read(in, &m) == 0);
	}

	/* A lone sync byte waits for the rest. */
	write_all(peer, "T", 1);
	CHECK(control_read(in, &m) == 0);
	n = frame(buf, CONTROL_FILTER, CONTROL_CMD_SET, "c", 1);
	write_all(peer, buf + 1, n - 1);
	CHECK(control_read(in, &m) == 1);
	CHECK_STR(m.payload, "c");

	close(peer);
	in = control_free(in);
	remove_fifos();
}

static void test_full_pipe(void)
{
	static struct control_msg m;
	struct control *out = NULL, *in = NULL;
	int r = 0, sent = 0, got = 0, bad = 0;

	make_fifos();
	CHECK(control_open(NULL, fifo_a, &out) == 0);
	/* Nobody reads: the pipe fills, then messages are dropped whole. */
	for (int i = 0; i < 100000 && r == 0; i++) {
		r = control_send_status(out, "eBPF: 123456 events, 7890 packets (12 merged), "
					     "0 kernel drops");
		sent += r == 0;
	}
	CHECK(r == -EAGAIN);
	CHECK(control_dropped(out) == 1);
	CHECK(control_send_status(out, "again") == -EAGAIN);
	CHECK(control_dropped(out) == 2);
	/* Wireshark's reader starts late: every queued message is whole. */
	CHECK(control_open(fifo_a, NULL, &in) == 0);
	while ((r = control_read(in, &m)) != 0) {
		if (r == 1 && strncmp(m.payload, "eBPF: 123456 events", 19) == 0)
			got++;
		else
			bad++;
	}
	CHECK_EQ_U64(got, sent);
	CHECK_EQ_U64(bad, 0);
	/* Room again: sending works. */
	CHECK(control_send_status(out, "drained") == 0);
	CHECK(control_read(in, &m) == 1);
	CHECK_STR(m.payload, "drained");
	out = control_free(out);
	in = control_free(in);
	remove_fifos();
}

static void test_sentences(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int controls = 0, seen[256] = { 0 };
	char *line, *save = NULL;

	CHECK(control_print_sentences(f) == 0);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int number = -1, depth = 0;

		CHECK(strncmp(line, "control {", 9) == 0);
		/* Balanced braces: values never contain braces. */
		for (const char *p = line; *p; p++) {
			depth += *p == '{';
			depth -= *p == '}';
			CHECK(depth == 0 || depth == 1);
		}
		CHECK(depth == 0);
		CHECK(sscanf(line, "control {number=%d}", &number) == 1);
		CHECK(number >= 0 && number < 255 && !seen[number]);
		if (number >= 0 && number < 256)
			seen[number] = 1;
		CHECK(strstr(line, "{type=") && strstr(line, "{display="));
		controls++;
	}
	CHECK_EQ_U64(controls, 4);
	CHECK(seen[CONTROL_PAUSE] && seen[CONTROL_FILTER] && seen[CONTROL_LOG] &&
	      seen[CONTROL_RESTORE]);
	free(text);
}

static void test_counters(void)
{
	struct control_counters k = { .events = 1234, .packets = 567, .merged = 89 };
	char buf[256];
	int n;

	n = control_format_counters(buf, sizeof(buf), &k);
	CHECK_STR(buf, "eBPF: 1234 events, 567 packets (89 merged), 0 kernel drops");
	CHECK_EQ_U64(n, strlen(buf));
	k.kernel_drops = 3;
	k.filtered = 12;
	k.paused = true;
	control_format_counters(buf, sizeof(buf), &k);
	CHECK_STR(buf, "eBPF: 1234 events, 567 packets (89 merged), 3 kernel drops, 12 filtered, "
		       "paused");
	n = control_format_counters(buf, 10, &k);
	CHECK_EQ_U64(n, 9);
	CHECK_STR(buf, "eBPF: 123");
	CHECK(control_format_counters(buf, 0, &k) == -EINVAL);
}

static struct event ev_proc(uint32_t pid, const char *comm)
{
	struct event ev = { .type = EVENT_TCP_CONNECT };

	ev.pid = pid;
	EVENT_SET(&ev, ITEM_PID);
	if (comm) {
		event_copy_str(ev.comm, sizeof(ev.comm), comm, strlen(comm));
		EVENT_SET(&ev, ITEM_COMM);
	}
	return ev;
}

static bool parse(const char *text, struct control_filter *f)
{
	char err[256] = "";
	int r = control_filter_parse(text, strlen(text), f, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "  (filter '%s': %s)\n", text, err);
	return r == 0;
}

static void test_filter(void)
{
	static struct control_filter f, keep;
	struct event curl = ev_proc(100, "curl"), nginx = ev_proc(200, "nginx"),
		     anon = { .type = EVENT_TCP_OPEN }, web = ev_proc(300, "python3");
	char err[256];
	static char long_text[CONTROL_FILTER_TEXT_MAX + 2];

	event_copy_str(web.container, sizeof(web.container), "web", 3);
	EVENT_SET(&web, ITEM_CONTAINER);
	event_copy_str(web.container_id, sizeof(web.container_id), "4f3a9c0d1e2b", 12);
	EVENT_SET(&web, ITEM_CONTAINER_ID);
	curl.uid = 1000;
	EVENT_SET(&curl, ITEM_UID);

	CHECK(parse("", &f) && f.n_terms == 0);
	CHECK(control_filter_match(&f, &curl) && control_filter_match(&f, &anon));
	CHECK(control_filter_match(NULL, &anon));
	CHECK(parse(" ,  ", &f) && f.n_terms == 0);

	CHECK(parse("curl", &f) && f.n_terms == 1);
	CHECK(control_filter_match(&f, &curl));
	CHECK(!control_filter_match(&f, &nginx));
	CHECK(!control_filter_match(&f, &anon)); /* no comm: no match */

	CHECK(parse("curl, nginx", &f) && f.n_terms == 2);
	CHECK(control_filter_match(&f, &curl) && control_filter_match(&f, &nginx));
	CHECK(!control_filter_match(&f, &web));

	CHECK(parse("web", &f));
	CHECK(control_filter_match(&f, &web)); /* container name */
	CHECK(parse("4f3a", &f));
	CHECK(control_filter_match(&f, &web)); /* container id prefix */
	CHECK(parse("container_id=4f3a9c0d1e2b", &f) && control_filter_match(&f, &web));
	CHECK(parse("container_id=4f3b", &f) && !control_filter_match(&f, &web));
	CHECK(parse("container=w*", &f) && control_filter_match(&f, &web));
	CHECK(parse("container=web", &f) && !control_filter_match(&f, &curl));

	CHECK(parse("ngi*", &f) && control_filter_match(&f, &nginx) &&
	      !control_filter_match(&f, &curl));
	CHECK(parse("c?rl", &f) && control_filter_match(&f, &curl));
	CHECK(parse("pid=200", &f) && control_filter_match(&f, &nginx) &&
	      !control_filter_match(&f, &curl));
	CHECK(parse("uid=1000", &f) && control_filter_match(&f, &curl) &&
	      !control_filter_match(&f, &nginx)); /* nginx has no uid item */
	CHECK(parse("pid=4294967295", &f) && f.terms[0].number == UINT32_MAX);
	CHECK(parse("comm=curl pid=200", &f) && control_filter_match(&f, &curl) &&
	      control_filter_match(&f, &nginx) && !control_filter_match(&f, &web));

	/* Rejections keep the previous filter and say why. */
	keep = f;
	CHECK(control_filter_parse("pid=12x", 7, &f, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "pid needs a number") != NULL);
	CHECK(control_filter_parse("pid=4294967296", 14, &f, err, sizeof(err)) == -EINVAL);
	CHECK(control_filter_parse("colour=red", 10, &f, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "unknown filter key 'colour'") != NULL);
	CHECK(control_filter_parse("comm=", 5, &f, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "no value") != NULL);
	CHECK(control_filter_parse("a b c d e f g h i j k l m n o p q", 33, &f, err,
				   sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "more than 16") != NULL);
	memset(long_text, 'a', sizeof(long_text) - 1);
	CHECK(control_filter_parse(long_text, sizeof(long_text) - 1, &f, err, sizeof(err)) ==
	      -EINVAL);
	CHECK(control_filter_parse(long_text, EVENT_NAME_MAX + 1, &f, err, sizeof(err)) ==
	      -EINVAL);
	CHECK(control_filter_parse("cu\0rl", 5, &f, err, sizeof(err)) == -EINVAL);
	CHECK(memcmp(&f, &keep, sizeof(f)) == 0);
	/* Not NUL-terminated: only len bytes are read. */
	CHECK(control_filter_parse("curlXXXX", 4, &f, err, sizeof(err)) == 0);
	CHECK_STR(f.terms[0].value, "curl");
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;

	if (!only || !strcmp(only, "framing"))
		test_framing();
	if (!only || !strcmp(only, "bad"))
		test_bad_input();
	if (!only || !strcmp(only, "full"))
		test_full_pipe();
	if (!only || !strcmp(only, "sentences"))
		test_sentences();
	if (!only || !strcmp(only, "counters"))
		test_counters();
	if (!only || !strcmp(only, "filter"))
		test_filter();
	return test_summary();
}
