/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture's loop: one epoll over the signals, one timer, the sources'
 * fds, the toolbar and the output, until a signal, --duration, the
 * command's end, or the reader of the output goes away. */
#define _GNU_SOURCE
#include "extcap/capture_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "extcap/log.h"
#include "util/clock.h"

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

/* ebpfdump -- COMMAND: how long the capture goes on after the command
 * exited (the last FIN and close events of its connections). */
#define COMMAND_LINGER_NS 300000000ull

/* What each fd in the epoll set is. */
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
	TAG_CONTAINERS,
};

int capture_setup_signals(struct capture *c)
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

int capture_setup_loop(struct capture *c)
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
	if (r == 0 && c->containers && container_resolver_fd(c->containers) >= 0)
		r = epoll_add(c, container_resolver_fd(c->containers), EPOLLIN, TAG_CONTAINERS);
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

/* One line in the toolbar's log when a loss count grew since the last
 * line about it: "N <what>, M in all<advice>". */
static void log_growth(struct capture *c, uint64_t total, uint64_t *logged, const char *what,
		       const char *advice)
{
	char line[256];

	if (total <= *logged)
		return;
	snprintf(line, sizeof(line), "%llu %s, %llu in all%s",
		 (unsigned long long)(total - *logged), what, (unsigned long long)total, advice);
	control_send_log(c->ctl, line);
	*logged = total;
}

/* Losses as they happen, in the toolbar's log (its tooltip promises them):
 * at most one line a second per kind. */
static void log_losses(struct capture *c, uint64_t kernel_lost, uint64_t skipped)
{
	log_growth(c, skipped, &c->logged_skipped,
		   "events never reached the programs (the kernel skipped them; no setting "
		   "prevents it)",
		   "");
	log_growth(c, kernel_lost, &c->logged_kernel_lost,
		   "events lost in the kernel (ring buffer full)",
		   ": a larger Ring buffer (MiB) or fewer Event types keeps up");
	for (unsigned i = 0; i < c->n_src; i++) {
		struct packet_source *src = &c->src[i];
		struct live_stats ls;
		char what[64];

		if (live_stats(src->live, &ls) < 0)
			continue;
		snprintf(what, sizeof(what), "packets lost on %s", src->ifname);
		log_growth(c, ls.dropped + ls.if_dropped, &src->logged_lost, what,
			   ": a larger Packet buffer (MiB) or a capture filter keeps up");
	}
}

/* Packets the kernel could not hand over on any interface (the ISBs'
 * isb_ifdrop and isb_osdrop). */
uint64_t capture_packets_dropped(struct capture *c)
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
	lost += capture_packets_dropped(c);
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
	uint64_t ring_lost = 0, skipped = 0;

	if (!c->ctl || now - c->last_status_ns < 1000000000ull)
		return;
#if EBPFDUMP_WITH_BPF
	if (c->probe) {
		struct probe_stats ps;

		probe_stats(c->probe, &ps);
		k.kernel_drops = ps.dropped + ps.missed;
		ring_lost = ps.dropped;
		skipped = ps.missed;
	}
#endif
	control_send_counters(c->ctl, &k);
	/* Each kind of loss with its own words: a full ring has advice. */
	log_losses(c, ring_lost, skipped);
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

/* A remote peer refused (bad key, bad message): said once per new
 * reason, not at every retry of the same peer. */
static void report_rejection(struct capture *c, const char *peer, const char *why)
{
	if (!why[0] || strcmp(why, c->last_remote_report) == 0)
		return;
	snprintf(c->last_remote_report, sizeof(c->last_remote_report), "%s", why);
	log_warn("rejected a %s: %s", peer, why);
}

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
	case TAG_CONTAINERS:
		capture_poll_containers(c);
		break;
	case TAG_CONTROL:
		handle_control(c);
		break;
	case TAG_SUBSCRIBER: {
		struct subscriber_stats st;

		subscriber_dispatch(c->subscriber);
		subscriber_stats(c->subscriber, &st);
		report_rejection(c, "publisher", st.last_rejection);
		break;
	}
	case TAG_PUBLISHER: {
		struct publisher_stats st;

		publisher_dispatch(c->publisher);
		publisher_stats(c->publisher, &st);
		report_rejection(c, "subscriber", st.last_rejection);
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
		log_debug("the reader of %s closed it: stopping", capture_output_name(c));
		c->write_error = -EPIPE;
		break;
	}
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

int capture_run_loop(struct capture *c)
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
			c->stop |= capture_check_write_error(c, &failed);
		}
		if (c->n_src && !c->stop)
			dispatch_packets(c, &failed);
		now = clock_ns(CLOCK_REALTIME);
		if (c->merge && !c->stop)
			merge_advance(c->merge, now);
		capture_flush_pass(c);
		c->stop |= capture_check_write_error(c, &failed);
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
	capture_check_write_error(c, &failed);
	return failed ? -EIO : 0;
}
