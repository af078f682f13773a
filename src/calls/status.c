/* The call's statuses: names, order, finality. */
#include <string.h>

#include "callbridge/calls.h"

static const struct {
        const char *name;
        int rank;
} statuses[CB_CALL_STATUS_COUNT] = {
    [CB_CALL_QUEUED] = {"queued", 0},       [CB_CALL_INITIATED] = {"initiated", 1},
    [CB_CALL_RINGING] = {"ringing", 2},     [CB_CALL_IN_PROGRESS] = {"in-progress", 3},
    [CB_CALL_COMPLETED] = {"completed", 4}, [CB_CALL_BUSY] = {"busy", 4},
    [CB_CALL_FAILED] = {"failed", 4},       [CB_CALL_NO_ANSWER] = {"no-answer", 4},
    [CB_CALL_CANCELED] = {"canceled", 4},
};

/* The rank of the final statuses. */
#define FINAL_RANK 4

static const char *const directions[] = {
    [CB_CALL_OUTBOUND] = "outbound", [CB_CALL_INBOUND] = "inbound"};

const char *cb_calls_status_name(enum cb_call_status s)
{
        return (unsigned)s < CB_CALL_STATUS_COUNT ? statuses[s].name : NULL;
}

bool cb_calls_status_parse(const char *name, enum cb_call_status *out)
{
        for (int s = 0; name != NULL && s < CB_CALL_STATUS_COUNT; s++)
                if (strcmp(statuses[s].name, name) == 0) {
                        *out = (enum cb_call_status)s;
                        return true;
                }
        return false;
}

int cb_calls_status_rank(enum cb_call_status s)
{
        return (unsigned)s < CB_CALL_STATUS_COUNT ? statuses[s].rank : -1;
}

bool cb_calls_status_final(enum cb_call_status s)
{
        return cb_calls_status_rank(s) == FINAL_RANK;
}

const char *cb_calls_direction_name(enum cb_call_direction d)
{
        return (unsigned)d < CB_ARRAY_LEN(directions) ? directions[d] : NULL;
}

bool cb_calls_direction_parse(const char *name, enum cb_call_direction *out)
{
        for (size_t d = 0; name != NULL && d < CB_ARRAY_LEN(directions); d++)
                if (strcmp(directions[d], name) == 0) {
                        *out = (enum cb_call_direction)d;
                        return true;
                }
        return false;
}
