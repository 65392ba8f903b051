/* bs-server.c: the prediction server.
 *
 * Threads. The SoupServer lives on a thread of its own ("bs-server-io")
 * that runs the server's GMainContext: it reads requests, checks them,
 * answers the cheap routes, and queues predict requests, each paused
 * (soup_server_message_pause). One batcher thread ("bs-server-batch")
 * takes from the queue up to max_batch texts, or what came within
 * batch_wait_ms of the first, runs one bs_classifier_predict for all of
 * them, writes each answer, and hands it back to the server's context
 * (g_main_context_invoke_full), which sets the response and unpauses the
 * message. One model call at a time is deliberate: OpenBLAS and the engine's
 * bs_parallel pool already use every core, and a second caller would only
 * take turns with the first (OpenBLAS serialises callers).
 *
 * Timeouts. SoupServer 3.2 has none (its idle-timeout belongs to
 * SoupSession) and no read deadline per request, so the server keeps one
 * timer per connection, keyed by its GSocket, moved along by the server's
 * signals: request-started (libsoup 3.2 emits it when a connection is
 * accepted, and on a kept-alive connection once the next request line is
 * in) arms it for reading, request-read disarms it while a request waits
 * for the model, the answer arms it for writing, request-finished arms it
 * for an idle keep-alive. So a client that never sends, sends half a
 * request, trickles bytes, stalls in the middle of a body or stops reading
 * its answer is cut off request_timeout_ms after it entered the stage it
 * is stuck in (the whole request has that long, not each read: a byte now
 * and then does not keep a connection). When one expires while the body of
 * a request is being read (the headers are in), the client gets "408
 * Request Timeout" with a JSON body, written straight to the socket, since
 * libsoup writes nothing until it has read the whole request; otherwise it
 * gets nothing.
 * Then the socket is shut down both ways, which libsoup sees as the peer
 * closing: it drops the request and closes the connection. Writing to the
 * socket beside libsoup is sound only because the server speaks plain HTTP
 * (no TLS stream in between) and libsoup is reading, not writing, then.
 *
 * Body limits. A Content-Length over max_body is refused from its headers
 * (an early handler); a chunked body is counted as it comes (got-chunk). In
 * both cases the rest of the body is read and dropped, not kept — libsoup
 * reads a request to its end before it writes an answer — and the
 * connection is closed after the 413; a client that sent "Expect:
 * 100-continue" gets the 413 at once and need not send the body.
 *
 * Stopping answers the requests in flight first (new ones get 503), then
 * closes the connections: see bs_server_stop. */
#include "config.h"

#include "bs-server.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "bs-json.h"
#include "bs-net-resources.h"

#define PAGE_RESOURCE "/io/github/bertstudio/BertStudio/net/bs-server-page.html"
/* the page's scripts and styles are inline and it talks only to us */
#define PAGE_CSP                                                                                                     \
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "              \
  "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

G_DEFINE_QUARK (bs-server-error-quark, bs_server_error)

/* ---- options ---- */

void
bs_server_options_init (BsServerOptions *o)
{
  memset (o, 0, sizeof *o);
  o->port = 8000;
  o->max_body = 1024 * 1024;
  o->max_texts = 256;
  o->max_batch = 32;
  o->batch_wait_ms = 5;
  o->max_queued = 4096;
  o->request_timeout_ms = 30000;
  o->truncation = BS_TRUNCATE_HEAD;
}

void
bs_server_options_clear (BsServerOptions *o)
{
  g_clear_pointer (&o->host, g_free);
  g_clear_pointer (&o->cors_origin, g_free);
  g_clear_pointer (&o->model_name, g_free);
}

static void
options_copy (BsServerOptions *to, const BsServerOptions *from)
{
  *to = *from;
  to->host = g_strdup (from->host != NULL ? from->host : "127.0.0.1");
  to->cors_origin = g_strdup (from->cors_origin);
  to->model_name = g_strdup (from->model_name != NULL ? from->model_name : "model");
}

/* ---- the object ---- */

typedef enum
{
  WATCH_READING, /* a request is coming in */
  WATCH_BUSY,    /* it waits for the model: no deadline */
  WATCH_WRITING, /* its answer is going out */
  WATCH_IDLE,    /* kept alive, waiting for the next request */
} WatchState;

/* The timer of one connection (I/O thread only). */
typedef struct
{
  BsServer *server;
  GSocket *socket;        /* owned */
  SoupServerMessage *msg; /* owned while reading */
  WatchState state;
  GSource *timer;
} ConnWatch;

/* A predict request from the queue to its answer. */
typedef struct
{
  BsServer *server;
  SoupServerMessage *msg; /* owned */
  char **texts;
  guint n_texts;
  gboolean single; /* {"text"}: answered with one prediction, not a list */
  BsTruncation truncation;
  gint64 received_us;
  guint status; /* the answer, written by the batcher */
  char *body;
} Pending;

struct _BsServer
{
  GObject parent_instance;

  BsClassifier *classifier;
  BsServerOptions options;
  char *model_json; /* GET /model */
  GBytes *page;     /* GET / */

  /* the caller's side */
  gboolean running;
  char *uri;
  guint port;
  GInetAddress *address;

  /* the I/O thread and what only it touches */
  GThread *io_thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *soup;
  GHashTable *watches;   /* GSocket* → ConnWatch* */
  GHashTable *in_flight; /* SoupServerMessage* (a ref), queued predict requests until written */
  gboolean stopping;

  GMutex start_lock; /* guards the four below: start and stop handshakes */
  GCond start_cond;
  gboolean io_ready;
  GError *io_error;
  gboolean drained;

  /* the batcher */
  GThread *batcher;
  GMutex lock; /* guards the queue, quit and the counters */
  GCond cond;
  GQueue queue; /* Pending* */
  guint queued_texts;
  gboolean quit;
  guint64 n_batches, n_requests, n_texts;
  guint n_pending; /* predict requests queued or being classified */
};

G_DEFINE_FINAL_TYPE (BsServer, bs_server, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_RUNNING,
  PROP_URI,
  PROP_PORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pending_free (gpointer data)
{
  Pending *p = data;
  if (p == NULL) /* handed over (run_batch) */
    return;
  g_clear_object (&p->msg);
  g_strfreev (p->texts);
  g_free (p->body);
  g_free (p);
}

static void
watch_free (gpointer data)
{
  ConnWatch *w = data;
  if (w->timer != NULL)
    {
      g_source_destroy (w->timer);
      g_source_unref (w->timer);
    }
  g_clear_object (&w->msg);
  g_object_unref (w->socket);
  g_free (w);
}

/* ---- answers ---- */

static void
add_cors_headers (BsServer *self, SoupServerMessage *msg)
{
  if (self->options.cors_origin == NULL)
    return;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", self->options.cors_origin);
  /* a fixed origin other than * makes the answer depend on who asks */
  if (strcmp (self->options.cors_origin, "*") != 0)
    soup_message_headers_replace (h, "Vary", "Origin");
}

static void
respond_json (BsServer *self, SoupServerMessage *msg, guint status, char *json /* taken */)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  add_cors_headers (self, msg);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, json, strlen (json));
}

static char *
error_json (const char *code, const char *detail)
{
  GString *s = g_string_new ("{\"error\": ");
  bs_json_append_string (s, code);
  g_string_append (s, ", \"detail\": ");
  bs_json_append_string (s, detail);
  g_string_append (s, "}");
  return g_string_free (s, FALSE);
}

/* code: a stable word for programs; detail: a sentence for people. */
G_GNUC_PRINTF (5, 6)
static void
respond_error (BsServer *self, SoupServerMessage *msg, guint status, const char *code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *detail = g_strdup_vprintf (format, args);
  va_end (args);
  respond_json (self, msg, status, error_json (code, detail));
}

static void
close_after_answer (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
respond_too_large (BsServer *self, SoupServerMessage *msg)
{
  /* the rest of the body is read but not kept, and the connection not reused */
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  close_after_answer (msg);
  respond_error (self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                 "the request body is larger than %" G_GSIZE_FORMAT " bytes", self->options.max_body);
}

static void
append_double (GString *s, const char *format, double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  /* not printf: the process's locale may write a decimal comma */
  g_string_append (s, g_ascii_formatd (buffer, sizeof buffer, format, value));
}

/* "label": ..., "label_id": ..., "probabilities": {...} */
static void
append_prediction (GString *s, const BsClassifier *c, const float *p)
{
  int n_labels = bs_classifier_get_n_labels (c), best = 0;
  for (int k = 1; k < n_labels; k++)
    if (p[k] > p[best])
      best = k;
  g_string_append (s, "\"label\": ");
  bs_json_append_string (s, bs_classifier_get_label (c, best));
  g_string_append_printf (s, ", \"label_id\": %d, \"probabilities\": {", best);
  for (int k = 0; k < n_labels; k++)
    {
      if (k > 0)
        g_string_append (s, ", ");
      bs_json_append_string (s, bs_classifier_get_label (c, k));
      g_string_append (s, ": ");
      /* nine digits give the float back exactly */
      append_double (s, "%.9g", p[k]);
    }
  g_string_append (s, "}");
}

static char *
build_model_json (BsServer *self)
{
  const BsClassifier *c = self->classifier;
  const BsModel *model = bs_classifier_get_model (c);
  const BsConfig *config = bs_model_get_config (model);
  GString *s = g_string_new ("{\"name\": ");
  bs_json_append_string (s, self->options.model_name);
  g_string_append (s, ", \"architecture\": ");
  bs_json_append_string (s, bs_arch_model_type (config->arch));
  g_string_append (s, ", \"labels\": [");
  for (int k = 0; k < bs_classifier_get_n_labels (c); k++)
    {
      if (k > 0)
        g_string_append (s, ", ");
      bs_json_append_string (s, bs_classifier_get_label (c, k));
    }
  g_string_append_printf (s, "], \"max_length\": %u, \"parameters\": %" G_GSIZE_FORMAT ", \"truncation\": ",
                          bs_classifier_get_max_length (c), bs_model_get_n_weights (model));
  bs_json_append_string (s, bs_truncation_to_string (self->options.truncation));
  g_string_append_printf (s, ", \"limits\": {\"max_body\": %" G_GSIZE_FORMAT ", \"max_texts\": %u}}",
                          self->options.max_body, self->options.max_texts);
  return g_string_free (s, FALSE);
}

/* ---- connection timers (I/O thread) ---- */

static gboolean on_watch_expired (gpointer data);

static void
watch_set_state (ConnWatch *w, WatchState state)
{
  w->state = state;
  if (w->timer != NULL)
    {
      g_source_destroy (w->timer);
      g_clear_pointer (&w->timer, g_source_unref);
    }
  if (state == WATCH_BUSY)
    return;
  w->timer = g_timeout_source_new (w->server->options.request_timeout_ms);
  g_source_set_callback (w->timer, on_watch_expired, w, NULL);
  g_source_set_static_name (w->timer, "bs-server request timeout");
  g_source_attach (w->timer, w->server->context);
}

static ConnWatch *
lookup_watch (BsServer *self, SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  return socket != NULL ? g_hash_table_lookup (self->watches, socket) : NULL;
}

static void
send_raw_timeout (BsServer *self, GSocket *socket)
{
  g_autofree char *body = error_json ("timeout", "the request was not received in time");
  g_autoptr (GString) s = g_string_new ("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                                        "Content-Type: application/json\r\nCache-Control: no-store\r\n");
  if (self->options.cors_origin != NULL)
    g_string_append_printf (s, "Access-Control-Allow-Origin: %s\r\n", self->options.cors_origin);
  g_string_append_printf (s, "Content-Length: %zu\r\n\r\n%s", strlen (body), body);
  /* best effort: a send buffer too full for a few hundred bytes means a
   * client that does not read either */
  g_socket_send (socket, s->str, s->len, NULL, NULL);
}

static gboolean
on_watch_expired (gpointer data)
{
  ConnWatch *w = data;
  BsServer *self = w->server;
  g_clear_pointer (&w->timer, g_source_unref); /* destroyed by returning REMOVE */
  if (!g_socket_is_closed (w->socket))
    {
      if (w->state == WATCH_READING && w->msg != NULL && soup_server_message_get_method (w->msg) != NULL)
        send_raw_timeout (self, w->socket);
      g_socket_shutdown (w->socket, TRUE, TRUE, NULL);
    }
  /* a socket without a watch is one timed out (see handle_request) */
  g_hash_table_remove (self->watches, w->socket);
  return G_SOURCE_REMOVE;
}

static void
on_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  BsServer *self = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);
  if (socket == NULL)
    return;
  ConnWatch *w = g_hash_table_lookup (self->watches, socket);
  if (w == NULL)
    {
      w = g_new0 (ConnWatch, 1);
      w->server = self;
      w->socket = g_object_ref (socket);
      g_hash_table_insert (self->watches, socket, w);
    }
  g_set_object (&w->msg, msg);
  watch_set_state (w, WATCH_READING);
}

static void
on_request_read (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  ConnWatch *w = lookup_watch (user_data, msg);
  if (w == NULL)
    return;
  g_clear_object (&w->msg);
  /* writing unless the handler queues it (BUSY) */
  watch_set_state (w, WATCH_WRITING);
}

static void
on_request_done (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  BsServer *self = user_data;
  ConnWatch *w = lookup_watch (self, msg);
  if (w != NULL && (w->msg == NULL || w->msg == msg))
    {
      g_clear_object (&w->msg);
      watch_set_state (w, WATCH_IDLE);
    }
  if (g_hash_table_remove (self->in_flight, msg) && self->stopping && g_hash_table_size (self->in_flight) == 0)
    {
      g_mutex_lock (&self->start_lock);
      self->drained = TRUE;
      g_cond_broadcast (&self->start_cond);
      g_mutex_unlock (&self->start_lock);
    }
}

/* ---- body limits ---- */

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  BsServer *self = user_data;
  if (soup_server_message_get_status (msg) != 0)
    return;
  if ((gsize) soup_server_message_get_request_body (msg)->length > self->options.max_body)
    respond_too_large (self, msg);
}

static void
early_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  BsServer *self = user_data;
  if (g_strcmp0 (path, "/predict") != 0 || g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    {
      /* no other route reads a body */
      soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
      return;
    }
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && (guint64) soup_message_headers_get_content_length (headers) > self->options.max_body)
    {
      respond_too_large (self, msg);
      return;
    }
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (on_got_chunk), self, 0);
}

/* ---- predict ---- */

/* Reads a predict body into p; FALSE when the request was answered (an
 * error) instead. */
static gboolean
parse_predict (BsServer *self, SoupServerMessage *msg, Pending *p)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if ((gsize) body->length > self->options.max_body)
    {
      respond_too_large (self, msg);
      return FALSE;
    }
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize length = 0;
  const char *data = g_bytes_get_data (bytes, &length);
  const char *problem = NULL;
  if (length == 0)
    {
      respond_error (self, msg, SOUP_STATUS_BAD_REQUEST, "invalid_json",
                     "the body is empty: send {\"text\": \"...\"} or {\"texts\": [...]}");
      return FALSE;
    }
  if (!bs_json_check (data, length, &problem))
    {
      respond_error (self, msg, SOUP_STATUS_BAD_REQUEST, "invalid_json", "the body is not JSON: %s", problem);
      return FALSE;
    }
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_data (parser, data, (gssize) length, &error))
    {
      respond_error (self, msg, SOUP_STATUS_BAD_REQUEST, "invalid_json", "the body is not JSON: %s", error->message);
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input",
                     "the body must be a JSON object: {\"text\": \"...\"} or {\"texts\": [...]}");
      return FALSE;
    }
  JsonObject *object = json_node_get_object (root);
  JsonNode *text = json_object_get_member (object, "text");
  JsonNode *texts = json_object_get_member (object, "texts");
  JsonNode *truncation = json_object_get_member (object, "truncation");
  p->truncation = self->options.truncation;
  if (truncation != NULL
      && (json_node_get_value_type (truncation) != G_TYPE_STRING
          || !bs_truncation_from_string (json_node_get_string (truncation), &p->truncation)))
    {
      respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input",
                     "\"truncation\" must be \"head\" or \"head+tail\"");
      return FALSE;
    }
  if ((text == NULL) == (texts == NULL))
    {
      respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input",
                     text == NULL ? "the object has neither \"text\" nor \"texts\""
                                  : "the object has both \"text\" and \"texts\": send one");
      return FALSE;
    }
  if (text != NULL)
    {
      if (json_node_get_value_type (text) != G_TYPE_STRING)
        {
          respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input", "\"text\" must be a string");
          return FALSE;
        }
      p->single = TRUE;
      p->n_texts = 1;
      p->texts = g_new0 (char *, 2);
      p->texts[0] = g_strdup (json_node_get_string (text));
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (texts))
    {
      respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input",
                     "\"texts\" must be a list of strings");
      return FALSE;
    }
  JsonArray *array = json_node_get_array (texts);
  guint n = json_array_get_length (array);
  if (n == 0)
    {
      respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input", "\"texts\" is an empty list");
      return FALSE;
    }
  if (n > self->options.max_texts)
    {
      respond_error (self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_many_texts",
                     "%u texts in one request, at most %u", n, self->options.max_texts);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (json_node_get_value_type (json_array_get_element (array, i)) != G_TYPE_STRING)
      {
        respond_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "invalid_input", "texts[%u] is not a string", i);
        return FALSE;
      }
  p->n_texts = n;
  p->texts = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    p->texts[i] = g_strdup (json_array_get_string_element (array, i));
  return TRUE;
}

static void
handle_predict (BsServer *self, SoupServerMessage *msg, ConnWatch *w)
{
  Pending *p = g_new0 (Pending, 1);
  if (!parse_predict (self, msg, p))
    {
      pending_free (p);
      return;
    }
  p->server = self;
  p->msg = g_object_ref (msg);
  p->received_us = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  /* a request larger than the queue still gets in when the queue is empty */
  gboolean full = self->queued_texts > 0 && self->queued_texts + p->n_texts > self->options.max_queued;
  if (!full)
    {
      g_queue_push_tail (&self->queue, p);
      self->queued_texts += p->n_texts;
      self->n_pending++;
      g_cond_signal (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  if (full)
    {
      pending_free (p);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
      respond_error (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy",
                     "%u texts are waiting for the model already: try again shortly", self->options.max_queued);
      return;
    }
  g_hash_table_add (self->in_flight, g_object_ref (msg));
  soup_server_message_pause (msg);
  watch_set_state (w, WATCH_BUSY);
}

/* On the server's context: the batcher's answer to one request. */
static gboolean
deliver (gpointer data)
{
  Pending *p = data;
  BsServer *self = p->server;
  /* not there: the connection went away meanwhile */
  if (!g_hash_table_contains (self->in_flight, p->msg))
    return G_SOURCE_REMOVE;
  respond_json (self, p->msg, p->status, g_steal_pointer (&p->body));
  soup_server_message_unpause (p->msg);
  ConnWatch *w = lookup_watch (self, p->msg);
  if (w != NULL)
    watch_set_state (w, WATCH_WRITING);
  return G_SOURCE_REMOVE;
}

static void
run_batch (BsServer *self, GPtrArray *batch, guint n_texts, BsTruncation truncation)
{
  BsClassifier *c = self->classifier;
  int n_labels = bs_classifier_get_n_labels (c);
  g_autofree const char **texts = g_new (const char *, n_texts);
  guint at = 0;
  for (guint i = 0; i < batch->len; i++)
    {
      Pending *p = batch->pdata[i];
      for (guint k = 0; k < p->n_texts; k++)
        texts[at++] = p->texts[k];
    }
  g_autofree float *probs = g_new (float, (gsize) n_texts * n_labels);
  g_autoptr (GError) error = NULL;
  /* only this thread calls the classifier */
  bs_classifier_set_truncation (c, truncation);
  gboolean ok = bs_classifier_predict (c, texts, n_texts, probs, &error);

  at = 0;
  for (guint i = 0; i < batch->len; i++)
    {
      Pending *p = batch->pdata[i];
      if (!ok)
        {
          p->status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
          p->body = error_json ("prediction_failed", error->message);
          continue;
        }
      GString *s = g_string_new ("{");
      if (p->single)
        append_prediction (s, c, probs + (gsize) at * n_labels);
      else
        {
          g_string_append (s, "\"predictions\": [");
          for (guint k = 0; k < p->n_texts; k++)
            {
              g_string_append (s, k > 0 ? ", {" : "{");
              append_prediction (s, c, probs + (gsize) (at + k) * n_labels);
              g_string_append (s, "}");
            }
          g_string_append (s, "]");
        }
      at += p->n_texts;
      g_string_append (s, ", \"model\": ");
      bs_json_append_string (s, self->options.model_name);
      g_string_append (s, ", \"elapsed_ms\": ");
      append_double (s, "%.3f", (g_get_monotonic_time () - p->received_us) / 1000.0);
      g_string_append (s, "}");
      p->status = SOUP_STATUS_OK;
      p->body = g_string_free (s, FALSE);
    }

  g_mutex_lock (&self->lock);
  self->n_batches++;
  self->n_pending -= batch->len;
  if (ok)
    {
      self->n_requests += batch->len;
      self->n_texts += n_texts;
    }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < batch->len; i++)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, deliver, g_steal_pointer (&batch->pdata[i]),
                                pending_free);
}

static gpointer
batcher_main (gpointer data)
{
  BsServer *self = data;
  gint64 wait_us = (gint64) self->options.batch_wait_ms * 1000;
  g_mutex_lock (&self->lock);
  for (;;)
    {
      while (!self->quit && g_queue_is_empty (&self->queue))
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        break;
      /* company for the first text: until max_batch texts wait, or its
       * wait is over (at once when the model made it wait already) */
      Pending *first = g_queue_peek_head (&self->queue);
      gint64 deadline = first->received_us + wait_us;
      while (!self->quit && self->queued_texts < self->options.max_batch && g_get_monotonic_time () < deadline)
        g_cond_wait_until (&self->cond, &self->lock, deadline);
      if (self->quit)
        break;

      /* whole requests in order, of one truncation, max_batch texts at most
       * (but a larger first request goes alone) */
      g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (pending_free);
      BsTruncation truncation = first->truncation;
      guint n = 0;
      while (!g_queue_is_empty (&self->queue))
        {
          Pending *p = g_queue_peek_head (&self->queue);
          if (batch->len > 0 && (p->truncation != truncation || n + p->n_texts > self->options.max_batch))
            break;
          g_ptr_array_add (batch, g_queue_pop_head (&self->queue));
          n += p->n_texts;
        }
      self->queued_texts -= n;
      g_mutex_unlock (&self->lock);
      run_batch (self, batch, n, truncation);
      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* ---- routes ---- */

typedef struct
{
  const char *path;
  const char *allow; /* the methods, as in an Allow header */
} Route;

static const Route routes[] = {
  { "/", "GET, HEAD, OPTIONS" },
  { "/health", "GET, HEAD, OPTIONS" },
  { "/model", "GET, HEAD, OPTIONS" },
  { "/predict", "POST, OPTIONS" },
};

static void
handle_request (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  BsServer *self = user_data;
  ConnWatch *w = lookup_watch (self, msg);
  if (w == NULL)
    {
      /* timed out: libsoup saw the shut socket as the end of the request */
      soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_TIMEOUT, NULL);
      return;
    }
  const char *method = soup_server_message_get_method (msg);
  const Route *route = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    if (g_strcmp0 (path, routes[i].path) == 0)
      route = &routes[i];
  if (route == NULL)
    {
      respond_error (self, msg, SOUP_STATUS_NOT_FOUND, "not_found",
                     "no such path: try POST /predict, GET /, GET /health or GET /model");
      return;
    }
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  if (g_strcmp0 (method, "OPTIONS") == 0)
    {
      soup_message_headers_replace (response_headers, "Allow", route->allow);
      if (self->options.cors_origin != NULL)
        {
          /* the preflight of a browser's cross-origin request */
          add_cors_headers (self, msg);
          soup_message_headers_replace (response_headers, "Access-Control-Allow-Methods", route->allow);
          soup_message_headers_replace (response_headers, "Access-Control-Allow-Headers", "Content-Type");
          soup_message_headers_replace (response_headers, "Access-Control-Max-Age", "600");
        }
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }
  gboolean is_get = g_strcmp0 (method, "GET") == 0 || g_strcmp0 (method, "HEAD") == 0;
  gboolean is_predict = route == &routes[G_N_ELEMENTS (routes) - 1];
  if (is_predict ? g_strcmp0 (method, "POST") != 0 : !is_get)
    {
      soup_message_headers_replace (response_headers, "Allow", route->allow);
      respond_error (self, msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "%s %s: use %s",
                     method != NULL ? method : "?", route->path, is_predict ? "POST" : "GET");
      return;
    }
  if (self->stopping)
    {
      close_after_answer (msg);
      respond_error (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "stopping", "the server is stopping");
      return;
    }
  if (is_predict)
    handle_predict (self, msg, w);
  else if (g_strcmp0 (path, "/health") == 0)
    {
      g_mutex_lock (&self->lock);
      /* the counters, for monitoring and bench/bench-server.sh */
      char *json = g_strdup_printf ("{\"status\": \"ok\", \"requests\": %" G_GUINT64_FORMAT
                                    ", \"texts\": %" G_GUINT64_FORMAT ", \"batches\": %" G_GUINT64_FORMAT
                                    ", \"pending\": %u}",
                                    self->n_requests, self->n_texts, self->n_batches, self->n_pending);
      g_mutex_unlock (&self->lock);
      respond_json (self, msg, SOUP_STATUS_OK, json);
    }
  else if (g_strcmp0 (path, "/model") == 0)
    respond_json (self, msg, SOUP_STATUS_OK, g_strdup (self->model_json));
  else
    {
      soup_message_headers_replace (response_headers, "Content-Security-Policy", PAGE_CSP);
      soup_message_headers_replace (response_headers, "X-Content-Type-Options", "nosniff");
      add_cors_headers (self, msg);
      gsize size = 0;
      const char *page = g_bytes_get_data (self->page, &size);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC, page, size);
    }
}

/* ---- the I/O thread ---- */

/* Connections waiting to be accepted: a burst of clients (wrk opens 64 at
 * once) overflows GSocket's default of 10, and the kernel then drops their
 * handshakes and resets some of them. The kernel caps it at somaxconn. */
#define LISTEN_BACKLOG 1024

static GSocket *
listen_socket (GInetAddress *address, guint port, GError **error)
{
  g_autoptr (GSocket) socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_autoptr (GSocketAddress) where = g_inet_socket_address_new (address, port);
  /* allow_reuse: a restart does not wait for the old connections' TIME_WAIT */
  if (!g_socket_bind (socket, where, TRUE, error))
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static gpointer
io_main (gpointer data)
{
  BsServer *self = data;
  g_main_context_push_thread_default (self->context);
  g_autoptr (GError) error = NULL;
  self->soup = soup_server_new ("server-header", "bert-studio/" PACKAGE_VERSION " ", NULL);
  soup_server_add_early_handler (self->soup, NULL, early_handler, self, NULL);
  soup_server_add_handler (self->soup, NULL, handle_request, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (on_request_started), self);
  g_signal_connect (self->soup, "request-read", G_CALLBACK (on_request_read), self);
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (on_request_done), self);
  g_signal_connect (self->soup, "request-aborted", G_CALLBACK (on_request_done), self);

  g_autoptr (GSocket) listener = listen_socket (self->address, self->options.port, &error);
  gboolean ok = listener != NULL && soup_server_listen_socket (self->soup, listener, 0, &error);
  guint port = 0;
  if (ok)
    {
      /* the socket's own address: soup_server_get_uris would leave libsoup
       * 3.2 with one it never frees */
      g_autoptr (GSocketAddress) bound = g_socket_get_local_address (listener, NULL);
      if (G_IS_INET_SOCKET_ADDRESS (bound))
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    }
  g_mutex_lock (&self->start_lock);
  self->io_ready = TRUE;
  if (ok)
    self->port = port;
  else
    {
      g_autofree char *host = g_inet_address_to_string (self->address);
      g_set_error (&self->io_error, BS_SERVER_ERROR, BS_SERVER_ERROR_LISTEN,
                   /* Translators: an address, a port number and why listening failed */
                   _("Cannot listen on %s port %u: %s"), host, self->options.port, error->message);
    }
  g_cond_broadcast (&self->start_cond);
  g_mutex_unlock (&self->start_lock);

  if (ok)
    g_main_loop_run (self->loop);

  g_clear_object (&self->soup);
  g_hash_table_remove_all (self->watches);
  g_hash_table_remove_all (self->in_flight);
  /* what closing the connections left to do */
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* At low priority, after the answers already handed over. */
static gboolean
io_shutdown (gpointer data)
{
  BsServer *self = data;
  soup_server_disconnect (self->soup);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
io_begin_stopping (gpointer data)
{
  BsServer *self = data;
  self->stopping = TRUE;
  g_mutex_lock (&self->start_lock);
  self->drained = g_hash_table_size (self->in_flight) == 0;
  g_cond_broadcast (&self->start_cond);
  g_mutex_unlock (&self->start_lock);
  return G_SOURCE_REMOVE;
}

static gboolean
parse_host (const char *host, GInetAddress **out, GError **error)
{
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    *out = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    *out = g_inet_address_new_from_string (host);
  if (*out == NULL)
    {
      g_set_error (error, BS_SERVER_ERROR, BS_SERVER_ERROR_ADDRESS,
                   /* Translators: %s is the host the user gave; keep the addresses as they are */
                   _("“%s” is not an IP address to listen on (such as 127.0.0.1, ::1 or 0.0.0.0)"), host);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_options (const BsServerOptions *o, GError **error)
{
  const char *what = NULL;
  if (o->port > 65535)
    what = "port";
  else if (o->max_body < 64)
    what = "max_body";
  else if (o->max_texts < 1)
    what = "max_texts";
  else if (o->max_batch < 1)
    what = "max_batch";
  else if (o->max_queued < 1)
    what = "max_queued";
  else if (o->request_timeout_ms < 1)
    what = "request_timeout_ms";
  else if (o->batch_wait_ms > 10000)
    what = "batch_wait_ms";
  if (what == NULL)
    return TRUE;
  g_set_error (error, BS_SERVER_ERROR, BS_SERVER_ERROR_INVALID,
               /* Translators: %s is the name of a setting, such as max_batch */
               _("The server's setting “%s” is out of range"), what);
  return FALSE;
}

gboolean
bs_server_start (BsServer *self, GError **error)
{
  g_return_val_if_fail (BS_IS_SERVER (self), FALSE);
  if (self->running)
    {
      g_set_error_literal (error, BS_SERVER_ERROR, BS_SERVER_ERROR_RUNNING, _("The server is running already"));
      return FALSE;
    }
  if (!check_options (&self->options, error))
    return FALSE;
  g_clear_object (&self->address);
  if (!parse_host (self->options.host, &self->address, error))
    return FALSE;

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->watches = g_hash_table_new_full (NULL, NULL, NULL, watch_free);
  self->in_flight = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->stopping = FALSE;
  self->io_ready = FALSE;
  self->drained = FALSE;
  self->quit = FALSE;
  self->port = 0;
  self->io_thread = g_thread_new ("bs-server-io", io_main, self);
  g_mutex_lock (&self->start_lock);
  while (!self->io_ready)
    g_cond_wait (&self->start_cond, &self->start_lock);
  GError *io_error = g_steal_pointer (&self->io_error);
  g_mutex_unlock (&self->start_lock);
  if (io_error != NULL)
    {
      g_thread_join (g_steal_pointer (&self->io_thread));
      g_clear_pointer (&self->loop, g_main_loop_unref);
      g_clear_pointer (&self->context, g_main_context_unref);
      g_clear_pointer (&self->watches, g_hash_table_unref);
      g_clear_pointer (&self->in_flight, g_hash_table_unref);
      g_propagate_error (error, io_error);
      return FALSE;
    }
  self->batcher = g_thread_new ("bs-server-batch", batcher_main, self);

  g_autofree char *host = g_inet_address_to_string (self->address);
  self->uri = g_uri_join (G_URI_FLAGS_NONE, "http", NULL, host, (int) self->port, "/", NULL, NULL);
  self->running = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URI]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

void
bs_server_stop (BsServer *self)
{
  g_return_if_fail (BS_IS_SERVER (self));
  if (!self->running)
    return;

  /* 1. refuse new requests and wait for those in flight to be answered */
  g_main_context_invoke (self->context, io_begin_stopping, self);
  gint64 deadline = g_get_monotonic_time () + (gint64) self->options.request_timeout_ms * 1000;
  g_mutex_lock (&self->start_lock);
  while (!self->drained)
    if (!g_cond_wait_until (&self->start_cond, &self->start_lock, deadline))
      break;
  g_mutex_unlock (&self->start_lock);

  /* 2. the batcher ends after its current batch */
  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (g_steal_pointer (&self->batcher));
  g_mutex_lock (&self->lock);
  g_queue_clear_full (&self->queue, pending_free);
  self->queued_texts = 0;
  self->n_pending = 0;
  g_mutex_unlock (&self->lock);

  /* 3. close the connections, after the answers already handed over */
  g_main_context_invoke_full (self->context, G_PRIORITY_LOW, io_shutdown, self, NULL);
  g_thread_join (g_steal_pointer (&self->io_thread));
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->watches, g_hash_table_unref);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);

  self->running = FALSE;
  self->port = 0;
  g_clear_pointer (&self->uri, g_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URI]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* ---- GObject ---- */

BsServer *
bs_server_new (BsClassifier *classifier, const BsServerOptions *options)
{
  g_return_val_if_fail (classifier != NULL, NULL);
  BsServer *self = g_object_new (BS_TYPE_SERVER, NULL);
  self->classifier = classifier;
  BsServerOptions defaults;
  bs_server_options_init (&defaults);
  options_copy (&self->options, options != NULL ? options : &defaults);
  self->model_json = build_model_json (self);
  self->page = g_resource_lookup_data (bs_net_get_resource (), PAGE_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_assert (self->page != NULL);
  return self;
}

gboolean
bs_server_is_running (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), FALSE);
  return self->running;
}

const char *
bs_server_get_uri (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), NULL);
  return self->uri;
}

guint
bs_server_get_port (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), 0);
  return self->port;
}

const BsClassifier *
bs_server_get_classifier (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), NULL);
  return self->classifier;
}

static guint64
read_counter (BsServer *self, const guint64 *counter)
{
  g_mutex_lock (&self->lock);
  guint64 value = *counter;
  g_mutex_unlock (&self->lock);
  return value;
}

guint
bs_server_get_n_pending (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), 0);
  g_mutex_lock (&self->lock);
  guint n = self->n_pending;
  g_mutex_unlock (&self->lock);
  return n;
}

guint64
bs_server_get_n_batches (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), 0);
  return read_counter (self, &self->n_batches);
}

guint64
bs_server_get_n_requests (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), 0);
  return read_counter (self, &self->n_requests);
}

guint64
bs_server_get_n_texts (BsServer *self)
{
  g_return_val_if_fail (BS_IS_SERVER (self), 0);
  return read_counter (self, &self->n_texts);
}

static void
bs_server_dispose (GObject *object)
{
  bs_server_stop (BS_SERVER (object));
  G_OBJECT_CLASS (bs_server_parent_class)->dispose (object);
}

static void
bs_server_finalize (GObject *object)
{
  BsServer *self = BS_SERVER (object);
  bs_classifier_free (self->classifier);
  bs_server_options_clear (&self->options);
  g_free (self->model_json);
  g_clear_pointer (&self->page, g_bytes_unref);
  g_clear_object (&self->address);
  g_mutex_clear (&self->start_lock);
  g_cond_clear (&self->start_cond);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (bs_server_parent_class)->finalize (object);
}

static void
bs_server_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BsServer *self = BS_SERVER (object);
  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_server_class_init (BsServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = bs_server_dispose;
  object_class->finalize = bs_server_finalize;
  object_class->get_property = bs_server_get_property;
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE, flags);
  properties[PROP_URI] = g_param_spec_string ("uri", NULL, NULL, NULL, flags);
  properties[PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, 65535, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bs_server_init (BsServer *self)
{
  g_mutex_init (&self->start_lock);
  g_cond_init (&self->start_cond);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
}
