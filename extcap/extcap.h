/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Answers to Wireshark's extcap queries: interfaces, link types and
 * configuration arguments, written to the given stream (stdout). */
#ifndef EBPFDUMP_EXTCAP_H
#define EBPFDUMP_EXTCAP_H

#include <stdio.h>

#include "extcap/options.h"

int extcap_list_interfaces(FILE *out);
int extcap_list_dlts(FILE *out, const struct options *o);
int extcap_list_config(FILE *out, const struct options *o);

#endif
