/* The job kind registry: add a kind by writing src/jobs/<kind>.c and listing it here. */
#include <string.h>

#include "callbridge/agent_status.h"
#include "callbridge/jobs.h"
#include "kinds.h"

const struct cb_job_kind cb_job_kinds[] = {
    {CB_JOB_PLACE_CALL, cb_job_place_call, cb_job_place_call_dead, false, NULL},
    {CB_JOB_LOG_CALL, cb_job_log_call, cb_job_log_call_dead, false, cb_job_log_call_batch},
    {CB_JOB_FOLLOW_UP, cb_job_follow_up, NULL, false, cb_job_follow_up_batch},
    {CB_JOB_REC_FETCH, cb_job_recording_fetch, cb_job_recording_fetch_dead, false, NULL},
    {CB_JOB_REC_ATTACH, cb_job_recording_attach, NULL, false, cb_job_recording_attach_batch},
    {CB_JOB_REC_PROVIDER_DELETE, cb_job_recording_provider_delete, NULL, false, NULL},
    {CB_JOB_RETENTION, cb_job_retention_sweep, NULL, false, NULL},
    {CB_JOB_TRANSCRIBE, cb_job_transcribe, NULL, false, NULL},
    {CB_JOB_WRITEBACK, cb_job_write_analysis, NULL, false, cb_job_write_analysis_batch},
    {CB_JOB_LIVE_TRANSCRIPT, cb_job_live_transcript, NULL, false, NULL},
    {CB_JOB_TEL_RECONCILE, cb_job_telephony_reconcile, NULL, false, NULL},
    {CB_JOB_AGENT_CALL, cb_job_agent_call, NULL, false, NULL},
    {CB_JOB_AGENT_WRAP_UP_END, cb_job_agent_wrap_up_end, NULL, false, NULL},
    {"debug.sleep", cb_job_debug_sleep, NULL, true, NULL},
    {"debug.fail", cb_job_debug_fail, NULL, true, NULL},
    {"debug.crm_attach", cb_job_debug_crm_attach, NULL, true, cb_job_debug_crm_attach_batch},
    {"debug.crm_task", cb_job_debug_crm_task, NULL, true, cb_job_debug_crm_task_batch},
    {"debug.call_disposed", cb_job_debug_call_disposed, NULL, true, NULL},
};
const size_t cb_job_kinds_count = sizeof(cb_job_kinds) / sizeof(cb_job_kinds[0]);

const struct cb_job_kind *cb_job_kind_find(const char *name, bool debug)
{
        for (size_t i = 0; i < cb_job_kinds_count; i++)
                if (strcmp(cb_job_kinds[i].name, name) == 0 && (debug || !cb_job_kinds[i].debug))
                        return &cb_job_kinds[i];
        return NULL;
}
