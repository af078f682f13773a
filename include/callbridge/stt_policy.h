/* The [stt] policy: which calls are transcribed (src/jobs/stt_policy.c, in cb_jobs). */
#ifndef CALLBRIDGE_STT_POLICY_H
#define CALLBRIDGE_STT_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "callbridge/calls.h"
#include "callbridge/crm.h"
#include "callbridge/util.h"

/* 0 when `policy` is well formed, else -1 with `err` (for --check-config). */
int cb_stt_policy_check(const char *policy, char *err, size_t err_size);
/* Does the policy want `call` (the job's call) transcribed? `crm` reads record types. */
bool cb_stt_policy_allows(const char *policy, const struct cb_call *call, const struct cb_crm *crm);

#endif
