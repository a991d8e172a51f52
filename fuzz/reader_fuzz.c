/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the pcap/pcapng reader of offline merge (pcapng/reader.h),
 * fed the input as a whole file through a memfd.
 *
 * Checks: every packet's data lies within what the reader claims
 * (caplen bytes are read in full, so ASan sees an overread), its
 * interface is known, its comment is NUL-terminated; an error has a
 * reason and repeats on the next call. The walk stops after
 * READER_FUZZ_PACKETS_MAX packets (an input may hold many tiny blocks).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcapng/reader.h"

#define READER_FUZZ_PACKETS_MAX 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader_packet pkt;
	struct reader_interface iface;
	struct reader *r = NULL;
	char err[READER_REASON_MAX];
	unsigned n;
	int fd, ret;

	fd = memfd_create("reader_fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	err[0] = '\0';
	ret = reader_open_fd(fd, true, &r, err, sizeof(err));
	if (ret < 0) {
		close(fd);
		if (!err[0])
			abort();
		return 0;
	}
	for (n = 0; n < READER_FUZZ_PACKETS_MAX; n++) {
		uint8_t x = 0;

		ret = reader_next(r, &pkt);
		if (ret <= 0)
			break;
		if (pkt.interface >= reader_interface_count(r) ||
		    reader_get_interface(r, pkt.interface, &iface) != 0 ||
		    iface.linktype != pkt.linktype)
			abort();
		for (uint32_t i = 0; i < pkt.caplen; i++)
			x ^= pkt.data[i];
		if (pkt.comment)
			x ^= (uint8_t)strlen(pkt.comment);
		sink = x;
	}
	if (ret < 0) {
		if (!reader_error(r)[0] || reader_next(r, &pkt) != ret)
			abort();
	}
	if (reader_get_interface(r, reader_interface_count(r), &iface) == 0)
		abort();
	reader_close(r);
	return 0;
}
