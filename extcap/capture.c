/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture: the order of its steps, from the output and the sources
 * to the loop and the end report. The parts are named in capture_int.h. */
#define _GNU_SOURCE
#include "extcap/capture_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/comment.h"
#include "extcap/log.h"
#include "extcap/print.h"
#include "extcap/privs.h"
#include "util/clock.h"

/* ebpfdump -- COMMAND: how long a command still running when the capture
 * stops has after SIGTERM. */
#define COMMAND_END_WAIT_MS 2000

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
			 capture_is_remote(c) ? "remote events" : "kernel events");
	else
		snprintf(line, sizeof(line), "capture started: %s and packets on %s%s%.500s%s",
			 capture_is_remote(c) ? "remote events" : "kernel events", on,
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

	if (!capture_is_remote(c))
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

#if EBPFDUMP_WITH_BPF
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

/* The kernel side's figures, in the debug log and as warnings; returns the
 * events the kernel ran none of our programs for (probe_stats.missed). */
static uint64_t report_kernel(struct capture *c)
{
	struct probe_stats ps;
	struct probe_map_usage u;

	if (!c->probe)
		return 0;
	probe_stats(c->probe, &ps);
	probe_log_programs(c->probe);
	log_debug("kernel: %llu events seen, %llu filtered, %llu lost (ring full), %llu lost "
		  "(programs skipped); %llu delivered to user space",
		  (unsigned long long)ps.seen, (unsigned long long)ps.filtered,
		  (unsigned long long)ps.dropped, (unsigned long long)ps.missed,
		  (unsigned long long)ps.delivered);
	if (ps.missed_retransmits || ps.missed_closes || ps.missed_connects)
		log_debug("kernel: of those skipped, found afterwards from their sockets: %llu "
			  "retransmissions, %llu closes, %llu connects",
			  (unsigned long long)ps.missed_retransmits,
			  (unsigned long long)ps.missed_closes,
			  (unsigned long long)ps.missed_connects);
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
	return ps.missed;
}

#endif

/* " (ring buffer full)", or with the events the kernel ran none of our
 * programs for: " (R ring buffer full, S never reached the programs)". */
static void lost_why(char *buf, size_t size, uint64_t dropped, uint64_t skipped)
{
	if (!skipped || skipped > dropped)
		snprintf(buf, size, " (ring buffer full)");
	else
		snprintf(buf, size, " (%llu ring buffer full, %llu never reached the programs)",
			 (unsigned long long)(dropped - skipped), (unsigned long long)skipped);
}

static void report(struct capture *c, uint64_t dropped)
{
	/* The packets the kernel could not hand over, said like the events
	 * lost. */
	uint64_t pk_dropped = capture_packets_dropped(c), skipped = 0;
	char why[96];

#if EBPFDUMP_WITH_BPF
	skipped = report_kernel(c);
	report_tls(c);
#endif
	lost_why(why, sizeof(why), dropped, skipped);
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
	if (c->events_named_late)
		log_debug("%llu events got their container names while they waited in the "
			  "reorder window",
			  (unsigned long long)c->events_named_late);
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
				 (unsigned long long)(c->packets_written - pk), capture_output_name(c));
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
			 capture_output_name(c));
	else if (c->writer && !c->under_wireshark && c->n_src)
		log_info("%llu events and %llu packets written to %s, %llu events lost in the "
			 "kernel%s, %llu packets dropped (packet buffer full)",
			 (unsigned long long)c->events_written,
			 (unsigned long long)c->packets_written, capture_output_name(c),
			 (unsigned long long)dropped, why, (unsigned long long)pk_dropped);
	else if (c->writer && !c->under_wireshark)
		log_info("%llu events written to %s, %llu lost in the kernel%s",
			 (unsigned long long)c->events_written, capture_output_name(c),
			 (unsigned long long)dropped, why);
	if (dropped > skipped)
		log_warn("%llu events were lost because the ring buffer was full; a larger %s keeps "
			 "up",
			 (unsigned long long)(dropped - skipped),
			 c->under_wireshark ? "Ring buffer (MiB) or fewer Event types"
					    : "--ring-buffer-size or fewer --events");
	if (skipped && skipped <= dropped)
		log_warn("%llu events never reached ebpfdump's programs: the kernel skipped them, "
			 "which no setting prevents (found afterwards from their sockets; "
			 "docs/kernel-side.md, \"Loss accounting\")",
			 (unsigned long long)skipped);
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
	r = capture_setup_signals(c);
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
		r = capture_open_output(c);
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
		/* Names of containers that start later are looked up in the
		 * background: a slow runtime never holds up the capture. */
		r = container_resolver_start_async(c->containers);
		if (r < 0)
			log_debug("container names looked up in the capture loop: %s",
				  strerror(-r));
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
	r = capture_start_sources(c);
	if (r == 0)
		r = capture_start_publisher(c);
	if (r < 0)
		goto fail_start;
	if (o->fifo) {
		r = capture_start_output(c);
		if (r < 0) {
			exit_code = r == -EPIPE ? EXIT_OK : EXIT_FAILURE_RUN; /* reader left */
			goto out;
		}
	}
	capture_take_snapshot(c);
	capture_restart_live(c);
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
	r = capture_setup_loop(c);
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
	r = capture_run_loop(c);
	/* The end (statistics, last blocks) waits at most a second for a
	 * reader that stopped reading, or a second stop request. */
	pcapng_writer_set_stop(c->writer, c->sig_fd, 1000);
	dropped = capture_finish_output(c);
	capture_check_write_error(c, &(bool){ false }); /* the last flush may fail too */
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
	capture_wait_toolbar(c->ctl, c->sig_fd);
	if (c->out_fd >= 0)
		capture_write_empty(c->out_fd);
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
