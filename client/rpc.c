/*
 * rpc.c - the caller (CALL, progressive RESULTs, CANCEL, timeouts) and the callee's
 * invocations (INVOCATION -> YIELD/ERROR, progressive YIELDs, INTERRUPT); registrations
 * themselves are handles.c's.
 *
 * A call is a request record in c->reqs (its reply callback), and in the deadline list
 * when it has a timeout (engine.c's wampc_tick ends it with wamp.error.timeout and tells
 * the router CANCEL killnowait). Progressive RESULTs keep the record; the final RESULT or
 * ERROR removes it before the callback runs, so the callback sees a finished call.
 *
 * An invocation owed to the router is one entry of c->invs: request id -> registration id
 * << 1 | receive_progress. No allocation per invocation: nothing else is needed to answer
 * it (the registration, for an INTERRUPT, is found again by its id). Invocations are
 * bounded by max_pending: beyond, the router gets ERROR wamp.error.limit_exceeded at once.
 * An INTERRUPT ends the invocation: the registration's on_interrupt is told, then, unless
 * it answered, ERROR wamp.error.canceled goes out; answers after that are refused.
 *
 * The public functions run inside wampc_hold/wampc_release (so the adapter's update hook
 * learns about what they queued); their bodies are the *_in functions.
 */
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"

/* ------------------------------------------------------------------------ caller */

static enum wampd_err call_in(wampc *c, const char *procedure, const struct wampc_call_opts *o,
                              const struct wampc_payload *p, wampc_reply_fn fn, void *ud,
                              uint64_t *request)
{
	struct wamp_msg m = {.type = WAMP_CALL};
	struct wampc_req *req;
	enum wampd_err err;
	bool ok = true;

	if (!wampc_uri_ok(procedure))
		return WAMPD_ERR_INVALID_URI;
	if (!fn || (err = wampc_payload_check(p)) != WAMPD_OK)
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!(c->roles & WAMPC_ROLE_CALLER))
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
	if (!wampc_in_session(c))
		return WAMPD_ERR_TRANSPORT_LOST;
	if (c->n_calls >= c->max_pending || wampc_backlog(c) >= c->max_queue_bytes)
		return WAMPD_ERR_LIMIT;
	if (o)
		ok = (!o->timeout || opt_set(&m.dict, "timeout", json_integer(o->timeout))) &&
		     (!o->receive_progress || opt_set(&m.dict, "receive_progress", json_true())) &&
		     (!o->disclose_me || opt_set(&m.dict, "disclose_me", json_true()));
	if (!ok || !(req = wampc_req_new(c, REQ_CALL, fn, ud))) {
		json_decref(m.dict);
		return WAMPD_ERR_NOMEM;
	}
	m.id[0] = req->id;
	m.uri = procedure;
	m.uri_len = strlen(procedure);
	wampc_payload_to(&m.payload, p);
	err = wampc_send(c, &m, false);
	json_decref(m.dict);
	if (err != WAMPD_OK) {
		wampc_req_free(c, req);
		return err;
	}
	if (o && o->timeout)
		wampc_timer_add(c, req, wampc_now(c) + o->timeout);
	if (request)
		*request = req->id;
	return WAMPD_OK;
}

enum wampd_err wampc_call(wampc *c, const char *procedure, const struct wampc_call_opts *o,
                          const struct wampc_payload *p, wampc_reply_fn fn, void *ud,
                          uint64_t *request)
{
	enum wampd_err err;

	wampc_hold(c);
	err = call_in(c, procedure, o, p, fn, ud, request);
	wampc_release(c);
	return err;
}

static enum wampd_err cancel_in(wampc *c, uint64_t request, enum wampc_cancel_mode mode)
{
	static const char *const modes[] = {"skip", "kill", "killnowait"};
	struct wampc_req *req = wampc_req_find(c, request);
	struct wamp_msg m = {.type = WAMP_CANCEL, .id = {request}};
	enum wampd_err err;

	if (!req || req->kind != REQ_CALL || (unsigned)mode > WAMPC_CANCEL_KILLNOWAIT)
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!(m.dict = json_pack("{s:s}", "mode", modes[mode])))
		return WAMPD_ERR_NOMEM;
	err = wampc_send(c, &m, false);
	json_decref(m.dict);
	return err;
}

enum wampd_err wampc_cancel(wampc *c, uint64_t request, enum wampc_cancel_mode mode)
{
	enum wampd_err err;

	wampc_hold(c);
	err = cancel_in(c, request, mode);
	wampc_release(c);
	return err;
}

void rpc_on_result(wampc *c, struct wamp_msg *m)
{
	struct wampc_req *req = wampc_req_find(c, m->id[0]);
	struct wampc_payload p;
	struct wampc_reply r = {.request = m->id[0],
	                        .progress = wamp_dict_bool(m->dict, "progress", false),
	                        .details = (const wampc_value *)m->dict, .payload = &p};

	if (!req)
		return; /* timed out already */
	if (req->kind != REQ_CALL) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "RESULT for another request type", true);
		return;
	}
	wampc_payload_from(&p, &m->payload);
	if (r.progress) {
		wampc_reply(c, req->fn, req->ud, &r);
		return;
	}
	wampc_req_unlink(c, req);
	wampc_reply(c, req->fn, req->ud, &r);
	free(req);
}

/* ------------------------------------------------------------------------ callee */

/* ERROR [INVOCATION, request, {}, uri, payload] (force: the engine's own answers). */
static enum wampd_err send_error(wampc *c, uint64_t request, const char *uri,
                                 const struct wampc_payload *p, bool force)
{
	struct wamp_msg m = {.type = WAMP_ERROR, .id = {WAMP_INVOCATION, request}, .uri = uri,
	                     .uri_len = strlen(uri)};

	wampc_payload_to(&m.payload, p);
	return wampc_send(c, &m, force);
}

void rpc_on_invocation(wampc *c, struct wamp_msg *m)
{
	struct handle *h = handle_by_id(c, H_REG, m->id[1]);
	uint64_t v;
	int64_t caller = wamp_dict_int(m->dict, "caller", 0);
	int64_t timeout = wamp_dict_int(m->dict, "timeout", 0);
	struct wampc_payload p;
	struct wampc_invocation inv = {
		.request = m->id[0], .registration = m->id[1],
		.receive_progress = wamp_dict_bool(m->dict, "receive_progress", false),
		.caller = caller > 0 ? (uint64_t)caller : 0,
		.timeout = timeout > 0 ? (uint64_t)timeout : 0,
		.details = (const wampc_value *)m->dict, .payload = &p};

	if (idmap_get(&c->invs, m->id[0], &v)) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "INVOCATION request id already in use", true);
		return;
	}
	if (!h || h->state != H_ACTIVE) { /* unregistered meanwhile */
		send_error(c, m->id[0], wampd_err_uri(WAMPD_ERR_NO_SUCH_REGISTRATION), NULL, true);
		return;
	}
	if (c->invs.n >= c->max_pending ||
	    !idmap_put(&c->invs, m->id[0], m->id[1] << 1 | inv.receive_progress)) {
		send_error(c, m->id[0], wampd_err_uri(WAMPD_ERR_LIMIT), NULL, true);
		return;
	}
	wampc_payload_from(&p, &m->payload);
	inv.reg = (wampc_reg *)h;
	inv.procedure = wamp_dict_str(m->dict, "procedure", h->uri);
	h->handler.invoke(c, &inv, h->handler_ud);
}

void rpc_on_interrupt(wampc *c, struct wamp_msg *m)
{
	uint64_t v;
	struct handle *h;

	if (!idmap_get(&c->invs, m->id[0], &v))
		return; /* answered already */
	h = handle_by_id(c, H_REG, v >> 1);
	if (h && h->on_interrupt)
		h->on_interrupt(c, m->id[0], wamp_dict_str(m->dict, "mode", "kill"), h->handler_ud);
	if (!c->free_pending && idmap_del(&c->invs, m->id[0], NULL))
		send_error(c, m->id[0], wampd_err_uri(WAMPD_ERR_CANCELED), NULL, true);
}

static enum wampd_err yield_in(wampc *c, uint64_t request, bool progress,
                               const struct wampc_payload *p)
{
	struct wamp_msg m = {.type = WAMP_YIELD, .id = {request}};
	enum wampd_err err;
	uint64_t v;

	if (!idmap_get(&c->invs, request, &v) || (progress && !(v & 1)) ||
	    wampc_payload_check(p) != WAMPD_OK)
		return WAMPD_ERR_INVALID_ARGUMENT;
	/* the Options of a progressive YIELD are always the same: made once, borrowed */
	if (progress && !c->opt_progress && !(c->opt_progress = json_pack("{s:b}", "progress", 1)))
		return WAMPD_ERR_NOMEM;
	m.dict = progress ? c->opt_progress : NULL;
	wampc_payload_to(&m.payload, p);
	err = wampc_send(c, &m, false);
	if (err == WAMPD_OK && !progress)
		idmap_del(&c->invs, request, NULL);
	return err;
}

enum wampd_err wampc_yield(wampc *c, uint64_t request, bool progress,
                           const struct wampc_payload *p)
{
	enum wampd_err err;

	wampc_hold(c);
	err = yield_in(c, request, progress, p);
	wampc_release(c);
	return err;
}

static enum wampd_err invocation_error_in(wampc *c, uint64_t request, const char *error_uri,
                                          const struct wampc_payload *p)
{
	enum wampd_err err;
	uint64_t v;

	if (!wampc_uri_ok(error_uri))
		return WAMPD_ERR_INVALID_URI;
	if (!idmap_get(&c->invs, request, &v) || wampc_payload_check(p) != WAMPD_OK)
		return WAMPD_ERR_INVALID_ARGUMENT;
	if ((err = send_error(c, request, error_uri, p, false)) == WAMPD_OK)
		idmap_del(&c->invs, request, NULL);
	return err;
}

enum wampd_err wampc_invocation_error(wampc *c, uint64_t request, const char *error_uri,
                                      const struct wampc_payload *p)
{
	enum wampd_err err;

	wampc_hold(c);
	err = invocation_error_in(c, request, error_uri, p);
	wampc_release(c);
	return err;
}

void rpc_lost(wampc *c)
{
	idmap_free(&c->invs);
}
