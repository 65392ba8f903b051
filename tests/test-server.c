/* The prediction server on a port of its own: its answers against the
 * classifier's, the page and the small routes, CORS, every kind of bad
 * input with its status and JSON error, stalled clients cut off, concurrent
 * requests answered in fewer batches than requests, bad requests among a
 * stream of good ones, stopping with requests in flight, and
 * `bert-studio-cli serve` end to end (BS_CLI). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "bs-classifier.h"
#include "bs-server.h"
#include "bs-test-model.h"
#include "bs-test-util.h"
#include "bs-train-job.h"

static char *tmp_root;
static char *model_dir;
static BsClassifier *reference; /* the same model, called directly */

static const char *const sample_texts[] = {
  "a wonderful film with great acting",
  "the worst movie i have seen",
  "",
  "plot",
  "ünïcödé and emoji 🎬 are fine",
};

/* longer than the model's 32 tokens, so that truncation matters */
static char *
long_text (void)
{
  g_autoptr (GString) s = g_string_new (NULL);
  /* its head and its tail differ */
  for (int i = 0; i < 40; i++)
    g_string_append_printf (s, "%s ", i < 20 ? "a great film" : "boring");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
setup_model (void)
{
  g_autoptr (GError) error = NULL;
  tmp_root = g_dir_make_tmp ("test-server-XXXXXX", &error);
  g_assert_no_error (error);
  const char *const labels[] = { "neg", "pos", "meh" };
  model_dir = g_build_filename (tmp_root, "tiny", NULL);
  bs_test_make_tiny_bert (model_dir, 32, labels, 3, 7);
  reference = bs_classifier_load (model_dir, 0, &error);
  g_assert_no_error (error);
}

static BsServer *
start_server (const BsServerOptions *changes)
{
  g_autoptr (GError) error = NULL;
  BsServerOptions o;
  if (changes != NULL)
    o = *changes;
  else
    bs_server_options_init (&o);
  o.port = 0;
  if (o.model_name == NULL)
    o.model_name = "tiny";
  BsClassifier *classifier = bs_classifier_load (model_dir, 0, &error);
  g_assert_no_error (error);
  BsServer *server = bs_server_new (classifier, &o);
  g_assert_true (bs_server_start (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bs_server_get_port (server), >, 0);
  g_assert_true (g_str_has_prefix (bs_server_get_uri (server), "http://127.0.0.1:"));
  return server;
}

static SoupSession *
new_session (void)
{
  /* no proxy, whatever the environment says: the server is on loopback */
  return soup_session_new_with_options ("max-conns", 256, "max-conns-per-host", 256, "timeout", 60,
                                        "proxy-resolver", NULL, NULL);
}

static SoupMessage *
new_message (BsServer *server, const char *method, const char *path, const char *body)
{
  g_autofree char *uri = g_strconcat (bs_server_get_uri (server), path[0] == '/' ? path + 1 : path, NULL);
  SoupMessage *msg = soup_message_new (method, uri);
  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  return msg;
}

/* method path [body] → status, and the body as a string */
static char *
request (SoupSession *session, BsServer *server, const char *method, const char *path, const char *body,
         guint *status, SoupMessage **out_msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupMessage) msg = new_message (server, method, path, body);
  g_autoptr (GBytes) answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  if (out_msg != NULL)
    *out_msg = g_object_ref (msg);
  gsize size = 0;
  const char *data = g_bytes_get_data (answer, &size);
  return g_strndup (data != NULL ? data : "", size);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_data (parser, text, -1, &error))
    g_error ("not JSON (%s): %s", error->message, text);
  return json_node_copy (json_parser_get_root (parser));
}

/* One prediction object against the reference's probabilities. */
static void
check_prediction (JsonObject *o, const float *expected)
{
  int n = bs_classifier_get_n_labels (reference);
  JsonObject *probs = json_object_get_object_member (o, "probabilities");
  g_assert_nonnull (probs);
  g_assert_cmpuint (json_object_get_size (probs), ==, (guint) n);
  double sum = 0;
  int best = 0;
  for (int k = 0; k < n; k++)
    {
      const char *label = bs_classifier_get_label (reference, k);
      double p = json_object_get_double_member (probs, label);
      g_assert_cmpfloat_with_epsilon (p, expected[k], 1e-5);
      sum += p;
      if (expected[k] > expected[best])
        best = k;
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
  g_assert_cmpint (json_object_get_int_member (o, "label_id"), ==, best);
  g_assert_cmpstr (json_object_get_string_member (o, "label"), ==, bs_classifier_get_label (reference, best));
}

static void
reference_probs (const char *text, BsTruncation truncation, float *out)
{
  g_autoptr (GError) error = NULL;
  bs_classifier_set_truncation (reference, truncation);
  g_assert_true (bs_classifier_predict (reference, &text, 1, out, &error));
  g_assert_no_error (error);
  bs_classifier_set_truncation (reference, BS_TRUNCATE_HEAD);
}

static char *
texts_body (const char *const *texts, guint n)
{
  g_autoptr (GString) s = g_string_new ("{\"texts\": [");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *quoted = NULL;
      JsonNode *node = json_node_init_string (json_node_alloc (), texts[i]);
      quoted = json_to_string (node, FALSE);
      json_node_unref (node);
      g_string_append_printf (s, i ? ", %s" : "%s", quoted);
    }
  g_string_append (s, "]}");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
text_body (const char *text, const char *truncation)
{
  JsonNode *node = json_node_init_string (json_node_alloc (), text);
  g_autofree char *quoted = json_to_string (node, FALSE);
  json_node_unref (node);
  if (truncation != NULL)
    return g_strdup_printf ("{\"text\": %s, \"truncation\": \"%s\"}", quoted, truncation);
  return g_strdup_printf ("{\"text\": %s}", quoted);
}

/* ---- predictions ---- */

static void
test_predict_single (void)
{
  g_autoptr (BsServer) server = start_server (NULL);
  g_autoptr (SoupSession) session = new_session ();
  g_autofree char *long_one = long_text ();
  const char *texts[] = { sample_texts[0], sample_texts[1], sample_texts[2], sample_texts[4], long_one };
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *body = text_body (texts[i], NULL);
      guint status = 0;
      g_autoptr (SoupMessage) msg = NULL;
      g_autofree char *answer = request (session, server, "POST", "/predict", body, &status, &msg);
      g_assert_cmpuint (status, ==, 200);
      g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL), ==,
                       "application/json");
      g_autoptr (JsonNode) root = parse_json (answer);
      JsonObject *o = json_node_get_object (root);
      float expected[3];
      reference_probs (texts[i], BS_TRUNCATE_HEAD, expected);
      check_prediction (o, expected);
      g_assert_cmpstr (json_object_get_string_member (o, "model"), ==, "tiny");
      g_assert_cmpfloat (json_object_get_double_member (o, "elapsed_ms"), >=, 0);
      g_assert_false (json_object_has_member (o, "predictions"));
    }

  /* head+tail, asked for by the request, is not head */
  g_autofree char *body = text_body (long_one, "head+tail");
  guint status = 0;
  g_autofree char *answer = request (session, server, "POST", "/predict", body, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_autoptr (JsonNode) root = parse_json (answer);
  float head_tail[3], head[3];
  reference_probs (long_one, BS_TRUNCATE_HEAD_TAIL, head_tail);
  reference_probs (long_one, BS_TRUNCATE_HEAD, head);
  g_assert_cmpfloat (fabsf (head_tail[0] - head[0]), >, 1e-6);
  check_prediction (json_node_get_object (root), head_tail);
  g_assert_cmpuint (bs_server_get_n_requests (server), ==, G_N_ELEMENTS (texts) + 1);
}

static void
test_predict_batch (void)
{
  g_autoptr (BsServer) server = start_server (NULL);
  g_autoptr (SoupSession) session = new_session ();
  g_autofree char *long_one = long_text ();
  const char *texts[] = { sample_texts[0], long_one, sample_texts[1], sample_texts[2], sample_texts[3],
                          sample_texts[4] };
  guint n = G_N_ELEMENTS (texts);
  g_autofree char *body = texts_body (texts, n);
  guint status = 0;
  g_autofree char *answer = request (session, server, "POST", "/predict", body, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_autoptr (JsonNode) root = parse_json (answer);
  JsonObject *o = json_node_get_object (root);
  JsonArray *predictions = json_object_get_array_member (o, "predictions");
  g_assert_cmpuint (json_array_get_length (predictions), ==, n);
  g_autofree float *expected = g_new (float, 3 * n);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_classifier_predict (reference, texts, n, expected, &error));
  for (guint i = 0; i < n; i++)
    check_prediction (json_array_get_object_element (predictions, i), expected + 3 * i);
  g_assert_cmpstr (json_object_get_string_member (o, "model"), ==, "tiny");
  g_assert_true (json_object_has_member (o, "elapsed_ms"));
  g_assert_false (json_object_has_member (o, "label"));
  g_assert_cmpuint (bs_server_get_n_texts (server), ==, n);
}

/* ---- the other routes ---- */

static void
test_routes (void)
{
  g_autoptr (BsServer) server = start_server (NULL);
  g_autoptr (SoupSession) session = new_session ();
  guint status = 0;

  g_autoptr (SoupMessage) page_msg = NULL;
  g_autofree char *page = request (session, server, "GET", "/", NULL, &status, &page_msg);
  g_assert_cmpuint (status, ==, 200);
  SoupMessageHeaders *h = soup_message_get_response_headers (page_msg);
  g_assert_cmpstr (soup_message_headers_get_content_type (h, NULL), ==, "text/html");
  g_assert_nonnull (soup_message_headers_get_one (h, "Content-Security-Policy"));
  g_assert_true (g_str_has_prefix (page, "<!doctype html>"));
  g_assert_nonnull (strstr (page, "<form"));
  g_assert_nonnull (strstr (page, "<textarea"));
  g_assert_nonnull (strstr (page, "<button"));
  g_assert_nonnull (strstr (page, "Classify"));
  g_assert_nonnull (strstr (page, "name=\"viewport\""));
  /* self-contained: nothing fetched from elsewhere */
  g_assert_null (strstr (page, "http://"));
  g_assert_null (strstr (page, "https://"));
  g_assert_null (strstr (page, "src=\""));

  g_autofree char *head = request (session, server, "HEAD", "/", NULL, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (head, ==, "");

  g_autofree char *health = request (session, server, "GET", "/health", NULL, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_autoptr (JsonNode) health_root = parse_json (health);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (health_root), "status"), ==, "ok");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (health_root), "batches"), ==, 0);

  g_autofree char *model = request (session, server, "GET", "/model", NULL, &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_autoptr (JsonNode) model_root = parse_json (model);
  JsonObject *m = json_node_get_object (model_root);
  g_assert_cmpstr (json_object_get_string_member (m, "name"), ==, "tiny");
  g_assert_cmpstr (json_object_get_string_member (m, "architecture"), ==, "bert");
  g_assert_cmpint (json_object_get_int_member (m, "max_length"), ==, 32);
  g_assert_cmpint (json_object_get_int_member (m, "parameters"), ==,
                   (gint64) bs_model_get_n_weights (bs_classifier_get_model (reference)));
  JsonArray *labels = json_object_get_array_member (m, "labels");
  g_assert_cmpuint (json_array_get_length (labels), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (labels, 1), ==, "pos");
}

static void
test_cors (void)
{
  g_autoptr (SoupSession) session = new_session ();
  guint status = 0;
  {
    /* off by default: no CORS header anywhere, a plain OPTIONS answered */
    g_autoptr (BsServer) server = start_server (NULL);
    const char *paths[] = { "/health", "/nope" };
    for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        g_autoptr (SoupMessage) msg = NULL;
        g_free (request (session, server, "GET", paths[i], NULL, &status, &msg));
        g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                     "Access-Control-Allow-Origin"));
      }
    g_autoptr (SoupMessage) preflight = new_message (server, "OPTIONS", "/predict", NULL);
    SoupMessageHeaders *rh = soup_message_get_request_headers (preflight);
    soup_message_headers_replace (rh, "Origin", "http://example.org");
    soup_message_headers_replace (rh, "Access-Control-Request-Method", "POST");
    g_autoptr (GBytes) answer = soup_session_send_and_read (session, preflight, NULL, NULL);
    g_assert_cmpuint (soup_message_get_status (preflight), ==, 204);
    g_assert_cmpuint (g_bytes_get_size (answer), ==, 0);
    SoupMessageHeaders *h = soup_message_get_response_headers (preflight);
    g_assert_cmpstr (soup_message_headers_get_one (h, "Allow"), ==, "POST, OPTIONS");
    g_assert_null (soup_message_headers_get_one (h, "Access-Control-Allow-Origin"));
  }
  {
    BsServerOptions o;
    bs_server_options_init (&o);
    o.cors_origin = "*";
    g_autoptr (BsServer) server = start_server (&o);
    const char *methods[] = { "GET", "POST", "GET", "GET" };
    const char *paths[] = { "/health", "/predict", "/nope", "/" };
    const char *bodies[] = { NULL, "{\"text\": \"fine\"}", NULL, NULL };
    const guint statuses[] = { 200, 200, 404, 200 };
    for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        g_autoptr (SoupMessage) msg = NULL;
        g_free (request (session, server, methods[i], paths[i], bodies[i], &status, &msg));
        g_assert_cmpuint (status, ==, statuses[i]);
        g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                       "Access-Control-Allow-Origin"),
                         ==, "*");
      }
    g_autoptr (SoupMessage) preflight = new_message (server, "OPTIONS", "/predict", NULL);
    SoupMessageHeaders *rh = soup_message_get_request_headers (preflight);
    soup_message_headers_replace (rh, "Origin", "http://example.org");
    soup_message_headers_replace (rh, "Access-Control-Request-Method", "POST");
    soup_message_headers_replace (rh, "Access-Control-Request-Headers", "content-type");
    g_autoptr (GBytes) answer = soup_session_send_and_read (session, preflight, NULL, NULL);
    g_assert_cmpuint (soup_message_get_status (preflight), ==, 204);
    g_assert_cmpuint (g_bytes_get_size (answer), ==, 0);
    SoupMessageHeaders *h = soup_message_get_response_headers (preflight);
    g_assert_cmpstr (soup_message_headers_get_one (h, "Access-Control-Allow-Origin"), ==, "*");
    g_assert_nonnull (strstr (soup_message_headers_get_one (h, "Access-Control-Allow-Methods"), "POST"));
    g_assert_nonnull (strstr (soup_message_headers_get_one (h, "Access-Control-Allow-Headers"), "Content-Type"));
    g_assert_nonnull (soup_message_headers_get_one (h, "Access-Control-Max-Age"));
  }
  {
    /* one origin: named, and the answers vary with it */
    BsServerOptions o;
    bs_server_options_init (&o);
    o.cors_origin = "http://studio.example";
    g_autoptr (BsServer) server = start_server (&o);
    g_autoptr (SoupMessage) msg = NULL;
    g_free (request (session, server, "GET", "/health", NULL, &status, &msg));
    SoupMessageHeaders *h = soup_message_get_response_headers (msg);
    g_assert_cmpstr (soup_message_headers_get_one (h, "Access-Control-Allow-Origin"), ==, "http://studio.example");
    g_assert_true (soup_message_headers_header_contains (h, "Vary", "Origin"));
  }
}

/* ---- bad input ---- */

typedef struct
{
  const char *name;
  const char *method;
  const char *path;
  const char *body; /* NULL: none; "@big": over max_body; "@many": too many texts; "@deep": nested */
  guint status;
  const char *error; /* the "error" code */
  const char *allow; /* for 405 */
} BadCase;

static const BadCase bad_cases[] = {
  { "not JSON", "POST", "/predict", "this is not json", 400, "invalid_json" },
  { "empty body", "POST", "/predict", "", 400, "invalid_json" },
  { "truncated JSON", "POST", "/predict", "{\"text\": \"a", 400, "invalid_json" },
  { "two values", "POST", "/predict", "{\"text\": \"a\"} {}", 400, "invalid_json" },
  { "invalid UTF-8", "POST", "/predict", "{\"text\": \"\xff\xfe\"}", 400, "invalid_json" },
  { "nested too deep", "POST", "/predict", "@deep", 400, "invalid_json" },
  { "a list", "POST", "/predict", "[\"a\"]", 422, "invalid_input" },
  { "a string", "POST", "/predict", "\"a\"", 422, "invalid_input" },
  { "no text", "POST", "/predict", "{}", 422, "invalid_input" },
  { "other key", "POST", "/predict", "{\"txt\": \"a\"}", 422, "invalid_input" },
  { "text a number", "POST", "/predict", "{\"text\": 5}", 422, "invalid_input" },
  { "text null", "POST", "/predict", "{\"text\": null}", 422, "invalid_input" },
  { "text a list", "POST", "/predict", "{\"text\": [\"a\"]}", 422, "invalid_input" },
  { "both", "POST", "/predict", "{\"text\": \"a\", \"texts\": [\"b\"]}", 422, "invalid_input" },
  { "texts empty", "POST", "/predict", "{\"texts\": []}", 422, "invalid_input" },
  { "texts a string", "POST", "/predict", "{\"texts\": \"a\"}", 422, "invalid_input" },
  { "texts not strings", "POST", "/predict", "{\"texts\": [\"a\", 3]}", 422, "invalid_input" },
  { "texts nested", "POST", "/predict", "{\"texts\": [[\"a\"]]}", 422, "invalid_input" },
  { "bad truncation", "POST", "/predict", "{\"text\": \"a\", \"truncation\": \"middle\"}", 422, "invalid_input" },
  { "too many texts", "POST", "/predict", "@many", 413, "too_many_texts" },
  { "body too large", "POST", "/predict", "@big", 413, "body_too_large" },
  { "GET /predict", "GET", "/predict", NULL, 405, "method_not_allowed", "POST, OPTIONS" },
  { "PUT /predict", "PUT", "/predict", "{\"text\": \"a\"}", 405, "method_not_allowed", "POST, OPTIONS" },
  { "POST /health", "POST", "/health", "{}", 405, "method_not_allowed", "GET, HEAD, OPTIONS" },
  { "DELETE /", "DELETE", "/", NULL, 405, "method_not_allowed", "GET, HEAD, OPTIONS" },
  { "unknown path", "GET", "/nope", NULL, 404, "not_found" },
  { "unknown POST", "POST", "/predict/", "{\"text\": \"a\"}", 404, "not_found" },
};

#define TEST_MAX_BODY 4096
#define TEST_MAX_TEXTS 8

static void
bad_options (BsServerOptions *o)
{
  bs_server_options_init (o);
  o->max_body = TEST_MAX_BODY;
  o->max_texts = TEST_MAX_TEXTS;
}

static char *
bad_body (const BadCase *c)
{
  if (c->body == NULL)
    return NULL;
  if (strcmp (c->body, "@big") == 0)
    {
      /* valid JSON, only too large */
      g_autoptr (GString) s = g_string_new ("{\"text\": \"");
      while (s->len < TEST_MAX_BODY + 10)
        g_string_append (s, "word ");
      g_string_append (s, "\"}");
      return g_string_free (g_steal_pointer (&s), FALSE);
    }
  if (strcmp (c->body, "@many") == 0)
    {
      const char *texts[TEST_MAX_TEXTS + 1];
      for (int i = 0; i <= TEST_MAX_TEXTS; i++)
        texts[i] = "a";
      return texts_body (texts, TEST_MAX_TEXTS + 1);
    }
  if (strcmp (c->body, "@deep") == 0)
    {
      /* small, but nested past what json-glib's recursion should see */
      g_autoptr (GString) s = g_string_new ("{\"texts\": ");
      for (int i = 0; i < 1000; i++)
        g_string_append_c (s, '[');
      for (int i = 0; i < 1000; i++)
        g_string_append_c (s, ']');
      g_string_append_c (s, '}');
      return g_string_free (g_steal_pointer (&s), FALSE);
    }
  return g_strdup (c->body);
}

static void
check_bad_case (SoupSession *session, BsServer *server, const BadCase *c)
{
  g_autofree char *body = bad_body (c);
  guint status = 0;
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *answer = request (session, server, c->method, c->path, body, &status, &msg);
  if (status != c->status)
    g_error ("%s: status %u, %u expected (%s)", c->name, status, c->status, answer);
  g_autoptr (JsonNode) root = parse_json (answer);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  JsonObject *o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "error"), ==, c->error);
  g_assert_true (json_object_has_member (o, "detail"));
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "detail")), >, 0);
  if (c->allow != NULL)
    g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Allow"), ==, c->allow);
}

/* Blocking raw sockets, for what a well-behaved client does not do. */
static GSocket *
raw_connect (BsServer *server)
{
  g_autoptr (GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, bs_server_get_port (server));
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 20);
  return socket;
}

static void
raw_send (GSocket *socket, const char *data)
{
  g_autoptr (GError) error = NULL;
  gsize length = strlen (data);
  g_assert_cmpint (g_socket_send (socket, data, length, NULL, &error), ==, (gssize) length);
  g_assert_no_error (error);
}

/* Everything until the server closes (or resets) the connection. */
static char *
raw_read_all (GSocket *socket, double *seconds)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GString) s = g_string_new (NULL);
  for (;;)
    {
      char buffer[4096];
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);
      g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
      if (n <= 0)
        break;
      g_string_append_len (s, buffer, n);
    }
  if (seconds != NULL)
    *seconds = (g_get_monotonic_time () - start) / 1e6;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
check_raw_answer (const char *answer, const char *status_line, const char *error_code)
{
  if (!g_str_has_prefix (answer, status_line))
    g_error ("“%s” expected, got “%s”", status_line, answer);
  const char *body = strstr (answer, "\r\n\r\n");
  g_assert_nonnull (body);
  g_autoptr (JsonNode) root = parse_json (body + 4);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "error"), ==, error_code);
}

/* A chunked body over the limit, and one announced too large with Expect:
 * 100-continue (refused before it is sent). */
static void
check_raw_too_large (BsServer *server)
{
  g_autoptr (GSocket) socket = raw_connect (server);
  raw_send (socket, "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  g_autofree char *chunk = g_strnfill (1000, 'a');
  for (int i = 0; i < 6; i++)
    {
      raw_send (socket, "3e8\r\n");
      raw_send (socket, chunk);
      raw_send (socket, "\r\n");
    }
  raw_send (socket, "0\r\n\r\n");
  g_autofree char *answer = raw_read_all (socket, NULL);
  check_raw_answer (answer, "HTTP/1.1 413", "body_too_large");

  g_autoptr (GSocket) expecting = raw_connect (server);
  raw_send (expecting, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                       "Expect: 100-continue\r\n\r\n");
  g_autofree char *refused = raw_read_all (expecting, NULL);
  check_raw_answer (refused, "HTTP/1.1 413", "body_too_large");
}

static void
test_bad_input (void)
{
  BsServerOptions o;
  bad_options (&o);
  g_autoptr (BsServer) server = start_server (&o);
  g_autoptr (SoupSession) session = new_session ();
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    check_bad_case (session, server, &bad_cases[i]);
  check_raw_too_large (server);
  /* a chunked body within the limit is fine */
  g_autoptr (GSocket) socket = raw_connect (server);
  raw_send (socket, "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "6\r\n{\"text\r\n9\r\n\": \"good\"\r\n1\r\n}\r\n0\r\n\r\n");
  g_autofree char *answer = raw_read_all (socket, NULL);
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 200"));

  /* and the server still serves */
  guint status = 0;
  g_autofree char *good = request (session, server, "POST", "/predict", "{\"text\": \"still here\"}", &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (good, "\"label\""));
  g_assert_cmpuint (bs_server_get_n_requests (server), ==, 2);
}

/* ---- stalled clients ---- */

#define TEST_TIMEOUT_MS 300

static void
check_cut_off (GSocket *socket, const char *status_line)
{
  double seconds = 0;
  g_autofree char *answer = raw_read_all (socket, &seconds);
  if (status_line == NULL)
    g_assert_cmpstr (answer, ==, "");
  else
    check_raw_answer (answer, status_line, "timeout");
  /* the full timeout, give or take a loaded machine */
  g_assert_cmpfloat (seconds, >=, 0.7 * TEST_TIMEOUT_MS / 1000.0);
  g_assert_cmpfloat (seconds, <, 10);
}

static void
test_stalled_clients (void)
{
  BsServerOptions o;
  bs_server_options_init (&o);
  o.request_timeout_ms = TEST_TIMEOUT_MS;
  g_autoptr (BsServer) server = start_server (&o);

  /* connects and sends nothing */
  g_autoptr (GSocket) silent = raw_connect (server);
  check_cut_off (silent, NULL);

  /* half the headers */
  g_autoptr (GSocket) half = raw_connect (server);
  raw_send (half, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Le");
  check_cut_off (half, NULL);

  /* the headers, and a part of the body: 408 */
  g_autoptr (GSocket) body = raw_connect (server);
  raw_send (body, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                  "{\"text\": \"a");
  check_cut_off (body, "HTTP/1.1 408");

  /* a byte at a time, each in time but the whole too slow */
  g_autoptr (GSocket) trickle = raw_connect (server);
  const char *slow = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  gint64 start = g_get_monotonic_time ();
  gboolean cut = FALSE;
  for (const char *p = slow; *p != '\0'; p++)
    {
      char one[2] = { *p, '\0' };
      if (g_socket_send (trickle, one, 1, NULL, NULL) != 1)
        {
          cut = TRUE;
          break;
        }
      g_usleep (TEST_TIMEOUT_MS * 1000 / 8);
      if (g_socket_condition_check (trickle, G_IO_IN | G_IO_HUP | G_IO_ERR) != 0)
        {
          cut = TRUE;
          break;
        }
    }
  g_assert_true (cut);
  g_assert_cmpfloat ((g_get_monotonic_time () - start) / 1e6, <, 10);
  g_autofree char *nothing = raw_read_all (trickle, NULL);
  g_assert_cmpstr (nothing, ==, "");

  /* a kept-alive connection left idle is closed too */
  g_autoptr (GSocket) idle = raw_connect (server);
  raw_send (idle, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  double seconds = 0;
  g_autofree char *answer = raw_read_all (idle, &seconds);
  g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (answer, "\"status\": \"ok\""));
  g_assert_cmpfloat (seconds, <, 10);

  /* and the server still serves */
  g_autoptr (SoupSession) session = new_session ();
  guint status = 0;
  g_autofree char *good = request (session, server, "POST", "/predict", "{\"text\": \"patience\"}", &status, NULL);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (good, "\"label\""));
}

/* ---- concurrency ---- */

typedef struct
{
  GMainLoop *loop;
  int pending;
} Flight;

typedef struct
{
  Flight *flight;
  SoupMessage *msg;
  GBytes *answer;
  GError *error;
  guint index;
} Call;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *call = data;
  call->answer = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &call->error);
  if (--call->flight->pending == 0)
    g_main_loop_quit (call->flight->loop);
}

static void
test_concurrent (void)
{
  BsServerOptions o;
  bs_server_options_init (&o);
  /* room for all 32 to arrive before the first batch runs */
  o.batch_wait_ms = 100;
  g_autoptr (BsServer) server = start_server (&o);
  g_autoptr (SoupSession) session = new_session ();
  enum { N = 32 };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Flight flight = { loop, N };
  Call calls[N] = { 0 };
  char *texts[N];
  for (int i = 0; i < N; i++)
    {
      texts[i] = g_strdup_printf ("review number %d: %s", i, sample_texts[i % 4]);
      g_autofree char *body = text_body (texts[i], NULL);
      calls[i] = (Call) { &flight, new_message (server, "POST", "/predict", body), NULL, NULL, (guint) i };
      soup_session_send_and_read_async (session, calls[i].msg, G_PRIORITY_DEFAULT, NULL, on_call_done, &calls[i]);
    }
  g_main_loop_run (loop);

  g_autofree float *expected = g_new (float, 3 * N);
  g_assert_true (bs_classifier_predict (reference, (const char *const *) texts, N, expected, NULL));
  for (int i = 0; i < N; i++)
    {
      g_assert_no_error (calls[i].error);
      g_assert_cmpuint (soup_message_get_status (calls[i].msg), ==, 200);
      g_autofree char *text = g_strndup (g_bytes_get_data (calls[i].answer, NULL), g_bytes_get_size (calls[i].answer));
      g_autoptr (JsonNode) root = parse_json (text);
      check_prediction (json_node_get_object (root), expected + 3 * i);
      g_object_unref (calls[i].msg);
      g_bytes_unref (calls[i].answer);
      g_free (texts[i]);
    }
  guint64 batches = bs_server_get_n_batches (server);
  g_test_message ("%d concurrent requests in %" G_GUINT64_FORMAT " batches", N, batches);
  g_assert_cmpuint (bs_server_get_n_requests (server), ==, N);
  g_assert_cmpuint (batches, <, N / 2);
}

/* Good requests keep flowing while each kind of bad one is sent; none of
 * the good ones fails. */
typedef struct
{
  BsServer *server;
  SoupSession *session;
  GMainLoop *loop;
  float expected[3];
  int in_flight;
  int sent, answered, failed;
  gboolean bad_done;
} Stream;

static void send_good (Stream *s);

static void
on_good_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Stream *s = ((gpointer *) data)[0];
  SoupMessage *msg = ((gpointer *) data)[1];
  g_free (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  s->in_flight--;
  s->answered++;
  if (error != NULL || soup_message_get_status (msg) != 200)
    {
      g_test_message ("a good request failed: %s, status %u", error ? error->message : "",
                      soup_message_get_status (msg));
      s->failed++;
    }
  else
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
      g_autoptr (JsonNode) root = parse_json (text);
      check_prediction (json_node_get_object (root), s->expected);
    }
  g_object_unref (msg);
  if (!s->bad_done || s->sent < 40)
    send_good (s);
  else if (s->in_flight == 0)
    g_main_loop_quit (s->loop);
}

static void
send_good (Stream *s)
{
  SoupMessage *msg = new_message (s->server, "POST", "/predict", "{\"text\": \"a steady stream\"}");
  gpointer *data = g_new (gpointer, 2);
  data[0] = s, data[1] = msg;
  s->in_flight++;
  s->sent++;
  soup_session_send_and_read_async (s->session, msg, G_PRIORITY_DEFAULT, NULL, on_good_done, data);
}

static gpointer
send_bad_requests (gpointer data)
{
  Stream *s = data;
  /* a session of this thread's own, used synchronously */
  g_autoptr (SoupSession) session = new_session ();
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    check_bad_case (session, s->server, &bad_cases[i]);
  check_raw_too_large (s->server);
  g_autoptr (GSocket) stalled = raw_connect (s->server);
  raw_send (stalled, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"te");
  check_cut_off (stalled, "HTTP/1.1 408");
  return NULL;
}

static gboolean
on_bad_done (gpointer data)
{
  Stream *s = data;
  s->bad_done = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
bad_thread_main (gpointer data)
{
  send_bad_requests (data);
  g_main_context_invoke (NULL, on_bad_done, data);
  return NULL;
}

static void
test_bad_under_load (void)
{
  BsServerOptions o;
  bad_options (&o);
  /* long enough that no good request finds its kept-alive connection just closed */
  o.request_timeout_ms = TEST_TIMEOUT_MS * 5;
  g_autoptr (BsServer) server = start_server (&o);
  g_autoptr (SoupSession) session = new_session ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Stream s = { server, session, loop };
  reference_probs ("a steady stream", BS_TRUNCATE_HEAD, s.expected);
  for (int i = 0; i < 8; i++)
    send_good (&s);
  GThread *bad = g_thread_new ("bad-requests", bad_thread_main, &s);
  g_main_loop_run (loop);
  g_thread_join (bad);
  g_test_message ("%d good requests answered beside the bad ones, in %" G_GUINT64_FORMAT " batches", s.answered,
                  bs_server_get_n_batches (server));
  g_assert_cmpint (s.failed, ==, 0);
  g_assert_cmpint (s.answered, >=, 40);
}

/* ---- starting and stopping ---- */

/* Stops the server once all its requests are in, queued. */
static gboolean
stop_when_all_in (gpointer data)
{
  BsServer *server = data;
  if (bs_server_get_n_pending (server) < 6)
    return G_SOURCE_CONTINUE;
  bs_server_stop (server);
  return G_SOURCE_REMOVE;
}

static void
test_stop_drains (void)
{
  BsServerOptions o;
  bs_server_options_init (&o);
  /* the requests are still queued when the stop comes */
  o.batch_wait_ms = 2000;
  o.max_batch = 64;
  g_autoptr (BsServer) server = start_server (&o);
  g_autoptr (SoupSession) session = new_session ();
  g_autofree char *uri = g_strdup (bs_server_get_uri (server));
  enum { N = 6 };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Flight flight = { loop, N };
  Call calls[N] = { 0 };
  for (int i = 0; i < N; i++)
    {
      calls[i] = (Call) { &flight, new_message (server, "POST", "/predict", "{\"text\": \"last orders\"}") };
      soup_session_send_and_read_async (session, calls[i].msg, G_PRIORITY_DEFAULT, NULL, on_call_done, &calls[i]);
    }
  g_timeout_add (10, stop_when_all_in, server);
  g_main_loop_run (loop);
  g_assert_false (bs_server_is_running (server));
  g_assert_null (bs_server_get_uri (server));
  for (int i = 0; i < N; i++)
    {
      g_assert_no_error (calls[i].error);
      g_assert_cmpuint (soup_message_get_status (calls[i].msg), ==, 200);
      g_object_unref (calls[i].msg);
      g_bytes_unref (calls[i].answer);
    }
  g_assert_cmpuint (bs_server_get_n_requests (server), ==, N);

  /* nobody listens any more; stopping again does nothing */
  g_autofree char *health = g_strconcat (uri, "health", NULL);
  g_autoptr (SoupMessage) late = soup_message_new ("GET", health);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nothing = soup_session_send_and_read (session, late, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (nothing);
  bs_server_stop (server);

  /* and it starts again */
  g_clear_error (&error);
  g_assert_true (bs_server_start (server, &error));
  g_assert_no_error (error);
  guint status = 0;
  g_free (request (session, server, "GET", "/health", NULL, &status, NULL));
  g_assert_cmpuint (status, ==, 200);
}

static void
test_start_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsServer) first = start_server (NULL);
  g_assert_false (bs_server_start (first, &error));
  g_assert_error (error, BS_SERVER_ERROR, BS_SERVER_ERROR_RUNNING);
  g_clear_error (&error);

  BsServerOptions o;
  bs_server_options_init (&o);
  o.host = "not-an-address";
  g_autoptr (BsServer) bad_host = bs_server_new (bs_classifier_load (model_dir, 0, NULL), &o);
  g_assert_false (bs_server_start (bad_host, &error));
  g_assert_error (error, BS_SERVER_ERROR, BS_SERVER_ERROR_ADDRESS);
  g_assert_nonnull (strstr (error->message, "not-an-address"));
  g_clear_error (&error);

  bs_server_options_init (&o);
  o.port = bs_server_get_port (first);
  g_autoptr (BsServer) taken = bs_server_new (bs_classifier_load (model_dir, 0, NULL), &o);
  g_assert_false (bs_server_start (taken, &error));
  g_assert_error (error, BS_SERVER_ERROR, BS_SERVER_ERROR_LISTEN);
  g_autofree char *port = g_strdup_printf ("%u", o.port);
  g_assert_nonnull (strstr (error->message, port));
  g_assert_false (bs_server_is_running (taken));
  g_clear_error (&error);

  bs_server_options_init (&o);
  o.max_batch = 0;
  g_autoptr (BsServer) no_batch = bs_server_new (bs_classifier_load (model_dir, 0, NULL), &o);
  g_assert_false (bs_server_start (no_batch, &error));
  g_assert_error (error, BS_SERVER_ERROR, BS_SERVER_ERROR_INVALID);
}

/* ---- the CLI ---- */

static void
test_cli_serve (void)
{
  const char *cli = g_getenv ("BS_CLI");
  if (cli == NULL)
    {
      g_test_skip ("BS_CLI is not set");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_autoptr (GSubprocess) process = g_subprocess_launcher_spawn (launcher, &error, cli, "serve", "--model", model_dir,
                                                                 "--port", "0", "--cors", "*", NULL);
  g_assert_no_error (error);
  g_autoptr (GDataInputStream) out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_autofree char *line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "Serving tiny at http://127.0.0.1:"));
  const char *start = strstr (line, "http://");
  g_autofree char *uri = g_strndup (start, strcspn (start, " "));

  g_autoptr (SoupSession) session = new_session ();
  g_autofree char *predict = g_strconcat (uri, "predict", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", predict);
  g_autoptr (GBytes) body = g_bytes_new_static ("{\"text\": \"from the command line\"}", 33);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  g_autoptr (GBytes) answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), "\"label\""));
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                 "Access-Control-Allow-Origin"),
                   ==, "*");

  /* SIGTERM: a clean stop */
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, &error));
  g_autoptr (GString) err_text = g_string_new (NULL);
  for (;;)
    {
      g_autoptr (GBytes) bytes = g_input_stream_read_bytes (g_subprocess_get_stderr_pipe (process), 4096, NULL, &error);
      g_assert_no_error (error);
      if (g_bytes_get_size (bytes) == 0)
        break;
      g_string_append_len (err_text, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    }
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    g_error ("serve did not exit cleanly: %s", err_text->str);
  g_assert_nonnull (strstr (err_text->str, "Stopped after 1 prediction request"));

  /* a host that is not loopback is warned about; a bad one refused */
  g_autoptr (GSubprocess) bad = g_subprocess_launcher_spawn (launcher, &error, cli, "serve", "--model", model_dir,
                                                             "--host", "nowhere", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait (bad, NULL, &error));
  g_assert_cmpint (g_subprocess_get_exit_status (bad), ==, 2);
}

/* Without --model: the default model (BERT_STUDIO_DEFAULT_MODEL here), read
 * as its card says; or, when there is none, a message saying so. */
static void
test_cli_serve_default (void)
{
  const char *cli = g_getenv ("BS_CLI");
  if (cli == NULL)
    {
      g_test_skip ("BS_CLI is not set");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *default_dir = g_build_filename (tmp_root, "default-model", NULL);
  g_assert_cmpint (g_mkdir_with_parents (default_dir, 0755), ==, 0);
  const char *const files[] = { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = g_build_filename (model_dir, files[i], NULL);
      g_autofree char *to = g_build_filename (default_dir, files[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;
      g_assert_true (g_file_get_contents (from, &contents, &length, &error));
      g_assert_true (g_file_set_contents (to, contents, (gssize) length, &error));
    }
  g_autofree char *card = g_build_filename (default_dir, "model_card.json", NULL);
  g_assert_true (g_file_set_contents (card, "{\"name\": \"Tiny sentiment\", \"max_length\": 16, "
                                      "\"truncation\": \"head+tail\"}", -1, &error));
  g_autoptr (BsClassifier) default_reference = bs_classifier_load (default_dir, 0, &error);
  g_assert_no_error (error);

  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_subprocess_launcher_setenv (launcher, "BERT_STUDIO_DEFAULT_MODEL", default_dir, TRUE);
  g_autoptr (GSubprocess) process = g_subprocess_launcher_spawn (launcher, &error, cli, "serve", "--port", "0", NULL);
  g_assert_no_error (error);
  g_autoptr (GDataInputStream) out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_autofree char *line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "Serving the default model, Tiny sentiment, at http://127.0.0.1:"));
  const char *start = strstr (line, "http://");
  g_autofree char *uri = g_strndup (start, strcspn (start, " "));

  /* the answer is the default model's, 16 tokens of head and tail */
  g_autoptr (SoupSession) session = new_session ();
  g_autofree char *text = long_text ();
  g_autofree char *body_text = text_body (text, NULL);
  g_autofree char *predict = g_strconcat (uri, "predict", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", predict);
  g_autoptr (GBytes) body = g_bytes_new (body_text, strlen (body_text));
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  g_autoptr (GBytes) answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_autofree char *answer_text = g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  g_autoptr (JsonNode) node = parse_json (answer_text);
  float expected[3];
  const char *texts[] = { text };
  g_assert_true (bs_classifier_predict (default_reference, texts, 1, expected, &error));
  JsonObject *probs = json_object_get_object_member (json_node_get_object (node), "probabilities");
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (probs, bs_classifier_get_label (reference, k)),
                                    expected[k], 1e-6);

  g_autofree char *model_uri = g_strconcat (uri, "model", NULL);
  g_autoptr (SoupMessage) model_msg = soup_message_new ("GET", model_uri);
  g_autoptr (GBytes) model_answer = soup_session_send_and_read (session, model_msg, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *model_text = g_strndup (g_bytes_get_data (model_answer, NULL), g_bytes_get_size (model_answer));
  g_autoptr (JsonNode) model_node = parse_json (model_text);
  JsonObject *model = json_node_get_object (model_node);
  g_assert_cmpstr (json_object_get_string_member (model, "name"), ==, "Tiny sentiment");
  g_assert_cmpint (json_object_get_int_member (model, "max_length"), ==, 16);
  g_assert_cmpstr (json_object_get_string_member (model, "truncation"), ==, "head+tail");

  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  /* no default model: said, with what to do; nothing served */
  g_autofree char *empty = g_build_filename (tmp_root, "no-default-model", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_subprocess_launcher_setenv (launcher, "BERT_STUDIO_DEFAULT_MODEL", empty, TRUE);
  g_autoptr (GSubprocess) none = g_subprocess_launcher_spawn (launcher, &error, cli, "serve", "--port", "0", NULL);
  g_assert_no_error (error);
  g_autofree char *none_out = NULL, *none_err = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (none, NULL, NULL, &none_out, &none_err, &error));
  g_assert_cmpint (g_subprocess_get_exit_status (none), ==, 2);
  g_assert_cmpstr (none_out, ==, "");
  g_assert_nonnull (strstr (none_err, "No default model"));
  g_assert_nonnull (strstr (none_err, empty));
  g_assert_nonnull (strstr (none_err, "--model"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  setup_model ();
  g_test_add_func ("/server/predict-single", test_predict_single);
  g_test_add_func ("/server/predict-batch", test_predict_batch);
  g_test_add_func ("/server/routes", test_routes);
  g_test_add_func ("/server/cors", test_cors);
  g_test_add_func ("/server/bad-input", test_bad_input);
  g_test_add_func ("/server/stalled-clients", test_stalled_clients);
  g_test_add_func ("/server/concurrent", test_concurrent);
  g_test_add_func ("/server/bad-under-load", test_bad_under_load);
  g_test_add_func ("/server/stop-drains", test_stop_drains);
  g_test_add_func ("/server/start-errors", test_start_errors);
  g_test_add_func ("/server/cli", test_cli_serve);
  g_test_add_func ("/server/cli-default-model", test_cli_serve_default);
  int status = g_test_run ();
  bs_classifier_free (reference);
  bs_test_remove_tree (tmp_root);
  g_free (model_dir);
  g_free (tmp_root);
  return status;
}
