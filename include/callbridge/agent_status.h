/* Agent states: the store (src/store/agent_status.c) and the service (src/jobs/agent_status.c)
 * around the pure rules of callbridge/agent_state.h. */
#ifndef CALLBRIDGE_AGENT_STATUS_H
#define CALLBRIDGE_AGENT_STATUS_H

#include "callbridge/agent_state.h"
#include "callbridge/db.h"

/* ---- the store (src/store/agent_status.c) ---- */

/* The agent's state, created (available, with its first log period) when the agent has none
 * yet; with `lock` the row is locked FOR UPDATE (inside a transaction). *now_us gets the
 * database's clock. ONE_RESULT, or a negative qs. */
CB_MUST_CHECK enum cb_qs cb_store_agent_status_get(struct cb_db *db, const char *agent, bool lock,
                                                   struct cb_agent_state *out, int64_t *now_us);
/* Store what a rule decided (chg->changed must be true): the row, a new log period when
 * chg->new_period (closing the open one), the wrap-up end job when chg->schedule_end. */
CB_MUST_CHECK enum cb_qs cb_store_agent_status_put(struct cb_db *db, const char *agent,
                                                   const struct cb_agent_change *chg);
/* The status routing sees: available when the agent has no row. Negative qs on failure. */
CB_MUST_CHECK enum cb_qs cb_store_agent_status_peek(struct cb_db *db, const char *agent,
                                                    enum cb_agent_status *out);

/* A call's disposition was written (POST /api/calls/{id}/disposition calls this after its
 * commit, src/http/handlers/call_disposition.c; it may also run inside the writer's
 * transaction). When the call's agent is in wrap-up for it, queues the wrap-up end job now
 * (durable: it ends wrap-up once wrap_up_s has passed too, see cb_agent_rule_wrap_up_end);
 * then call cb_jobs_wake. Nothing happens otherwise. Returns the rows inserted (0 or 1) or a
 * negative qs. Lives with the store (src/store/agent_status.c). */
CB_MUST_CHECK enum cb_qs cb_agent_status_call_disposed(struct cb_db *db, const char *call_id);

/* ---- the service (src/jobs/agent_status.c) ---- */

/* PUT /api/agent/status: run cb_agent_rule_put in a transaction on a leased `db`, publish the
 * change. *out gets the state after it; *qs the transaction's outcome (negative: nothing
 * changed, the result is meaningless). */
enum cb_agent_put_result cb_agent_status_set(struct cb_db *db, const struct cb_agent_policy *policy,
                                             const char *agent, enum cb_agent_status want,
                                             const char *reason, struct cb_agent_state *out,
                                             enum cb_qs *qs);

/* A transfer handed call `call_id` from `agent` to another agent: cb_agent_rule_call_left in a
 * transaction on a leased `db`, the change published. A negative qs when it was not stored. */
enum cb_qs cb_agent_status_call_left(struct cb_db *db, const char *agent, const char *call_id);

/* Routing's question (the cb_call_route_rules predicate; `ctx` is the struct cb_db_pool *):
 * is the agent available? True too when the database cannot be asked (presence alone then
 * decides, as before agent states). */
bool cb_agent_status_available(void *ctx, const char *agent);

#endif
