/*
 * err.c - URIs and texts for enum wampd_err, in one table so an error can never
 * have a URI without a description or be classified twice.
 */
#include "err.h"

struct err_info {
	const char *uri;
	const char *text;
	bool fatal;
};

static const struct err_info err_table[WAMPD_ERR__COUNT] = {
	[WAMPD_OK] = {"wamp.error.none", "no error", false},
	[WAMPD_ERR_INVALID_URI] = {"wamp.error.invalid_uri", "invalid URI", false},
	[WAMPD_ERR_NO_SUCH_PROCEDURE] = {"wamp.error.no_such_procedure",
	                                 "no callee registered for procedure", false},
	[WAMPD_ERR_PROCEDURE_EXISTS] = {"wamp.error.procedure_already_exists",
	                                "procedure already registered", false},
	[WAMPD_ERR_NO_SUCH_REGISTRATION] = {"wamp.error.no_such_registration",
	                                    "no such registration", false},
	[WAMPD_ERR_NO_SUCH_SUBSCRIPTION] = {"wamp.error.no_such_subscription",
	                                    "no such subscription", false},
	[WAMPD_ERR_INVALID_ARGUMENT] = {"wamp.error.invalid_argument", "invalid argument", false},
	[WAMPD_ERR_CANCELED] = {"wamp.error.canceled", "call canceled", false},
	[WAMPD_ERR_TIMEOUT] = {"wamp.error.timeout", "call timed out", false},
	[WAMPD_ERR_NOT_AUTHORIZED] = {"wamp.error.not_authorized", "not authorized", false},
	[WAMPD_ERR_OPTION_NOT_ALLOWED] = {"wamp.error.option_not_allowed", "option not allowed",
	                                  false},
	[WAMPD_ERR_FEATURE_NOT_SUPPORTED] = {"wamp.error.feature_not_supported",
	                                     "feature not supported", false},
	[WAMPD_ERR_NO_AVAILABLE_CALLEE] = {"wamp.error.no_available_callee", "no available callee",
	                                   false},
	[WAMPD_ERR_NO_SUCH_SESSION] = {"wamp.error.no_such_session", "no such session", false},
	[WAMPD_ERR_PAYLOAD_SIZE] = {"wamp.error.payload_size_exceeded",
	                            "message exceeds the size limit", false},
	[WAMPD_ERR_LIMIT] = {"wamp.error.limit_exceeded", "limit reached (subscriptions, registrations or pending calls of a session, or pending calls of the callee)", false},
	[WAMPD_ERR_SERIALIZATION] = {"wamp.error.invalid_argument",
	                             "payload cannot be converted to the receiver's serializer",
	                             false},
	[WAMPD_ERR_STORE] = {"wampd.error.store_failed",
	                     "the realm's event store could not keep the event", false},
	[WAMPD_ERR_PROTOCOL] = {"wamp.error.protocol_violation", "protocol violation", true},
	[WAMPD_ERR_TOO_BIG] = {"wamp.error.protocol_violation", "message exceeds the size limit",
	                       true},
	[WAMPD_ERR_NO_SUCH_REALM] = {"wamp.error.no_such_realm", "no such realm", true},
	[WAMPD_ERR_NO_SUCH_ROLE] = {"wamp.error.no_such_role", "no such role", true},
	[WAMPD_ERR_NO_SUCH_PRINCIPAL] = {"wamp.error.no_such_principal", "no such principal",
	                                 true},
	[WAMPD_ERR_AUTH_FAILED] = {"wamp.error.authentication_failed", "authentication failed",
	                           true},
	[WAMPD_ERR_NO_AUTH_METHOD] = {"wamp.error.no_matching_auth_method",
	                              "no matching authentication method", true},
	[WAMPD_ERR_SYSTEM_SHUTDOWN] = {"wamp.close.system_shutdown", "router shutting down", true},
	[WAMPD_ERR_KILLED] = {"wamp.close.killed", "session killed", true},
	[WAMPD_ERR_SESSION_LIMIT] = {"wamp.error.limit_exceeded", "session limit reached", true},
	[WAMPD_ERR_AUTHZ_PENDING] = {"wamp.error.internal_error", "authorization pending", false},
	[WAMPD_ERR_NOMEM] = {"wamp.error.internal_error", "out of memory", false},
	[WAMPD_ERR_INTERNAL] = {"wamp.error.internal_error", "internal error", false},
	[WAMPD_ERR_TRANSPORT_LOST] = {"wamp.close.transport_lost",
	                              "no connection to the router (not joined, or lost)", true},
};

static const struct err_info *err_lookup(enum wampd_err err)
{
	if ((unsigned)err >= WAMPD_ERR__COUNT || !err_table[err].uri)
		return &err_table[WAMPD_ERR_INTERNAL];
	return &err_table[err];
}

const char *wampd_err_uri(enum wampd_err err)
{
	return err_lookup(err)->uri;
}

const char *wampd_err_str(enum wampd_err err)
{
	return err_lookup(err)->text;
}

bool wampd_err_is_fatal(enum wampd_err err)
{
	return err_lookup(err)->fatal;
}
