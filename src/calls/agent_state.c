/* Agent states: the pure rules (see callbridge/agent_status.h for the rule the rep sees).
 * Each rule reads the current state and fills a struct cb_agent_change; the store stores it. */
#include <string.h>

#include "callbridge/agent_state.h"

static const char *const names[CB_AGENT_STATUS_COUNT] = {
    [CB_AGENT_AVAILABLE] = "available", [CB_AGENT_BUSY] = "busy",
    [CB_AGENT_WRAP_UP] = "wrap_up",     [CB_AGENT_AWAY] = "away",
    [CB_AGENT_OFFLINE] = "offline",
};

const char *cb_agent_status_name(enum cb_agent_status s)
{
        return (unsigned)s < CB_AGENT_STATUS_COUNT ? names[s] : NULL;
}

bool cb_agent_status_parse(const char *name, enum cb_agent_status *out)
{
        for (int s = 0; name != NULL && s < CB_AGENT_STATUS_COUNT; s++)
                if (strcmp(names[s], name) == 0) {
                        *out = (enum cb_agent_status)s;
                        return true;
                }
        return false;
}

bool cb_agent_status_automatic(enum cb_agent_status s)
{
        return s == CB_AGENT_BUSY || s == CB_AGENT_WRAP_UP;
}

bool cb_agent_routable(enum cb_agent_status s)
{
        return s == CB_AGENT_AVAILABLE;
}

/* The length of the UTF-8 sequence starting with `c` (1-4), 0 when `c` cannot start one. */
static int utf8_len(unsigned char c)
{
        return c < 0x80                ? 1
               : c >= 0xc2 && c < 0xe0 ? 2
               : c >= 0xe0 && c < 0xf0 ? 3
               : c >= 0xf0 && c < 0xf5 ? 4
                                       : 0;
}

bool cb_agent_reason_valid(const char *reason)
{
        size_t chars = 0;

        if (reason == NULL || reason[0] == '\0')
                return false;
        for (const unsigned char *p = (const unsigned char *)reason; *p != '\0'; chars++) {
                int n = utf8_len(*p);
                if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)))
                        return false;
                for (int i = 1; i < n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                p += n;
        }
        return chars <= CB_AGENT_REASON_CHARS;
}

bool cb_agent_call_live(enum cb_call_status status, enum cb_call_direction dir)
{
        if (cb_calls_status_rank(status) < 0 || cb_calls_status_final(status))
                return false;
        return dir == CB_CALL_OUTBOUND || status == CB_CALL_IN_PROGRESS;
}

/* A change starting `chg` from `cur`. */
static void change_begin(const struct cb_agent_state *cur, struct cb_agent_change *chg)
{
        *chg = (struct cb_agent_change){.state = *cur};
}

/* Take status `s` (with `reason`, NULL for none) now: a new period. */
static void enter(struct cb_agent_change *chg, enum cb_agent_status s, const char *reason,
                  const char *call_id, int64_t now_us)
{
        struct cb_agent_state *st = &chg->state;

        st->status = s;
        cb_strlcpy(st->reason, reason ? reason : "", sizeof(st->reason));
        cb_strlcpy(st->call_id, call_id ? call_id : "", sizeof(st->call_id));
        st->since_us = now_us;
        st->wrap_up_until_us = 0;
        chg->changed = chg->new_period = true;
}

/* The automatic state ended: the rep's choice (next_status), then forget it. */
static void leave_automatic(struct cb_agent_change *chg, int64_t now_us)
{
        struct cb_agent_state *st = &chg->state;
        char reason[CB_AGENT_REASON_MAX];

        cb_strlcpy(reason, st->next_reason, sizeof(reason));
        enter(chg, st->next, reason, NULL, now_us);
        st->next = CB_AGENT_AVAILABLE;
        st->next_reason[0] = '\0';
}

static void set_next(struct cb_agent_change *chg, enum cb_agent_status want, const char *reason)
{
        struct cb_agent_state *st = &chg->state;

        if (st->next == want && strcmp(st->next_reason, reason ? reason : "") == 0)
                return;
        st->next = want;
        cb_strlcpy(st->next_reason, reason ? reason : "", sizeof(st->next_reason));
        chg->changed = true;
}

enum cb_agent_put_result cb_agent_rule_put(const struct cb_agent_state *cur,
                                           enum cb_agent_status want, const char *reason,
                                           const struct cb_agent_policy *policy, int64_t now_us,
                                           struct cb_agent_change *chg)
{
        change_begin(cur, chg);
        if (cb_agent_status_automatic(want) || cb_agent_status_name(want) == NULL)
                return CB_AGENT_PUT_AUTOMATIC;
        if (reason != NULL && (want == CB_AGENT_AVAILABLE || !cb_agent_reason_valid(reason)))
                return CB_AGENT_PUT_BAD_REASON;
        if (cur->status == CB_AGENT_BUSY ||
            (cur->status == CB_AGENT_WRAP_UP && want == CB_AGENT_AVAILABLE &&
             policy->disposition_required && !cur->call_disposed)) {
                set_next(chg, want, reason);
                return CB_AGENT_PUT_NEXT;
        }
        if (cur->status == want && strcmp(cur->reason, reason ? reason : "") == 0)
                return CB_AGENT_PUT_NOW; /* nothing to change: no new period, no event */
        enter(chg, want, reason, NULL, now_us);
        chg->state.next = CB_AGENT_AVAILABLE;
        chg->state.next_reason[0] = '\0';
        return CB_AGENT_PUT_NOW;
}

/* Busy with `call_id`: a standing choice (away, offline) is where the rep returns after. */
static void become_busy(const struct cb_agent_state *cur, const char *call_id, int64_t now_us,
                        struct cb_agent_change *chg)
{
        if (!cb_agent_status_automatic(cur->status)) {
                chg->state.next = cur->status;
                cb_strlcpy(chg->state.next_reason, cur->reason, sizeof(chg->state.next_reason));
        }
        enter(chg, CB_AGENT_BUSY, NULL, call_id, now_us);
        chg->state.call_disposed = false;
}

/* The call the agent is busy with ended: wrap-up, or straight back to next_status. */
static void call_ended(const struct cb_agent_policy *policy, bool disposed, int64_t now_us,
                       struct cb_agent_change *chg)
{
        struct cb_agent_state *st = &chg->state;
        char call_id[CB_UUID_LEN + 1];

        if (policy->wrap_up_s <= 0 && (!policy->disposition_required || disposed)) {
                leave_automatic(chg, now_us);
                return;
        }
        cb_strlcpy(call_id, st->call_id, sizeof(call_id));
        enter(chg, CB_AGENT_WRAP_UP, NULL, call_id, now_us);
        st->wrap_up_until_us = now_us + (policy->wrap_up_s > 0 ? policy->wrap_up_s : 0) * 1000000;
        st->call_disposed = disposed;
        chg->schedule_end = true;
}

/* The call ended and the agent's busy for it was never recorded (its job ran after the
 * end's): nothing newer happened to the agent since. */
static bool missed_busy(const struct cb_agent_state *cur, const struct cb_call *call)
{
        bool was_live = call->direction == CB_CALL_OUTBOUND || call->answered_us != 0;

        return was_live && !cb_agent_status_automatic(cur->status) && call->ended_us != 0 &&
               cur->since_us <= call->ended_us;
}

void cb_agent_rule_call(const struct cb_agent_state *cur, const struct cb_call *call,
                        const struct cb_agent_policy *policy, int64_t now_us,
                        struct cb_agent_change *chg)
{
        bool ours = strcmp(cur->call_id, call->id) == 0;
        bool disposed = call->disposition[0] != '\0';

        change_begin(cur, chg);
        if (cb_agent_call_live(call->status, call->direction)) {
                if (cur->status == CB_AGENT_BUSY && ours)
                        return;
                become_busy(cur, call->id, now_us, chg);
                return;
        }
        if (!cb_calls_status_final(call->status))
                return;
        if (cur->status == CB_AGENT_BUSY && ours) {
                call_ended(policy, disposed, now_us, chg);
        } else if (missed_busy(cur, call) &&
                   (policy->wrap_up_s > 0 || (policy->disposition_required && !disposed))) {
                become_busy(cur, call->id, now_us, chg);
                call_ended(policy, disposed, now_us, chg);
        }
}

void cb_agent_rule_call_left(const struct cb_agent_state *cur, const char *call_id, int64_t now_us,
                             struct cb_agent_change *chg)
{
        change_begin(cur, chg);
        if ((cur->status == CB_AGENT_BUSY || cur->status == CB_AGENT_WRAP_UP) && call_id != NULL &&
            strcmp(cur->call_id, call_id) == 0)
                leave_automatic(chg, now_us);
}

bool cb_agent_rule_wrap_up_end(const struct cb_agent_state *cur, const char *call_id,
                               const struct cb_agent_policy *policy, int64_t now_us,
                               struct cb_agent_change *chg)
{
        change_begin(cur, chg);
        if (cur->status != CB_AGENT_WRAP_UP || strcmp(cur->call_id, call_id) != 0)
                return true; /* already ended (a PUT, another call): nothing to do */
        if (now_us < cur->wrap_up_until_us || (policy->disposition_required && !cur->call_disposed))
                return false;
        leave_automatic(chg, now_us);
        return true;
}

/* Times as RFC 3339 strings into `obj` under `key`. */
static int set_time(json_t *obj, const char *key, int64_t us)
{
        char ts[CB_TS_LEN + 1];

        cb_ts_format(us, ts);
        return json_object_set_new(obj, key, json_string(ts));
}

json_t *cb_agent_state_to_json(const char *agent, const struct cb_agent_state *st)
{
        const char *name = cb_agent_status_name(st->status);
        json_t *o = name ? json_pack("{s:s,s:s}", "agent", agent, "status", name) : NULL;
        int rc = 0;

        if (o == NULL)
                return NULL;
        if (st->reason[0] != '\0')
                rc |= json_object_set_new(o, "reason", json_string(st->reason));
        rc |= set_time(o, "since", st->since_us);
        if (st->call_id[0] != '\0')
                rc |= json_object_set_new(o, "call_id", json_string(st->call_id));
        if (st->status == CB_AGENT_WRAP_UP)
                rc |= set_time(o, "wrap_up_until", st->wrap_up_until_us);
        if (cb_agent_status_automatic(st->status)) {
                rc |= json_object_set_new(o, "next_status",
                                          json_string(cb_agent_status_name(st->next)));
                if (st->next_reason[0] != '\0')
                        rc |= json_object_set_new(o, "next_reason", json_string(st->next_reason));
        }
        if (rc != 0) {
                json_decref(o);
                o = NULL;
        }
        return o;
}
