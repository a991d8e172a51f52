/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcapng writer: assembles every block in one preallocated buffer and
 * writes it to a file (buffered) or a fifo/pipe (one write() per block).
 *
 * Blocks are in host byte order; the SHB's byte-order magic tells readers
 * which one. Only the exported-PDU tags inside event frames are big-endian,
 * as Wireshark defines them. Facts come from the pcapng specification
 * (draft-ietf-opsawg-pcapng) and Wireshark's wsutil/exported_pdu_tlvs.h.
 */
#include "pcapng/writer.h"
#include "util/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Block types. */
#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 0x00000001u
#define BLOCK_ISB 0x00000005u
#define BLOCK_EPB 0x00000006u
#define BLOCK_DSB 0x0000000Au /* Decryption Secrets Block */
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Option codes; the meaning of codes >= 2 depends on the block. */
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define SHB_HARDWARE 2
#define SHB_OS 3
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define IF_FILTER 11
#define EPB_PROCESSID_THREADID 8 /* u32 pid, u32 tid */
#define ISB_STARTTIME 2
#define ISB_ENDTIME 3
#define ISB_IFRECV 4
#define ISB_IFDROP 5

/* if_tsresol: high bit clear, so 10^-9 s units: timestamps are our ns. */
#define TSRESOL_NS 9
/* if_filter's first value byte: 0 means "libpcap filter string". */
#define FILTER_KIND_LIBPCAP 0

/* Exported-PDU tags (Wireshark wsutil/exported_pdu_tlvs.h). */
#define EXP_PDU_TAG_END_OF_OPT 0
#define EXP_PDU_TAG_DISSECTOR_NAME 12

#define PAD4(x) (((x) + 3u) & ~(size_t)3u)

#define BLOCK_HEAD 8u /* block type, block total length */
#define BLOCK_TAIL 4u /* block total length again */
#define OPT_HEAD 4u   /* option code, option length */
#define EPB_FIXED 20u /* interface id, ts high, ts low, caplen, origlen */
#define IDB_FIXED 8u  /* linktype, reserved, snaplen */
#define ISB_FIXED 12u /* interface id, ts high, ts low */
#define SHB_FIXED 16u /* magic, major, minor, section length */

/* Dissector-name tag value: the name padded with NULs to 32 bits; the
 * NULs count in the tag length (readers stop at the first NUL). */
#define EXP_PDU_NAME_LEN PAD4(sizeof(PCAPNG_EVENT_DISSECTOR) - 1)
#define EXP_PDU_TAGS_LEN (OPT_HEAD + EXP_PDU_NAME_LEN + OPT_HEAD)

/* The largest block: an EPB with PCAPNG_MAX_CAPLEN bytes, a longest
 * comment, pid/tid and the end-of-options marker. */
#define BLOCK_MAX                                                                                  \
	(BLOCK_HEAD + EPB_FIXED + PCAPNG_MAX_CAPLEN + OPT_HEAD + PCAPNG_MAX_STRING + OPT_HEAD +    \
	 8u + OPT_HEAD + BLOCK_TAIL)
/* An IDB with three longest strings must fit the same buffer. */
#define IDB_MAX                                                                                    \
	(BLOCK_HEAD + IDB_FIXED + 3u * (OPT_HEAD + PCAPNG_MAX_STRING + 4u) + OPT_HEAD + 4u +       \
	 OPT_HEAD + BLOCK_TAIL)

_Static_assert(PCAPNG_MAX_CAPLEN % 4 == 0, "caplen limit must keep padding inside the buffer");
_Static_assert(PCAPNG_MAX_STRING % 4 == 0 && PCAPNG_MAX_STRING + 1 < 65536,
	       "string options need a 16-bit padded length");
_Static_assert(IDB_MAX <= BLOCK_MAX, "IDB must fit the block buffer");
_Static_assert(EXP_PDU_TAGS_LEN < PCAPNG_MAX_CAPLEN, "event tags must leave room");

struct pcapng_if {
	uint16_t linktype;
	uint32_t snaplen;
	uint64_t written; /* enhanced packet blocks that reached the fd whole */
};

struct pcapng_writer {
	int fd;
	bool close_fd;
	/* fifo, pipe, socket or tty: every block goes out at once so that
	 * Wireshark shows it live. Regular files are buffered. */
	bool write_through;
	/* pcapng_writer_hold(): write-through blocks wait for the next
	 * pcapng_writer_flush() (or a full buffer). */
	bool hold;
	bool regular;
	/* First write error; every later call returns it and writes nothing,
	 * so a reader never sees a block after a torn one. */
	int error;
	/* A write blocked by a reader that does not read gives up when
	 * stop_fd (-1: none) is readable or at deadline_ns (CLOCK_MONOTONIC,
	 * 0: none): pcapng_writer_set_stop(). */
	int stop_fd;
	uint64_t deadline_ns;
	uint8_t *buf; /* BLOCK_MAX bytes: whole blocks waiting, then the one being built */
	size_t len;   /* bytes of whole blocks in buf */
	uint64_t bytes; /* of whole blocks, buffered or written */
	struct pcapng_if *ifs;
	uint32_t n_ifs, cap_ifs;
};

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static uint8_t *put_be16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

/* Timestamps in blocks and in isb_starttime/endtime: high 32 bits first,
 * each half in section byte order. */
static uint8_t *put_ts(uint8_t *p, uint64_t ts)
{
	p = put_u32(p, (uint32_t)(ts >> 32));
	return put_u32(p, (uint32_t)ts);
}

/* start[0..len) is filled: zero the padding to 32 bits, return its end. */
static uint8_t *pad_after(uint8_t *start, size_t len)
{
	memset(start + len, 0, PAD4(len) - len);
	return start + PAD4(len);
}

/* Bytes copied to p, zero-padded to 32 bits; returns the end of padding. */
static uint8_t *put_padded(uint8_t *p, const void *data, size_t len)
{
	if (len)
		memcpy(p, data, len);
	return pad_after(p, len);
}

static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *value, size_t len)
{
	p = put_u16(p, code);
	p = put_u16(p, (uint16_t)len);
	return put_padded(p, value, len);
}

static size_t opt_size(size_t len)
{
	return OPT_HEAD + PAD4(len);
}

/* Length of s for a string option, cut to PCAPNG_MAX_STRING without
 * splitting a UTF-8 sequence (a cut would leave an invalid string that
 * Wireshark flags). NULL counts as absent (0). */
static size_t opt_strlen(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	/* strlen, not strnlen with the limit as bound: s is a C string
	 * either way, and GCC 12 at -O2 rejects (-Wstringop-overread) a
	 * bound larger than the small utsname buffers write_shb() passes. */
	n = strlen(s);
	if (n <= PCAPNG_MAX_STRING)
		return n;
	n = PCAPNG_MAX_STRING;
	/* s[n] is the first byte left out: back up while it continues a
	 * sequence that started before the cut. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static size_t str_opt_size(const char *s)
{
	size_t n = opt_strlen(s);

	return n ? opt_size(n) : 0;
}

static uint8_t *put_str_opt(uint8_t *p, uint16_t code, const char *s)
{
	size_t n = opt_strlen(s);

	return n ? put_opt(p, code, s, n) : p;
}

/* Write all of data[0..len), riding out EINTR, short writes and a
 * non-blocking fd. A reader that does not read (a full pipe) is waited
 * for until w->stop_fd is readable (-ECANCELED) or w->deadline_ns passes
 * (-ETIMEDOUT). *ret_done is how much reached the fd, also on error. */
static int write_all(const struct pcapng_writer *w, const uint8_t *data, size_t len,
		     size_t *ret_done)
{
	size_t done = 0;
	int r = 0;

	while (done < len) {
		ssize_t n = write(w->fd, data + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			/* No progress and no reason: do not spin. */
			r = -EIO;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd[2] = { { .fd = w->fd, .events = POLLOUT },
						 { .fd = w->stop_fd, .events = POLLIN } };
			int timeout = -1, ready;

			if (w->deadline_ns) {
				uint64_t now = clock_ns(CLOCK_MONOTONIC);

				if (now >= w->deadline_ns) {
					r = -ETIMEDOUT;
					break;
				}
				timeout = (int)((w->deadline_ns - now) / 1000000u) + 1;
			}
			ready = poll(pfd, w->stop_fd >= 0 ? 2 : 1, timeout);
			if (ready < 0 && errno != EINTR) {
				r = -errno;
				break;
			}
			if (ready > 0 && w->stop_fd >= 0 && (pfd[1].revents & POLLIN)) {
				r = -ECANCELED;
				break;
			}
			continue;
		}
		r = -errno;
		break;
	}
	*ret_done = done;
	return r;
}

void pcapng_writer_set_stop(struct pcapng_writer *w, int stop_fd, uint32_t wait_ms)
{
	if (!w)
		return;
	w->stop_fd = stop_fd;
	w->deadline_ns = wait_ms ? clock_ns(CLOCK_MONOTONIC) + (uint64_t)wait_ms * 1000000u : 0;
}

/* After a failed write to a regular file, cut the file back to the end of
 * the last whole block that reached it, so that what is on disk (e.g. when
 * the disk filled up) is still a readable capture. buf holds whole blocks,
 * each starting with its type and total length. */
static void trim_torn_block(struct pcapng_writer *w, size_t written)
{
	size_t keep = 0;
	off_t end, base;

	if (!w->regular || written == 0)
		return;
	while (keep + BLOCK_HEAD <= written) {
		uint32_t total;

		memcpy(&total, w->buf + keep + 4, sizeof(total));
		if (total < BLOCK_HEAD + BLOCK_TAIL || keep + total > written)
			break;
		keep += total;
	}
	if (keep == written)
		return;
	end = lseek(w->fd, 0, SEEK_CUR);
	if (end < 0 || (size_t)end < written)
		return;
	base = end - (off_t)written;
	/* Best effort: if this fails the reader sees a cut-short file, which
	 * Wireshark reports but still reads up to the torn block. */
	if (ftruncate(w->fd, base + (off_t)keep) == 0)
		(void)lseek(w->fd, base + (off_t)keep, SEEK_SET);
}

/* Counts the enhanced packet blocks among the whole blocks of
 * buf[0..done) per interface: what reached the fd. */
static void count_written(struct pcapng_writer *w, size_t done)
{
	size_t off = 0;

	while (off + BLOCK_HEAD <= done) {
		uint32_t type, total, if_id;

		memcpy(&type, w->buf + off, sizeof(type));
		memcpy(&total, w->buf + off + 4, sizeof(total));
		if (total < BLOCK_HEAD + BLOCK_TAIL || off + total > done)
			break;
		if (type == BLOCK_EPB && total >= BLOCK_HEAD + 4) {
			memcpy(&if_id, w->buf + off + 8, sizeof(if_id));
			if (if_id < w->n_ifs)
				w->ifs[if_id].written++;
		}
		off += total;
	}
}

uint64_t pcapng_writer_bytes(const struct pcapng_writer *w)
{
	return w ? w->bytes : 0;
}

uint64_t pcapng_writer_written(const struct pcapng_writer *w, uint32_t if_id)
{
	return w && if_id < w->n_ifs ? w->ifs[if_id].written : 0;
}

static int flush_buffer(struct pcapng_writer *w)
{
	size_t done;
	int r;

	if (w->error)
		return w->error;
	if (w->len == 0)
		return 0;
	r = write_all(w, w->buf, w->len, &done);
	count_written(w, done);
	if (r < 0) {
		trim_torn_block(w, done);
		w->error = r;
		return r;
	}
	w->len = 0;
	return 0;
}

/* Room for a block of size bytes at the end of buf; its header is
 * written. Returns NULL with w->error set when flushing failed. */
static uint8_t *block_begin(struct pcapng_writer *w, uint32_t type, size_t size)
{
	uint8_t *p;

	if (w->len + size > BLOCK_MAX && flush_buffer(w) < 0)
		return NULL;
	p = w->buf + w->len;
	p = put_u32(p, type);
	return put_u32(p, (uint32_t)size);
}

/* Close the block begun at buf + len and ending at p (before the trailing
 * length), then write it out at once when writing through. */
static int block_end(struct pcapng_writer *w, uint8_t *p, size_t size)
{
	uint8_t *start = w->buf + w->len;

	p = put_u32(p, (uint32_t)size);
	if ((size_t)(p - start) != size) {
		/* A size computation disagrees with what was written: a bug
		 * here, not in the caller. Drop the block rather than emit a
		 * corrupt one. */
		return -EFAULT;
	}
	w->len += size;
	w->bytes += size;
	if (w->write_through && !w->hold)
		return flush_buffer(w);
	return 0;
}

static int write_shb(struct pcapng_writer *w, const char *shb_app)
{
	struct utsname u;
	char os[sizeof(u.sysname) + sizeof(u.release) + 1] = "";
	const char *hardware = NULL;
	size_t size;
	uint8_t *p;

	if (uname(&u) == 0) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
		hardware = u.machine;
	}
	size = BLOCK_HEAD + SHB_FIXED + str_opt_size(hardware) + str_opt_size(os) +
	       str_opt_size(shb_app) + OPT_HEAD + BLOCK_TAIL;
	p = block_begin(w, BLOCK_SHB, size);
	if (!p)
		return w->error;
	p = put_u32(p, BYTE_ORDER_MAGIC);
	p = put_u16(p, 1); /* major */
	p = put_u16(p, 0); /* minor */
	/* Section length unknown: we stream. */
	p = put_u64(p, UINT64_MAX);
	p = put_str_opt(p, SHB_HARDWARE, hardware);
	p = put_str_opt(p, SHB_OS, os);
	p = put_str_opt(p, SHB_USERAPPL, shb_app);
	p = put_opt(p, OPT_ENDOFOPT, NULL, 0);
	return block_end(w, p, size);
}

int pcapng_writer_open(int fd, bool close_fd, const char *shb_app, struct pcapng_writer **ret)
{
	struct pcapng_writer *w;
	struct stat st;
	int r;

	if (fd < 0 || !ret)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->buf = malloc(BLOCK_MAX);
	if (!w->buf) {
		r = -ENOMEM;
		goto fail;
	}
	w->fd = fd;
	w->stop_fd = -1;
	w->regular = S_ISREG(st.st_mode);
	w->write_through = !w->regular;
	r = write_shb(w, shb_app);
	if (r < 0)
		goto fail;
	/* Only now: on failure the fd stays the caller's. */
	w->close_fd = close_fd;
	*ret = w;
	return 0;
fail:
	free(w->buf);
	free(w);
	return r;
}

int pcapng_writer_open_path(const char *path, const char *shb_app, struct pcapng_writer **ret)
{
	int fd, r;

	if (!path || !ret)
		return -EINVAL;
	if (strcmp(path, "-") == 0)
		return pcapng_writer_open(STDOUT_FILENO, false, shb_app, ret);
	/* On a fifo this blocks until the reader (Wireshark) opens it. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = pcapng_writer_open(fd, true, shb_app, ret);
	if (r < 0)
		close(fd);
	return r;
}

int pcapng_add_interface(struct pcapng_writer *w, const struct pcapng_interface *iface,
			 uint32_t *ret_id)
{
	uint8_t tsresol = TSRESOL_NS;
	size_t filter_len, size;
	uint8_t *p;
	int r;

	if (!w || !iface || !ret_id)
		return -EINVAL;
	if (w->error)
		return w->error;
	if (w->n_ifs >= PCAPNG_MAX_INTERFACES)
		return -E2BIG;
	if (w->n_ifs == w->cap_ifs) {
		uint32_t cap = w->cap_ifs ? w->cap_ifs * 2 : 4;
		struct pcapng_if *ifs;

		if (cap > PCAPNG_MAX_INTERFACES)
			cap = PCAPNG_MAX_INTERFACES;
		ifs = realloc(w->ifs, cap * sizeof(*ifs));
		if (!ifs)
			return -ENOMEM;
		w->ifs = ifs;
		w->cap_ifs = cap;
	}

	filter_len = opt_strlen(iface->filter);
	size = BLOCK_HEAD + IDB_FIXED + str_opt_size(iface->name) +
	       str_opt_size(iface->description) + opt_size(sizeof(tsresol)) +
	       (filter_len ? opt_size(1 + filter_len) : 0) + OPT_HEAD + BLOCK_TAIL;
	p = block_begin(w, BLOCK_IDB, size);
	if (!p)
		return w->error;
	p = put_u16(p, iface->linktype);
	p = put_u16(p, 0); /* reserved */
	p = put_u32(p, iface->snaplen);
	p = put_str_opt(p, IF_NAME, iface->name);
	p = put_str_opt(p, IF_DESCRIPTION, iface->description);
	p = put_opt(p, IF_TSRESOL, &tsresol, sizeof(tsresol));
	if (filter_len) {
		p = put_u16(p, IF_FILTER);
		p = put_u16(p, (uint16_t)(1 + filter_len));
		p[0] = FILTER_KIND_LIBPCAP;
		memcpy(p + 1, iface->filter, filter_len);
		p = pad_after(p, 1 + filter_len);
	}
	p = put_opt(p, OPT_ENDOFOPT, NULL, 0);
	r = block_end(w, p, size);
	if (r < 0)
		return r;
	w->ifs[w->n_ifs] = (struct pcapng_if){ .linktype = iface->linktype, .snaplen = iface->snaplen };
	*ret_id = w->n_ifs++;
	return 0;
}

/* EPB whose data is prefix[0..prefix_len) then data, caplen bytes in all;
 * options are the comment and pid/tid from meta. */
static int write_epb(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns, uint32_t caplen,
		     uint32_t origlen, const uint8_t *prefix, size_t prefix_len,
		     const uint8_t *data, const struct pcapng_packet_meta *meta)
{
	const char *comment = meta ? meta->comment : NULL;
	bool has_pid = meta && meta->has_pid;
	/* Measured once: the comment goes with most packets of a merge. */
	size_t comment_len = meta && meta->comment_len && meta->comment_len <= PCAPNG_MAX_STRING
				     ? meta->comment_len
				     : opt_strlen(comment);
	size_t opts, size;
	uint8_t *p;

	opts = (comment_len ? opt_size(comment_len) : 0) + (has_pid ? opt_size(8) : 0);
	if (opts)
		opts += OPT_HEAD; /* opt_endofopt */
	size = BLOCK_HEAD + EPB_FIXED + PAD4(caplen) + opts + BLOCK_TAIL;
	p = block_begin(w, BLOCK_EPB, size);
	if (!p)
		return w->error;
	p = put_u32(p, if_id);
	p = put_ts(p, ts_ns);
	p = put_u32(p, caplen);
	p = put_u32(p, origlen);
	if (prefix_len)
		memcpy(p, prefix, prefix_len);
	if (caplen > prefix_len)
		memcpy(p + prefix_len, data, caplen - prefix_len);
	p = pad_after(p, caplen);
	if (opts) {
		if (comment_len)
			p = put_opt(p, OPT_COMMENT, comment, comment_len);
		if (has_pid) {
			uint32_t pid_tid[2] = {meta->pid, meta->tid};

			p = put_opt(p, EPB_PROCESSID_THREADID, pid_tid, sizeof(pid_tid));
		}
		p = put_opt(p, OPT_ENDOFOPT, NULL, 0);
	}
	return block_end(w, p, size);
}

int pcapng_write_packet(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
			const uint8_t *data, uint32_t caplen, uint32_t origlen,
			const struct pcapng_packet_meta *meta)
{
	uint32_t snaplen;

	if (!w)
		return -EINVAL;
	if (w->error)
		return w->error;
	if (if_id >= w->n_ifs || (!data && caplen) || caplen > PCAPNG_MAX_CAPLEN ||
	    origlen < caplen)
		return -EINVAL;
	/* Keep the file consistent with the interface's promise; origlen
	 * still tells the real length. */
	snaplen = w->ifs[if_id].snaplen;
	if (snaplen && caplen > snaplen)
		caplen = snaplen;
	return write_epb(w, if_id, ts_ns, caplen, origlen, NULL, 0, data, meta);
}

int pcapng_write_event(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
		       const uint8_t *record, size_t len)
{
	uint8_t tags[EXP_PDU_TAGS_LEN];
	uint8_t *p = tags;
	uint32_t caplen, snaplen;

	if (!w)
		return -EINVAL;
	if (w->error)
		return w->error;
	if (if_id >= w->n_ifs || w->ifs[if_id].linktype != LINKTYPE_WIRESHARK_UPPER_PDU ||
	    (!record && len) || len > PCAPNG_MAX_CAPLEN - EXP_PDU_TAGS_LEN)
		return -EINVAL;
	caplen = (uint32_t)(EXP_PDU_TAGS_LEN + len);
	/* A cut record is useless to the dissector: refuse, do not truncate. */
	snaplen = w->ifs[if_id].snaplen;
	if (snaplen && caplen > snaplen)
		return -EINVAL;

	p = put_be16(p, EXP_PDU_TAG_DISSECTOR_NAME);
	p = put_be16(p, EXP_PDU_NAME_LEN);
	p = put_padded(p, PCAPNG_EVENT_DISSECTOR, sizeof(PCAPNG_EVENT_DISSECTOR) - 1);
	p = put_be16(p, EXP_PDU_TAG_END_OF_OPT);
	p = put_be16(p, 0);
	return write_epb(w, if_id, ts_ns, caplen, caplen, tags, sizeof(tags), record, NULL);
}

int pcapng_write_stats(struct pcapng_writer *w, uint32_t if_id, uint64_t ts_ns,
		       const struct pcapng_stats *st)
{
	size_t size;
	uint8_t *p;

	if (!w || !st)
		return -EINVAL;
	if (w->error)
		return w->error;
	if (if_id >= w->n_ifs)
		return -EINVAL;
	/* Zero start/end times mean "unknown" and are left out. */
	size = BLOCK_HEAD + ISB_FIXED + (st->start_ns ? opt_size(8) : 0) +
	       (st->end_ns ? opt_size(8) : 0) + opt_size(8) + (st->has_dropped ? opt_size(8) : 0) +
	       OPT_HEAD + BLOCK_TAIL;
	p = block_begin(w, BLOCK_ISB, size);
	if (!p)
		return w->error;
	p = put_u32(p, if_id);
	p = put_ts(p, ts_ns);
	if (st->start_ns) {
		p = put_u16(p, ISB_STARTTIME);
		p = put_u16(p, 8);
		p = put_ts(p, st->start_ns);
	}
	if (st->end_ns) {
		p = put_u16(p, ISB_ENDTIME);
		p = put_u16(p, 8);
		p = put_ts(p, st->end_ns);
	}
	p = put_opt(p, ISB_IFRECV, &st->received, sizeof(st->received));
	if (st->has_dropped)
		p = put_opt(p, ISB_IFDROP, &st->dropped, sizeof(st->dropped));
	p = put_opt(p, OPT_ENDOFOPT, NULL, 0);
	return block_end(w, p, size);
}

int pcapng_write_secrets(struct pcapng_writer *w, uint32_t secrets_type, const void *data,
			 size_t len)
{
	size_t size;
	uint8_t *p;

	if (!w || (!data && len) || len > PCAPNG_MAX_CAPLEN)
		return -EINVAL;
	if (w->error)
		return w->error;
	/* Secrets type, length, the secrets padded to 32 bits; no options. */
	size = BLOCK_HEAD + 8 + PAD4(len) + BLOCK_TAIL;
	p = block_begin(w, BLOCK_DSB, size);
	if (!p)
		return w->error;
	p = put_u32(p, secrets_type);
	p = put_u32(p, (uint32_t)len);
	p = put_padded(p, data, len);
	return block_end(w, p, size);
}

void pcapng_writer_hold(struct pcapng_writer *w, bool hold)
{
	if (w)
		w->hold = hold;
}

int pcapng_writer_flush(struct pcapng_writer *w)
{
	if (!w)
		return -EINVAL;
	return flush_buffer(w);
}

struct pcapng_writer *pcapng_writer_close(struct pcapng_writer *w)
{
	if (!w)
		return NULL;
	/* Callers who care about the last write call pcapng_writer_flush
	 * first; here it is best effort. */
	(void)flush_buffer(w);
	if (w->close_fd)
		close(w->fd);
	free(w->ifs);
	free(w->buf);
	free(w);
	return NULL;
}
