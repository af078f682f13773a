/* Call control: which agent actions a call allows (hang up, hold, transfer, pause the
 * recording) and what each changes in its control state. The telephony provider carries the
 * action out (CB_TEL_CAP_CONTROL); the store records the new state and a history event with
 * source "agent". Repeating an action that is already in effect is answered from the state
 * without asking the provider again. */
#include <stdio.h>
#include <string.h>

#include "callbridge/calls.h"

static const char *const action_names[CB_ACT_COUNT] = {
    [CB_ACT_HANGUP] = "hangup",
    [CB_ACT_HOLD] = "hold",
    [CB_ACT_UNHOLD] = "unhold",
    [CB_ACT_TRANSFER_BLIND] = "transfer",
    [CB_ACT_TRANSFER_WARM] = "transfer_started",
    [CB_ACT_TRANSFER_COMPLETE] = "transfer_completed",
    [CB_ACT_TRANSFER_CANCEL] = "transfer_canceled",
    [CB_ACT_RECORDING_PAUSE] = "recording_paused",
    [CB_ACT_RECORDING_RESUME] = "recording_resumed",
};

const char *cb_calls_action_name(enum cb_call_action a)
{
        return (unsigned)a < CB_ACT_COUNT ? action_names[a] : NULL;
}

/* Set the verdict; true, so that a decision can end with `return verdict(...)`. */
static bool verdict(struct cb_call_decision *out, enum cb_call_verdict v, const char *why)
{
        out->verdict = v;
        out->why = why;
        return true;
}

static bool same_target(const struct cb_call_controls *now, const char *to)
{
        return to != NULL && strcmp(now->transfer_to, to) == 0;
}

/* After a transfer the agent is out of the call: only the same transfer again is answered. */
static bool after_transfer(const struct cb_call_controls *now, enum cb_call_action a,
                           const char *to, struct cb_call_decision *out)
{
        bool again = (a == CB_ACT_TRANSFER_BLIND && !now->transfer_warm && same_target(now, to)) ||
                     (a == CB_ACT_TRANSFER_COMPLETE && now->transfer_warm);

        return again ? verdict(out, CB_CTL_ALREADY, NULL)
                     : verdict(out, CB_CTL_BAD_STATE, "the call was transferred");
}

/* Hold, unhold and the warm transfer's steps need the conference; none while a warm transfer
 * is pending except its own completion or cancellation. */
static bool conference_action(const struct cb_call_control_env *env,
                              const struct cb_call_controls *now, enum cb_call_action a,
                              const char *to, struct cb_call_decision *out)
{
        bool pending = now->transfer == CB_TRANSFER_PENDING;
        struct cb_call_controls *next = &out->after;

        if (!env->conference &&
            (a == CB_ACT_HOLD || a == CB_ACT_UNHOLD || a == CB_ACT_TRANSFER_WARM))
                return verdict(out, CB_CTL_BAD_STATE,
                               "the call is not bridged through a conference "
                               "([twilio] conference = true)");
        switch (a) {
        case CB_ACT_HOLD:
        case CB_ACT_UNHOLD:
                if (pending)
                        return verdict(out, CB_CTL_BAD_STATE, "a warm transfer is in progress");
                if (now->held == (a == CB_ACT_HOLD))
                        return verdict(out, CB_CTL_ALREADY, NULL);
                next->held = a == CB_ACT_HOLD;
                break;
        case CB_ACT_TRANSFER_WARM:
                if (pending)
                        return verdict(
                            out, same_target(now, to) ? CB_CTL_ALREADY : CB_CTL_BAD_STATE,
                            same_target(now, to) ? NULL : "another warm transfer is in progress");
                next->transfer = CB_TRANSFER_PENDING;
                next->transfer_warm = true;
                next->held = true;
                snprintf(next->transfer_to, sizeof(next->transfer_to), "%s", to ? to : "");
                break;
        default: /* complete, cancel */
                if (!pending)
                        return verdict(out, CB_CTL_BAD_STATE, "no warm transfer is in progress");
                next->held = false;
                next->transfer =
                    a == CB_ACT_TRANSFER_COMPLETE ? CB_TRANSFER_DONE : CB_TRANSFER_NONE;
                if (a == CB_ACT_TRANSFER_CANCEL) {
                        next->transfer_warm = false;
                        next->transfer_to[0] = '\0';
                }
                break;
        }
        return verdict(out, CB_CTL_DO, NULL);
}

/* The actions of an answered call. */
static bool live_action(const struct cb_call_control_env *env, const struct cb_call_controls *now,
                        enum cb_call_action a, const char *to, struct cb_call_decision *out)
{
        struct cb_call_controls *next = &out->after;

        switch (a) {
        case CB_ACT_TRANSFER_BLIND:
                if (now->transfer == CB_TRANSFER_PENDING)
                        return verdict(out, CB_CTL_BAD_STATE, "a warm transfer is in progress");
                next->transfer = CB_TRANSFER_DONE;
                next->transfer_warm = false;
                snprintf(next->transfer_to, sizeof(next->transfer_to), "%s", to ? to : "");
                return verdict(out, CB_CTL_DO, NULL);
        case CB_ACT_RECORDING_PAUSE:
        case CB_ACT_RECORDING_RESUME:
                if (!env->recorded)
                        return verdict(out, CB_CTL_BAD_STATE, "the call is not recorded");
                if (now->recording_paused == (a == CB_ACT_RECORDING_PAUSE))
                        return verdict(out, CB_CTL_ALREADY, NULL);
                next->recording_paused = a == CB_ACT_RECORDING_PAUSE;
                return verdict(out, CB_CTL_DO, NULL);
        default:
                return conference_action(env, now, a, to, out);
        }
}

static bool decide(const struct cb_call_control_env *env, const struct cb_call_controls *now,
                   enum cb_call_action action, const char *to, struct cb_call_decision *out)
{
        bool final = cb_calls_status_final(env->status);

        *out = (struct cb_call_decision){.after = *now, .event = cb_calls_action_name(action)};
        if (out->event == NULL)
                return verdict(out, CB_CTL_BAD_STATE, "no such action");
        if (now->transfer == CB_TRANSFER_DONE)
                return after_transfer(now, action, to, out);
        if (now->hung_up || final) {
                if (action == CB_ACT_HANGUP && now->hung_up)
                        return verdict(out, CB_CTL_ALREADY, NULL);
                return verdict(out, CB_CTL_BAD_STATE,
                               final ? "the call has ended" : "the call is being hung up");
        }
        if (!env->placed)
                return verdict(out, CB_CTL_BAD_STATE, "the call is not placed yet");
        if (action == CB_ACT_HANGUP) {
                out->after.hung_up = true;
                return verdict(out, CB_CTL_DO, NULL);
        }
        if (env->status != CB_CALL_IN_PROGRESS)
                return verdict(out, CB_CTL_BAD_STATE, "the call is not answered yet");
        return live_action(env, now, action, to, out);
}

void cb_calls_control_decide(const struct cb_call_control_env *env,
                             const struct cb_call_controls *now, enum cb_call_action action,
                             const char *to, struct cb_call_decision *out)
{
        (void)decide(env, now, action, to, out);
}

json_t *cb_calls_controls_to_json(const struct cb_call_controls *c, bool recorded)
{
        json_t *transfer = json_null();

        if (c->transfer != CB_TRANSFER_NONE)
                transfer =
                    json_pack("{s:s,s:s,s:s}", "state",
                              c->transfer == CB_TRANSFER_PENDING ? "pending" : "done", "mode",
                              c->transfer_warm ? "warm" : "blind", "to", c->transfer_to);
        return json_pack("{s:b,s:s,s:b,s:o*}", "held", c->held, "recording",
                         !recorded             ? "off"
                         : c->recording_paused ? "paused"
                                               : "active",
                         "hung_up", c->hung_up, "transfer", transfer);
}

bool cb_calls_conference_name(const char *provider_call_id, char *out, size_t size)
{
        int n = snprintf(out, size, "cb-%s", provider_call_id ? provider_call_id : "");

        return provider_call_id != NULL && provider_call_id[0] != '\0' && n > 0 && (size_t)n < size;
}

const char *cb_calls_control_new_agent(const struct cb_call_controls *before,
                                       const struct cb_call_controls *after)
{
        if (before->transfer == CB_TRANSFER_DONE || after->transfer != CB_TRANSFER_DONE ||
            after->transfer_to[0] == '\0' || after->transfer_to[0] == '+')
                return NULL;
        return after->transfer_to;
}
