/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture: one epoll loop wiring sources (kernel events, the socket
 * snapshot, packets) through enrichment and the merge to the pcapng sink,
 * until a signal, --duration, or the reader of the output goes away. */
#define _GNU_SOURCE
#include "extcap/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "capture/live.h"
#include "config.h"
#if EBPFDUMP_WITH_BPF
#include "bpf/probe.h"
#include "bpf/tls_event.h"
#include "bpf/tls_probe.h"
#endif
#include "enrich/container.h"
#include "enrich/netdev.h"
#include "enrich/proc.h"
#include "event/comment.h"
#include "event/record.h"
#include "extcap/command.h"
#include "extcap/control.h"
#include "extcap/log.h"
#include "extcap/print.h"
#include "extcap/privs.h"
#include "merge/merge.h"
#include "extcap/packet_sink.h"
#include "merge/tag_comment.h"
#include "pcapng/writer.h"
#include "remote/publisher.h"
#include "remote/subscriber.h"
#include "snapshot/filter.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"

/* Wireshark names the fifos it hands to extcaps with this prefix. */
#define WIRESHARK_FIFO_PREFIX "wireshark_extcap"
/* How often to retry opening a fifo that has no reader yet. */
#define FIFO_OPEN_POLL_MS 50
/* How long a capture that cannot start waits for the reader of its fifo
 * (dumpcap opens it right after starting us), to hand it an empty capture. */
#define RELEASE_WAIT_MS 5000
/* Idle tick of the loop (flushes, --duration) when nothing is due sooner. */
#define TICK_NS 1000000000ull
/* How often UDP flow counts are collected from the kernel's flow table. */
#define UDP_FLUSH_NS 250000000ull
/* How often kernel events are read: the kernel wakes us early only when an
 * eighth of the ring buffer is filled (probe_config.batch_wakeups), so an
 * event reaches the output at most this late; well inside the merge's
 * reorder window (default 50 ms). */
#define PROBE_TICK_NS 10000000ull

/* The merge's items fall due one by one (each its own time stamp plus the
 * window): the timer is armed on a grid of this step instead, so that a
 * packet flood held for the window wakes the loop at most once per step
 * rather than once per packet (at 150 k packets/s a timerfd_settime and a
 * wake-up per packet took 4 us of CPU per packet). An item leaves at most
 * this much later than its due time, far inside the window. */
#define TIMER_STEP_NS 1000000ull

/* Events from many hosts arrive with network delays: they wait this long
 * to be put in time order unless --reorder-window says otherwise. */
#define REMOTE_WINDOW_DEFAULT_MS 200u

/* ebpfdump -- COMMAND: how long the capture goes on after the command
 * exited (the last FIN and close events of its connections), and how long
 * a command still running when the capture stops has after SIGTERM. */
#define COMMAND_LINGER_NS 300000000ull
#define COMMAND_END_WAIT_MS 2000

/* The merge's flow table when it only orders events (no packets). */
#define EVENTS_ONLY_FLOWS 1024u

enum {
	TAG_PROBE = 1,
	TAG_SIGNAL,
	TAG_TIMER,
	TAG_OUTPUT,
	TAG_SUBSCRIBER,
	TAG_PUBLISHER,
	TAG_LIVE,
	TAG_CONTROL,
	TAG_TLS,
};

/* Connections remembered as HTTP/2 (they began with its preface), for
 * --tls frames to name the http2 dissector. */
#define TLS_HTTP2_CONNS 64u
/* Largest --tls frame: the exported-PDU tags and one call's plaintext. */
#define TLS_FRAME_MAX (TLS_FRAME_TAGS_MAX + TLS_DATA_MAX)

/* Interfaces whose packets are captured: every --ifname, and a
 * container's or pod's own. */
#define PACKET_SOURCES_MAX (OPTIONS_IFNAMES_MAX + 1u)

struct capture;

/* One interface's packets: its libpcap handle and its pcapng interface. */
struct packet_source {
	struct capture *c;
	struct live *live;
	struct live_config cfg; /* to open the handle again (restart_live) */
	char ifname[IF_NAMESIZE];
	uint32_t if_id;		/* its interface in the output */
	uint64_t logged_lost;	/* losses told in the toolbar log */
	bool scoped;		/* the container's or pod's interface */
	bool gone;		/* disappeared; the others go on */
};

struct container_scope {
	bool active;	    /* capturing a container's or pod's interface */
	char display[NETDEV_DISPLAY_MAX + 1];
	uint32_t netns;	    /* its network namespace: the only events kept */
};

struct capture {
	const struct options *opt;
	/* sources */
#if EBPFDUMP_WITH_BPF
	struct probe *probe;
	struct tls_probe *tls; /* --tls */
	uint32_t if_tls;
	uint64_t tls_written, tls_keys_written;
	struct {
		uint32_t pid;
		uint16_t lport, rport;
		uint8_t raddr[16];
	} http2[TLS_HTTP2_CONNS];
	unsigned http2_next;
	uint8_t tls_frame[TLS_FRAME_MAX];
#endif
	struct subscriber *subscriber;
	/* packets: --ifname and a container's interface, in the output's order */
	struct packet_source src[PACKET_SOURCES_MAX];
	unsigned n_src;
	struct container_scope scope;
	struct snapshot *snapshot; /* owners of sockets open at start */
	/* ebpfdump -- COMMAND: the command, and when to stop after it exited */
	struct command *command;
	uint64_t command_stop_ns;
	int command_status;
	/* enrichment */
	struct enrich_proc *proc;
	struct container_resolver *containers;
	char container_reason[CONTAINER_REASON_MAX]; /* last one logged, "" when none */
	uint64_t container_answers;		     /* runtime answers when it was logged */
	/* core: when packets are captured, or to order many hosts' events */
	struct merge *merge;
	struct tag_comment_cache *comments;
	/* sinks */
	struct publisher *publisher;
	struct pcapng_writer *writer;
	struct packet_sink sink; /* the merged packets, into writer */
	uint32_t if_events;
	/* The events interface is declared: not with --no-event-frames and
	 * packets, so that a capture of one interface has one link type and
	 * libpcap tools (tcpdump -r) read it. */
	bool has_if_events;
	int out_fd;
	bool out_is_pipe;
	bool under_wireshark;
	/* loop */
	int sig_fd, timer_fd, epoll_fd;
	uint64_t timer_armed_ns; /* what the timer is set to, 0 once it fired */
	bool stop;
	int write_error; /* first write error, negative errno */
	bool write_error_reported;
	/* accounting */
	uint64_t start_ns;
	uint64_t events_written, events_snapshot, events_published;
	/* The progress line on a terminal's stderr, once a second. */
	bool progress;
	uint64_t start_wall_ns, last_progress_ns;
	uint64_t lines_printed; /* --print */
	uint64_t events_filtered; /* filtered in user space (--netns, container scope) */
	uint64_t cmdline_missing; /* events of a process without its command line */
	struct snapshot_filter snapshot_filter; /* the process filters, for its events */
	uint64_t snapshot_filtered;
	uint64_t packets_written;
	/* With a process filter, packets of flows no event of the scope named */
	uint64_t packets_out_of_scope;
	uint64_t packets_merged; /* of those, tagged with a sender or receiver */
	char last_remote_report[256];
	uint32_t seq;
	char host[OPTIONS_HOST_MAX + 1];
	/* Wireshark's toolbar (--extcap-control-in/out) */
	struct control *ctl;
	struct control_msg ctl_msg;
	struct control_filter filter;
	struct event scratch; /* one side of a tagged packet, for the filter */
	bool paused;
	uint64_t toolbar_filtered, last_status_ns;
	uint64_t logged_kernel_lost; /* losses told in the toolbar log */
	uint64_t last_udp_flush_ns;
	uint8_t record[RECORD_MAX_LEN];
};

static const char *output_name(const struct capture *c)
{
	if (!c->opt->fifo)
		return "no output";
	return strcmp(c->opt->fifo, "-") == 0 ? "standard output" : c->opt->fifo;
}

/* --- sinks --------------------------------------------------------------- */

/* A container's or pod's capture keeps only the events of its own network
 * namespace, whatever their addresses: matching addresses would take in
 * every namespace's loopback (127.0.0.1 and ::1 are everyone's) and host
 * processes. A host peer's connection to the container still shows in the
 * container's packets, which the merge tags with the peer's events. */
static bool in_scope(const struct capture *c, const struct event *ev)
{
	return EVENT_HAS(ev, ITEM_NETNS) && ev->netns == c->scope.netns;
}

/* record/record_len: ev already encoded (by the merge), or NULL. */
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

static void emit_event(struct capture *c, const struct event *ev, const uint8_t *record,
		       size_t record_len)
{
	int len, r;

	/* The toolbar's pause and process/container filter act on the output
	 * only: a filtered-out event still names its packets' owners. */
	if (c->paused || !control_filter_match(&c->filter, ev)) {
		c->toolbar_filtered++;
		return;
	}
	if (c->publisher && publisher_send(c->publisher, ev) == 0)
		c->events_published++; /* drops are counted by the publisher */
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

/* --- event path: every source ends here ----------------------------------- */

static void handle_event(struct capture *c, struct event *ev)
{
	if (c->opt->netns && (!EVENT_HAS(ev, ITEM_NETNS) || ev->netns != c->opt->netns)) {
		c->events_filtered++;
		return;
	}
	/* Sockets opened before the capture: the kernel never saw their
	 * connect/accept, the snapshot knows their owner. */
	if (c->snapshot && !EVENT_HAS(ev, ITEM_PID))
		snapshot_fill_owner(c->snapshot, ev);
	enrich_proc_event(c->proc, ev);
	/* Neither the kernel (a page of its arguments not resident, a kernel
	 * thread) nor /proc (gone already) had it: counted, said at the end. */
	if (EVENT_HAS(ev, ITEM_PID) && ev->pid && !EVENT_HAS(ev, ITEM_CMDLINE))
		c->cmdline_missing++;
	if (c->containers) {
		const char *why = NULL;

		/* A runtime that is slow or gone leaves ids only; say why once,
		 * and say when it answers again. */
		if (container_resolve_event(c->containers, ev, &why) < 0 && why &&
		    strcmp(why, c->container_reason) != 0) {
			snprintf(c->container_reason, sizeof(c->container_reason), "%s", why);
			c->container_answers = container_resolver_answers(c->containers);
			log_warn("container names unavailable, events carry ids only: %s", why);
		} else if (c->container_reason[0] &&
			   container_resolver_answers(c->containers) != c->container_answers) {
			log_info("container names available again (after: %s)", c->container_reason);
			c->container_reason[0] = '\0';
		}
	}
	if (!EVENT_HAS(ev, ITEM_HOST)) {
		event_copy_str(ev->host, sizeof(ev->host), c->host, strlen(c->host));
		EVENT_SET(ev, ITEM_HOST);
	}
	ev->seq = c->seq++;
	if (c->merge) {
		int r = merge_push_event(c->merge, ev);

		if (r < 0)
			log_debug("merge refused an event: %s", strerror(-r));
		return;
	}
	emit_event(c, ev, NULL, 0);
}

static int on_remote_event(const struct event *rev, void *ctx)
{
	struct capture *c = ctx;
	struct event ev = *rev;

	/* The publisher's host already filled its names; only order here. */
	ev.seq = c->seq++;
	if (c->merge)
		merge_push_event(c->merge, &ev);
	else
		emit_event(c, &ev, NULL, 0);
	return c->write_error ? c->write_error : 0;
}

static void merge_on_event(const struct event *ev, const uint8_t *record, size_t record_len,
			   void *ctx)
{
	emit_event(ctx, ev, record, record_len);
}

/* The toolbar's process filter on packets: kept when its sender or its
 * receiver matches. */
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

static void merge_on_packet(const struct merge_packet *pkt, const struct merge_tag *tag, void *ctx)
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

static void on_packet(void *ctx, int linktype, uint64_t ts_ns, const uint8_t *data,
		      uint32_t caplen, uint32_t len)
{
	struct packet_source *src = ctx;
	struct capture *c = src->c;
	struct merge_packet pkt = {
		.ts_ns = ts_ns,
		.data = data,
		.caplen = caplen,
		.len = len,
		.linktype = linktype,
		.iface = (uint32_t)(src - c->src),
	};
	int r = merge_push_packet(c->merge, &pkt);

	if (r < 0)
		log_debug("merge refused a packet: %s", strerror(-r));
}

#if EBPFDUMP_WITH_BPF
static int on_kernel_event(struct event *ev, void *ctx)
{
	struct capture *c = ctx;

	handle_event(c, ev);
	return c->write_error ? c->write_error : 0;
}
#endif

static int on_snapshot_event(const struct event *sev, void *ctx)
{
	struct capture *c = ctx;
	struct event ev = *sev;

	if (!(c->opt->event_mask & (1u << ev.type)))
		return 0; /* owner remembered in the table, event not wanted */
	/* --pid, --comm, ...: as the kernel filters its own events. */
	if (!snapshot_filter_match(&c->snapshot_filter, &ev)) {
		c->snapshot_filtered++;
		return 0;
	}
	c->events_snapshot++;
	handle_event(c, &ev);
	return c->write_error ? c->write_error : 0;
}

/* --- output -------------------------------------------------------------- */

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
static int open_output(struct capture *c)
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
static void write_empty_capture(int fd)
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
static void wait_toolbar(struct control *ctl, int sig_fd)
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
	wait_toolbar(ctl, -1);
	if (fd >= 0) {
		write_empty_capture(fd);
		close(fd);
	}
	control_free(ctl);
}

static int start_output(struct capture *c)
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
	/* From here on one write() per loop pass (flush_pass), not per block. */
	pcapng_writer_hold(c->writer, true);
	if (r < 0 && r != -EPIPE)
		log_error("cannot write the capture header to %s: %s", output_name(c), strerror(-r));
	return r;
}

/* Write the statistics block (received, and dropped by the kernel or as
 * bad remote messages); returns the events lost in the kernel. */
static uint64_t finish_output(struct capture *c)
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

/* --- the loop ------------------------------------------------------------ */

static int setup_signals(struct capture *c)
{
	sigset_t mask;

	/* SIGPIPE blocked, not ignored: a write to a closed reader still
	 * returns EPIPE, and a SIGPIPE sent by someone stops us cleanly. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGPIPE);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/* ebpfdump -- COMMAND: its end is read from the signalfd too. */
	if (c->opt->command)
		sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	/* A shell starts background jobs with SIGINT ignored; blocked signals
	 * still queue for the signalfd, but do not rely on that subtlety. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	c->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return c->sig_fd < 0 ? -errno : 0;
}

static int epoll_add(struct capture *c, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event e = { .events = events, .data.u64 = tag };

	return epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* Arm the timer for the next thing due: the merge's oldest held item, or
 * the idle tick. */
static void arm_timer(struct capture *c, uint64_t now)
{
	/* Ticks on a grid too: the same due time over many loop passes. */
	uint64_t due = (now / TICK_NS + 1) * TICK_NS;
	struct itimerspec its = { 0 };

	if (c->command_stop_ns && c->command_stop_ns < due)
		due = c->command_stop_ns > now ? c->command_stop_ns : now + 1;

	if (c->merge) {
		uint64_t d = merge_next_deadline(c->merge);

		if (d < due)
			due = d > now ? (d + TIMER_STEP_NS - 1) / TIMER_STEP_NS * TIMER_STEP_NS
				      : now + 1;
	}
#if EBPFDUMP_WITH_BPF
	if (c->probe && (now / PROBE_TICK_NS + 1) * PROBE_TICK_NS < due)
		due = (now / PROBE_TICK_NS + 1) * PROBE_TICK_NS;
	if (c->probe && c->last_udp_flush_ns + UDP_FLUSH_NS < due)
		due = c->last_udp_flush_ns + UDP_FLUSH_NS > now ? c->last_udp_flush_ns + UDP_FLUSH_NS
								: now + 1;
#endif
	for (unsigned i = 0; i < c->n_src; i++) {
		/* libpcap may hold packets in a block until its timeout. */
		int ms = c->src[i].gone ? -1 : live_timeout_ms(c->src[i].live);
		uint64_t d = now + (uint64_t)ms * 1000000u + 1;

		if (ms >= 0 && d < due)
			due = d;
	}
	/* Set already and not yet fired: a system call saved per loop pass. */
	if (due == c->timer_armed_ns)
		return;
	its.it_value.tv_sec = (time_t)(due / 1000000000u);
	its.it_value.tv_nsec = (long)(due % 1000000000u);
	timerfd_settime(c->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
	c->timer_armed_ns = due;
}

static int setup_loop(struct capture *c)
{
	int r;

	c->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (c->timer_fd < 0 || c->epoll_fd < 0)
		return -errno;
	r = epoll_add(c, c->sig_fd, EPOLLIN, TAG_SIGNAL);
	if (r == 0)
		r = epoll_add(c, c->timer_fd, EPOLLIN, TAG_TIMER);
#if EBPFDUMP_WITH_BPF
	if (r == 0 && c->probe)
		r = epoll_add(c, probe_fd(c->probe), EPOLLIN, TAG_PROBE);
	if (r == 0 && c->tls)
		r = epoll_add(c, tls_probe_fd(c->tls), EPOLLIN, TAG_TLS);
#endif
	if (r == 0 && c->subscriber)
		r = epoll_add(c, subscriber_fd(c->subscriber), EPOLLIN, TAG_SUBSCRIBER);
	for (unsigned i = 0; r == 0 && i < c->n_src; i++) {
		if (live_fd(c->src[i].live) >= 0)
			r = epoll_add(c, live_fd(c->src[i].live), EPOLLIN, TAG_LIVE);
	}
	if (r == 0 && c->publisher)
		r = epoll_add(c, publisher_fd(c->publisher), EPOLLIN, TAG_PUBLISHER);
	if (r == 0 && c->out_is_pipe)
		r = epoll_add(c, c->out_fd, 0, TAG_OUTPUT); /* EPOLLERR: reader gone */
	if (r == 0 && c->ctl && control_fd(c->ctl) >= 0)
		r = epoll_add(c, control_fd(c->ctl), EPOLLIN, TAG_CONTROL);
	return r;
}

static void handle_control(struct capture *c)
{
	struct control_msg *m = &c->ctl_msg;
	char err[256], line[512];

	while (control_read(c->ctl, m) > 0) {
		if (m->number == CONTROL_PAUSE && m->command == CONTROL_CMD_SET) {
			c->paused = control_msg_bool(m);
			control_send_log(c->ctl, c->paused ? "paused" : "resumed");
		} else if (m->number == CONTROL_FILTER && m->command == CONTROL_CMD_SET) {
			if (control_filter_parse(m->payload, m->len, &c->filter, err, sizeof(err)) < 0) {
				control_send_message(c->ctl, CONTROL_CMD_WARNING, err);
			} else {
				snprintf(line, sizeof(line), "filter: %.*s", (int)m->len, m->payload);
				control_send_log(c->ctl, line);
			}
		}
	}
}

/* Losses as they happen, in the toolbar's log (its tooltip promises them):
 * at most one line a second per kind. */
static void log_losses(struct capture *c, uint64_t kernel_lost)
{
	char line[256];

	if (kernel_lost > c->logged_kernel_lost) {
		snprintf(line, sizeof(line),
			 "%llu events lost in the kernel (ring buffer full), %llu in all: a larger "
			 "Ring buffer (MiB) or fewer Event types keeps up",
			 (unsigned long long)(kernel_lost - c->logged_kernel_lost),
			 (unsigned long long)kernel_lost);
		control_send_log(c->ctl, line);
		c->logged_kernel_lost = kernel_lost;
	}
	for (unsigned i = 0; i < c->n_src; i++) {
		struct packet_source *src = &c->src[i];
		struct live_stats ls;
		uint64_t lost;

		if (live_stats(src->live, &ls) < 0)
			continue;
		lost = ls.dropped + ls.if_dropped;
		if (lost > src->logged_lost) {
			snprintf(line, sizeof(line),
				 "%llu packets lost on %s, %llu in all: a larger Packet buffer (MiB) "
				 "or a capture filter keeps up",
				 (unsigned long long)(lost - src->logged_lost), src->ifname,
				 (unsigned long long)lost);
			control_send_log(c->ctl, line);
			src->logged_lost = lost;
		}
	}
}

/* Packets the kernel could not hand over on any interface (the ISBs'
 * isb_ifdrop and isb_osdrop). */
static uint64_t packets_dropped(struct capture *c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < c->n_src; i++) {
		struct live_stats ls;

		if (live_stats(c->src[i].live, &ls) == 0)
			n += ls.dropped + ls.if_dropped;
	}
	return n;
}

/* With a byte count's unit: "700 bytes", "812 KiB", "12.3 MiB", "1.07 GiB". */
static void format_bytes(char *buf, size_t size, uint64_t n)
{
	if (n < 1024)
		snprintf(buf, size, "%llu bytes", (unsigned long long)n);
	else if (n < (1u << 20))
		snprintf(buf, size, "%llu KiB", (unsigned long long)(n >> 10));
	else if (n < (1ull << 30))
		snprintf(buf, size, "%.1f MiB", (double)n / (1u << 20));
	else
		snprintf(buf, size, "%.2f GiB", (double)n / (1u << 30));
}

/* A shell capture into a file: what it has written so far, on one line of
 * stderr that is replaced each second (and erased by any message). */
static void show_progress(struct capture *c, uint64_t now)
{
	uint64_t lost = 0;
	char line[256], size[32];
	int n;

	if (!c->progress || now - c->last_progress_ns < 1000000000ull)
		return;
	c->last_progress_ns = now;
#if EBPFDUMP_WITH_BPF
	if (c->probe) {
		struct probe_stats ps;

		probe_stats(c->probe, &ps);
		lost += ps.dropped + ps.missed;
	}
#endif
	lost += packets_dropped(c);
	format_bytes(size, sizeof(size), pcapng_writer_bytes(c->writer));
	n = snprintf(line, sizeof(line), "%llu events", (unsigned long long)c->events_written);
	if (c->n_src)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ", %llu packets (%llu with a process)",
			      (unsigned long long)c->packets_written,
			      (unsigned long long)c->packets_merged);
	snprintf(line + n, sizeof(line) - (size_t)n, ", %llu lost, %s, %llu s", (unsigned long long)lost,
		 size, (unsigned long long)((now - c->start_wall_ns) / 1000000000u));
	log_progress(line);
}

/* The toolbar's status line, once a second. */
static void send_counters(struct capture *c, uint64_t now)
{
	struct control_counters k = {
		.events = c->events_written,
		.packets = c->packets_written,
		.merged = c->packets_merged,
		.filtered = c->toolbar_filtered + c->events_filtered,
		.paused = c->paused,
	};

	if (!c->ctl || now - c->last_status_ns < 1000000000ull)
		return;
#if EBPFDUMP_WITH_BPF
	if (c->probe) {
		struct probe_stats ps;

		probe_stats(c->probe, &ps);
		k.kernel_drops = ps.dropped + ps.missed;
	}
#endif
	control_send_counters(c->ctl, &k);
	log_losses(c, k.kernel_drops);
	c->last_status_ns = now;
}

#if EBPFDUMP_WITH_BPF
/* Hand what the ring buffer holds to on_kernel_event; a read error stops
 * the capture (a write error has already been reported by then). */
static void read_probe(struct capture *c, bool *failed)
{
	int r = probe_consume(c->probe);

	if (r < 0 && !c->write_error) {
		log_error("reading kernel events failed: %s", strerror(-r));
		*failed = c->stop = true;
	}
}
#endif

static void handle_ready(struct capture *c, uint64_t tag, bool *failed)
{
	switch (tag) {
#if EBPFDUMP_WITH_BPF
	case TAG_PROBE:
		read_probe(c, failed);
		break;
	case TAG_TLS:
		tls_probe_consume(c->tls);
		break;
#endif
	case TAG_LIVE:
		break; /* dispatched after every wake-up, below */
	case TAG_CONTROL:
		handle_control(c);
		break;
	case TAG_SUBSCRIBER: {
		struct subscriber_stats st;

		subscriber_dispatch(c->subscriber);
		subscriber_stats(c->subscriber, &st);
		/* Say each new rejection or bad message once, not per retry. */
		if (st.last_rejection[0] && strcmp(st.last_rejection, c->last_remote_report)) {
			snprintf(c->last_remote_report, sizeof(c->last_remote_report), "%s",
				 st.last_rejection);
			log_warn("rejected a publisher: %s", st.last_rejection);
		}
		break;
	}
	case TAG_PUBLISHER: {
		struct publisher_stats st;

		publisher_dispatch(c->publisher);
		publisher_stats(c->publisher, &st);
		if (st.last_rejection[0] && strcmp(st.last_rejection, c->last_remote_report)) {
			snprintf(c->last_remote_report, sizeof(c->last_remote_report), "%s",
				 st.last_rejection);
			log_warn("rejected a subscriber: %s", st.last_rejection);
		}
		break;
	}
	case TAG_SIGNAL: {
		struct signalfd_siginfo si;

		if (read(c->sig_fd, &si, sizeof(si)) != sizeof(si))
			break;
		if (si.ssi_signo == SIGCHLD) {
			/* Its last connections close after it: their events and
			 * packets are still taken for a moment. */
			if (!c->command_stop_ns && command_reap(c->command, &c->command_status)) {
				log_debug("the command exited (status %d): stopping in %llu ms",
					  c->command_status,
					  (unsigned long long)(COMMAND_LINGER_NS / 1000000u));
				c->command_stop_ns = clock_ns(CLOCK_REALTIME) + COMMAND_LINGER_NS;
			}
			break;
		}
		log_debug("signal %u: stopping", si.ssi_signo);
		c->stop = true;
		break;
	}
	case TAG_TIMER: {
		uint64_t ticks;

		/* Level-triggered: an unread timerfd would spin the loop. */
		if (read(c->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
			log_debug("timerfd read: %s", strerror(errno));
		c->timer_armed_ns = 0; /* fired: arm_timer sets it again */
#if EBPFDUMP_WITH_BPF
		/* The kernel wakes us only for a filling ring (batch_wakeups). */
		if (c->probe)
			read_probe(c, failed);
		if (c->tls) /* same: woken only for a filling ring */
			tls_probe_consume(c->tls);
#endif
		break;
	}
	case TAG_OUTPUT:
		log_debug("the reader of %s closed it: stopping", output_name(c));
		c->write_error = -EPIPE;
		break;
	}
}

/* Returns true when the capture must stop because of a write error. */
static bool check_write_error(struct capture *c, bool *failed)
{
	if (!c->write_error)
		return false;
	if (c->write_error_reported)
		return true;
	c->write_error_reported = true;
	if (c->write_error == -EPIPE) {
		log_debug("the reader of %s went away: stopping", output_name(c));
	} else if (c->write_error == -ECANCELED || c->write_error == -ETIMEDOUT) {
		log_info("stopped while %s was not being read: it holds every block written before, "
			 "the last one may be cut short",
			 output_name(c));
	} else {
		log_error("cannot write to %s: %s; the capture stopped and the output holds what "
			  "was written before",
			  output_name(c), strerror(-c->write_error));
		*failed = true;
	}
	return true;
}

static unsigned sources_left(const struct capture *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->n_src; i++)
		n += !c->src[i].gone;
	return n;
}

/* An interface that disappears ends its own packets; the capture stops
 * when it was the last one (exit status 1 either way: not everything
 * asked for was captured). */
static void dispatch_packets(struct capture *c, bool *failed)
{
	for (unsigned i = 0; i < c->n_src && !c->stop; i++) {
		struct packet_source *src = &c->src[i];
		const char *why = src->scoped ? " (its container or pod was removed?)" : "";
		int r = src->gone ? 0 : live_dispatch(src->live, -1);

		if (r >= 0)
			continue;
		*failed = true;
		if (r == -ENODEV && sources_left(c) > 1) {
			src->gone = true;
			if (live_fd(src->live) >= 0)
				epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, live_fd(src->live), NULL);
			log_warn("the interface %s disappeared%s: its packets end here, the capture "
				 "goes on with the other interfaces",
				 src->ifname, why);
		} else if (r == -ENODEV) {
			log_error("the interface %s disappeared%s: capture stopped; the output is "
				  "complete up to here",
				  src->ifname, why);
			c->stop = true;
		} else {
			log_error("capturing on %s failed: %s", src->ifname,
				  live_error(src->live)[0] ? live_error(src->live) : strerror(-r));
			c->stop = true;
		}
	}
}

/* The blocks of this loop pass out to the reader, before the loop waits. */
static void flush_pass(struct capture *c)
{
	int r;

	if (!c->writer || c->write_error)
		return;
	r = pcapng_writer_flush(c->writer);
	if (r < 0)
		c->write_error = r;
}

static int run_loop(struct capture *c)
{
	uint64_t deadline = 0, now = clock_ns(CLOCK_REALTIME);
	bool failed = false;

	if (c->opt->duration_s)
		deadline = now + (uint64_t)c->opt->duration_s * 1000000000u;
	arm_timer(c, now);
	while (!c->stop) {
		struct epoll_event evs[8];
		int n = epoll_wait(c->epoll_fd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait failed: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n && !c->stop; i++) {
			handle_ready(c, evs[i].data.u64, &failed);
			c->stop |= check_write_error(c, &failed);
		}
		if (c->n_src && !c->stop)
			dispatch_packets(c, &failed);
		now = clock_ns(CLOCK_REALTIME);
		if (c->merge && !c->stop)
			merge_advance(c->merge, now);
		flush_pass(c);
		c->stop |= check_write_error(c, &failed);
		if (c->command_stop_ns && now >= c->command_stop_ns)
			c->stop = true;
		if (deadline && now >= deadline) {
			log_debug("--duration reached: stopping");
			c->stop = true;
		}
		send_counters(c, now);
		show_progress(c, now);
#if EBPFDUMP_WITH_BPF
		/* UDP counts after a flow's first datagram stay in the kernel's
		 * table until collected. */
		if (c->probe && !c->stop && now >= c->last_udp_flush_ns + UDP_FLUSH_NS) {
			probe_flush(c->probe, false);
			c->last_udp_flush_ns = now;
		}
#endif
		arm_timer(c, now);
	}
	if (c->progress)
		log_progress(NULL); /* the summary below says it all */
	/* Drain what the kernel produced before the stop, then the merge.
	 * Detached first, so that the totals below are final and exact. */
	for (unsigned i = 0; i < c->n_src && !c->write_error; i++) {
		if (!c->src[i].gone)
			live_dispatch(c->src[i].live, -1);
	}
#if EBPFDUMP_WITH_BPF
	if (c->tls && !c->write_error)
		tls_probe_consume(c->tls);
	if (c->probe) {
		probe_detach(c->probe);
		if (!c->write_error)
			probe_consume(c->probe);
		if (!c->write_error)
			probe_flush(c->probe, true);
	}
#endif
	if (!c->write_error && c->merge)
		merge_flush(c->merge);
	check_write_error(c, &failed);
	return failed ? -EIO : 0;
}

/* --- set-up and tear-down ------------------------------------------------- */

static bool is_remote(const struct capture *c)
{
	return c->opt->interface && strcmp(c->opt->interface, IFACE_ZMQ) == 0;
}

static struct remote_security security_of(const struct options *o)
{
	return (struct remote_security){
		.allow_plaintext = o->zmq_plaintext,
		.secret_key_file = o->zmq_key,
		.authorized_keys_file = o->zmq_authorized_keys,
		.server_public_key_file = o->zmq_server_key,
	};
}

static int start_subscriber(struct capture *c)
{
	const struct options *o = c->opt;
	struct remote_peer peers[OPTIONS_ZMQ_CONNECT_MAX];
	char specs[OPTIONS_ZMQ_CONNECT_MAX][512];
	struct subscriber_config cfg = {
		.bind = o->zmq_listen,
		.connect = peers,
		.n_connect = o->n_zmq_connect,
		.event_mask = o->event_mask,
		.security = security_of(o),
	};
	char err[512] = "";
	int r;

	/* "ENDPOINT[,SERVER_KEY_FILE]": the key file of that publisher. */
	for (unsigned i = 0; i < o->n_zmq_connect; i++) {
		char *comma;

		snprintf(specs[i], sizeof(specs[i]), "%s", o->zmq_connect[i]);
		comma = strchr(specs[i], ',');
		if (comma)
			*comma++ = '\0';
		peers[i] = (struct remote_peer){ .endpoint = specs[i],
						 .server_public_key_file = comma };
	}
	privs_as_caller(true); /* key files, ipc:// endpoints */
	r = subscriber_new(&cfg, on_remote_event, c, &c->subscriber, err, sizeof(err));
	privs_as_caller(false);
	if (r < 0) {
		log_error("cannot receive remote events: %s", err[0] ? err : strerror(-r));
		return r;
	}
	if (subscriber_plaintext(c->subscriber))
		log_warn("--zmq-plaintext: remote events travel unencrypted and anyone who can "
			 "reach the endpoint can send them");
	return 0;
}

static int start_publisher(struct capture *c)
{
	const struct options *o = c->opt;
	struct publisher_config cfg = {
		.endpoint = o->zmq_publish,
		.bind = o->zmq_bind,
		.host = c->host,
		.json = o->zmq_json,
		.security = security_of(o),
	};
	char err[512] = "";
	int r;

	if (!o->zmq_publish)
		return 0;
	privs_as_caller(true); /* key files, ipc:// endpoints */
	r = publisher_new(&cfg, &c->publisher, err, sizeof(err));
	privs_as_caller(false);
	if (r < 0) {
		log_error("cannot publish on %s: %s", o->zmq_publish, err[0] ? err : strerror(-r));
		return r;
	}
	if (publisher_plaintext(c->publisher))
		log_warn("--zmq-plaintext: events are published unencrypted and unauthenticated");
	log_debug("publishing events on %s", o->zmq_publish);
	return 0;
}

/* flows: the flow table's capacity (0: --flows). */
static int start_merge(struct capture *c, uint32_t window_ms, uint32_t flows)
{
	struct merge_config cfg;
	int r;

	merge_config_init(&cfg);
	cfg.window_ns = (uint64_t)window_ms * 1000000u;
	cfg.linger_ns = (uint64_t)c->opt->linger_s * 1000000000u;
	cfg.flows.capacity = flows ? flows : c->opt->flows;
	cfg.on_event = merge_on_event;
	cfg.on_packet = merge_on_packet;
	cfg.ctx = c;
	r = merge_new(&cfg, &c->merge);
	if (r < 0)
		log_error("cannot set up the merge for %u flows: %s", c->opt->flows, strerror(-r));
	return r;
}

#if EBPFDUMP_WITH_BPF
static void libbpf_log(int level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	log_debug("libbpf: %s", msg);
}

static int start_probe(struct capture *c)
{
	const struct options *o = c->opt;
	struct probe_config pc = {
		.event_mask = o->event_mask,
		.ringbuf_bytes = o->ringbuf_mb << 20,
		.udp_interval_ms = o->udp_interval_ms,
		.batch_wakeups = true, /* consumed every PROBE_TICK_NS, see arm_timer */
		.hooks = o->hooks == OPTIONS_HOOKS_FENTRY	? PROBE_HOOKS_FENTRY
			 : o->hooks == OPTIONS_HOOKS_TRACEPOINT ? PROBE_HOOKS_TRACEPOINT
			 : o->hooks == OPTIONS_HOOKS_RAW	? PROBE_HOOKS_RAW
								: PROBE_HOOKS_AUTO,
		.btf_path = o->btf,
		.filter = {
			.pid = o->pid,
			.pid_tree = o->pid_tree,
			.match_uid = o->match_uid,
			.uid = o->uid,
			.cgroup_id = o->cgroup_id,
			.netns = o->netns,
		},
	};
	char err[512] = "";
	int r;

	if (o->comm)
		snprintf(pc.filter.comm, sizeof(pc.filter.comm), "%s", o->comm);
	probe_set_log(libbpf_log, NULL);
	r = probe_open(&pc, on_kernel_event, c, &c->probe, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err[0] ? err : strerror(-r));
		return r;
	}
	log_debug("kernel probes attached");
	if (probe_left_out(c->probe, err, sizeof(err)))
		log_warn("%s", err); /* under Wireshark: the toolbar's log (toolbar_notice) */
	c->last_udp_flush_ns = clock_ns(CLOCK_REALTIME);
	return 0;
}

/* End of capture: what the kernel filtered, evicted or could not count. */
/* --- TLS plaintext (--tls, docs/tls.md) ------------------------------------ */

static bool tls_is_http2(struct capture *c, const struct tls_data *d)
{
	unsigned i;

	for (i = 0; i < TLS_HTTP2_CONNS; i++)
		if (c->http2[i].pid == d->pid && c->http2[i].lport == d->lport &&
		    c->http2[i].rport == d->rport && memcmp(c->http2[i].raddr, d->raddr, 16) == 0)
			return true;
	if (!tls_frame_is_http2_preface(d->data, d->len))
		return false;
	i = c->http2_next++ % TLS_HTTP2_CONNS;
	c->http2[i].pid = d->pid;
	c->http2[i].lport = d->lport;
	c->http2[i].rport = d->rport;
	memcpy(c->http2[i].raddr, d->raddr, 16);
	return true;
}

/* One TLS read or write: an exported-PDU frame for Wireshark's HTTP
 * dissectors, with the process in the EPB comment (sender of a write,
 * receiver of a read) and the pid/tid option. */
static void on_tls_data(const struct tls_data *d, void *ctx)
{
	struct capture *c = ctx;
	struct event *ev = &c->scratch;
	char comment[EVENT_COMMENT_MAX];
	struct pcapng_packet_meta meta = { .has_pid = true, .pid = d->pid, .tid = d->tid };
	int len, r;

	if (!c->writer || c->write_error)
		return;
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = d->ts_ns;
	ev->pid = d->pid;
	ev->tid = d->tid;
	ev->cgroup_id = d->cgroup_id;
	event_copy_str(ev->comm, sizeof(ev->comm), d->comm, strlen(d->comm));
	ev->present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_COMM) |
		      EVENT_BIT(ITEM_CGROUP_ID);
	enrich_proc_event(c->proc, ev);
	if (c->containers)
		container_resolve_event(c->containers, ev, &(const char *){ NULL });
	if (c->paused || !control_filter_match(&c->filter, ev)) {
		c->toolbar_filtered++;
		return;
	}
	/* TLS frames are few: compact mode names their process briefly. */
	if (c->opt->comment_mode != COMMENT_FULL)
		ev->present &= EVENT_COMMENT_BRIEF_ITEMS;
	if (event_comment_format(d->received ? NULL : ev, d->received ? ev : NULL, comment,
				 sizeof(comment)) < 0)
		comment[0] = '\0';
	meta.comment = comment[0] ? comment : NULL;
	len = tls_frame_build(d, tls_is_http2(c, d), c->tls_frame, sizeof(c->tls_frame));
	if (len < 0)
		return;
	r = pcapng_write_packet(c->writer, c->if_tls, d->ts_ns, c->tls_frame, (uint32_t)len,
				(uint32_t)len + (d->orig_len - d->len), &meta);
	if (r < 0) {
		c->write_error = r;
		return;
	}
	c->tls_written++;
}

/* A Go program's TLS secret: a Decryption Secrets Block, written at once,
 * before the packets it decrypts leave the merge (held up to the reorder
 * window). */
static void on_tls_key(uint32_t pid, uint64_t ts_ns, const char *line, size_t len, void *ctx)
{
	struct capture *c = ctx;
	int r;

	(void)ts_ns;
	if (!c->writer || c->write_error)
		return;
	log_debug("TLS secret of pid %u: %.*s", pid, (int)strcspn(line, " "), line);
	r = pcapng_write_secrets(c->writer, PCAPNG_SECRETS_TLS, line, len);
	if (r < 0) {
		c->write_error = r;
		return;
	}
	c->tls_keys_written++;
}

static int start_tls(struct capture *c)
{
	struct tls_probe_stats st;
	char err[256];
	int r;

	if (!c->opt->tls)
		return 0;
	r = tls_probe_open(c->opt->pid, "/proc", on_tls_data, on_tls_key, c, &c->tls, err,
			   sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return r;
	}
	tls_probe_stats(c->tls, &st);
	log_warn("--tls: recording TLS plaintext of %s; TLS secrets of Go programs (%llu "
		 "running%s)",
		 tls_probe_libraries(c->tls)[0] ? tls_probe_libraries(c->tls) : "no library yet",
		 (unsigned long long)st.go_programs, c->opt->pid ? "" : ", and those started later");
	return 0;
}

static void report_tls(struct capture *c)
{
	struct tls_probe_stats st;

	if (!c->tls)
		return;
	tls_probe_stats(c->tls, &st);
	if (!c->under_wireshark)
		log_info("%llu TLS frames written, %llu cut at %u bytes, %llu lost in the kernel "
			 "(ring buffer full), %llu unreadable buffers; %llu TLS secrets written "
			 "from %llu Go programs",
			 (unsigned long long)c->tls_written, (unsigned long long)st.cut,
			 TLS_DATA_MAX, (unsigned long long)st.lost,
			 (unsigned long long)st.faults, (unsigned long long)c->tls_keys_written,
			 (unsigned long long)st.go_programs);
	if (st.lost)
		log_warn("%llu TLS calls were lost because the TLS ring buffer was full",
			 (unsigned long long)st.lost);
}

static void report_kernel(struct capture *c)
{
	struct probe_stats ps;
	struct probe_map_usage u;

	if (!c->probe)
		return;
	probe_stats(c->probe, &ps);
	probe_log_programs(c->probe);
	log_debug("kernel: %llu events seen, %llu filtered, %llu lost (ring full), %llu lost "
		  "(programs skipped); %llu delivered to user space",
		  (unsigned long long)ps.seen, (unsigned long long)ps.filtered,
		  (unsigned long long)ps.dropped, (unsigned long long)ps.missed,
		  (unsigned long long)ps.delivered);
	if (ps.seen && ps.filtered == ps.seen)
		log_warn("the filters matched none of the %llu events the kernel saw: check %s",
			 (unsigned long long)ps.seen,
			 c->under_wireshark ? "the options Process (and children), User id, Command, "
					      "Cgroup id, Container or pod and Event types"
					    : "--pid, --uid, --comm, --cgroup, --netns and --events");
	else if (ps.filtered)
		log_debug("%llu of %llu events filtered in the kernel",
			  (unsigned long long)ps.filtered, (unsigned long long)ps.seen);
	if (ps.dropped) {
		char by_type[256] = "";
		size_t n = 0;

		for (int t = 0; t < PROBE_TYPE_SLOTS && n < sizeof(by_type); t++)
			if (ps.dropped_by_type[t])
				n += (size_t)snprintf(by_type + n, sizeof(by_type) - n, "%s%s %llu",
						      n ? ", " : "", event_type_name((unsigned)t) ?: "?",
						      (unsigned long long)ps.dropped_by_type[t]);
		log_info("events lost in the kernel by type: %s", by_type);
	}
	if (ps.udp_lost)
		log_warn("%llu UDP datagrams were not counted: the UDP flow table was full",
			 (unsigned long long)ps.udp_lost);
	if (probe_map_usage(c->probe, &u) == 0 && (u.sockets.evicted || u.udp_flows.evicted))
		log_warn("kernel tables full: %llu socket owners and %llu UDP flows evicted (oldest "
			 "first); their later events lack a process or start a new count",
			 (unsigned long long)u.sockets.evicted,
			 (unsigned long long)u.udp_flows.evicted);
}
#endif

/* The one pod with that name in that namespace (any namespace when ns is
 * NULL), else NULL: none, or several of that name. */
static const struct netdev_entry *find_pod_in(const struct netdev_list *l, const char *ns,
					      size_t ns_len, const char *pod, size_t pod_len)
{
	const struct netdev_entry *found = NULL;

	for (size_t i = 0; l && i < l->count; i++) {
		const struct netdev_entry *e = &l->entries[i];

		if (!e->pod[0] || strlen(e->pod) != pod_len || memcmp(e->pod, pod, pod_len) != 0)
			continue;
		if (ns && (strlen(e->namespace_) != ns_len || memcmp(e->namespace_, ns, ns_len) != 0))
			continue;
		if (found)
			return NULL;
		found = e;
	}
	return found;
}

/* --pod POD, NAMESPACE/POD, or POD.NAMESPACE (ptcpdump's form; a pod's
 * name may hold dots, a namespace's cannot, so the last dot splits it,
 * and a pod named exactly so is taken first). */
static const struct netdev_entry *find_pod(const struct netdev_list *l, const char *spec)
{
	const char *slash = strchr(spec, '/'), *dot = strrchr(spec, '.');
	const struct netdev_entry *e;

	if (slash)
		return find_pod_in(l, spec, (size_t)(slash - spec), slash + 1, strlen(slash + 1));
	e = find_pod_in(l, NULL, 0, spec, strlen(spec));
	if (!e && dot)
		e = find_pod_in(l, dot + 1, strlen(dot + 1), spec, (size_t)(dot - spec));
	return e;
}

/* "veth@name" (a container interface, or --ifname in the original tool's
 * form), or --container/--pod's name: find the host side of the
 * container's or pod's link today. */
static int resolve_container(struct capture *c, const char *spec, char *ifname, size_t ifname_len)
{
	struct container_resolver *cr = c->containers;
	struct container_resolver *own = NULL;
	struct netdev_list *l = NULL;
	const struct netdev_entry *e;
	const char *why = NULL;
	int r;

	if (!cr) {
		r = container_resolver_new(NULL, &own);
		if (r < 0)
			return r;
		cr = own;
	}
	r = netdev_list_containers(cr, &l, &why);
	e = r != 0 ? NULL : c->opt->container_is_pod ? find_pod(l, spec) : netdev_find(l, spec);
	if (!e) {
		log_error("no single container or pod matches '%s'%s%s: none, or several alike "
			  "(give its id, NAMESPACE/POD, or an ebpf@VETH@NAME value); ebpfdump "
			  "--extcap-interfaces lists them",
			  spec, why ? ": " : "", why ? why : "");
		netdev_list_free(l);
		container_resolver_free(own);
		return -ENODEV;
	}
	snprintf(ifname, ifname_len, "%s", e->ifname);
	c->scope.active = true;
	c->scope.netns = e->netns;
	snprintf(c->scope.display, sizeof(c->scope.display), "%s", e->display);
	log_debug("%s: host interface %s, network namespace %u", e->display, e->ifname,
		  e->netns);
	netdev_list_free(l);
	container_resolver_free(own);
	return 0;
}

/* One interface's packets: a name, or a container's or pod's spec. */
static int open_source(struct capture *c, const char *spec, bool container)
{
	const struct options *o = c->opt;
	struct packet_source *src = &c->src[c->n_src];
	char err[LIVE_REASON_MAX] = "";
	int r;

	if (container) {
		r = resolve_container(c, spec, src->ifname, sizeof(src->ifname));
		if (r < 0)
			return r;
		src->scoped = true;
	} else if (strlen(spec) > LIVE_IFNAME_MAX) {
		/* Cut short, it could name another interface. */
		log_error("no such interface \"%s\": interface names have at most %u bytes (`ip "
			  "link` lists them)",
			  spec, LIVE_IFNAME_MAX);
		return -ENODEV;
	} else {
		snprintf(src->ifname, sizeof(src->ifname), "%s", spec);
	}
	for (unsigned i = 0; i < c->n_src; i++) {
		if (strcmp(c->src[i].ifname, src->ifname) == 0) {
			log_error("the interface %s is named twice (%s and %s): give it once",
				  src->ifname, c->src[i].scoped ? c->scope.display : c->src[i].ifname,
				  spec);
			return -EINVAL;
		}
	}
	src->c = c;
	live_config_init(&src->cfg);
	src->cfg.ifname = src->ifname;
	src->cfg.filter = o->capture_filter;
	src->cfg.snaplen = o->snaplen;
	src->cfg.promisc = o->promisc;
	src->cfg.buffer_mib = o->buffer_mb;
	r = live_open(&src->cfg, on_packet, src, &src->live, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err[0] ? err : strerror(-r));
		return r;
	}
	c->n_src++;
	if (live_warning(src->live)[0])
		log_warn("%s", live_warning(src->live));
	return 0;
}

/* The container's or pod's interface first (it gives the events' scope),
 * then every --ifname in the order given. */
static int start_live(struct capture *c)
{
	const struct options *o = c->opt;
	const char *container = o->container;
	int r = 0;

	if (o->interface && strchr(o->interface, '@'))
		container = o->interface;
	if (container)
		r = open_source(c, container, true);
	for (unsigned i = 0; r == 0 && i < o->n_ifnames; i++)
		r = open_source(c, o->ifnames[i], strchr(o->ifnames[i], '@') != NULL);
	if (r < 0 || !c->n_src)
		return r;
	r = tag_comment_cache_new((enum comment_mode)o->comment_mode, &c->comments);
	if (r == 0)
		r = start_merge(c, o->window_ms, 0);
	return r;
}

/* The handles opened by start_live() (to say a bad interface or filter
 * before anything is loaded, and to declare the packet interfaces) are not
 * read until the loop runs: loading the programs, opening the output and
 * the snapshot (a second with many namespaces) filled their rings, and the
 * kernel dropped what came next, a gap of hundreds of packets after the
 * first ones. So each is opened again right before the loop: the capture
 * of packets starts there, without a gap. Same interface, filter and
 * settings, so the same link type as declared. */
static void restart_live(struct capture *c)
{
	for (unsigned i = 0; i < c->n_src; i++) {
		struct packet_source *src = &c->src[i];
		char err[LIVE_REASON_MAX] = "";
		struct live *fresh = NULL;
		int r;

		/* The new handle first: if the interface went away meanwhile,
		 * the first handle stays, and the loop says that the interface
		 * vanished as it would have without the reopening. */
		r = live_open(&src->cfg, on_packet, src, &fresh, err, sizeof(err));
		if (r < 0) {
			log_debug("the packet handle of %s was not reopened (%s): the first one is "
				  "kept",
				  src->ifname, err[0] ? err : strerror(-r));
			continue;
		}
		live_free(src->live);
		src->live = fresh;
	}
}

static int start_sources(struct capture *c)
{
	int r;

	/* Packets first: a bad filter or interface is said before anything
	 * is loaded into the kernel. */
	r = start_live(c);
	if (r < 0)
		return r;

	if (is_remote(c)) {
		uint32_t window = c->opt->window_set ? c->opt->window_ms : REMOTE_WINDOW_DEFAULT_MS;

		r = start_merge(c, window, 0);
		return r < 0 ? r : start_subscriber(c);
	}
#if EBPFDUMP_WITH_BPF
	/* Without packets, the merge only puts the kernel's events in time
	 * order: the ring holds them in the order they were reserved, and a
	 * program stamps its event a few microseconds before that, so events
	 * of two CPUs could go back in time in the file. Its flow table then
	 * serves nothing: the smallest that works. */
	if (!c->merge) {
		r = start_merge(c, c->opt->window_ms, EVENTS_ONLY_FLOWS);
		if (r < 0)
			return r;
	}
	r = start_probe(c);
	return r < 0 ? r : start_tls(c);
#else
	log_error("this ebpfdump was built without eBPF support (EBPFDUMP_WITH_BPF=OFF): only "
		  "remote events (%s) can be captured",
		  IFACE_ZMQ);
	return -EOPNOTSUPP;
#endif
}

/* The snapshot runs after the probes are attached, so a socket opened in
 * between is seen by one or the other, and before the first event is
 * handled, so its owners are known from the start. A failed snapshot is
 * reported and the capture goes on without it. */
static void take_snapshot(struct capture *c)
{
	/* Both kinds always: the owner table serves every later event; the
	 * callback drops the events that --events did not ask for. */
	struct snapshot_config cfg = { .event_mask = 0 };
	struct snapshot_stats st;
	int r;

	if (!c->opt->snapshot || is_remote(c))
		return;
	r = snapshot_new(0, &c->snapshot);
	if (r < 0) {
		log_warn("no socket snapshot: %s", strerror(-r));
		return;
	}
	cfg.table = c->snapshot;
	c->snapshot_filter = (struct snapshot_filter){
		.pid = c->opt->pid,
		.pid_tree = c->opt->pid_tree,
		.match_uid = c->opt->match_uid,
		.uid = c->opt->uid,
		.cgroup_id = c->opt->cgroup_id,
	};
	if (c->opt->comm)
		snprintf(c->snapshot_filter.comm, sizeof(c->snapshot_filter.comm), "%s",
			 c->opt->comm);
	r = snapshot_take(&cfg, on_snapshot_event, c, &st);
	if (r < 0)
		log_warn("the snapshot of open sockets failed: %s; connections opened before the "
			 "capture may show no process",
			 st.reason[0] ? st.reason : strerror(-r));
	else
		log_debug("snapshot: %llu TCP and %llu UDP sockets open at start in %u network "
			  "namespaces, %.1f ms; %llu of them filtered out (--pid, --comm, ...)",
			  (unsigned long long)st.tcp_reported, (unsigned long long)st.udp_reported,
			  st.netns_dumped, st.elapsed_ns / 1e6,
			  (unsigned long long)c->snapshot_filtered);
}

static void toolbar_notice(const char *level, const char *text, void *ctx)
{
	struct capture *c = ctx;
	char line[CONTROL_PAYLOAD_MAX];

	snprintf(line, sizeof(line), "%s%s%s", strcmp(level, "info") ? level : "",
		 strcmp(level, "info") ? ": " : "", text);
	control_send_log(c->ctl, line);
}

/* The toolbar log's first line: what this capture records, from when the
 * kernel's events are being collected. Without a toolbar it is a debug
 * line (scripts wait for it with --debug-file), and on a terminal a line
 * like tcpdump's "listening on". */
static void log_started(struct capture *c)
{
	const struct options *o = c->opt;
	char line[1024];

	char on[400] = "";
	size_t n = 0;

	for (unsigned i = 0; i < c->n_src && n < sizeof(on); i++)
		n += (size_t)snprintf(on + n, sizeof(on) - n, "%s%s", i ? ", " : "",
				      c->src[i].scoped ? c->scope.display : c->src[i].ifname);
	if (!c->n_src)
		snprintf(line, sizeof(line), "capture started: %s",
			 is_remote(c) ? "remote events" : "kernel events");
	else
		snprintf(line, sizeof(line), "capture started: %s and packets on %s%s%.500s%s",
			 is_remote(c) ? "remote events" : "kernel events", on,
			 o->capture_filter ? " (filter: " : "", o->capture_filter ?: "",
			 o->capture_filter ? ")" : "");
	if (o->control_out)
		control_send_log(c->ctl, line);
	else if (isatty(STDERR_FILENO) && !o->print)
		log_info("%s (Ctrl-C stops)", line);
	else
		log_debug("%s", line);
	/* A shell capture into a file shows its progress; printed lines
	 * (--print) and -q do without, and so does anything not a terminal. */
	c->progress = c->writer && !o->control_out && !c->under_wireshark && !o->print &&
		      !o->quiet && isatty(STDERR_FILENO);
	c->start_wall_ns = c->last_progress_ns = clock_ns(CLOCK_REALTIME);
}

/* Say at once which capabilities are missing, and how to grant them,
 * instead of a failure deep inside libbpf or libpcap. */
static int check_privileges(struct capture *c)
{
	uint32_t needs = 0;
	char msg[PRIVS_MSG_MAX];

	if (!is_remote(c))
		needs |= PRIVS_NEEDS_EVENTS;
	if (c->opt->n_ifnames || c->opt->container ||
	    (c->opt->interface && strchr(c->opt->interface, '@')))
		needs |= c->opt->promisc ? PRIVS_NEEDS_PROMISC : PRIVS_NEEDS_PACKETS;
	if (needs && privs_check(needs, msg, sizeof(msg)) < 0) {
		log_error("%s", msg);
		return -EPERM;
	}
	return 0;
}

static void report(struct capture *c, uint64_t dropped)
{
	/* The packets the kernel could not hand over, said like the events
	 * lost. */
	uint64_t pk_dropped = packets_dropped(c);
#if EBPFDUMP_WITH_BPF
	report_kernel(c);
	report_tls(c);
#endif
	if (c->publisher) {
		struct publisher_stats ps;

		publisher_stats(c->publisher, &ps);
		log_info("%llu events published on %s, %llu dropped (no subscriber or a slow one)",
			 (unsigned long long)ps.sent, c->opt->zmq_publish,
			 (unsigned long long)ps.dropped);
	}
	if (c->subscriber) {
		struct subscriber_stats ss;

		subscriber_stats(c->subscriber, &ss);
		log_info("%llu remote events received, %llu messages dropped as malformed or "
			 "unexpected, %llu publishers rejected%s%s",
			 (unsigned long long)ss.received, (unsigned long long)ss.dropped,
			 (unsigned long long)ss.rejected, ss.last_drop[0] ? "; last drop: " : "",
			 ss.last_drop);
	}
	if (c->events_filtered)
		log_debug("%llu events of other network namespaces filtered (--netns)",
			  (unsigned long long)c->events_filtered);
	if (c->packets_out_of_scope)
		log_info("%llu packets left out: no event of the selected processes named their "
			 "flow (%s)",
			 (unsigned long long)c->packets_out_of_scope,
			 c->opt->command ? "the command and its children"
					 : "--pid, --pid-tree, --uid, --comm, --cgroup");

	if (c->cmdline_missing)
		log_info("%llu events name a process without its command line (not readable in "
			 "the kernel, and the process was gone from /proc)",
			 (unsigned long long)c->cmdline_missing);
	/* What reached the output, not what was handed to the writer: after
	 * a write error (a full disk) the rest never made it. */
	if (c->writer) {
		uint64_t ev = c->has_if_events ? pcapng_writer_written(c->writer, c->if_events) : 0;
		uint64_t pk = 0;

		for (unsigned i = 0; i < c->n_src; i++)
			pk += pcapng_writer_written(c->writer, c->src[i].if_id);
		/* The events interface also holds the Identity frames. */
		uint64_t ev_frames = c->events_written + c->sink.identities_written;

		if ((c->has_if_events && ev < ev_frames) || pk < c->packets_written)
			log_warn("%llu events and %llu packets did not reach %s",
				 (unsigned long long)(c->has_if_events ? ev_frames - ev : 0),
				 (unsigned long long)(c->packets_written - pk), output_name(c));
		if (c->has_if_events && ev < ev_frames)
			c->events_written = ev > c->sink.identities_written ? ev - c->sink.identities_written : 0;
		c->packets_written = pk;
		if (c->sink.comments_missing)
			log_warn("%llu packets were written without their comment (out of memory)",
				 (unsigned long long)c->sink.comments_missing);
		if (c->sink.identities_written)
			log_debug("%llu Identity frames written (compact packet comments: each "
				  "process's details once)",
				  (unsigned long long)c->sink.identities_written);
	}
	if (c->opt->print && !c->writer)
		log_info("%llu lines printed", (unsigned long long)c->lines_printed);
	if (c->writer && !c->under_wireshark && c->subscriber)
		log_info("%llu events written to %s", (unsigned long long)c->events_written,
			 output_name(c));
	else if (c->writer && !c->under_wireshark && c->n_src)
		log_info("%llu events and %llu packets written to %s, %llu events lost in the "
			 "kernel (ring buffer full), %llu packets dropped (packet buffer full)",
			 (unsigned long long)c->events_written,
			 (unsigned long long)c->packets_written, output_name(c),
			 (unsigned long long)dropped, (unsigned long long)pk_dropped);
	else if (c->writer && !c->under_wireshark)
		log_info("%llu events written to %s, %llu lost in the kernel (ring buffer full)",
			 (unsigned long long)c->events_written, output_name(c),
			 (unsigned long long)dropped);
	if (dropped)
		log_warn("%llu events were lost because the ring buffer was full; a larger %s keeps "
			 "up",
			 (unsigned long long)dropped,
			 c->under_wireshark ? "Ring buffer (MiB) or fewer Event types"
					    : "--ring-buffer-size or fewer --events");
	if (pk_dropped)
		log_warn("%llu packets were dropped because the packet buffer was full; a larger "
			 "%s keeps up",
			 (unsigned long long)pk_dropped,
			 c->under_wireshark ? "Packet buffer (MiB) or a capture filter"
					    : "--buffer-size or a capture filter");
}

int capture_run(const struct options *o)
{
	struct capture *c = calloc(1, sizeof(*c));
	int r, exit_code = EXIT_FAILURE_RUN;
	struct options with_command;
	uint64_t dropped;

	if (!c) {
		log_error("out of memory");
		return EXIT_FAILURE_RUN;
	}
	c->opt = o;
	c->out_fd = c->sig_fd = c->timer_fd = c->epoll_fd = -1;
	c->start_ns = clock_ns(CLOCK_REALTIME);
	if (o->host)
		snprintf(c->host, sizeof(c->host), "%s", o->host);
	else if (gethostname(c->host, sizeof(c->host) - 1) < 0)
		snprintf(c->host, sizeof(c->host), "localhost");

	/* --print: whole lines as they come, also into a pipe (| grep);
	 * colours only on a terminal, and not with NO_COLOR set. */
	if (o->print) {
		const char *no_colour = getenv("NO_COLOR");

		setvbuf(stdout, NULL, _IOLBF, 0);
		print_set_colour(isatty(STDOUT_FILENO) && !(no_colour && no_colour[0]));
	}
	/* Signals first: a stop request is honoured at every step below. */
	r = setup_signals(c);
	if (r < 0) {
		log_error("cannot set up signal handling: %s", strerror(-r));
		goto out;
	}
	/* Wireshark waits until our end of the control pipe is open. */
	privs_as_caller(true);
	r = control_open(o->control_in, o->control_out, &c->ctl);
	privs_as_caller(false);
	if (r < 0) {
		log_error("cannot open the control pipes %s, %s: %s", o->control_in ?: "-",
			  o->control_out ?: "-", strerror(-r));
		goto out;
	}
	/* With Wireshark's toolbar, notices go to its log: on stderr, Wireshark
	 * would show them as errors when the capture stops. */
	if (o->control_out)
		log_set_notice_sink(toolbar_notice, c);
	/* The output next, before anything that can fail: Wireshark's dumpcap
	 * waits for us to open the fifo and reads our stderr only once we
	 * have exited and the fifo has ended. A failure below still gives it
	 * a valid empty capture (fail_start), so the user sees our error line
	 * in Wireshark's dialog instead of a capture that never starts. */
	if (o->fifo) {
		privs_as_caller(true);
		r = open_output(c);
		privs_as_caller(false);
		if (r <= 0) {
			exit_code = r == 0 ? EXIT_OK : EXIT_FAILURE_RUN;
			goto out;
		}
	}
	r = check_privileges(c);
	if (r < 0)
		goto fail_start;
	r = enrich_proc_new("/proc", &c->proc);
	if (r < 0) {
		log_error("out of memory");
		goto fail_start;
	}
	if (o->containers) {
		const char *why = NULL;

		r = container_resolver_new(NULL, &c->containers);
		if (r < 0) {
			log_error("out of memory");
			goto fail_start;
		}
		if (container_resolver_prime(c->containers, &why) < 0 && why)
			log_debug("container runtimes: %s", why);
	}
	if (o->command) {
		/* Forked now, run once everything observes it: the in-kernel
		 * process filter is its pid and descendants. */
		r = command_start(o->command, o->fifo && strcmp(o->fifo, "-") == 0, &c->command);
		if (r < 0) {
			log_error("cannot start %s: %s", o->command[0], strerror(-r));
			goto fail_start;
		}
		with_command = *o;
		with_command.pid = (uint32_t)command_pid(c->command);
		with_command.pid_tree = true;
		c->opt = o = &with_command;
	}
	r = start_sources(c);
	if (r == 0)
		r = start_publisher(c);
	if (r < 0)
		goto fail_start;
	if (o->fifo) {
		r = start_output(c);
		if (r < 0) {
			exit_code = r == -EPIPE ? EXIT_OK : EXIT_FAILURE_RUN; /* reader left */
			goto out;
		}
	}
	take_snapshot(c);
	restart_live(c);
	log_started(c);
	{
		char msg[PRIVS_MSG_MAX];

		/* Loaded, attached, opened: what the loop does needs far less. */
		/* --tls attaches uprobes to Go programs started later: a perf
		 * event each, which needs CAP_PERFMON. */
		if (privs_drop_after_start(PRIVS_KEEP_DURING_LOOP |
						   (o->tls ? PRIVS_CAP_PERFMON | PRIVS_CAP_SYS_ADMIN : 0),
					   msg, sizeof(msg)) < 0)
			log_warn("%s", msg);
	}
	r = setup_loop(c);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		goto out;
	}
	if (c->command) {
		r = command_release(c->command);
		if (r < 0) {
			log_error("cannot run %s: %s", o->command[0], strerror(-r));
			c->stop = true;
		} else {
			log_debug("running %s (pid %d)", o->command[0], (int)command_pid(c->command));
		}
	}
	r = run_loop(c);
	/* The end (statistics, last blocks) waits at most a second for a
	 * reader that stopped reading, or a second stop request. */
	pcapng_writer_set_stop(c->writer, c->sig_fd, 1000);
	dropped = finish_output(c);
	check_write_error(c, &(bool){ false }); /* the last flush may fail too */
	report(c, dropped);
	exit_code = r < 0 || (c->write_error && c->write_error != -EPIPE &&
			      c->write_error != -ECANCELED && c->write_error != -ETIMEDOUT)
			    ? EXIT_FAILURE_RUN
			    : EXIT_OK;
	/* ebpfdump -- COMMAND exits as the command did, unless the capture
	 * itself failed; a command still running (Ctrl-C reached only us,
	 * --duration, a reader that left) is ended first. */
	if (c->command) {
		int status = command_end(c->command, COMMAND_END_WAIT_MS);

		if (exit_code == EXIT_OK)
			exit_code = status;
		else
			log_warn("%s exited with status %d", o->command[0], status);
	}
	goto out;
fail_start:
	/* Said on stderr already; the reader gets a valid, empty capture. */
	wait_toolbar(c->ctl, c->sig_fd);
	if (c->out_fd >= 0)
		write_empty_capture(c->out_fd);
out:
	c->command = command_free(c->command);
	log_set_notice_sink(NULL, NULL);
	c->ctl = control_free(c->ctl);
	c->writer = pcapng_writer_close(c->writer);
	c->merge = merge_free(c->merge);
	c->comments = tag_comment_cache_free(c->comments);
	for (unsigned i = 0; i < c->n_src; i++)
		c->src[i].live = live_free(c->src[i].live);
#if EBPFDUMP_WITH_BPF
	c->probe = probe_free(c->probe);
	c->tls = tls_probe_free(c->tls);
#endif
	c->subscriber = subscriber_free(c->subscriber);
	c->publisher = publisher_free(c->publisher);
	c->snapshot = snapshot_free(c->snapshot);
	c->proc = enrich_proc_free(c->proc);
	c->containers = container_resolver_free(c->containers);
	if (c->out_fd > STDOUT_FILENO)
		close(c->out_fd);
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	if (c->timer_fd >= 0)
		close(c->timer_fd);
	if (c->sig_fd >= 0)
		close(c->sig_fd);
	free(c);
	return exit_code;
}
