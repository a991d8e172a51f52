/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wireshark_control_peer: Wireshark's side of the extcap control pipes, for tests.
 *
 *   wireshark_control_peer CONTROL_IN CONTROL_OUT
 *
 * CONTROL_IN and CONTROL_OUT are the paths given to the extcap as
 * --extcap-control-in and --extcap-control-out. Like Wireshark's toolbar, it
 * opens CONTROL_OUT for reading without blocking, then CONTROL_IN for writing
 * (waiting for the extcap to open it), then obeys lines on standard input:
 *   init                 control 0, command 0 (initial values sent)
 *   set NUMBER TEXT      command 1 with TEXT as payload (a string control)
 *   bool NUMBER 0|1      command 1 with one byte (a boolean control)
 * and prints every message the extcap sends as one line on standard output:
 *   msg NUMBER COMMAND PAYLOAD      (payload bytes below 0x20 as \xHH)
 * until standard input ends and the extcap closes its end. Framing is written
 * here by hand, independent of extcap/control.c, so the two check each other. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest message accepted from the extcap (Wireshark has no limit). */
#define PEER_MSG_MAX 65536
#define PEER_LINE_MAX 4096

static uint8_t inbuf[PEER_MSG_MAX + 4];
static size_t inlen;

static void print_messages(void)
{
	for (;;) {
		uint32_t len;

		if (inlen < 4)
			return;
		len = (uint32_t)inbuf[1] << 16 | (uint32_t)inbuf[2] << 8 | inbuf[3];
		if (inbuf[0] != 'T' || len < 2 || len > PEER_MSG_MAX) {
			printf("bad framing\n");
			fflush(stdout);
			exit(1);
		}
		if (inlen < 4 + len)
			return;
		printf("msg %u %u ", inbuf[4], inbuf[5]);
		for (uint32_t i = 6; i < 4 + len; i++) {
			if (inbuf[i] < 0x20)
				printf("\\x%02x", inbuf[i]);
			else
				putchar(inbuf[i]);
		}
		putchar('\n');
		fflush(stdout);
		memmove(inbuf, inbuf + 4 + len, inlen - 4 - len);
		inlen -= 4 + len;
	}
}

static void send_msg(int fd, unsigned number, unsigned command, const void *payload, size_t n)
{
	uint8_t msg[PEER_LINE_MAX + 6];
	uint32_t len = (uint32_t)n + 2;

	msg[0] = 'T';
	msg[1] = (uint8_t)(len >> 16);
	msg[2] = (uint8_t)(len >> 8);
	msg[3] = (uint8_t)len;
	msg[4] = (uint8_t)number;
	msg[5] = (uint8_t)command;
	memcpy(msg + 6, payload, n);
	if (write(fd, msg, n + 6) != (ssize_t)(n + 6)) {
		perror("write control-in");
		exit(1);
	}
}

static void obey(int fd, char *line)
{
	unsigned number, value;
	int off = 0;

	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "init") == 0) {
		send_msg(fd, 0, 0, "", 0);
	} else if (sscanf(line, "bool %u %u", &number, &value) == 2) {
		uint8_t b = value ? 1 : 0;

		send_msg(fd, number, 1, &b, 1);
	} else if (sscanf(line, "set %u %n", &number, &off) == 1 && off > 0) {
		send_msg(fd, number, 1, line + off, strlen(line + off));
	} else {
		fprintf(stderr, "unknown command: %s\n", line);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char line[PEER_LINE_MAX];
	size_t line_len = 0;
	int out_fd, in_fd;
	bool stdin_open = true;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CONTROL_IN CONTROL_OUT\n", argv[0]);
		return 2;
	}
	out_fd = open(argv[2], O_RDONLY | O_NONBLOCK);
	if (out_fd < 0) {
		perror(argv[2]);
		return 1;
	}
	in_fd = open(argv[1], O_WRONLY); /* waits for the extcap, as Wireshark does */
	if (in_fd < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("open\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN },
				       { .fd = stdin_open ? 0 : -1, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & POLLIN) {
			ssize_t n = read(out_fd, inbuf + inlen, sizeof(inbuf) - inlen);

			if (n > 0) {
				inlen += (size_t)n;
				print_messages();
			}
		} else if (p[0].revents & POLLHUP) {
			if (!stdin_open)
				return 0; /* the extcap is gone and we have nothing to say */
			usleep(10000);
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, line + line_len, sizeof(line) - 1 - line_len);

			if (n <= 0) {
				stdin_open = false;
				continue;
			}
			line_len += (size_t)n;
			line[line_len] = '\0';
			for (char *nl; (nl = strchr(line, '\n'));) {
				*nl = '\0';
				obey(in_fd, line);
				memmove(line, nl + 1, line_len - (size_t)(nl + 1 - line) + 1);
				line_len -= (size_t)(nl + 1 - line);
			}
		}
	}
}
