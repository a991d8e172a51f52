/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture file reader: pcap and pcapng, streamed one packet at a time.
 *
 * Our own reader, not libpcap's: an ebpfdump pcapng has interfaces of
 * different link types (events on 252, packets on their own), which
 * libpcap refuses to read. Understands:
 *   pcap    both magics (microsecond 0xa1b2c3d4, nanosecond 0xa1b23c4d),
 *           both byte orders;
 *   pcapng  SHB in either byte order, any number of sections, IDB with
 *           if_name, if_description, if_tsresol (powers of 10 and of 2)
 *           and if_tsoffset; packets from EPB (with opt_comment and the
 *           pid/tid option), SPB and the obsolete OPB; every other block
 *           (ISB, NRB, DSB, custom, unknown) is skipped by its length.
 * Every length is checked against the block it sits in and against the
 * limits below; nothing past a block or past the data read is looked at.
 * Bad input gives -EBADMSG (or -EPROTONOSUPPORT for a format version we do
 * not read) with a one-line reason naming the file offset, e.g. "truncated
 * block at offset 1234: 96 bytes announced, 40 in the file".
 *
 * Reads with read(2) through one buffer, so a pipe ("-" is stdin) works
 * and memory stays bounded by READER_BLOCK_MAX whatever the file size.
 * Does not print.
 */
#ifndef EBPFDUMP_PCAPNG_READER_H
#define EBPFDUMP_PCAPNG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest pcapng block or pcap record accepted: Wireshark's own limit for
 * a block is 16 MiB, and nothing we write comes near it. */
#define READER_BLOCK_MAX (16u * 1024u * 1024u)
/* Interfaces over the whole file (all sections together). */
#define READER_INTERFACES_MAX 65536u
/* if_name / if_description kept per interface (longer ones are cut). */
#define READER_NAME_MAX 255u
/* Reasons handed back by reader_open's err and reader_error(). */
#define READER_REASON_MAX 256u

enum reader_format {
	READER_FORMAT_PCAP = 1,
	READER_FORMAT_PCAPNG = 2,
};

struct reader;

/* One packet. data and comment point into the reader and stay valid until
 * the next reader_next() or reader_close(). */
struct reader_packet {
	uint32_t interface; /* index over the whole file, see reader_get_interface */
	int linktype;	    /* LINKTYPE_* of that interface */
	bool has_ts;	    /* false for an SPB: it carries no timestamp (ts_ns 0) */
	uint64_t ts_ns;	    /* wall clock, ns since the Unix epoch (tsoffset applied) */
	const uint8_t *data;
	uint32_t caplen;     /* bytes at data */
	uint32_t len;	     /* original length on the wire, as the file says */
	const char *comment; /* first opt_comment, NUL-terminated; NULL when none */
	bool has_pid;	     /* EPB pid/tid option (code 8) */
	uint32_t pid, tid;   /* tid 0 when the option carries only the pid */
	uint64_t offset;     /* file offset of the block or record */
};

struct reader_interface {
	int linktype;
	uint32_t snaplen;		       /* 0: none given */
	uint32_t section;		       /* 0 for the first section */
	uint32_t id;			       /* interface id inside its section */
	char name[READER_NAME_MAX + 1];	       /* "" when absent */
	char description[READER_NAME_MAX + 1]; /* "" when absent */
};

/* Open path ("-" is standard input) and read its file header (pcap) or
 * first section header (pcapng). Returns 0, or a negative errno with a
 * one-line reason in err (which may be NULL): -ENOENT and friends from
 * open(), -EBADMSG for something that is not a capture file, -ENOMEM. */
int reader_open(const char *path, struct reader **ret, char *err, size_t errlen);
/* Same on an open fd (not closed by the reader unless close_fd). */
int reader_open_fd(int fd, bool close_fd, struct reader **ret, char *err, size_t errlen);

/* Next packet. Returns 1 and fills *ret, 0 at the clean end of the file,
 * or a negative errno (-EBADMSG, -EPROTONOSUPPORT, -EIO, -ENOMEM...) with
 * the reason in reader_error(). After an error every call returns it. */
int reader_next(struct reader *r, struct reader_packet *ret);

/* The reason for the last failure, "" when none. */
const char *reader_error(const struct reader *r);
enum reader_format reader_format(const struct reader *r);
/* Interfaces seen so far (they are known before their first packet). */
uint32_t reader_interface_count(const struct reader *r);
/* Fill *ret for interface index idx; -ENOENT when out of range. */
int reader_get_interface(const struct reader *r, uint32_t idx, struct reader_interface *ret);

/* Closes the fd if owned and frees; accepts NULL, returns NULL. */
struct reader *reader_close(struct reader *r);

#endif
