/*
 * session.c - session objects, sending, the one function that turns an error into ERROR or
 * ABORT on the wire (session_fail), and the storage of a session's testaments with their
 * byte count (limits.max_testament_bytes_per_session is checked against it).
 */
#include "realm/session.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/wassert.h"
#include "realm/replay.h"
#include "realm/backplane.h"

struct session *session_new(const struct peer_ops *ops, void *peer, enum wamp_ser ser,
                            struct metrics *metrics)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->state = SESSION_OPEN;
	s->ser = ser;
	s->ops = ops;
	s->peer = peer;
	s->metrics = metrics;
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	WAMPD_ASSERT(!s->proto); /* proto_transport_closed() first (session.h) */
	WAMPD_ASSERT(!s->resume); /* realm_leave stopped it (its timers are the realm's) */
	backplane_session_free(s->bp);
	free(s->authid);
	free(s->authrole);
	free(s->authmethod);
	free(s->authprovider);
	json_decref(s->authextra);
	json_decref(s->testaments_detached);
	json_decref(s->testaments_destroyed);
	authz_cache_clear(&s->authz_cache);
	authz_cache_clear(&s->authz_answers);
	free(s->authz_question.uri);
	free(s);
}

size_t session_testament_cost(const json_t *t)
{
	return wamp_json_heap_size(t) + sizeof(json_t *);
}

enum wampd_err session_testament_add(struct session *s, json_t **bucket, json_t *t, size_t limit)
{
	size_t cost = session_testament_cost(t);

	if (cost > limit || s->testament_bytes > limit - cost) {
		json_decref(t);
		return WAMPD_ERR_LIMIT;
	}
	if (!*bucket && !(*bucket = json_array())) {
		json_decref(t);
		return WAMPD_ERR_NOMEM;
	}
	if (json_array_append_new(*bucket, t))
		return WAMPD_ERR_NOMEM; /* json_array_append_new released t */
	s->testament_bytes += cost;
	return WAMPD_OK;
}

size_t session_testaments_flush(struct session *s, json_t **bucket)
{
	size_t n = json_array_size(*bucket), i;
	json_t *t;

	json_array_foreach(*bucket, i, t)
		s->testament_bytes -= session_testament_cost(t);
	json_decref(*bucket);
	*bucket = NULL;
	return n;
}

void session_testaments_take(struct session *s, json_t **detached, json_t **destroyed)
{
	*detached = s->testaments_detached;
	*destroyed = s->testaments_destroyed;
	s->testaments_detached = NULL;
	s->testaments_destroyed = NULL;
	s->testament_bytes = 0;
}

bool session_set_str(char **field, const char *val)
{
	char *copy = NULL;

	if (val && !(copy = strdup(val)))
		return false;
	free(*field);
	*field = copy;
	return true;
}

void session_adopt_identity(struct session *s, struct auth_identity *id)
{
	free(s->authid);
	free(s->authrole);
	free(s->authmethod);
	free(s->authprovider);
	json_decref(s->authextra);
	s->authid = id->authid;
	s->authrole = id->authrole;
	s->authmethod = id->authmethod;
	s->authprovider = id->authprovider;
	s->authextra = id->authextra;
	memset(id, 0, sizeof(*id));
}

enum wampd_err session_send(struct session *s, struct wamp_out *out)
{
	enum wampd_err err;

	if (s->state == SESSION_CLOSING)
		return WAMPD_OK;
	err = s->resume ? replay_send(s, out) : s->ops->send(s->peer, out);
	if (err == WAMPD_OK)
		metrics_count_type(s->metrics->msgs_out, out->type);
	return err;
}

enum wampd_err session_send_msg(struct session *s, const struct wamp_msg *msg)
{
	enum wampd_err err = WAMPD_OK;
	struct wamp_out *out;

	if (s->state == SESSION_CLOSING)
		return WAMPD_OK;
	out = wamp_encode(s->ser, msg, &err);
	if (!out) {
		wlog_warn("session", "cannot encode %s session=%llu peer=%s: %s",
		          wamp_type_name(msg->type), (unsigned long long)s->id,
		          s->ops->address(s->peer), wampd_err_str(err));
		return err;
	}
	err = session_send(s, out);
	wamp_out_unref(out);
	return err;
}

void session_close(struct session *s, int code, const char *reason)
{
	if (s->state == SESSION_CLOSING)
		return;
	s->state = SESSION_CLOSING;
	s->ops->close(s->peer, code, reason, false);
}

void session_fail(struct session *s, int req_type, uint64_t req_id, enum wampd_err err,
                  const char *message)
{
	struct wamp_msg m = {0};
	json_t *obj = NULL;
	const char *uri = wampd_err_uri(err);
	const char *text = message ? message : wampd_err_str(err);
	bool fatal = wampd_err_is_fatal(err) || req_type == 0;

	if (s->state == SESSION_CLOSING)
		return;

	if (fatal) {
		wlog_info("session", "abort session=%llu peer=%s reason=%s: %s",
		          (unsigned long long)s->id, s->ops->address(s->peer), uri, text);
		obj = json_pack("{s:s}", "message", text);
		m.type = WAMP_ABORT;
		m.dict = obj;
		m.uri = uri;
		m.uri_len = strlen(uri);
		session_send_msg(s, &m);
		session_close(s, err == WAMPD_ERR_PROTOCOL ? 1002 : err == WAMPD_ERR_TOO_BIG ? 1009 : 1000,
		              uri);
	} else {
		wlog_debug("session", "error session=%llu peer=%s request=%s/%llu error=%s: %s",
		           (unsigned long long)s->id, s->ops->address(s->peer),
		           wamp_type_name(req_type), (unsigned long long)req_id, uri, text);
		obj = json_pack("[s]", text);
		m.type = WAMP_ERROR;
		m.id[0] = (uint64_t)req_type;
		m.id[1] = req_id;
		m.uri = uri;
		m.uri_len = strlen(uri);
		m.payload.args_v = obj;
		session_send_msg(s, &m);
	}
	json_decref(obj);
}
