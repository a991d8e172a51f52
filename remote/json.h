/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON form of an event for other consumers of the ZeroMQ stream; keys
 * are modelled on ntopng's eBPF JSON (docs/remote.md lists them). */
#ifndef EBPFDUMP_REMOTE_JSON_H
#define EBPFDUMP_REMOTE_JSON_H

#include <stddef.h>

#include "event/event.h"

/* Write the JSON object for ev (host: the identity to report) into buf as
 * UTF-8 text without a NUL terminator counted. Only items present in ev
 * appear; text that is not UTF-8 gets U+FFFD for each bad byte. Returns the
 * length, -ENOSPC when it does not fit size, -ENOMEM. */
int remote_event_json(const struct event *ev, const char *host, char *buf, size_t size);

#endif
