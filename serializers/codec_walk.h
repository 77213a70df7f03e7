/*
 * codec_walk.h - the schema walk the codecs share (json.c, msgpack.c, cbor.c; nothing else
 * includes it): decoding a message's top-level element spans into its fields by its schema
 * (codec_decode_fields), and writing the fields by the schema (codec_encode_fields, with
 * codec_write_element for payload elements), over each codec's primitives (struct
 * codec_reader / codec_writer in codec_internal.h; their contracts are there).
 *
 * Why a header of inline functions and not functions in codec.c: every codec passes its own
 * static const primitives, so each inlined copy calls them directly (and inlines the small
 * ones) as a codec's own loop did; through function pointers the encoders measured ~110
 * more instructions per message (callgrind). The logic is here once.
 */
#ifndef WAMPD_SERIALIZERS_CODEC_WALK_H
#define WAMPD_SERIALIZERS_CODEC_WALK_H

#include "common/ids.h"
#include "serializers/codec_internal.h"

#define CODEC_WALK static inline __attribute__((always_inline))

/*
 * Fill msg (type `type`, its schema) from its n top-level element spans el[0..n) (el[0] is
 * the type). Strings and dicts are copied into msg; payload spans point into the caller's
 * buffer. On failure returns the error (a reason in err for protocol errors); what was
 * set in msg is released by wamp_msg_clear.
 */
CODEC_WALK enum wampd_err codec_decode_fields(const struct codec_reader *r, int type,
                                              const struct wamp_schema *schema,
                                              const struct codec_span *el, int n,
                                              struct wamp_msg *msg, char *err,
                                              size_t errlen)
{
	int nid = 0;

	if (n < schema->min_len || n > schema->max_len)
		return codec_fail(err, errlen, "%s: %d elements, expected %d to %d", schema->name,
		                  n, schema->min_len, schema->max_len);
	msg->type = (enum wamp_type)type;

	for (int i = 1, f = 0; i < n; i++, f++) {
		const struct codec_span *e = &el[i];

		switch (schema->fields[f]) {
		case WAMP_F_ID:
		case WAMP_F_INT: {
			uint64_t v;
			bool id = schema->fields[f] == WAMP_F_ID;

			if (!r->uint(e, &v) || (id && v > WAMP_ID_MAX) ||
			    (id && v == 0 && !(nid == 0 && schema->id_zero_ok)))
				return codec_fail(err, errlen, "%s: element %d must be an id in "
				                  "[1, 2^53]", schema->name, i);
			if (!id && !wamp_schema((int)(v > WAMP_TYPE__MAX ? 0 : v)))
				return codec_fail(err, errlen, "%s: element %d must be a message "
				                  "type", schema->name, i);
			msg->id[nid++] = v;
			break;
		}
		case WAMP_F_URI:
		case WAMP_F_STRING: {
			enum wampd_err code = r->string(e, msg);

			if (code == WAMPD_ERR_PROTOCOL)
				return codec_fail(err, errlen, "%s: element %d must be %s", schema->name,
				                  i, r->string_kind);
			if (code != WAMPD_OK)
				return code;
			break;
		}
		case WAMP_F_DICT: {
			char why[160]; /* jansson's error texts are at most 160 bytes */

			if (!r->is_dict(e))
				return codec_fail(err, errlen, "%s: element %d must be a dict",
				                  schema->name, i);
			if (e->nonfinite) /* WAMP's own dicts: a malformed message */
				return codec_fail(err, errlen, "%s: element %d holds a "
				                  "non-finite number (NaN or Infinity)",
				                  schema->name, i);
			why[0] = '\0';
			if (!r->is_empty_dict(e) && !(msg->dict = r->dict(e, why, sizeof(why))))
				return codec_fail(err, errlen, "%s: element %d: %s", schema->name, i,
				                  why[0] ? why : r->dict_why);
			break;
		}
		case WAMP_F_PAYLOAD:
			msg->payload.args = e->p;
			msg->payload.args_len = e->n;
			msg->payload.nonfinite = e->nonfinite;
			if (r->is_binary(e)) {
				/* one transparent binary payload */
				msg->payload.transparent = true;
				if (i + 1 < n)
					return codec_fail(err, errlen, "%s: nothing may follow a binary "
					                  "Payload", schema->name);
				break;
			}
			if (!r->is_list(e))
				return codec_fail(err, errlen, "%s: Arguments must be a list",
				                  schema->name);
			if (i + 1 < n) {
				e = &el[++i];
				if (!r->is_dict(e))
					return codec_fail(err, errlen, "%s: ArgumentsKw must be a dict",
					                  schema->name);
				msg->payload.kwargs = e->p;
				msg->payload.kwargs_len = e->n;
				msg->payload.nonfinite |= e->nonfinite;
			}
			break;
		default:
			return codec_fail(err, errlen, "%s: too many elements", schema->name);
		}
	}
	return WAMPD_OK;
}

/* One payload element: its span copied when it is in the writer's serializer already,
 * else converted (payload_element) and written as a value. */
CODEC_WALK bool codec_write_element(const struct codec_writer *w, void *state,
                                    const struct wamp_payload *p, bool kwargs,
                                    enum wampd_err *err)
{
	const uint8_t *span = kwargs ? p->kwargs : p->args;
	size_t n = kwargs ? p->kwargs_len : p->args_len;
	json_t *v;
	bool ok;

	if (span && p->ser == w->ser)
		return w->bytes(state, span, n) || (*err = WAMPD_ERR_NOMEM, false);
	if (!(v = payload_element(p, kwargs, err)))
		return false;
	ok = w->json(state, v);
	json_decref(v);
	if (!ok)
		*err = w->json_err;
	return ok;
}

/* The optional Details of UNSUBSCRIBED/UNREGISTERED (a last dict field the message may
 * end before) are written only when present. */
CODEC_WALK bool codec_dict_omitted(const struct wamp_msg *msg, const struct wamp_schema *schema,
                                   int f)
{
	return !msg->dict && schema->min_len < 3 && schema->fields[f + 1] == WAMP_F_END;
}

/*
 * Write msg's fields by its schema through w into the writer state `state` (the codec's:
 * its output buffer). false on failure; *err says why, or is WAMPD_OK for allocation
 * failures (the caller reports NOMEM). *err must be WAMPD_OK on entry.
 */
CODEC_WALK bool codec_encode_fields(const struct codec_writer *w, void *state,
                                    const struct wamp_msg *msg,
                                    const struct wamp_schema *schema, enum wampd_err *err)
{
	const struct wamp_payload *p = &msg->payload;
	bool has_args = p->args || p->args_v, has_kwargs = p->kwargs || p->kwargs_v;
	size_t count = 1;
	int nid = 0;

	for (int f = 0; schema->fields[f] != WAMP_F_END; f++) {
		if (schema->fields[f] == WAMP_F_PAYLOAD)
			count += has_kwargs ? 2 : has_args ? 1 : 0;
		else if (!(schema->fields[f] == WAMP_F_DICT && codec_dict_omitted(msg, schema, f)))
			count++;
	}
	if (!w->begin(state, count) || !w->uint(state, (uint64_t)msg->type))
		return false;
	for (int f = 0; schema->fields[f] != WAMP_F_END; f++) {
		enum wamp_field k = schema->fields[f];
		bool ok = true;

		if ((k == WAMP_F_DICT && codec_dict_omitted(msg, schema, f)) ||
		    (k == WAMP_F_PAYLOAD && !has_args && !has_kwargs))
			continue;
		if (w->sep && !w->sep(state))
			return false;
		switch (k) {
		case WAMP_F_ID:
		case WAMP_F_INT:
			ok = w->uint(state, msg->id[nid++]);
			break;
		case WAMP_F_URI:
		case WAMP_F_STRING:
			ok = w->string(state, msg->uri ? msg->uri : "", msg->uri ? msg->uri_len : 0);
			break;
		case WAMP_F_DICT:
			ok = msg->dict ? w->json(state, msg->dict)
			               : w->bytes(state, w->empty_dict, w->empty_len);
			break;
		case WAMP_F_PAYLOAD:
			/* ArgumentsKw without Arguments: an empty Arguments list before it */
			ok = has_args ? codec_write_element(w, state, p, false, err)
			              : w->bytes(state, w->empty_list, w->empty_len);
			if (ok && has_kwargs)
				ok = (!w->sep || w->sep(state)) && codec_write_element(w, state, p, true, err);
			break;
		default:
			break;
		}
		if (!ok)
			return false;
	}
	return !w->end || w->end(state);
}

#endif
