/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wireshark's extcap interface toolbar (extcap(4), "control"): the control
 * sentences for --extcap-interfaces, the two control pipes of a capture
 * (--extcap-control-in: Wireshark to us, --extcap-control-out: us to
 * Wireshark), and the toolbar's process/container filter.
 *
 * Owns the framing, its bounds and the buffering of partial reads; what a
 * control means (pausing, filtering) is the caller's. Does not print.
 *
 * Wire format of one message, both directions:
 *   'T' | length (3 bytes, big-endian) | control number | command | payload
 * where length counts the control number, the command and the payload.
 *
 * Use (extcap/capture.c):
 *   --extcap-interfaces:  control_print_sentences(stdout);
 *   at capture start, before anything slow (Wireshark blocks until the in
 *   pipe has a reader):
 *     r = control_open(o->control_in, o->control_out, &ctl);
 *     epoll_add(control_fd(ctl), EPOLLIN)     (when control_fd() >= 0)
 *   on EPOLLIN:
 *     while ((r = control_read(ctl, &msg)) != 0) {
 *         if (r == -EBADMSG || r == -EMSGSIZE) continue;   bad input, skipped
 *         if (r < 0) break;                                pipe failed
 *         msg.number == CONTROL_PAUSE:  paused = control_msg_bool(&msg)
 *         msg.number == CONTROL_FILTER: control_filter_parse(msg.payload, ...)
 *     }
 *   once a second: control_send_counters(ctl, &counters);
 *   ctl = control_free(ctl);
 */
#ifndef EBPFDUMP_CONTROL_H
#define EBPFDUMP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event/event.h"

#define CONTROL_SYNC_BYTE 'T'
/* Sync byte, 3 length bytes, control number, command. */
#define CONTROL_HEADER_LEN 6u
/* Longest payload read or sent. Writes up to PIPE_BUF (4096) bytes are
 * atomic on a pipe, so a whole message either goes in or not at all and
 * Wireshark's reader never sees half of one. Longer incoming payloads are
 * skipped with -EMSGSIZE. */
#define CONTROL_PAYLOAD_MAX (4096u - CONTROL_HEADER_LEN)

/* Commands (extcap(4)). Values are on the wire. */
enum control_command {
	CONTROL_CMD_INITIALIZED = 0, /* Wireshark: initial values were sent */
	CONTROL_CMD_SET = 1,	     /* a value (boolean: 1 byte 0/1; string: text) */
	CONTROL_CMD_ADD = 2,	     /* logger: append text; selector: add value */
	CONTROL_CMD_REMOVE = 3,
	CONTROL_CMD_ENABLE = 4,
	CONTROL_CMD_DISABLE = 5,
	CONTROL_CMD_STATUSBAR = 6,   /* text in Wireshark's status bar */
	CONTROL_CMD_INFORMATION = 7, /* message boxes */
	CONTROL_CMD_WARNING = 8,
	CONTROL_CMD_ERROR = 9,
};

/* Our toolbar's controls. Values are on the wire and in Wireshark's saved
 * toolbar settings: never renumber. */
enum control_number {
	CONTROL_PAUSE = 0,   /* boolean: nothing is written while set */
	CONTROL_FILTER = 1,  /* string: process/container filter, see below */
	CONTROL_LOG = 2,     /* button with the logger role: the capture log */
	CONTROL_RESTORE = 3, /* button with the restore role: default values */
	CONTROL_NONE = 255,  /* for messages that are no control's (status bar) */
};

struct control_msg {
	uint8_t number;	 /* enum control_number */
	uint8_t command; /* enum control_command */
	uint32_t len;	 /* payload bytes */
	/* NUL-terminated for convenience; a payload may itself hold NULs. */
	char payload[CONTROL_PAYLOAD_MAX + 1];
};

struct control;

/* The toolbar's control and value sentences, appended to the output of
 * --extcap-interfaces (after the interface lines). Returns 0 or -EIO. */
int control_print_sentences(FILE *out);

/* Open the control pipes Wireshark created; either path may be NULL (no
 * toolbar, or tshark). Never blocks: the in pipe is opened before Wireshark
 * opens its end, the out pipe before Wireshark reads it. Both are opened
 * read-write, which on Linux never waits for the other side, keeps the in
 * pipe from reporting end-of-file between writers, and lets messages wait
 * in the out pipe until Wireshark's reader starts. Returns 0, or -errno
 * (and *ret untouched) when a path cannot be opened. */
int control_open(const char *in_path, const char *out_path, struct control **ret);

/* The fd to watch for EPOLLIN (nonblocking), or -1 without an in pipe. */
int control_fd(const struct control *c);

/* The next complete message from the in pipe. Returns 1 with *ret filled,
 * 0 when no complete message is there yet (the rest stays buffered),
 * -EBADMSG when bytes that cannot start a message or a length below 2 were
 * skipped, -EMSGSIZE when a message with a payload over CONTROL_PAYLOAD_MAX
 * was skipped (call again in both cases: the stream stays in sync), or
 * -errno when reading failed. */
int control_read(struct control *c, struct control_msg *ret);

/* Send one message. Returns 0; -EMSGSIZE when len > CONTROL_PAYLOAD_MAX;
 * -EAGAIN when Wireshark is not reading and the pipe is full (the message
 * is dropped whole and counted, see control_dropped); 0 without an out
 * pipe (nothing to tell); or -errno. */
int control_send(struct control *c, uint8_t number, uint8_t command, const void *payload,
		 size_t len);
/* Text for the status bar; longer text is cut at CONTROL_PAYLOAD_MAX. */
int control_send_status(struct control *c, const char *text);
/* A line for the capture log (the Log button), after the local time of
 * day ("14:03:07 "); a newline is added. */
int control_send_log(struct control *c, const char *line);
/* A message box: command CONTROL_CMD_INFORMATION, _WARNING or _ERROR. */
int control_send_message(struct control *c, uint8_t command, const char *text);
/* Set the toolbar's value of a control (e.g. clear a rejected filter). */
int control_send_value(struct control *c, uint8_t number, const char *text);
/* Messages dropped because the out pipe was full. */
uint64_t control_dropped(const struct control *c);

struct control *control_free(struct control *c);

/* A boolean control's value: its first payload byte is nonzero. */
bool control_msg_bool(const struct control_msg *m);

/* --- status bar ----------------------------------------------------------- */

struct control_counters {
	uint64_t events;       /* event records written */
	uint64_t packets;      /* packets written */
	uint64_t merged;       /* of those, packets tagged with a process */
	uint64_t kernel_drops; /* events lost in the kernel (ring buffer full) */
	uint64_t filtered;     /* events and packets the toolbar filter dropped */
	bool paused;
};

/* "eBPF: 1234 events, 567 packets (89 merged), 0 kernel drops" and, when
 * set, ", 12 filtered" and ", paused". Returns the length written (cut to
 * fit), or -EINVAL for a zero size. */
int control_format_counters(char *buf, size_t size, const struct control_counters *k);
/* Format and send to the status bar. */
int control_send_counters(struct control *c, const struct control_counters *k);

/* --- the toolbar's filter ----------------------------------------------------
 *
 * Terms separated by spaces or commas; an event passes when ANY term
 * matches (a list of what to watch). A term is
 *   WORD          matches comm, container name, pod name, or a container
 *                 id starting with WORD
 *   KEY=VALUE     KEY is pid, ppid, uid, gid (numbers), comm, pcomm, exe,
 *                 user, group, container, container_id (prefix), pod,
 *                 namespace, image, cgroup, host
 * String values may use the shell wildcards * ? [...] (fnmatch). An empty
 * filter passes everything. Events without the item a term asks for do
 * not match it. */

/* Most terms in one filter. */
#define CONTROL_FILTER_TERMS_MAX 16u
/* Longest term value. */
#define CONTROL_FILTER_VALUE_MAX EVENT_NAME_MAX
/* Longest filter text accepted. */
#define CONTROL_FILTER_TEXT_MAX 1024u

struct control_filter_term {
	uint8_t key; /* internal key id (control.c) */
	bool wildcard;
	uint32_t number;
	char value[CONTROL_FILTER_VALUE_MAX + 1];
};

struct control_filter {
	unsigned n_terms; /* 0: everything passes */
	struct control_filter_term terms[CONTROL_FILTER_TERMS_MAX];
};

/* Parse len bytes of text (need not be NUL-terminated). Returns 0, or
 * -EINVAL with a one-line reason in errbuf and *ret untouched. */
int control_filter_parse(const char *text, size_t len, struct control_filter *ret, char *errbuf,
			 size_t errlen);
bool control_filter_match(const struct control_filter *f, const struct event *ev);

#endif
