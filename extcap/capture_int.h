/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture's own state, shared by its four parts (internal to extcap/):
 *   capture.c          set-up, the order of the steps, the end report;
 *   capture_sources.c  kernel, TLS, remote and packet sources, the snapshot,
 *                      and the event path every source ends in;
 *   capture_loop.c     the epoll loop: signals, timer, toolbar, dispatch;
 *   capture_output.c   the output (fifo, file, stdout) and its sinks: events,
 *                      merged packets (through extcap/packet_sink), --print.
 * Data flows sources -> enrichment -> merge -> output, driven by the loop. */
#ifndef EBPFDUMP_EXTCAP_CAPTURE_INT_H
#define EBPFDUMP_EXTCAP_CAPTURE_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
#include "event/record.h"
#include "extcap/capture.h"
#include "extcap/command.h"
#include "extcap/control.h"
#include "extcap/options.h"
#include "extcap/packet_sink.h"
#include "merge/merge.h"
#include "merge/tag_comment.h"
#include "pcapng/writer.h"
#include "remote/publisher.h"
#include "remote/subscriber.h"
#include "snapshot/filter.h"
#include "snapshot/snapshot.h"

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
	struct live_config cfg; /* to open the handle again (capture_restart_live) */
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
	uint64_t events_named_late; /* names came while the event waited in the window */
	struct event late_names;    /* such an event, named */
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
	uint64_t logged_skipped;     /* events the kernel skipped, told there */
	uint64_t last_udp_flush_ns;
	uint8_t record[RECORD_MAX_LEN];
};

static inline bool capture_is_remote(const struct capture *c)
{
	return c->opt->interface && strcmp(c->opt->interface, IFACE_ZMQ) == 0;
}

/* capture_sources.c: open what --interface, --ifname, --container and the
 * event options ask for (packets first, so that a bad interface or filter
 * is said before anything is loaded); 0 or a negative errno, said. */
int capture_start_sources(struct capture *c);
int capture_start_publisher(struct capture *c);
/* The owners of sockets open at start, as events (after the probes). */
void capture_take_snapshot(struct capture *c);
/* Each packet handle opened again right before the loop (no gap). */
void capture_restart_live(struct capture *c);

/* capture_loop.c */
int capture_setup_signals(struct capture *c);
int capture_setup_loop(struct capture *c);
/* Until a stop; then drains every source. -EIO when something failed. */
int capture_run_loop(struct capture *c);
/* Packets the kernel could not hand over, on every interface. */
uint64_t capture_packets_dropped(struct capture *c);

/* capture_output.c */
const char *capture_output_name(const struct capture *c);
/* 1 when open, 0 when stopped before a reader came, or a negative errno. */
int capture_open_output(struct capture *c);
int capture_start_output(struct capture *c);
/* The statistics blocks; returns the events lost in the kernel. */
uint64_t capture_finish_output(struct capture *c);
void capture_write_empty(int fd);
void capture_wait_toolbar(struct control *ctl, int sig_fd);
/* One event to the outputs; record is ev encoded already, or NULL. */
void capture_emit_event(struct capture *c, const struct event *ev, const uint8_t *record,
			size_t record_len);
/* Container names: log a runtime's failure once and its recovery
 * (why: a failure's text or NULL), and take the background lookups'
 * answers in (the loop, when the resolver's fd is readable). */
void capture_note_containers(struct capture *c, const char *why);
void capture_poll_containers(struct capture *c);
/* The merge's callbacks (ctx is the capture). */
void capture_merged_event(const struct event *ev, const uint8_t *record, size_t record_len,
			  void *ctx);
void capture_merged_packet(const struct merge_packet *pkt, const struct merge_tag *tag, void *ctx);
/* True when a write error must stop the capture (said once). */
bool capture_check_write_error(struct capture *c, bool *failed);
void capture_flush_pass(struct capture *c);

#endif
