/* [stt] policy: which recordings are transcribed on their own (POST /api/call/transcribe
 * always is). The paper's cost control. Grammar: "all", "none", or conditions joined by ","
 * that must all hold:
 *   min_duration_s=N     the call lasted at least N seconds
 *   direction=inbound    or outbound
 *   record=linked        the call is linked to a CRM record
 *   record_kind=lead     the linked record is a lead (contact, company: the CRM-neutral kinds
 *                        the provider maps its own record types to, crm.h)
 *   record_type=Lead     deprecated: the linked record's type in the provider's own words
 *                        (Salesforce: Lead, Contact, Account...); kept working
 *   status=completed     the call's final status */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbridge/stt_policy.h"

static bool holds(const char *key, const char *value, const struct cb_call *call,
                  const struct cb_crm *crm)
{
        const char *rec = call->crm_record_id[0] ? call->crm_record_id : NULL;

        if (strcmp(key, "min_duration_s") == 0) {
                long min = 0;
                /* cb_stt_policy_check refused a value that is not a number; -1 is unknown */
                return cb_parse_long(value, 0, LONG_MAX, &min) && call->duration_s >= 0 &&
                       call->duration_s >= min;
        }
        if (strcmp(key, "direction") == 0 || strcmp(key, "status") == 0) {
                const char *v = key[0] == 'd' ? cb_calls_direction_name(call->direction)
                                              : cb_calls_status_name(call->status);
                return v != NULL && strcmp(v, value) == 0;
        }
        if (strcmp(key, "record") == 0)
                return strcmp(value, "linked") == 0 ? rec != NULL : rec == NULL;
        if (strcmp(key, "record_kind") == 0) {
                const char *kind =
                    rec && crm->ops->record_kind ? crm->ops->record_kind(crm->self, rec) : NULL;
                return kind != NULL && strcmp(kind, value) == 0;
        }
        if (strcmp(key, "record_type") == 0) {
                const char *type =
                    rec && crm->ops->record_type ? crm->ops->record_type(crm->self, rec) : NULL;
                return type != NULL && strcmp(type, value) == 0;
        }
        return false;
}

int cb_stt_policy_check(const char *policy, char *err, size_t err_size)
{
        char buf[256];
        char *save = NULL;
        long n;

        if (strcmp(policy, "all") == 0 || strcmp(policy, "none") == 0)
                return 0;
        if (policy[0] == '\0') {
                snprintf(err, err_size, "empty (say all or none)");
                return -1;
        }
        if (!cb_strlcpy(buf, policy, sizeof(buf))) {
                snprintf(err, err_size, "the policy is too long");
                return -1;
        }
        for (char *c = strtok_r(buf, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(c, '=');
                const char *keys = "min_duration_s|direction|record|record_kind|record_type|status";
                if (eq == NULL || eq[1] == '\0') {
                        snprintf(err, err_size, "\"%s\" is not key=value", c);
                        return -1;
                }
                *eq = '\0';
                if (!cb_choice_match(keys, c, false)) {
                        snprintf(err, err_size, "unknown condition \"%s\" (one of %s)", c, keys);
                        return -1;
                }
                if (strcmp(c, "record_kind") == 0 &&
                    !cb_choice_match(CB_CRM_KINDS, eq + 1, false)) {
                        snprintf(err, err_size, "record_kind=%s is not one of %s", eq + 1,
                                 CB_CRM_KINDS);
                        return -1;
                }
                if (strcmp(c, "min_duration_s") == 0 && !cb_parse_long(eq + 1, 0, LONG_MAX, &n)) {
                        snprintf(err, err_size, "min_duration_s=%s is not a number of seconds",
                                 eq + 1);
                        return -1;
                }
        }
        return 0;
}

bool cb_stt_policy_allows(const char *policy, const struct cb_call *call, const struct cb_crm *crm)
{
        char buf[256];
        char *save = NULL;

        if (strcmp(policy, "all") == 0)
                return true;
        if (strcmp(policy, "none") == 0 || !cb_strlcpy(buf, policy, sizeof(buf)))
                return false;
        for (char *c = strtok_r(buf, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(c, '=');
                if (eq == NULL)
                        return false;
                *eq = '\0';
                if (!holds(c, eq + 1, call, crm))
                        return false;
        }
        return true;
}
