/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture's sources: kernel events (bpf/probe), TLS plaintext
 * (bpf/tls_probe), remote events (ZeroMQ), the sockets open at start
 * (snapshot), and packets (libpcap, one handle per interface, a
 * container's found through enrich/netdev). Every event goes through
 * handle_event: filtered, enriched, then merged or written. */
#define _GNU_SOURCE
#include "extcap/capture_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/comment.h"
#include "extcap/log.h"
#include "extcap/privs.h"
#include "util/clock.h"

/* Events from many hosts arrive with network delays: they wait this long
 * to be put in time order unless --reorder-window says otherwise. */
#define REMOTE_WINDOW_DEFAULT_MS 200u

/* The merge's flow table when it only orders events (no packets). */
#define EVENTS_ONLY_FLOWS 1024u

void capture_note_containers(struct capture *c, const char *why)
{
	/* A runtime that is slow or gone leaves ids only; say why once,
	 * and say when it answers again. */
	if (why && strcmp(why, c->container_reason) != 0) {
		snprintf(c->container_reason, sizeof(c->container_reason), "%s", why);
		c->container_answers = container_resolver_answers(c->containers);
		log_warn("container names unavailable, events carry ids only: %s", why);
	} else if (!why && c->container_reason[0] &&
		   container_resolver_answers(c->containers) != c->container_answers) {
		log_info("container names available again (after: %s)", c->container_reason);
		c->container_reason[0] = '\0';
	}
}

void capture_poll_containers(struct capture *c)
{
	const char *why = NULL;

	if (container_resolver_poll(c->containers, &why) > 0)
		capture_note_containers(c, why);
}

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

		/* Names not known yet are asked for in the background; the
		 * event waits in the merge's window, and gets them when it
		 * leaves if they came (capture_merged_event). */
		container_resolve_event(c->containers, ev, &why);
		capture_note_containers(c, why);
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
	capture_emit_event(c, ev, NULL, 0);
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
		capture_emit_event(c, &ev, NULL, 0);
	return c->write_error ? c->write_error : 0;
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

int capture_start_publisher(struct capture *c)
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
	cfg.on_event = capture_merged_event;
	cfg.on_packet = capture_merged_packet;
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

#endif

/* "veth@name" (a container interface, or --ifname in the original tool's
 * form), or --container/--pod's name: the host side of the container's or
 * pod's link today, and its network namespace, the events' scope. */
static int resolve_container(struct capture *c, const char *spec, char *ifname, size_t ifname_len)
{
	struct netdev_entry e;
	char why[CONTAINER_REASON_MAX];
	int r = netdev_resolve(c->containers, spec, c->opt->container_is_pod, &e, why);

	if (r == -ENODEV) {
		log_error("no single container or pod matches '%s'%s%s: none, or several alike "
			  "(give its id, NAMESPACE/POD, or an ebpf@VETH@NAME value); ebpfdump "
			  "--extcap-interfaces lists them",
			  spec, why[0] ? ": " : "", why);
		return r;
	}
	if (r < 0) {
		log_error("cannot list the container interfaces to find '%s': %s", spec,
			  strerror(-r));
		return r;
	}
	snprintf(ifname, ifname_len, "%s", e.ifname);
	c->scope.active = true;
	c->scope.netns = e.netns;
	snprintf(c->scope.display, sizeof(c->scope.display), "%s", e.display);
	log_debug("%s: host interface %s, network namespace %u", e.display, e.ifname, e.netns);
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
void capture_restart_live(struct capture *c)
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

int capture_start_sources(struct capture *c)
{
	int r;

	/* Packets first: a bad filter or interface is said before anything
	 * is loaded into the kernel. */
	r = start_live(c);
	if (r < 0)
		return r;

	if (capture_is_remote(c)) {
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
void capture_take_snapshot(struct capture *c)
{
	/* Both kinds always: the owner table serves every later event; the
	 * callback drops the events that --events did not ask for. */
	struct snapshot_config cfg = { .event_mask = 0 };
	struct snapshot_stats st;
	int r;

	if (!c->opt->snapshot || capture_is_remote(c))
		return;
	r = snapshot_new(0, &c->snapshot);
	if (r < 0) {
		log_warn("no socket snapshot: %s", strerror(-r));
		return;
	}
	cfg.table = c->snapshot;
	/* Open connections and UDP sockets always (their owners fill the
	 * table); listeners when TCP_Listen is wanted. */
	cfg.event_mask = 1u << EVENT_TCP_OPEN | 1u << EVENT_UDP_OPEN |
			 (c->opt->event_mask & (1u << EVENT_TCP_LISTEN));
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
