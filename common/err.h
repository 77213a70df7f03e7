/*
 * err.h - the one error enum every wampd layer returns.
 *
 * Handlers never write ERROR or ABORT themselves: they return one of these and
 * session_fail() (realm/session.c) turns it into the wire form. An error is either
 * "request-level" (answered with ERROR, session lives on) or "session-level"
 * (answered with ABORT and the transport is closed), see wampd_err_is_fatal().
 */
#ifndef WAMPD_COMMON_ERR_H
#define WAMPD_COMMON_ERR_H

#include <stdbool.h>

enum wampd_err {
	WAMPD_OK = 0,

	/* request-level: ERROR reply with the URI below, session stays */
	WAMPD_ERR_INVALID_URI,            /* wamp.error.invalid_uri */
	WAMPD_ERR_NO_SUCH_PROCEDURE,      /* wamp.error.no_such_procedure */
	WAMPD_ERR_PROCEDURE_EXISTS,       /* wamp.error.procedure_already_exists */
	WAMPD_ERR_NO_SUCH_REGISTRATION,   /* wamp.error.no_such_registration */
	WAMPD_ERR_NO_SUCH_SUBSCRIPTION,   /* wamp.error.no_such_subscription */
	WAMPD_ERR_INVALID_ARGUMENT,       /* wamp.error.invalid_argument */
	WAMPD_ERR_CANCELED,               /* wamp.error.canceled */
	WAMPD_ERR_TIMEOUT,                /* wamp.error.timeout */
	WAMPD_ERR_NOT_AUTHORIZED,         /* wamp.error.not_authorized */
	WAMPD_ERR_OPTION_NOT_ALLOWED,     /* wamp.error.option_not_allowed */
	WAMPD_ERR_FEATURE_NOT_SUPPORTED,  /* wamp.error.feature_not_supported */
	WAMPD_ERR_NO_AVAILABLE_CALLEE,    /* wamp.error.no_available_callee */
	WAMPD_ERR_NO_SUCH_SESSION,        /* wamp.error.no_such_session */
	WAMPD_ERR_PAYLOAD_SIZE,           /* wamp.error.payload_size_exceeded */
	WAMPD_ERR_LIMIT,                  /* a per-session limit (subscriptions, pending
	                                     calls, ...): wamp.error.limit_exceeded */
	WAMPD_ERR_SERIALIZATION,          /* payload could not be converted between
	                                     serializers: wamp.error.invalid_argument */
	WAMPD_ERR_STORE,                  /* the realm's event store failed to keep an event
	                                     (I/O, its Redis unreachable): the acknowledged
	                                     PUBLISH gets wampd.error.store_failed */

	/* session-level: ABORT with the URI below, then close */
	WAMPD_ERR_PROTOCOL,               /* wamp.error.protocol_violation */
	WAMPD_ERR_TOO_BIG,                /* message over the size limit:
	                                     wamp.error.protocol_violation, close 1009 */
	WAMPD_ERR_NO_SUCH_REALM,          /* wamp.error.no_such_realm */
	WAMPD_ERR_NO_SUCH_ROLE,           /* wamp.error.no_such_role */
	WAMPD_ERR_NO_SUCH_PRINCIPAL,      /* wamp.error.no_such_principal */
	WAMPD_ERR_AUTH_FAILED,            /* wamp.error.authentication_failed */
	WAMPD_ERR_NO_AUTH_METHOD,         /* wamp.error.no_matching_auth_method */
	WAMPD_ERR_SYSTEM_SHUTDOWN,        /* wamp.close.system_shutdown */
	WAMPD_ERR_KILLED,                 /* wamp.close.killed */
	WAMPD_ERR_SESSION_LIMIT,          /* too many sessions: wamp.error.limit_exceeded */

	/* internal: never reach the wire as such (mapped to a generic URI) */
	WAMPD_ERR_AUTHZ_PENDING,          /* a dynamic authorizer was asked: the request waits */
	WAMPD_ERR_NOMEM,                  /* allocation failed */
	WAMPD_ERR_INTERNAL,               /* a bug or an impossible state */
	WAMPD_ERR_TRANSPORT_LOST,         /* the client library's (client/): no session to send
	                                     on, or the connection ended before the answer:
	                                     wamp.close.transport_lost (Autobahn's name) */
	WAMPD_ERR__COUNT
};

/* The WAMP URI for err (a static string; never NULL). */
const char *wampd_err_uri(enum wampd_err err);

/* A short human-readable text for logs and Details.message (static string). */
const char *wampd_err_str(enum wampd_err err);

/* true when err ends the session (ABORT + close) rather than one request (ERROR). */
bool wampd_err_is_fatal(enum wampd_err err);

#endif
