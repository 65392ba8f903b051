/* bs-server.h: a BsClassifier served over HTTP.
 *
 *   POST /predict  {"text": "..."} or {"texts": [...]} → label(s) and probabilities
 *   GET  /         a self-contained web page to try the model
 *   GET  /health   {"status": "ok"} and the counters below
 *   GET  /model    name, architecture, labels, max_length, parameters
 *
 * The server has a thread of its own for the HTTP side (its own
 * GMainContext: the caller's context, a GUI's included, is never used) and
 * one batcher thread that runs the model: concurrent requests are queued
 * and classified together (dynamic batching), so throughput grows with the
 * load while one model call at a time keeps OpenBLAS and the engine's
 * thread pool from fighting over the cores. Bad input gets a JSON error
 * {"error": CODE, "detail": TEXT} with its status (400, 404, 405, 408, 413,
 * 422, 503) and the server keeps serving.
 *
 * Plain HTTP only. The API's JSON (error details included) is English
 * whatever the server's locale: it is read by programs and by people whose
 * language the server does not know. */
#pragma once

#include <gio/gio.h>

#include "bs-classifier.h"

G_BEGIN_DECLS

#define BS_SERVER_ERROR (bs_server_error_quark ())
GQuark bs_server_error_quark (void);

typedef enum
{
  BS_SERVER_ERROR_INVALID,  /* an option is out of range */
  BS_SERVER_ERROR_ADDRESS,  /* the host is not an address to listen on */
  BS_SERVER_ERROR_LISTEN,   /* the address could not be bound */
  BS_SERVER_ERROR_RUNNING,  /* started twice */
} BsServerError;

typedef struct
{
  char *host;                 /* an IP address or "localhost"; default 127.0.0.1 */
  guint port;                 /* default 8000; 0: any free port (see bs_server_get_port) */
  char *cors_origin;          /* Access-Control-Allow-Origin; NULL: no CORS (default); "*": anyone */
  char *model_name;           /* "model" in the answers; default "model" */
  gsize max_body;             /* bytes of a request body at most; default 1 MiB */
  guint max_texts;            /* texts in one request at most; default 256 */
  guint max_batch;            /* texts in one model call at most; default 32 */
  guint batch_wait_ms;        /* how long the first queued text waits for company; default 5 */
  guint max_queued;           /* texts waiting at most, then 503; default 4096 */
  guint request_timeout_ms;   /* to send a request, and to read an answer; default 30000 */
  BsTruncation truncation;    /* of texts longer than max_length, unless a request says; default head */
} BsServerOptions;

/* Fills options with the defaults. */
void bs_server_options_init (BsServerOptions *options);
void bs_server_options_clear (BsServerOptions *options);

#define BS_TYPE_SERVER (bs_server_get_type ())
G_DECLARE_FINAL_TYPE (BsServer, bs_server, BS, SERVER, GObject)

/* Takes ownership of classifier: the server frees it when finalized, and
 * nothing else may use it meanwhile (the batcher sets its truncation per
 * batch). options is copied; NULL: the defaults. */
BsServer *bs_server_new (BsClassifier *classifier,
                         const BsServerOptions *options);

/* Listens and starts the threads; on return the server answers. Start,
 * stop and the getters below but the counters may be called from any
 * thread, one at a time (the caller orders them). */
gboolean bs_server_start (BsServer *server,
                          GError **error);
/* Stops accepting requests (new ones get 503), waits until the requests in
 * flight are answered — at most request_timeout_ms — and then closes every
 * connection and joins the threads. Blocks; safe to call twice, or on a
 * server never started. */
void bs_server_stop (BsServer *server);

gboolean bs_server_is_running (BsServer *server);
/* "http://127.0.0.1:8000/", or NULL when not running. */
const char *bs_server_get_uri (BsServer *server);
/* The port listened on (the chosen one when the option was 0); 0 when not
 * running. */
guint bs_server_get_port (BsServer *server);
const BsClassifier *bs_server_get_classifier (BsServer *server);

/* Counters since the server was made (a restart keeps them), readable from
 * any thread at any time: model calls, the predict requests answered with
 * predictions, and the texts classified. */
guint64 bs_server_get_n_batches (BsServer *server);
guint64 bs_server_get_n_requests (BsServer *server);
guint64 bs_server_get_n_texts (BsServer *server);
/* Predict requests waiting for the model or being classified now. */
guint bs_server_get_n_pending (BsServer *server);

G_END_DECLS
