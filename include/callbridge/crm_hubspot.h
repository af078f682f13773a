/* The HubSpot account set-up `callbridge hubspot setup|check` runs (src/crm/hs_setup.c): the
 * custom properties callbridge writes, created where missing. */
#ifndef CALLBRIDGE_CRM_HUBSPOT_H
#define CALLBRIDGE_CRM_HUBSPOT_H

#include <stdbool.h>
#include <stdio.h>

#include "callbridge/config.h"

/* Read the properties of calls, tasks, notes and contacts and print to `out`, one line per
 * custom property, what is there, missing or (with `create`) created; a property that exists
 * already when created (409) counts as there. Returns 0 when every property is there at the
 * end, 1 when some are missing or HubSpot could not be asked (the reason printed). Needs
 * curl_global_init; uses Redis for the OAuth token when cb_cache_configure was called. */
int cb_hubspot_setup(const struct cb_config *cfg, bool create, FILE *out);

#endif
