/* Query families over PostgreSQL: one src/store/<family>.c each, the SQL beside its call. Each
 * family's header is included below; include the ones a file uses rather than this one. */
#ifndef CALLBRIDGE_STORE_H
#define CALLBRIDGE_STORE_H

#include "callbridge/store_agents.h"      /* agents.c, apikeys.c */
#include "callbridge/store_batcher.h"     /* batcher.c: group commit */
#include "callbridge/store_calls.h"       /* calls.c, wrapup.c, reconcile.c, controls.c, ... */
#include "callbridge/store_jobs.h"        /* jobs.c, job_admin.c */
#include "callbridge/store_lifecycle.h"   /* lifecycle.c: provider status callbacks */
#include "callbridge/store_recordings.h"  /* recordings.c, storage_intents.c */
#include "callbridge/store_transcripts.h" /* transcripts.c, live.c */

#endif
