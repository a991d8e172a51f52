/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exact transfers for the TCP test helpers: send n bytes of one fill
 * character, receive exactly n bytes. */
#ifndef EBPFDUMP_TESTS_XFER_H
#define EBPFDUMP_TESTS_XFER_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends n bytes of fill; returns 0 or -errno. */
static inline int send_all(int fd, unsigned long long n, char fill)
{
	char buf[16384];

	memset(buf, fill, sizeof(buf));
	while (n > 0) {
		size_t chunk = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		ssize_t w = send(fd, buf, chunk, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		n -= (unsigned long long)w;
	}
	return 0;
}

/* Receives exactly n bytes; returns the count actually received. */
static inline unsigned long long recv_exact(int fd, unsigned long long n)
{
	char buf[16384];
	unsigned long long got = 0;

	while (got < n) {
		size_t chunk = n - got < sizeof(buf) ? (size_t)(n - got) : sizeof(buf);
		ssize_t r = recv(fd, buf, chunk, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (unsigned long long)r;
	}
	return got;
}

#endif
