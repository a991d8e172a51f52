/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcapng writer: section header, interfaces, packets, event frames and
 * interface statistics, written to a file or a fifo.
 *
 * Owns: the output stream and its interfaces. Timestamps are ns since the
 * Unix epoch (if_tsresol 9 on every interface). On a fifo every block is
 * written through at once. Does not print: returns 0 or a negative errno
 * (-EPIPE when the reader went away, -ENOSPC when the disk is full).
 * A write error is sticky: every later call returns it and writes nothing;
 * on a regular file the torn last block is cut off, so the file stays
 * readable. -EINVAL (bad arguments) writes nothing and is not sticky.
 * One writer is used from one thread.
 */
#ifndef EBPFDUMP_PCAPNG_WRITER_H
#define EBPFDUMP_PCAPNG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_WIRESHARK_UPPER_PDU 252
#define LINKTYPE_LINUX_SLL2 276

/* Exported-PDU dissector name carried by every event frame. */
#define PCAPNG_EVENT_DISSECTOR "ebpf"

/* Limits on what callers hand in; they bound the one block buffer the
 * writer allocates at open. A packet or event frame longer than
 * PCAPNG_MAX_CAPLEN is rejected with -EINVAL. A string option (comment,
 * names, filter, shb strings) longer than PCAPNG_MAX_STRING bytes is cut
 * at that limit on a UTF-8 character boundary. */
#define PCAPNG_MAX_CAPLEN (256u * 1024u)
#define PCAPNG_MAX_STRING 16384u
/* Interfaces per section; pcapng_add_interface returns -E2BIG beyond it. */
#define PCAPNG_MAX_INTERFACES 4096u

struct pcapng_writer;

struct pcapng_interface {
	uint16_t linktype;
	uint32_t snaplen;	 /* 0: no limit */
	const char *name;	 /* if_name, may be NULL */
	const char *description; /* if_description, may be NULL */
	const char *filter;	 /* if_filter (capture filter text), may be NULL */
};

/* Start a section on fd (not closed by the writer unless close_fd).
 * shb_app is the shb_userappl string ("ebpfdump 0.1.0"), NULL for none.
 * On failure fd stays open and the caller's. */
int pcapng_writer_open(int fd, bool close_fd, const char *shb_app, struct pcapng_writer **ret);
/* Open path for writing (create/truncate); "-" means stdout. */
int pcapng_writer_open_path(const char *path, const char *shb_app, struct pcapng_writer **ret);

/* Add an interface; *ret_id is its interface id for later blocks. */
int pcapng_add_interface(struct pcapng_writer *w, const struct pcapng_interface *iface,
			 uint32_t *ret_id);

/* A packet: data[0..caplen) of a frame originally origlen long. comment is
 * an opt_comment (NULL for none); pid/tid go into the pid/tid option when
 * has_pid is set. caplen above the interface's snaplen is cut to it;
 * -EINVAL for an unknown if_id, origlen < caplen or caplen >
 * PCAPNG_MAX_CAPLEN. */
struct pcapng_packet_meta {
	const char *comment;
	bool has_pid;
	uint32_t pid, tid;
	size_t comment_len; /* strlen(comment) when known, else 0 (the writer measures) */
};
int pcapng_write_packet(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
			const uint8_t *data, uint32_t caplen, uint32_t origlen,
			const struct pcapng_packet_meta *meta);

/* An event frame on a LINKTYPE_WIRESHARK_UPPER_PDU interface: exported-PDU
 * tags naming dissector "ebpf", then the record bytes. A record that does
 * not fit the snaplen or PCAPNG_MAX_CAPLEN is refused (-EINVAL), not cut. */
int pcapng_write_event(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
		       const uint8_t *record, size_t len);

/* Interface statistics: isb_starttime/endtime, received (isb_ifrecv) and
 * dropped (isb_ifdrop) counters. A zero start_ns/end_ns is left out. */
struct pcapng_stats {
	uint64_t start_ns, end_ns;
	uint64_t received, dropped;
	bool has_dropped;
};
int pcapng_write_stats(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
		       const struct pcapng_stats *st);

/* A Decryption Secrets Block: secrets of secrets_type (PCAPNG_SECRETS_TLS:
 * NSS key log lines) for the packets after it. -EINVAL above
 * PCAPNG_MAX_CAPLEN bytes. */
#define PCAPNG_SECRETS_TLS 0x544c534bu /* "TLSK" */
int pcapng_write_secrets(struct pcapng_writer *w, uint32_t secrets_type, const void *data,
			 size_t len);

/* Enhanced packet blocks of interface if_id that reached the fd whole
 * (written by the kernel, not only buffered): what a summary may count. */
uint64_t pcapng_writer_written(const struct pcapng_writer *w, uint32_t if_id);

/* Bytes of the blocks made so far, buffered or written: the file's size
 * once flushed. */
uint64_t pcapng_writer_bytes(const struct pcapng_writer *w);

/* Flush buffered output (no-op when writing through). */
int pcapng_writer_flush(struct pcapng_writer *w);
/* For an event loop writing to a fifo or pipe: while held, blocks are
 * kept (whole; written when the buffer fills) until the next
 * pcapng_writer_flush(), which the loop calls once per pass, before it
 * waits again. One write() per pass instead of one per block; the reader
 * still gets every block before the loop sleeps. No effect on regular
 * files, which are buffered anyway. */
void pcapng_writer_hold(struct pcapng_writer *w, bool hold);
/* For a non-blocking fifo or pipe whose reader may stop reading: a write
 * that has to wait for the reader gives up with -ECANCELED as soon as
 * stop_fd (e.g. a signalfd; -1 for none) is readable, or with -ETIMEDOUT
 * once wait_ms (0: no limit) from now have passed. What reached the fd
 * stays; the writer then fails every later call with that error. */
void pcapng_writer_set_stop(struct pcapng_writer *w, int stop_fd, uint32_t wait_ms);
/* Flush, close if owned, free; accepts NULL, returns NULL. */
struct pcapng_writer *pcapng_writer_close(struct pcapng_writer *w);

#endif
