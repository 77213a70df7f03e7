/*
 * config.h - wampd's configuration: the embedded default, and loading a file (JSON, or YAML:
 * config_file.c, config_yaml.c), given by name or as a Crossbar node directory (--cbdir).
 *
 * Native format (every key optional; unknown keys are errors naming their JSON path; any
 * string value that is exactly "${NAME}" is the environment variable NAME, see
 * config_env.c):
 *
 *   {
 *     "log_level": "info,router=debug,auth=warn",   (a default and per-module levels)
 *     "log_format": "text",                          (or "json": one JSON object a line)
 *     "admin": {"host": "127.0.0.1", "port": 8081, "ticket": "s3cret"},
 *                 (the admin HTTP listener: /metrics, /health, /status; off without it)
 *     "listeners": [ {"type": "websocket", "host": "127.0.0.1", "port": 8080,
 *                     "path": "/ws", "serializers": ["json", "msgpack"],
 *                     "auth": {...see config_auth.c...},
 *                     "tls": {"certificate": "server.pem", "key": "server.key",
 *                             "ca_certificates": "ca.pem", "require_client_cert": false}} ],
 *                             (ca_certificates: a file, or a list of files)
 *     "realms": [ {"name": "realm1", "uri_check": "loose", "call_timeout": 0,
 *                  "max_retained": 10000, "max_retained_bytes": 67108864,
 *                  "event_history": [{"uri": "com.app.log", "match": "prefix",
 *                                     "limit": 1000}], "max_history_bytes": 67108864,
 *                  "roles": [...see config_auth.c...], "authorizer_cache_ttl": 60000} ],
 *     "auto_create_realms": false,
 *     "limits": { "max_message_size": 16777216, "max_nesting_depth": 64,
 *                 "send_queue_bytes": 4194304, "max_sessions": 100000,
 *                 "max_subscriptions_per_session": 10000,
 *                 "max_registrations_per_session": 10000,
 *                 "max_pending_calls_per_session": 10000,
 *                 "max_pending_calls_per_callee": 10000,
 *                 "max_testament_bytes_per_session": 1048576,
 *                 "max_sessions_per_ip": 10000, "max_auth_failures_per_ip": 20,
 *                 "auth_failure_window": 60,
 *                 "hello_timeout": 10, "ping_interval": 30, "ping_timeout": 60 },
 *     "backplane": { "redis": "redis://127.0.0.1:6379/0", "node_id": "node-a",
 *                    "heartbeat_ttl": 5000 },
 *     "processes": [ ...see config_processes.c: guest programs and Python components
 *                    that wampd starts and supervises (router/workers/)... ]
 *   }
 *
 * listeners[].type: "universal" (default: WebSocket and RawSocket), "websocket",
 * "rawsocket", or "http": its "http" services only, no WebSocket upgrade (answered 404) and
 * no RawSocket (refused); its auth and serializers are its long-poll and SSE sessions'.
 * A configuration whose listeners serve no WAMP transport (config_serves_wamp) is valid,
 * and needs no realm: wampd warns once at start.
 * listeners[].reuse_port (default false) sets SO_REUSEPORT so several processes (cluster
 * nodes on one machine) listen on the same port; the kernel spreads connections.
 * Several listeners may name the same host and (non-zero) port: one socket serves them, and
 * each connection is served by exactly one of them, chosen by its WebSocket path (an exact
 * path first, then "*"), its first octet (the one listener of the port serving RawSocket)
 * or its HTTP service path (router/net/front.c); each keeps its own serializers, auth,
 * limits and services. They must agree on tls and reuse_port (config.c, cfg_ports).
 * listeners[].max_message_size / ping_interval / ping_timeout override limits' for one
 * listener's connections.
 * listeners[].allowed_origins (and listeners[].http.<path>.allowed_origins, which overrides
 * it for one service) lists the origins, '*' wildcards allowed, of the web pages allowed to
 * read the HTTP services' responses (CORS); without it, no CORS headers are sent.
 */
#ifndef WAMPD_ROUTER_CONFIG_H
#define WAMPD_ROUTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "common/log.h"
#include "realm/realm.h"

/* listeners in one configuration at most (their vhost names have four digits: front.h) */
#define CONFIG_MAX_LISTENERS 1000

enum http_service_type {
	HTTP_SVC_PUBLISHER = 0, /* POST {topic, args, kwargs, options} -> PUBLISH */
	HTTP_SVC_CALLER,        /* POST {procedure, args, kwargs, options} -> CALL */
	HTTP_SVC_WEBHOOK,       /* POST anything -> EVENT {headers, body} on a topic */
	HTTP_SVC_SSE,           /* GET ?topic=... -> text/event-stream of EVENTs */
	HTTP_SVC_LONGPOLL,      /* the WAMP HTTP long-poll transport */
	HTTP_SVC_STATIC,        /* GET/HEAD the files of a directory (config_web.c) */
	HTTP_SVC_REDIRECT,      /* any request -> a redirect to a fixed URL */
	HTTP_SVC_JSON,          /* GET/HEAD -> a fixed JSON document */
	HTTP_SVC_NODEINFO,      /* GET/HEAD -> this router's name, version, start (HTML/JSON) */
	HTTP_SVC_ARCHIVE,       /* GET/HEAD the files inside a ZIP archive (config_web.c) */
};

enum http_auth_mode { HTTP_AUTH_NONE = 0, HTTP_AUTH_TICKET, HTTP_AUTH_SIGNED };

/* One HTTP service at a path of a listener (listeners[].http, see config_http.c). */
struct http_service_config {
	enum http_service_type type;
	char *path;                 /* "/publish" */
	char *realm;                /* publisher, caller, webhook, sse */
	char *role;                 /* publisher, caller, webhook: the bridge session's authrole */
	size_t max_body;            /* request bodies beyond: 413 */
	enum http_auth_mode auth;   /* publisher, caller, webhook */
	char **tickets;             /* HTTP_AUTH_TICKET: accepted bearer tickets */
	size_t ntickets;
	char *key, *secret;         /* HTTP_AUTH_SIGNED */
	unsigned timestamp_delta_s; /* HTTP_AUTH_SIGNED: replay window */
	uint32_t call_timeout_ms;   /* caller: 504 after this */
	uint32_t max_pending;       /* caller: calls in flight; beyond: 503 */
	char *topic;                /* webhook */
	char *github_secret;        /* webhook: X-Hub-Signature-256 required when set */
	char **headers;             /* webhook: header names published (lower case); NULL:
	                               every header but credentials */
	size_t nheaders;
	enum match_policy match;    /* sse: default match of ?topic= */
	unsigned heartbeat_s;       /* sse: comment line after this much silence (0: none) */
	uint32_t max_topics;        /* sse: topics one stream may ask for */
	unsigned poll_timeout_s;    /* longpoll: a receive waits this long for a message */
	unsigned idle_timeout_s;    /* longpoll: a transport without requests is closed */
	uint32_t max_transports;    /* longpoll: open transports of this service */
	char **allowed_origins;     /* Origin patterns whose web pages may read this service's
	                               responses (CORS); NULL: the listener's */
	char *directory;            /* static: the directory served (absolute path) */
	bool directory_listing;     /* static: list a directory that has no index.html */
	uint32_t cache_timeout_s;   /* static, archive: Cache-Control max-age (0: no-cache,
	                               revalidate) */
	char *default_file;         /* static, archive: served (200) for a path naming nothing,
	                               or NULL */
	char **mime_types;          /* static, archive: ".ext", "type" pairs, NULL-terminated,
	                               or NULL */
	char *archive;              /* archive: the ZIP file served (absolute path) */
	char *object_prefix;        /* archive: the entries' folder inside the ZIP ("" or
	                               "a/b", no leading or trailing '/') */
	char *default_object;       /* archive: the entry served for a path ending in '/' */
	char *url;                  /* redirect: the Location */
	unsigned redirect_status;   /* redirect: 301, 302, 303, 307 or 308 */
	char *json;                 /* json: the document, rendered once */
};

struct listener_config {
	char *host;           /* interface address to bind; NULL = all interfaces */
	int port;             /* 0 = any free port (reported when listening) */
	char *path;           /* WebSocket path, e.g. "/ws"; "*" accepts any path */
	unsigned serializers; /* bit set: 1u << enum wamp_ser */
	struct auth_config auth; /* authentication methods offered on this listener */
	char *tls_cert;          /* PEM certificate (chain) path: TLS (wss://) when set */
	char *tls_key;           /* PEM private key path */
	char *tls_ca;            /* CA bundle to verify client certificates, or NULL */
	char **tls_ca_more;      /* more CA files (ca_certificates as a list: the rest),
	                            NULL-terminated, or NULL */
	bool tls_require_client_cert;
	bool websocket;          /* serves WebSocket (type websocket or universal) */
	bool rawsocket;          /* serves RawSocket (type rawsocket or universal) */
	bool serves_http;        /* answers HTTP requests: its services (type websocket,
	                            universal, or http: services only, nothing upgrades) */
	char *unix_path;         /* listen on this Unix domain socket instead of TCP, or NULL */
	struct http_service_config *http; /* HTTP services on this listener's port */
	size_t nhttp;
	bool reuse_port;         /* SO_REUSEPORT: several wampd processes share the port */
	/* Origin patterns (NULL-terminated; router/http/httpreq.h http_origin_allowed) of the web
	 * pages allowed to use this listener: the default of its HTTP services' CORS, and
	 * what the WebSocket handshake may check. NULL: not configured (no CORS headers) */
	char **allowed_origins;
	/* the listener whose socket serves this one: its index in config.listeners, this
	 * listener's own when it is the first on its host and port (a later one with the same
	 * host and non-zero port shares it; port 0 is a free port of each listener's own) */
	size_t port_owner;
	size_t max_message_size;   /* bytes of one WAMP message on this listener */
	unsigned ping_interval_s;  /* its WebSocket pings (0: none) ... */
	unsigned ping_timeout_s;   /* ... and when a silent peer is hung up on (0: never) */
};

/* A realm's event store (realm/store.h): "store": {"type", "path", "max_size", "durable"}. */
struct store_config {
	char *type;           /* "memory" (NULL: the default), "lmdb", "redis" */
	char *path;           /* lmdb: the directory of its environment */
	uint64_t max_size;    /* lmdb: the map size, the file's largest size in bytes */
	bool durable;         /* acknowledged PUBLISH answered once the event is stored */
};

#define STORE_DEFAULT_LMDB_MAX_SIZE (UINT64_C(1) << 30)

struct realm_config {
	char *name;
	enum uri_rule uri_rule;
	int64_t call_timeout_ms;            /* default CALL timeout, 0 = none */
	uint32_t max_retained;              /* retained events kept (0 = retention off) */
	uint64_t max_retained_bytes;        /* ... and the bytes they may hold */
	uint64_t max_history_bytes;         /* bytes all event histories may hold */
	struct history_config *history;     /* event history per (uri, match) */
	size_t nhistory;
	struct store_config store;          /* where retained events and history are kept */
	struct authz_config authz;          /* roles (none: everything allowed) */
	uint32_t resume_window_s;           /* resumable sessions: window (0: not offered) */
	uint64_t resume_max_bytes;          /* ... and the bound of a session's replay log */
	uint64_t resume_max_detached_bytes; /* ... of all its detached sessions' logs (0: the
	                                       default, REPLAY_MAX_DETACHED_BYTES_DEFAULT) */
};

/* The admin HTTP listener (router/admin/admin.c): metrics, health, status page. */
struct admin_config {
	bool enabled;         /* an "admin" object was configured (and not "enabled": false) */
	char *host;           /* interface to bind; NULL = all interfaces */
	int port;             /* 0 = any free port (printed as "listening admin http://...") */
	char *ticket;         /* bearer ticket every path but /health requires, or NULL */
};

enum process_type {
	PROCESS_GUEST = 0, /* any program (Crossbar's guest worker) */
	PROCESS_PYTHON,    /* Autobahn|Python components run by wampd's launcher (Crossbar's
	                      container worker, or a router worker's components) */
};

enum process_restart {
	RESTART_ON_FAILURE = 0, /* after a non-zero exit or a signal */
	RESTART_ALWAYS,         /* after any exit wampd did not ask for */
	RESTART_NEVER,
};

/* One Autobahn|Python ApplicationSession class of a "python" process. */
struct component_config {
	char *id;          /* its name in logs; a router component's authid */
	char *classname;   /* "package.module.Class", imported with the configuration's
	                      directory and the process's pythonpath on sys.path */
	char *realm;
	char *role;        /* router component (no transport): its authrole */
	json_t *extra;     /* ComponentConfig.extra (owned), or NULL */
	json_t *transport; /* where it connects (owned; Autobahn|Python's transport shape, as
	                      Crossbar's container components give it), or NULL: a router
	                      component, into wampd itself over the internal Unix socket */
};

/* One process wampd starts and supervises (config_processes.c, router/workers/). */
struct process_config {
	char *id;                   /* unique; [A-Za-z0-9_.-] */
	enum process_type type;
	char *executable;           /* guest: a name looked up in PATH or a path (relative: to
	                               workdir); python: the interpreter */
	char **arguments;           /* guest: NULL-terminated (argv[1..]); python: NULL */
	char *workdir;              /* absolute: relative ones are resolved against base_dir */
	bool env_inherit;           /* the whole environment of wampd (default) */
	char **env_keep;            /* when not: the names inherited (NULL-terminated), or NULL */
	char **env_vars;            /* "NAME=value" set on top (NULL-terminated), or NULL */
	bool log_stdout, log_stderr; /* into wampd's log (default); else /dev/null */
	enum process_restart restart;
	uint32_t restart_delay_ms;  /* the first restart's delay; doubled after each fast exit */
	uint32_t restart_delay_max_ms;
	uint32_t min_uptime_ms;     /* an exit before this is a fast one; a longer run resets
	                               the delay and the count */
	uint32_t give_up_after;     /* fast exits in a row, then no more restarts */
	uint32_t stop_timeout_ms;   /* SIGTERM, then SIGKILL after this */
	char **pythonpath;          /* python: absolute directories (NULL-terminated), or NULL */
	struct component_config *components; /* python */
	size_t ncomponents;
};

struct config {
	struct listener_config *listeners;
	size_t nlisteners;
	struct realm_config *realms;
	size_t nrealms;
	bool auto_create_realms;
	struct wlog_levels log_levels;  /* default and per-module levels */
	enum wlog_format log_format;
	struct admin_config admin;

	size_t max_message_size;    /* bytes of one WAMP message (reassembled) */
	unsigned max_depth;         /* nesting depth of one message */
	size_t send_queue_bytes;    /* per-session send queue bound */
	uint32_t max_sessions;      /* concurrent transport connections */
	uint32_t max_sessions_per_ip;      /* concurrent connections per address; 0: no limit */
	uint32_t max_auth_failures_per_ip; /* per auth_failure_window; then refused; 0: off */
	unsigned auth_failure_window_s;
	unsigned hello_timeout_s;   /* from WebSocket open to WELCOME */
	unsigned ping_interval_s;   /* idle seconds before a WebSocket ping */
	unsigned ping_timeout_s;    /* idle seconds before hanging up */
	struct realm_limits realm_limits;
	struct {
		char *redis;                /* "redis://[[user]:password@]host[:port][/db]": cluster
		                               backplane; NULL: off. Holds the password: never log it */
		char *redis_host;           /* parsed from it at load (config_parse_redis_url) */
		int redis_port;             /* default 6379 */
		int redis_db;               /* default 0 */
		char *redis_user;           /* AUTH user (Redis 6 ACL), or NULL */
		char *redis_password;       /* AUTH password (a secret), or NULL: no AUTH */
		char *node_id;              /* this node's id in the cluster; NULL: random */
		uint32_t heartbeat_ttl_ms;  /* a node silent this long is dead (default 5000) */
	} backplane;
	json_t *notes;              /* what a Crossbar configuration had that is not used:
	                               a list of "ignored: <path>: <reason>" (owned, or NULL) */
	char *base_dir;             /* the absolute directory the configuration's relative
	                               paths are relative to: the file's own directory, or
	                               --cbdir's (like Crossbar's cbdir); NULL for the embedded
	                               default. config_load_file has already made the paths it
	                               knows absolute with it (config_file.c:
	                               config_resolve_path); a service with paths of its own
	                               (static directories) resolves them the same way (owned) */
	struct process_config *processes; /* started and supervised by router/workers/ */
	size_t nprocesses;
};

/* Fill cfg with the embedded default: ws://127.0.0.1:8080/ws, realm "realm1" (loose URIs),
 * anonymous, JSON + MessagePack. Returns false on allocation failure. */
bool config_default(struct config *cfg);

/*
 * Load a configuration file: wampd's own format, or a Crossbar node configuration
 * (recognised by its "workers" list; translated by crossbar.c, with cfg->notes listing
 * what was not carried over), written in JSON, or in YAML when the name ends in .yaml or
 * .yml (config_yaml.c). Relative paths in it (TLS certificates, keys and CA bundles, Unix
 * socket paths) are relative to the file's directory, which becomes cfg->base_dir (as
 * Crossbar's are to its cbdir). On success fills cfg (caller frees with config_free) and
 * returns true. On failure returns false, cfg is left empty, and err holds a message naming
 * the file and the offending key (e.g. "config.json: limits.max_sesions: unknown key", or
 * "config.json: admin.ticket: environment variable ADMIN_TICKET is not set").
 */
bool config_load_file(const char *path, struct config *cfg, char *err, size_t errlen);

/*
 * Load the configuration of a Crossbar node directory (wampd --cbdir DIR, Crossbar's
 * `crossbar start --cbdir`): file, when given, relative to dir unless absolute; else
 * DIR/config.json or DIR/config.yaml (an error when both exist or neither does). Relative
 * paths in the file are relative to dir (cfg->base_dir). Returns and fails as
 * config_load_file.
 */
bool config_load_cbdir(const char *dir, const char *file, struct config *cfg, char *err,
                       size_t errlen);

/* path made absolute against cfg->base_dir (a copy when it already is, or when there is
 * no base_dir): a new string the caller frees, or NULL when out of memory. */
char *config_resolve_path(const struct config *cfg, const char *path);

/* Whether a client can open a WAMP session anywhere in cfg: a WebSocket or RawSocket
 * listener, or an HTTP long-poll service. false for a router serving HTTP services only
 * (Crossbar starts one: a web transport without WebSocket paths), which main.c warns
 * about once. */
bool config_serves_wamp(const struct config *cfg);

/* Release everything cfg owns and zero it. */
void config_free(struct config *cfg);

#endif
