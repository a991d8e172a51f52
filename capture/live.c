/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Live packet source: libpcap setup with every failure turned into one
 * clear reason, non-blocking dispatch, and detection of an interface that
 * vanished under the capture (a pod deleted, a veth removed).
 */
#include "capture/live.h"
#include "util/error.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_USEC 1000ull

/* The pseudo-device that captures on every interface. */
#define IFNAME_ANY "any"

struct live {
	pcap_t *pcap;
	live_packet_fn fn;
	void *ctx;
	char ifname[LIVE_IFNAME_MAX + 1];
	unsigned ifindex; /* at open; 0 for "any" */
	int linktype;
	uint32_t snaplen;
	uint64_t ts_unit_ns; /* 1 with nanosecond stamps, 1000 when libpcap fell back */
	int fd;
	int error; /* sticky, negative errno */
	bool busy;
	char reason[LIVE_REASON_MAX];
	char warning[LIVE_REASON_MAX];
	/* pcap_stats counters are 32-bit: keep the last raw values and the
	 * 64-bit sums so that wraps are absorbed. */
	uint32_t raw_recv, raw_drop, raw_ifdrop;
	uint64_t recv, drop, ifdrop;
	uint64_t delivered;
};

/* The reason of the last failure, or a warning, in the handle (live_error,
 * live_warning). */
#define fail(l, code, ...) error_set((l)->reason, sizeof((l)->reason), (code), __VA_ARGS__)
#define warn(l, ...) ((void)error_set((l)->warning, sizeof((l)->warning), 0, __VA_ARGS__))

void live_config_init(struct live_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->snaplen = LIVE_SNAPLEN_DEFAULT;
	cfg->buffer_mib = LIVE_BUFFER_MIB_DEFAULT;
	cfg->timeout_ms = LIVE_TIMEOUT_MS_DEFAULT;
	cfg->prefer_sll2 = true;
}

/* pcap_activate's result as an errno and a reason naming what to do. */
static int activate_error(struct live *l, int status)
{
	const char *text = pcap_geterr(l->pcap);
	const char *dev = l->ifname;

	switch (status) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return fail(l, -ENODEV, "no such interface \"%s\" (`ip link` lists them)", dev);
	case PCAP_ERROR_PERM_DENIED:
		return fail(l, -EPERM,
			    "no permission to capture on %s: needs root or CAP_NET_RAW (%s)", dev,
			    text);
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return fail(l, -EPERM,
			    "no permission to put %s in promiscuous mode: needs CAP_NET_RAW, or "
			    "capture without promiscuous mode",
			    dev);
	case PCAP_ERROR_IFACE_NOT_UP:
		return fail(l, -ENETDOWN, "interface %s is down (`ip link set %s up`)", dev, dev);
#ifdef PCAP_ERROR_CAPTURE_NOTSUP /* libpcap 1.10.4 and later */
	case PCAP_ERROR_CAPTURE_NOTSUP:
		return fail(l, -EOPNOTSUPP, "capture is not supported on %s: %s", dev, text);
#endif
	case PCAP_ERROR_RFMON_NOTSUP:
	case PCAP_ERROR_NOT_RFMON:
		return fail(l, -EOPNOTSUPP, "monitor mode problem on %s: %s", dev, text);
	default:
		return fail(l, -EIO, "cannot capture on %s: %s", dev,
			    text && *text ? text : pcap_statustostr(status));
	}
}

static void activate_warning(struct live *l, int status)
{
	const char *text = pcap_geterr(l->pcap);

	switch (status) {
	case PCAP_WARNING_PROMISC_NOTSUP:
		warn(l, "%s does not support promiscuous mode; capturing without it (%s)",
		     l->ifname, text);
		break;
	case PCAP_WARNING_TSTAMP_TYPE_NOTSUP:
		warn(l, "%s does not support the requested time stamp type; using the default",
		     l->ifname);
		break;
	default:
		warn(l, "warning on %s: %s", l->ifname,
		     text && *text ? text : pcap_statustostr(status));
		break;
	}
}

static int check_config(struct live *l, const struct live_config *cfg)
{
	size_t n;

	if (!cfg->ifname || !*cfg->ifname)
		return fail(l, -EINVAL, "no interface given");
	n = strlen(cfg->ifname);
	if (n > LIVE_IFNAME_MAX)
		return fail(l, -ENODEV, "no such interface \"%.*s...\": names are at most %u bytes",
			    (int)LIVE_IFNAME_MAX, cfg->ifname, LIVE_IFNAME_MAX);
	if (cfg->snaplen > LIVE_SNAPLEN_MAX)
		return fail(l, -EINVAL, "snapshot length %u over the maximum %u", cfg->snaplen,
			    LIVE_SNAPLEN_MAX);
	if (cfg->buffer_mib > LIVE_BUFFER_MIB_MAX)
		return fail(l, -EINVAL, "buffer size %u MiB over the maximum %u MiB",
			    cfg->buffer_mib, LIVE_BUFFER_MIB_MAX);
	if (cfg->timeout_ms > LIVE_TIMEOUT_MS_MAX)
		return fail(l, -EINVAL, "timeout %u ms over the maximum %u ms", cfg->timeout_ms,
			    LIVE_TIMEOUT_MS_MAX);
	if (cfg->filter && strnlen(cfg->filter, LIVE_FILTER_MAX + 1) > LIVE_FILTER_MAX)
		return fail(l, -EINVAL, "capture filter longer than %u bytes", LIVE_FILTER_MAX);
	memcpy(l->ifname, cfg->ifname, n + 1);
	return 0;
}

/* Every pcap_set_* must succeed on a handle that is not activated yet; a
 * failure here is a bad value (PCAP_ERROR) or a libpcap quirk. */
static int configure(struct live *l, const struct live_config *cfg)
{
	uint32_t snaplen = cfg->snaplen ? cfg->snaplen : LIVE_SNAPLEN_DEFAULT;
	uint32_t mib = cfg->buffer_mib ? cfg->buffer_mib : LIVE_BUFFER_MIB_DEFAULT;
	uint32_t timeout = cfg->timeout_ms ? cfg->timeout_ms : LIVE_TIMEOUT_MS_DEFAULT;
	int r;

	if (pcap_set_snaplen(l->pcap, (int)snaplen) != 0 ||
	    pcap_set_promisc(l->pcap, cfg->promisc) != 0 ||
	    pcap_set_buffer_size(l->pcap, (int)(mib * 1024u * 1024u)) != 0 ||
	    pcap_set_immediate_mode(l->pcap, cfg->immediate) != 0 ||
	    pcap_set_timeout(l->pcap, (int)timeout) != 0)
		return fail(l, -EINVAL, "cannot configure the capture on %s: %s", l->ifname,
			    pcap_geterr(l->pcap));
	r = pcap_set_tstamp_precision(l->pcap, PCAP_TSTAMP_PRECISION_NANO);
	if (r == 0) {
		l->ts_unit_ns = 1;
	} else {
		/* Microseconds still work; the merge only loses resolution. */
		l->ts_unit_ns = NSEC_PER_USEC;
		warn(l, "%s: nanosecond time stamps not available, using microseconds", l->ifname);
	}
	return 0;
}

/* On "any", libpcap starts with SLL; SLL2 also names the interface. */
static void choose_linktype(struct live *l, const struct live_config *cfg)
{
	int *dlts = NULL;
	int n;

	if (!cfg->prefer_sll2 || pcap_datalink(l->pcap) != DLT_LINUX_SLL)
		return;
	n = pcap_list_datalinks(l->pcap, &dlts);
	for (int i = 0; i < n; i++) {
		if (dlts[i] == DLT_LINUX_SLL2) {
			/* Failure leaves SLL in place, which works as well. */
			(void)pcap_set_datalink(l->pcap, DLT_LINUX_SLL2);
			break;
		}
	}
	if (n > 0)
		pcap_free_datalinks(dlts);
}

static int set_filter(struct live *l, const char *filter)
{
	struct bpf_program prog;
	int r;

	if (!filter || !*filter)
		return 0;
	if (pcap_compile(l->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
		return fail(l, -EINVAL, "capture filter \"%s\" does not compile: %s", filter,
			    pcap_geterr(l->pcap));
	r = pcap_setfilter(l->pcap, &prog);
	pcap_freecode(&prog);
	if (r != 0)
		return fail(l, -EIO, "cannot set the capture filter on %s: %s", l->ifname,
			    pcap_geterr(l->pcap));
	return 0;
}

int live_open(const struct live_config *cfg, live_packet_fn fn, void *ctx, struct live **ret,
	      char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct live *l;
	int r, status;

	if (!cfg || !fn || !ret)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fn = fn;
	l->ctx = ctx;
	l->fd = -1;
	r = check_config(l, cfg);
	if (r < 0)
		goto fail;

	l->pcap = pcap_create(l->ifname, errbuf);
	if (!l->pcap) {
		r = fail(l, -EIO, "cannot capture on %s: %s", l->ifname, errbuf);
		goto fail;
	}
	r = configure(l, cfg);
	if (r < 0)
		goto fail;
	status = pcap_activate(l->pcap);
	if (status < 0) {
		r = activate_error(l, status);
		goto fail;
	}
	if (status > 0)
		activate_warning(l, status);
	choose_linktype(l, cfg);
	l->linktype = pcap_datalink(l->pcap);
	l->snaplen = (uint32_t)pcap_snapshot(l->pcap);
	r = set_filter(l, cfg->filter);
	if (r < 0)
		goto fail;
	if (pcap_setnonblock(l->pcap, 1, errbuf) != 0) {
		r = fail(l, -EIO, "cannot make the capture on %s non-blocking: %s", l->ifname,
			 errbuf);
		goto fail;
	}
	l->fd = pcap_get_selectable_fd(l->pcap);
	if (l->fd < 0) {
		r = fail(l, -EOPNOTSUPP, "capture on %s has no pollable descriptor", l->ifname);
		goto fail;
	}
	/* Remembered so that a new interface with the same name (a pod
	 * restarted) is not mistaken for the one we are bound to. */
	if (strcmp(l->ifname, IFNAME_ANY) != 0)
		l->ifindex = if_nametoindex(l->ifname);
	*ret = l;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", l->reason);
	live_free(l);
	return r;
}

int live_filter_check(int linktype, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;
	int r = 0;

	if (!filter || !*filter)
		return 0;
	if (strnlen(filter, LIVE_FILTER_MAX + 1) > LIVE_FILTER_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "capture filter longer than %u bytes",
				 LIVE_FILTER_MAX);
		return -EINVAL;
	}
	p = pcap_open_dead(linktype, (int)LIVE_SNAPLEN_DEFAULT);
	if (!p)
		return -ENOMEM;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		if (err && errlen)
			snprintf(err, errlen, "capture filter \"%s\" does not compile: %s", filter,
				 pcap_geterr(p));
		r = -EINVAL;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return r;
}

int live_fd(const struct live *l)
{
	return l ? l->fd : -1;
}

int live_timeout_ms(const struct live *l)
{
	if (!l || !l->pcap || l->error)
		return -1;
	if (!pcap_get_required_select_timeout(l->pcap))
		return -1;
	/* libpcap asks for 1 ms; checking whether a downed interface still
	 * exists 1000 times a second buys nothing. */
	return LIVE_NETDOWN_POLL_MS;
}

int live_linktype(const struct live *l)
{
	return l ? l->linktype : -1;
}

uint32_t live_snaplen(const struct live *l)
{
	return l ? l->snaplen : 0;
}

int live_tpacket_version(const struct live *l)
{
	socklen_t len = sizeof(int);
	int v = 0;

	if (!l || l->fd < 0)
		return 0;
	if (getsockopt(l->fd, SOL_PACKET, PACKET_VERSION, &v, &len) < 0)
		return 0;
	/* The socket option numbers versions from TPACKET_V1 = 0. */
	return v + 1;
}

const char *live_ifname(const struct live *l)
{
	return l ? l->ifname : "";
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct live *l = (struct live *)user;
	uint64_t ts;

	/* With nanosecond precision libpcap stores ns in tv_usec. */
	ts = (uint64_t)h->ts.tv_sec * NSEC_PER_SEC + (uint64_t)h->ts.tv_usec * l->ts_unit_ns;
	l->delivered++;
	l->fn(l->ctx, l->linktype, ts, bytes, h->caplen, h->len);
}

/* Is the interface we opened still there under its name? */
static bool interface_gone(const struct live *l)
{
	unsigned idx;

	if (!l->ifindex)
		return false; /* "any", or the index was unknown at open */
	idx = if_nametoindex(l->ifname);
	return idx == 0 || idx != l->ifindex;
}

static int dispatch_failed(struct live *l)
{
	const char *text = pcap_geterr(l->pcap);

	if (interface_gone(l) || strstr(text, "disappeared") || errno == ENXIO || errno == ENODEV)
		l->error =
		    fail(l, -ENODEV,
			 "interface %s disappeared (deleted, or its network namespace is gone)",
			 l->ifname);
	else
		l->error = fail(l, -EIO, "capture on %s failed: %s", l->ifname, text);
	return l->error;
}

int live_dispatch(struct live *l, int max)
{
	int n;

	if (!l)
		return -EINVAL;
	if (l->error)
		return l->error;
	if (l->busy)
		return -EBUSY;
	l->busy = true;
	errno = 0;
	n = pcap_dispatch(l->pcap, max > 0 ? max : -1, on_packet, (u_char *)l);
	l->busy = false;
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0)
		return dispatch_failed(l);
	/* libpcap saw ENETDOWN and cannot yet tell "down" from "deleted"
	 * (the kernel reports both the same way): look for ourselves. */
	if (n == 0 && pcap_get_required_select_timeout(l->pcap) && interface_gone(l)) {
		l->error =
		    fail(l, -ENODEV,
			 "interface %s disappeared (deleted, or its network namespace is gone)",
			 l->ifname);
		return l->error;
	}
	return n;
}

static uint64_t widen(uint64_t sum, uint32_t *last, uint32_t now)
{
	/* Unsigned subtraction absorbs one wrap of the 32-bit counter. */
	sum += (uint32_t)(now - *last);
	*last = now;
	return sum;
}

int live_stats(struct live *l, struct live_stats *ret)
{
	struct pcap_stat ps;

	if (!l || !ret)
		return -EINVAL;
	if (pcap_stats(l->pcap, &ps) != 0) {
		/* A vanished interface keeps its last counts. */
		if (l->error == -ENODEV)
			goto out;
		return fail(l, -EIO, "cannot read capture statistics of %s: %s", l->ifname,
			    pcap_geterr(l->pcap));
	}
	l->recv = widen(l->recv, &l->raw_recv, ps.ps_recv);
	l->drop = widen(l->drop, &l->raw_drop, ps.ps_drop);
	l->ifdrop = widen(l->ifdrop, &l->raw_ifdrop, ps.ps_ifdrop);
out:
	memset(ret, 0, sizeof(*ret));
	ret->received = l->recv;
	ret->dropped = l->drop;
	ret->if_dropped = l->ifdrop;
	ret->delivered = l->delivered;
	return 0;
}

const char *live_error(const struct live *l)
{
	return l ? l->reason : "";
}

const char *live_warning(const struct live *l)
{
	return l ? l->warning : "";
}

struct live *live_free(struct live *l)
{
	if (!l)
		return NULL;
	if (l->pcap)
		pcap_close(l->pcap);
	free(l);
	return NULL;
}
