/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture's output: the fifo, file or stdout it writes pcapng to, and
 * the sinks into it (events, merged packets, --print lines), with the
 * toolbar's pause and filter, the container scope and the process scope
 * applied on the way. */
#define _GNU_SOURCE
#include "extcap/capture_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extcap/log.h"
#include "extcap/print.h"
#include "extcap/privs.h"
#include "util/clock.h"

/* Wireshark names the fifos it hands to extcaps with this prefix. */
#define WIRESHARK_FIFO_PREFIX "wireshark_extcap"
/* How often to retry opening a fifo that has no reader yet. */
#define FIFO_OPEN_POLL_MS 50
/* How long a capture that cannot start waits for the reader of its fifo
 * (dumpcap opens it right after starting us), to hand it an empty capture. */
#define RELEASE_WAIT_MS 5000

const char *capture_output_name(const struct capture *c)
{
	if (!c->opt->fifo)
		return "no output";
	return strcmp(c->opt->fifo, "-") == 0 ? "standard output" : c->opt->fifo;
}

/* A container's or pod's capture keeps only the events of its own network
 * namespace, whatever their addresses: matching addresses would take in
 * every namespace's loopback (127.0.0.1 and ::1 are everyone's) and host
 * processes. A host peer's connection to the container still shows in the
 * container's packets, which the merge tags with the peer's events. */
static bool in_scope(const struct capture *c, const struct event *ev)
{
	return EVENT_HAS(ev, ITEM_NETNS) && ev->netns == c->scope.netns;
}

/* --print: the line of an event or packet. A reader of stdout that went
 * away (grep -m1) ends the capture as a fifo reader does. */
static void printed(struct capture *c, int r)
{
	if (r >= 0) {
		c->lines_printed++;
		return;
	}
	if (!c->write_error)
		c->write_error = errno == EPIPE ? -EPIPE : -(errno ? errno : EIO);
}

void capture_emit_event(struct capture *c, const struct event *ev, const uint8_t *record,
		       size_t record_len)
{
	int len, r;

	/* Subscribers on other hosts get every event: the toolbar of this
	 * Wireshark does not steer what they see. */
	if (c->publisher && publisher_send(c->publisher, ev) == 0)
		c->events_published++; /* drops are counted by the publisher */
	/* The toolbar's pause and process/container filter act on the output
	 * only: a filtered-out event still names its packets' owners. */
	if (c->paused || !control_filter_match(&c->filter, ev)) {
		c->toolbar_filtered++;
		return;
	}
	if (c->scope.active && !in_scope(c, ev)) {
		c->events_filtered++;
		return;
	}
	if (c->opt->print && !c->write_error)
		printed(c, print_event(stdout, ev));
	if (!c->writer || c->write_error || !c->has_if_events)
		return;
	if (!record) {
		len = record_encode(ev, c->record, sizeof(c->record));
		if (len < 0) {
			log_warn("dropped a %s event that does not fit a %u-byte record",
				 event_type_name(ev->type) ?: "unknown", RECORD_MAX_LEN);
			return;
		}
		record = c->record;
		record_len = (size_t)len;
	}
	r = pcapng_write_event(c->writer, c->if_events, ev->ts_ns, record, record_len);
	if (r < 0) {
		c->write_error = r;
		return;
	}
	c->events_written++;
}

void capture_merged_event(const struct event *ev, const uint8_t *record, size_t record_len,
			   void *ctx)
{
	struct capture *c = ctx;

	/* A local event whose container names were still being looked up
	 * when it came: they may have arrived while it waited in the
	 * window (the record is encoded again then). */
	if (c->containers && !capture_is_remote(c) && EVENT_HAS(ev, ITEM_CONTAINER_ID) &&
	    !EVENT_HAS(ev, ITEM_CONTAINER)) {
		c->late_names = *ev;
		if (container_resolve_event(c->containers, &c->late_names, &(const char *){ NULL }) ==
		    1) {
			c->events_named_late++;
			capture_emit_event(c, &c->late_names, NULL, 0);
			return;
		}
	}
	capture_emit_event(c, ev, record, record_len);
}

/* --pid, --pid-tree, --uid, --comm, --cgroup, or a command after "--". */
static bool process_scoped(const struct options *o)
{
	return o->pid || o->match_uid || o->comm || o->cgroup_id;
}

static bool packet_passes_filter(struct capture *c, const struct merge_packet *pkt,
				 const struct merge_tag *tag)
{
	for (int side = 0; side < 2; side++) {
		if (merge_tag_event(pkt, tag, side == 1, &c->scratch) &&
		    control_filter_match(&c->filter, &c->scratch))
			return true;
	}
	return false;
}

void capture_merged_packet(const struct merge_packet *pkt, const struct merge_tag *tag, void *ctx)
{
	struct capture *c = ctx;
	int r;

	if ((!c->writer && !c->opt->print) || c->write_error)
		return;
	if (c->paused || (c->filter.n_terms && !packet_passes_filter(c, pkt, tag))) {
		c->toolbar_filtered++;
		return;
	}
	/* The kernel reports only the selected processes' events, so a packet
	 * that none of them tagged on either side is another process's. */
	if (process_scoped(c->opt) && !tag->sender && !tag->receiver) {
		c->packets_out_of_scope++;
		return;
	}
	if (c->opt->print) {
		printed(c, print_packet(stdout, pkt, tag,
					c->n_src > 1 ? c->src[pkt->iface].ifname : NULL));
		if (!c->writer || c->write_error)
			return;
	}
	r = packet_sink_write(&c->sink, c->src[pkt->iface].if_id, pkt, tag, NULL);
	if (r < 0) {
		c->write_error = r;
		return;
	}
	c->packets_written++;
	if (tag->sender || tag->receiver)
		c->packets_merged++;
}

/* Open a fifo for writing, waiting for its reader (Wireshark opens its end
 * after starting us) while still answering SIGINT/SIGTERM. Returns 1 when
 * open, 0 when a signal asked to stop first, or -errno. */
static int open_fifo(struct capture *c, const char *path)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->sig_fd, .events = POLLIN };
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0) {
			/* Non-blocking stays: a reader that stops reading must
			 * not keep a stop request waiting (pcapng_writer_set_stop). */
			c->out_fd = fd;
			return 1;
		}
		if (errno != ENXIO) { /* ENXIO: no reader yet */
			int e = errno;

			log_error("cannot open fifo %s: %s; check the path and its permissions",
				  path, strerror(e));
			return -e;
		}
		if (poll(&pfd, 1, FIFO_OPEN_POLL_MS) > 0) {
			log_debug("stopped while waiting for a reader of %s", path);
			return 0;
		}
	}
}

/* Returns 1 when open, 0 when stopped before a reader came, or -errno. */
int capture_open_output(struct capture *c)
{
	const char *path = c->opt->fifo;
	struct stat st;
	const char *base;

	if (strcmp(path, "-") == 0) {
		c->out_fd = STDOUT_FILENO;
	} else if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
		int r = open_fifo(c, path);

		if (r <= 0)
			return r;
	} else {
		/* --tls writes plaintext and secrets: only for the file's owner. */
		if (c->opt->tls && stat(path, &st) == 0 && (st.st_mode & 077)) {
			log_error("--tls records TLS plaintext, but output %s can be read by others "
				  "(mode %04o); use a fifo, a new file, or chmod 600 %s first",
				  path, (unsigned)(st.st_mode & 07777), path);
			return -EPERM;
		}
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				 c->opt->tls ? 0600 : 0644);
		if (c->out_fd < 0) {
			int e = errno;

			log_error("cannot open output %s: %s; check the path and its permissions",
				  path, strerror(e));
			return -e;
		}
	}
	if (fstat(c->out_fd, &st) == 0)
		c->out_is_pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	if (c->out_is_pipe) {
		int fl = fcntl(c->out_fd, F_GETFL);

		/* --fifo - into a pipe: the same, whoever reads it. */
		if (fl >= 0 && !(fl & O_NONBLOCK))
			(void)fcntl(c->out_fd, F_SETFL, fl | O_NONBLOCK);
	}
	if (c->opt->tls && (fstat(c->out_fd, &st) < 0 ||
			    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
			      (S_ISREG(st.st_mode) && !(st.st_mode & 077))))) {
		log_error("--tls records TLS plaintext: output %s must be a fifo, a pipe or a "
			  "file only its owner can read (mode 0600)",
			  path);
		return -EPERM;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	c->under_wireshark = strncmp(base, WIRESHARK_FIFO_PREFIX, strlen(WIRESHARK_FIFO_PREFIX)) == 0;
	return 1;
}

/* A section header alone: the reader of a capture that could not start
 * sees a valid, empty capture end, and then our error. */
void capture_write_empty(int fd)
{
	struct pcapng_writer *w = NULL;
	char app[64];

	snprintf(app, sizeof(app), "ebpfdump %s", EBPFDUMP_VERSION);
	if (pcapng_writer_open(fd, false, app, &w) == 0)
		(void)pcapng_writer_flush(w);
	pcapng_writer_close(w);
}

/* Wireshark opens its ends of the toolbar's control pipes when a capture
 * starts, its main thread blocked in open() until we hold the other ends,
 * then sends the toolbar's values and "initialized". A capture that cannot
 * start waits for that (a few seconds at most, or a stop request) before
 * it exits, or Wireshark would hang on a pipe no one opens any more. */
void capture_wait_toolbar(struct control *ctl, int sig_fd)
{
	static struct control_msg m;
	struct pollfd pfd[2] = { { .fd = control_fd(ctl), .events = POLLIN },
				 { .fd = sig_fd, .events = POLLIN } };
	uint64_t t0;

	if (control_fd(ctl) < 0)
		return;
	t0 = clock_ms(CLOCK_MONOTONIC);
	for (;;) {
		uint64_t waited = clock_ms(CLOCK_MONOTONIC) - t0;
		int r;

		if (waited >= RELEASE_WAIT_MS || poll(pfd, 2, (int)(RELEASE_WAIT_MS - waited)) <= 0)
			return;
		if (pfd[1].revents)
			return;
		while ((r = control_read(ctl, &m)) != 0) {
			if (r == 1 && m.command == CONTROL_CMD_INITIALIZED)
				return;
			if (r < 0 && r != -EBADMSG && r != -EMSGSIZE)
				return;
		}
	}
}

void capture_release_reader(const char *fifo, const char *control_in, const char *control_out)
{
	struct control *ctl = NULL;
	struct stat st;
	int fd = -1;

	privs_as_caller(true);
	if ((control_in || control_out) && control_open(control_in, control_out, &ctl) < 0)
		ctl = NULL;
	/* Only a fifo someone waits on: never create or truncate a file. */
	for (int i = 0; fifo && stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode) &&
			i < RELEASE_WAIT_MS / FIFO_OPEN_POLL_MS && fd < 0;
	     i++) {
		fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno != ENXIO)
			break;
		if (fd < 0)
			poll(NULL, 0, FIFO_OPEN_POLL_MS);
	}
	privs_as_caller(false);
	capture_wait_toolbar(ctl, -1);
	if (fd >= 0) {
		capture_write_empty(fd);
		close(fd);
	}
	control_free(ctl);
}

int capture_start_output(struct capture *c)
{
	char app[64];
	struct pcapng_interface iface = {
		.linktype = LINKTYPE_WIRESHARK_UPPER_PDU,
		.snaplen = RECORD_MAX_LEN + 64,
		.name = IFACE_EVENTS,
		.description = "eBPF Events",
	};
	int r;

#if EBPFDUMP_WITH_BPF
	/* Types this kernel cannot observe: said in the file too, in the
	 * events interface's description (Capture File Properties). */
	char desc[320], why[256];

	if (c->probe && probe_left_out(c->probe, why, sizeof(why))) {
		snprintf(desc, sizeof(desc), "eBPF Events (%s)", why);
		iface.description = desc;
	}
#endif
	snprintf(app, sizeof(app), "ebpfdump %s", EBPFDUMP_VERSION);
	r = pcapng_writer_open(c->out_fd, false, app, &c->writer);
	/* A stop request ends a write the reader keeps waiting. */
	pcapng_writer_set_stop(c->writer, c->sig_fd, 0);
	/* Without packets the events interface stays, empty with
	 * --no-event-frames: its statistics block still counts the events. */
	c->has_if_events = c->opt->event_frames || !c->n_src;
	if (r == 0 && c->has_if_events)
		r = pcapng_add_interface(c->writer, &iface, &c->if_events);
	for (unsigned i = 0; r == 0 && i < c->n_src; i++) {
		struct packet_source *src = &c->src[i];
		struct pcapng_interface piface = {
			.linktype = (uint16_t)live_linktype(src->live),
			.snaplen = live_snaplen(src->live),
			.name = src->ifname,
			.description = src->scoped ? c->scope.display : NULL,
			.filter = c->opt->capture_filter,
		};

		r = pcapng_add_interface(c->writer, &piface, &src->if_id);
	}
	packet_sink_init(&c->sink, c->writer, c->comments, c->has_if_events ? &c->if_events : NULL);
#if EBPFDUMP_WITH_BPF
	if (r == 0 && c->tls) {
		struct pcapng_interface tiface = {
			.linktype = LINKTYPE_WIRESHARK_UPPER_PDU,
			.snaplen = TLS_FRAME_MAX,
			.name = "tls",
			.description = "TLS plaintext (uprobes)",
		};

		r = pcapng_add_interface(c->writer, &tiface, &c->if_tls);
	}
#endif
	if (r == 0) /* at once: a non-empty output tells the probes are attached */
		r = pcapng_writer_flush(c->writer);
	/* From here on one write() per loop pass (capture_flush_pass), not per block. */
	pcapng_writer_hold(c->writer, true);
	if (r < 0 && r != -EPIPE)
		log_error("cannot write the capture header to %s: %s", capture_output_name(c), strerror(-r));
	return r;
}

/* Write the statistics block (received, and dropped by the kernel or as
 * bad remote messages); returns the events lost in the kernel. */
uint64_t capture_finish_output(struct capture *c)
{
	struct pcapng_stats st;
	uint64_t delivered = c->events_snapshot, kernel_lost = 0, remote_dropped = 0;

#if EBPFDUMP_WITH_BPF
	if (c->probe) {
		struct probe_stats k;

		probe_stats(c->probe, &k);
		delivered += k.delivered;
		/* missed: runs of a program the kernel skipped (another BPF
		 * program was running on that CPU): lost events too. */
		kernel_lost = k.dropped + k.missed;
	}
#endif
	if (c->subscriber) {
		struct subscriber_stats r;

		subscriber_stats(c->subscriber, &r);
		delivered += r.received;
		remote_dropped = r.dropped;
	}
	st = (struct pcapng_stats){
		.start_ns = c->start_ns,
		.end_ns = clock_ns(CLOCK_REALTIME),
		.received = delivered,
		.dropped = kernel_lost + remote_dropped,
		.has_dropped = true,
	};
	for (unsigned i = 0; i < c->n_src && c->writer && !c->write_error; i++) {
		struct live_stats ls;
		struct pcapng_stats pst = { .start_ns = st.start_ns, .end_ns = st.end_ns };

		if (live_stats(c->src[i].live, &ls) == 0) {
			pst.received = ls.received;
			pst.dropped = ls.dropped + ls.if_dropped;
			pst.has_dropped = true;
		}
		if (pcapng_write_stats(c->writer, c->src[i].if_id, st.end_ns, &pst) < 0)
			c->write_error = -EIO;
	}
	if (c->writer && !c->write_error) {
		int r = c->has_if_events ? pcapng_write_stats(c->writer, c->if_events, st.end_ns, &st)
					 : 0;

		if (r == 0)
			r = pcapng_writer_flush(c->writer);
		if (r < 0)
			c->write_error = r;
	}
	return kernel_lost;
}

/* Returns true when the capture must stop because of a write error. */
bool capture_check_write_error(struct capture *c, bool *failed)
{
	if (!c->write_error)
		return false;
	if (c->write_error_reported)
		return true;
	c->write_error_reported = true;
	if (c->write_error == -EPIPE) {
		log_debug("the reader of %s went away: stopping", capture_output_name(c));
	} else if (c->write_error == -ECANCELED || c->write_error == -ETIMEDOUT) {
		log_info("stopped while %s was not being read: it holds every block written before, "
			 "the last one may be cut short",
			 capture_output_name(c));
	} else {
		log_error("cannot write to %s: %s; the capture stopped and the output holds what "
			  "was written before",
			  capture_output_name(c), strerror(-c->write_error));
		*failed = true;
	}
	return true;
}

/* The blocks of this loop pass out to the reader, before the loop waits. */
void capture_flush_pass(struct capture *c)
{
	int r;

	if (!c->writer || c->write_error)
		return;
	r = pcapng_writer_flush(c->writer);
	if (r < 0)
		c->write_error = r;
}
