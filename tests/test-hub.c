/* The hub client against a fake hub: a SoupServer on a thread of its own
 * (with its own GMainContext) that answers /{repo}/resolve/{rev}/{file} as
 * huggingface.co does — X-Repo-Commit, a git-blob ETag for small files, a 302
 * to /cdn/{sha256} with X-Linked-Etag and X-Linked-Size for LFS files, Range
 * requests (206 + Content-Range), X-Error-Code on 401/403/404 — and that
 * breaks on demand: a connection cut mid-file, a body sent slowly (to cancel
 * in), a wrong checksum, a server that ignores Range, 500s.  The model it
 * serves is a tiny BERT made here with the engine, with the real uncased
 * vocabulary.  Nothing reaches the internet: HF_ENDPOINT and the endpoint
 * option name the local server, and proxies are off.
 *
 * The CDN is addressed as "localhost" while the hub is "127.0.0.1", so that
 * they are different hosts, as on the real hub (the token must not follow a
 * file there). */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-classifier.h"
#include "bs-config.h"
#include "bs-hub-private.h"
#include "bs-hub.h"
#include "bs-model.h"
#include "bs-safetensors.h"
#include "bs-store.h"
#include "bs-test-util.h"

#define TOKEN "hf_test_token"
#define CUT_AFTER 1000000

/* ---- helpers ---- */

static gint64
file_size (const char *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents;
  gsize length;
  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

/* ---- the fake hub ---- */

typedef struct
{
  char *name;
  GBytes *data;
  char *sha256;
  char *announced_sha256; /* in X-Linked-Etag: sha256, or a wrong one */
  char *git_sha1;         /* the ETag of a small file: SHA-1 of "blob <size>\0" + data */
  gboolean lfs;
} FakeFile;

typedef struct
{
  char *name;
  char *commit;
  gboolean gated;
  GHashTable *files; /* name -> FakeFile */
} FakeRepo;

typedef struct
{
  char *method;
  char *path;
  char *range;         /* the Range header, or NULL */
  char *authorization; /* the Authorization header, or NULL */
  guint status;
  gint64 body_bytes;   /* of the body sent */
} Request;

typedef enum
{
  FAULT_NONE,
  FAULT_CUT,          /* close the connection after CUT_AFTER bytes of the body */
  FAULT_SLOW,         /* send the body 4 KiB every 10 ms */
  FAULT_IGNORE_RANGE, /* answer 200 with the whole file to a Range request */
} Fault;

static struct
{
  GMutex lock;
  GCond ready;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  int port;
  char *url;          /* the hub: http://127.0.0.1:port */
  GHashTable *repos;  /* name -> FakeRepo */
  GHashTable *blobs;  /* sha256 -> FakeFile, what the CDN serves */
  GPtrArray *log;     /* Request, every request in order */
  Fault fault;        /* for the next GET of fault_file's body */
  char *fault_file;
  int fail_500;       /* this many requests answer 500 */
  GPtrArray *writers; /* GThread, writing raw answers */
  GBytes *model;      /* the tiny BERT's model.safetensors */
  char *model_dir;    /* its folder as the engine saved it */
} hub;

static void
fake_file_free (FakeFile *f)
{
  g_free (f->name);
  g_bytes_unref (f->data);
  g_free (f->sha256);
  g_free (f->announced_sha256);
  g_free (f->git_sha1);
  g_free (f);
}

static void
fake_repo_free (FakeRepo *r)
{
  g_free (r->name);
  g_free (r->commit);
  g_hash_table_unref (r->files);
  g_free (r);
}

static void
request_free (Request *r)
{
  g_free (r->method);
  g_free (r->path);
  g_free (r->range);
  g_free (r->authorization);
  g_free (r);
}

static FakeRepo *
add_repo (const char *name, gboolean gated)
{
  FakeRepo *r = g_new0 (FakeRepo, 1);
  r->name = g_strdup (name);
  r->commit = g_compute_checksum_for_string (G_CHECKSUM_SHA1, name, -1);
  r->gated = gated;
  r->files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) fake_file_free);
  g_hash_table_insert (hub.repos, r->name, r);
  return r;
}

static FakeFile *
add_file (FakeRepo *repo, const char *name, GBytes *data, gboolean lfs)
{
  FakeFile *f = g_new0 (FakeFile, 1);
  f->name = g_strdup (name);
  f->data = g_bytes_ref (data);
  f->sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
  f->announced_sha256 = g_strdup (f->sha256);
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_autofree char *header = g_strdup_printf ("blob %zu", g_bytes_get_size (data));
  g_checksum_update (sha1, (const guchar *) header, (gssize) strlen (header) + 1); /* with its NUL */
  g_checksum_update (sha1, g_bytes_get_data (data, NULL), (gssize) g_bytes_get_size (data));
  f->git_sha1 = g_strdup (g_checksum_get_string (sha1));
  f->lfs = lfs;
  g_hash_table_insert (repo->files, f->name, f);
  if (lfs)
    g_hash_table_insert (hub.blobs, f->sha256, f);
  return f;
}

static void
respond_error (SoupServerMessage *msg, Request *r, guint status, const char *code)
{
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  if (code != NULL)
    soup_message_headers_replace (resp, "X-Error-Code", code);
  soup_server_message_set_status (msg, status, NULL);
  static const char body[] = "{\"error\": \"fake hub\"}";
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, body, sizeof body - 1);
  r->status = status;
}

typedef struct
{
  GIOStream *io;
  GString *head;
  const guint8 *body; /* into a FakeFile's bytes, which outlive the server */
  gsize n;
  gboolean slow;
} RawAnswer;

static void
append_header (const char *name, const char *value, gpointer data)
{
  g_string_append_printf (data, "%s: %s\r\n", name, value);
}

static gpointer
write_raw (gpointer data)
{
  RawAnswer *a = data;
  GOutputStream *out = g_io_stream_get_output_stream (a->io);
  gboolean ok = g_output_stream_write_all (out, a->head->str, a->head->len, NULL, NULL, NULL);
  for (gsize done = 0; ok && done < a->n;)
    {
      gsize n = a->slow ? MIN (4096, a->n - done) : a->n - done;
      ok = g_output_stream_write_all (out, a->body + done, n, NULL, NULL, NULL);
      done += n;
      if (a->slow)
        g_usleep (10000);
    }
  g_io_stream_close (a->io, NULL, NULL);
  g_object_unref (a->io);
  g_string_free (a->head, TRUE);
  g_free (a);
  return NULL;
}

/* Takes the connection from libsoup and writes the answer itself, on a
 * thread: all of it slowly, or only its first n bytes before closing. */
static void
answer_raw (SoupServerMessage *msg, guint status, gsize content_length, const guint8 *body, gsize n, gboolean slow)
{
  RawAnswer *a = g_new0 (RawAnswer, 1);
  a->head = g_string_new (NULL);
  g_string_append_printf (a->head, "HTTP/1.1 %u %s\r\nContent-Length: %zu\r\nConnection: close\r\n", status,
                          soup_status_get_phrase (status), content_length);
  soup_message_headers_foreach (soup_server_message_get_response_headers (msg), append_header, a->head);
  g_string_append (a->head, "\r\n");
  a->body = body;
  a->n = n;
  a->slow = slow;
  a->io = soup_server_message_steal_connection (msg); /* transfer full */
  g_ptr_array_add (hub.writers, g_thread_new ("fake-hub-writer", write_raw, a));
}

/* A file's bytes, with Range (bytes=N-) and the faults. */
static void
serve_body (SoupServerMessage *msg, Request *r, FakeFile *f, const char *etag)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  gsize size;
  const guint8 *data = g_bytes_get_data (f->data, &size);
  soup_message_headers_replace (resp, "ETag", etag);
  Fault fault = FAULT_NONE;
  if (g_str_equal (r->method, "GET") && g_strcmp0 (hub.fault_file, f->name) == 0)
    {
      fault = hub.fault;
      hub.fault = FAULT_NONE;
      g_clear_pointer (&hub.fault_file, g_free);
    }
  gsize start = 0;
  if (r->range != NULL && fault != FAULT_IGNORE_RANGE)
    {
      g_assert_true (g_str_has_prefix (r->range, "bytes=") && g_str_has_suffix (r->range, "-"));
      start = (gsize) g_ascii_strtoull (r->range + 6, NULL, 10);
      if (start >= size)
        {
          g_autofree char *range = g_strdup_printf ("bytes */%zu", size);
          soup_message_headers_replace (resp, "Content-Range", range);
          respond_error (msg, r, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
          return;
        }
    }
  /* libsoup's own Range handling must leave these answers alone */
  soup_message_headers_remove (req, "Range");
  guint status = start > 0 ? SOUP_STATUS_PARTIAL_CONTENT : SOUP_STATUS_OK;
  if (start > 0)
    soup_message_headers_set_content_range (resp, (goffset) start, (goffset) size - 1, (goffset) size);
  r->status = status;
  r->body_bytes = (gint64) (size - start);
  if (fault == FAULT_CUT || fault == FAULT_SLOW)
    {
      gsize n = fault == FAULT_CUT ? MIN (CUT_AFTER, size - start) : size - start;
      r->body_bytes = (gint64) n;
      answer_raw (msg, status, size - start, data + start, n, fault == FAULT_SLOW);
      return;
    }
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_STATIC, (const char *) data + start,
                                    size - start);
}

static void
handle_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  Request *r = g_new0 (Request, 1);
  r->method = g_strdup (soup_server_message_get_method (msg));
  r->path = g_strdup (path);
  r->range = g_strdup (soup_message_headers_get_one (req, "Range"));
  r->authorization = g_strdup (soup_message_headers_get_one (req, "Authorization"));

  g_mutex_lock (&hub.lock);
  g_ptr_array_add (hub.log, r);
  const char *resolve = strstr (path, "/resolve/");
  const char *rev = resolve != NULL ? resolve + strlen ("/resolve/") : NULL;
  const char *file = rev != NULL ? strchr (rev, '/') : NULL;
  if (hub.fail_500 > 0)
    {
      hub.fail_500--;
      respond_error (msg, r, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
    }
  else if (g_str_has_prefix (path, "/cdn/"))
    {
      FakeFile *f = g_hash_table_lookup (hub.blobs, path + strlen ("/cdn/"));
      if (f == NULL)
        respond_error (msg, r, SOUP_STATUS_NOT_FOUND, NULL);
      else
        {
          /* what S3 would say: an MD5, not the SHA-256 */
          g_autofree char *md5 = g_compute_checksum_for_bytes (G_CHECKSUM_MD5, f->data);
          g_autofree char *etag = g_strdup_printf ("\"%s\"", md5);
          serve_body (msg, r, f, etag);
        }
    }
  else if (file == NULL)
    respond_error (msg, r, SOUP_STATUS_NOT_FOUND, NULL);
  else
    {
      g_autofree char *repo_name = g_strndup (path + 1, (gsize) (resolve - path - 1));
      g_autofree char *revision = g_strndup (rev, (gsize) (file - rev));
      file++;
      FakeRepo *repo = g_hash_table_lookup (hub.repos, repo_name);
      FakeFile *f = repo != NULL ? g_hash_table_lookup (repo->files, file) : NULL;
      if (repo == NULL)
        respond_error (msg, r, SOUP_STATUS_NOT_FOUND, "RepoNotFound");
      else if (repo->gated && g_strcmp0 (r->authorization, "Bearer " TOKEN) != 0)
        respond_error (msg, r, r->authorization == NULL ? SOUP_STATUS_UNAUTHORIZED : SOUP_STATUS_FORBIDDEN,
                       "GatedRepo");
      else if (!g_str_equal (revision, "main") && !g_str_equal (revision, repo->commit))
        respond_error (msg, r, SOUP_STATUS_NOT_FOUND, "RevisionNotFound");
      else if (f == NULL)
        respond_error (msg, r, SOUP_STATUS_NOT_FOUND, "EntryNotFound");
      else if (f->lfs)
        {
          soup_message_headers_replace (resp, "X-Repo-Commit", repo->commit);
          g_autofree char *etag = g_strdup_printf ("\"%s\"", f->announced_sha256);
          g_autofree char *size = g_strdup_printf ("%zu", g_bytes_get_size (f->data));
          soup_message_headers_replace (resp, "X-Linked-Etag", etag);
          soup_message_headers_replace (resp, "X-Linked-Size", size);
          soup_message_headers_replace (resp, "ETag", etag);
          g_autofree char *location = g_strdup_printf ("http://localhost:%d/cdn/%s", hub.port, f->sha256);
          soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, location);
          r->status = SOUP_STATUS_FOUND;
        }
      else
        {
          soup_message_headers_replace (resp, "X-Repo-Commit", repo->commit);
          g_autofree char *etag = g_strdup_printf ("\"%s\"", f->git_sha1);
          serve_body (msg, r, f, etag);
        }
    }
  g_mutex_unlock (&hub.lock);
}

static gpointer
server_main (gpointer data)
{
  g_main_context_push_thread_default (hub.context);
  SoupServer *server = soup_server_new ("server-header", "fake-hub ", NULL);
  soup_server_add_handler (server, NULL, handle_request, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  soup_server_listen (server, address, 0, &error);
  g_assert_no_error (error);
  /* the port from the socket: libsoup 3.2 leaks an address in
   * soup_server_listen_local and in soup_server_get_uris */
  GSList *listeners = soup_server_get_listeners (server);
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (listeners->data, &error);
  g_assert_no_error (error);
  g_slist_free (listeners);
  g_mutex_lock (&hub.lock);
  hub.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  hub.url = g_strdup_printf ("http://127.0.0.1:%d", hub.port);
  g_cond_signal (&hub.ready);
  g_mutex_unlock (&hub.lock);

  g_main_loop_run (hub.loop);
  soup_server_disconnect (server);
  g_object_unref (server);
  while (g_main_context_iteration (hub.context, FALSE))
    ;
  g_main_context_pop_thread_default (hub.context);
  return NULL;
}

static void
join_writers (void)
{
  g_mutex_lock (&hub.lock);
  g_autoptr (GPtrArray) writers = g_steal_pointer (&hub.writers);
  hub.writers = g_ptr_array_new ();
  g_mutex_unlock (&hub.lock);
  for (guint i = 0; i < writers->len; i++)
    g_thread_join (g_ptr_array_index (writers, i));
}

/* ---- what it serves ---- */

static GBytes *
vocab_bytes (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", "bert-base-uncased-vocab.txt",
                                                 NULL);
  return read_bytes (path);
}

/* A tiny BERT with the real vocabulary: some 4 MB of weights. */
static void
make_model (const char *dir)
{
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->vocab_size = 30522;
  config->hidden_size = 32;
  config->n_layers = 2;
  config->n_heads = 2;
  config->intermediate_size = 64;
  config->max_position_embeddings = 64;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  g_assert_no_error (error);
  bs_model_init_weights (model, 7);
  bs_model_save (model, dir, &error);
  g_assert_no_error (error);
}

/* model.safetensors as two shards (tensors dealt alternately) and the index. */
static void
add_shards (FakeRepo *repo, const char *tmp)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (hub.model, "model.safetensors", &error);
  g_assert_no_error (error);
  const char *names[2] = { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" };
  g_autoptr (BsSafetensorsWriter) w0 = bs_safetensors_writer_new ();
  g_autoptr (BsSafetensorsWriter) w1 = bs_safetensors_writer_new ();
  BsSafetensorsWriter *writers[2] = { w0, w1 };
  g_autoptr (GString) index = g_string_new (NULL);
  g_string_append_printf (index, "{\"metadata\": {\"total_size\": %zu}, \"weight_map\": {",
                          g_bytes_get_size (hub.model));
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (st, i);
      bs_safetensors_writer_add (writers[i % 2], t->name, t->dtype, t->n_dims, t->shape, t->data);
      g_string_append_printf (index, "%s\"%s\": \"%s\"", i ? ", " : "", t->name, names[i % 2]);
    }
  g_string_append (index, "}}");
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *path = g_build_filename (tmp, names[k], NULL);
      bs_safetensors_writer_write (writers[k], path, &error);
      g_assert_no_error (error);
      g_autoptr (GBytes) bytes = read_bytes (path);
      add_file (repo, names[k], bytes, TRUE);
      g_unlink (path);
    }
  g_autoptr (GBytes) index_bytes = g_bytes_new (index->str, index->len);
  add_file (repo, "model.safetensors.index.json", index_bytes, FALSE);
}

static void
hub_start (void)
{
  hub.repos = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) fake_repo_free);
  hub.blobs = g_hash_table_new (g_str_hash, g_str_equal);
  hub.log = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  hub.writers = g_ptr_array_new ();

  g_autoptr (GError) error = NULL;
  hub.model_dir = g_dir_make_tmp ("bs-hub-model-XXXXXX", &error);
  g_assert_no_error (error);
  make_model (hub.model_dir);
  g_autofree char *config_path = g_build_filename (hub.model_dir, "config.json", NULL);
  g_autofree char *model_path = g_build_filename (hub.model_dir, "model.safetensors", NULL);
  g_autoptr (GBytes) config = read_bytes (config_path);
  hub.model = read_bytes (model_path);
  g_autoptr (GBytes) vocab = vocab_bytes ();
  static const char lower_case[] = "{\"do_lower_case\": true}";
  g_autoptr (GBytes) tokenizer_config = g_bytes_new_static (lower_case, sizeof lower_case - 1);
  static const char zip[] = "PK\003\004 not a real pickle";
  g_autoptr (GBytes) pickle = g_bytes_new_static (zip, sizeof zip - 1);
  static const char gpt2[] = "{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 2, \"vocab_size\": 50257}";
  g_autoptr (GBytes) gpt2_config = g_bytes_new_static (gpt2, sizeof gpt2 - 1);

  FakeRepo *r = add_repo ("test/tiny-bert", FALSE);
  add_file (r, "config.json", config, FALSE);
  add_file (r, "model.safetensors", hub.model, TRUE);
  add_file (r, "vocab.txt", vocab, FALSE);
  add_file (r, "tokenizer_config.json", tokenizer_config, FALSE);

  r = add_repo ("test/gated-bert", TRUE);
  add_file (r, "config.json", config, FALSE);
  add_file (r, "model.safetensors", hub.model, TRUE);
  add_file (r, "vocab.txt", vocab, FALSE);

  r = add_repo ("test/bad-checksum", FALSE);
  add_file (r, "config.json", config, FALSE);
  FakeFile *f = add_file (r, "model.safetensors", hub.model, TRUE);
  g_free (f->announced_sha256);
  f->announced_sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "something else", -1);
  add_file (r, "vocab.txt", vocab, FALSE);

  r = add_repo ("test/sharded-bert", FALSE);
  add_file (r, "config.json", config, FALSE);
  add_file (r, "vocab.txt", vocab, FALSE);
  add_shards (r, hub.model_dir);

  r = add_repo ("test/pytorch-only", FALSE);
  add_file (r, "config.json", config, FALSE);
  add_file (r, "pytorch_model.bin", pickle, TRUE);
  add_file (r, "vocab.txt", vocab, FALSE);

  r = add_repo ("test/gpt2", FALSE);
  add_file (r, "config.json", gpt2_config, FALSE);
  add_file (r, "model.safetensors", hub.model, TRUE);

  r = add_repo ("test/no-vocab", FALSE);
  add_file (r, "config.json", config, FALSE);
  add_file (r, "model.safetensors", hub.model, TRUE);

  hub.context = g_main_context_new ();
  hub.loop = g_main_loop_new (hub.context, FALSE);
  g_mutex_lock (&hub.lock);
  hub.thread = g_thread_new ("fake-hub", server_main, NULL);
  while (hub.url == NULL)
    g_cond_wait (&hub.ready, &hub.lock);
  g_mutex_unlock (&hub.lock);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (hub.loop);
  return G_SOURCE_REMOVE;
}

static void
hub_stop (void)
{
  join_writers ();
  g_main_context_invoke (hub.context, quit_loop, NULL);
  g_thread_join (hub.thread);
  g_main_loop_unref (hub.loop);
  g_main_context_unref (hub.context);
  g_hash_table_unref (hub.repos);
  g_hash_table_unref (hub.blobs);
  g_ptr_array_unref (hub.log);
  g_ptr_array_unref (hub.writers);
  g_bytes_unref (hub.model);
  bs_test_remove_tree (hub.model_dir);
  g_free (hub.model_dir);
  g_free (hub.url);
  g_free (hub.fault_file);
}

static void
set_fault (Fault fault, const char *file)
{
  g_mutex_lock (&hub.lock);
  hub.fault = fault;
  g_free (hub.fault_file);
  hub.fault_file = g_strdup (file);
  g_mutex_unlock (&hub.lock);
}

static void
set_fail_500 (int n)
{
  g_mutex_lock (&hub.lock);
  hub.fail_500 = n;
  g_mutex_unlock (&hub.lock);
}

/* The requests logged since mark whose path contains needle (method NULL:
 * any), in order; the Requests stay the log's. */
static GPtrArray *
requests (guint mark, const char *method, const char *needle)
{
  GPtrArray *found = g_ptr_array_new ();
  g_mutex_lock (&hub.lock);
  for (guint i = mark; i < hub.log->len; i++)
    {
      Request *r = g_ptr_array_index (hub.log, i);
      if ((method == NULL || g_str_equal (r->method, method)) && strstr (r->path, needle) != NULL)
        g_ptr_array_add (found, r);
    }
  g_mutex_unlock (&hub.lock);
  return found;
}

static guint
log_mark (void)
{
  g_mutex_lock (&hub.lock);
  guint n = hub.log->len;
  g_mutex_unlock (&hub.lock);
  return n;
}

/* ---- fixture ---- */

typedef struct
{
  char *dir;
  char *out;   /* the model folder to create */
  char *stage; /* its staging folder */
  char *db;
  guint mark;  /* the log's length at the start */
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  fx->dir = g_dir_make_tmp ("bs-hub-XXXXXX", &error);
  g_assert_no_error (error);
  fx->out = g_build_filename (fx->dir, "models", "tiny", NULL);
  fx->stage = g_strconcat (fx->out, ".partial", NULL);
  fx->db = g_build_filename (fx->dir, "studio.db", NULL);
  /* started by the first test that needs it, so that the tests before it
   * may still set environment variables (unsafe once threads run) */
  if (hub.thread == NULL)
    hub_start ();
  join_writers ();
  set_fault (FAULT_NONE, NULL);
  set_fail_500 (0);
  fx->mark = log_mark ();
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  join_writers ();
  bs_hub_set_disk_free_for_testing (-1);
  bs_test_remove_tree (fx->dir);
  g_free (fx->dir);
  g_free (fx->out);
  g_free (fx->stage);
  g_free (fx->db);
}

static BsHubOptions
options_for (Fixture *fx, const char *repo)
{
  return (BsHubOptions) {
    .repo = repo,
    .endpoint = hub.url,
    .output_dir = fx->out,
    .db_path = fx->db,
    .retry_delay_ms = 10,
    .timeout_s = 20,
  };
}

/* Models registered at path (with source, unless NULL). */
static guint
count_registered (Fixture *fx, const char *path, const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsStore) store = bs_store_open (fx->db, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) models = bs_store_list_models (store, &error);
  g_assert_no_error (error);
  guint n = 0;
  for (guint i = 0; i < models->len; i++)
    {
      const BsModelInfo *m = g_ptr_array_index (models, i);
      if (g_strcmp0 (m->path, path) == 0 && (source == NULL || g_strcmp0 (m->source, source) == 0))
        n++;
    }
  return n;
}

/* Nothing of a failed download is in place or in the registry. */
static void
assert_nothing_installed (Fixture *fx)
{
  g_assert_false (g_file_test (fx->out, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_registered (fx, fx->out, NULL), ==, 0);
}

static void
assert_loads (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsClassifier) classifier = bs_classifier_load (dir, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (classifier);
}

static void
assert_same_file (const char *path, GBytes *expected)
{
  g_autoptr (GBytes) got = read_bytes (path);
  g_assert_true (g_bytes_equal (got, expected));
}

static char *
stage_file (Fixture *fx, const char *name)
{
  return g_build_filename (fx->stage, name, NULL);
}

static void
download_ok (const BsHubOptions *o, BsHubProgressFunc progress, gpointer data, GCancellable *cancellable,
             BsHubResult *result)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = bs_hub_download (o, progress, data, cancellable, result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* ---- progress ---- */

typedef struct
{
  GThread *thread;        /* the one bs_hub_download runs on */
  gboolean wrong_thread;
  gboolean went_back;     /* done_bytes decreased */
  guint n_calls;
  guint phases;           /* 1 << BsHubPhase seen */
  BsHubProgress last;
  GCancellable *cancel;   /* cancelled once model.safetensors is under way */
} Recorder;

static void
record_progress (const BsHubProgress *p, gpointer data)
{
  Recorder *rec = data;
  if (g_thread_self () != rec->thread)
    rec->wrong_thread = TRUE;
  if (rec->n_calls > 0 && p->done_bytes < rec->last.done_bytes)
    rec->went_back = TRUE;
  rec->n_calls++;
  rec->phases |= 1u << p->phase;
  rec->last = *p;
  rec->last.file = NULL;
  if (rec->cancel != NULL && g_strcmp0 (p->file, "model.safetensors") == 0 && p->file_done > 0)
    g_cancellable_cancel (rec->cancel);
}

/* ---- tests ---- */

static void
test_repo_names (void)
{
  const char *good[] = { "bert-base-uncased", "google-bert/bert-base-uncased", "a/b", "x_y.z/m-1", NULL };
  const char *bad[] = { "", "/", "a/", "/a", "a/b/c", "a//b", "-a", "a..b", "a--b", "../x", "a b", "a/b.git", "a?b",
                        NULL };
  for (int i = 0; good[i] != NULL; i++)
    g_assert_true (bs_hub_check_repo_id (good[i], NULL));
  for (int i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (bs_hub_check_repo_id (bad[i], &error));
      g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_INVALID);
      g_test_message ("%s", error->message);
    }
  g_autofree char *dir = bs_hub_default_output_dir ("google-bert/bert-base-uncased");
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "bert-studio", "models",
                                                "google-bert__bert-base-uncased", NULL);
  g_assert_cmpstr (dir, ==, expected);

  g_setenv ("HF_ENDPOINT", "https://mirror.example/", TRUE);
  BsHubOptions none = { 0 };
  g_autofree char *from_env = bs_hub_get_endpoint (&none);
  g_assert_cmpstr (from_env, ==, "https://mirror.example");
  g_unsetenv ("HF_ENDPOINT");
  g_autofree char *fallback = bs_hub_get_endpoint (&none);
  g_assert_cmpstr (fallback, ==, "https://huggingface.co");
}

/* The whole path.  (HF_ENDPOINT and HF_TOKEN are tested through the CLI:
 * setenv is unsafe once the fake hub's threads run.) */
static void
test_download (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  Recorder rec = { .thread = g_thread_self () };
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  download_ok (&o, record_progress, &rec, NULL, &result);

  g_assert_cmpstr (result.path, ==, fx->out);
  FakeRepo *repo = g_hash_table_lookup (hub.repos, "test/tiny-bert");
  g_assert_cmpstr (result.commit, ==, repo->commit);
  g_assert_cmpint (result.model_id, >, 0);
  g_assert_cmpuint (result.n_shards, ==, 0);
  g_assert_cmpint (result.resumed_bytes, ==, 0);
  g_assert_cmpint (result.downloaded_bytes, >, (gint64) g_bytes_get_size (hub.model));
  g_assert_cmpint (result.size_bytes, ==, result.downloaded_bytes);
  const char *names[] = { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (fx->out, names[i], NULL);
      FakeFile *f = g_hash_table_lookup (repo->files, names[i]);
      assert_same_file (path, f->data);
    }
  g_autoptr (GDir) dir = g_dir_open (fx->out, 0, NULL);
  guint n_files = 0;
  while (g_dir_read_name (dir) != NULL)
    n_files++;
  g_assert_cmpuint (n_files, ==, G_N_ELEMENTS (names));
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));
  assert_loads (fx->out);
  g_assert_cmpuint (count_registered (fx, fx->out, "hub:test/tiny-bert@main"), ==, 1);

  /* progress: on this thread, forwards, whole at the end */
  g_assert_false (rec.wrong_thread);
  g_assert_false (rec.went_back);
  g_assert_cmpuint (rec.phases, ==,
                    (1u << BS_HUB_PHASE_RESOLVING) | (1u << BS_HUB_PHASE_DOWNLOADING)
                        | (1u << BS_HUB_PHASE_VERIFYING) | (1u << BS_HUB_PHASE_DONE));
  g_assert_cmpint (rec.last.phase, ==, BS_HUB_PHASE_DONE);
  g_assert_cmpint (rec.last.done_bytes, ==, rec.last.total_bytes);
  g_assert_cmpint (rec.last.total_bytes, ==, result.size_bytes);

  /* config.json at main, the rest at the commit it named; the weights by
   * way of the CDN, which is never sent a token (none was given here) */
  g_autoptr (GPtrArray) configs = requests (fx->mark, "GET", "/config.json");
  g_assert_cmpuint (configs->len, ==, 1);
  bs_test_assert_contains (((Request *) configs->pdata[0])->path, "/test/tiny-bert/resolve/main/");
  g_autofree char *at_commit = g_strdup_printf ("/resolve/%s/", repo->commit);
  g_autoptr (GPtrArray) weights = requests (fx->mark, "GET", "/model.safetensors");
  g_assert_cmpuint (weights->len, ==, 1);
  bs_test_assert_contains (((Request *) weights->pdata[0])->path, at_commit);
  g_assert_cmpuint (((Request *) weights->pdata[0])->status, ==, 302);
  g_autoptr (GPtrArray) cdn = requests (fx->mark, "GET", "/cdn/");
  g_assert_cmpuint (cdn->len, ==, 1);
  g_assert_cmpint (((Request *) cdn->pdata[0])->body_bytes, ==, (gint64) g_bytes_get_size (hub.model));
  g_autoptr (GPtrArray) all = requests (fx->mark, NULL, "/");
  for (guint i = 0; i < all->len; i++)
    g_assert_null (((Request *) all->pdata[i])->authorization);

  /* again: the folder is there, and stays registered once */
  g_auto (BsHubResult) again = { 0 };
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &again, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_EXISTS);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, fx->out);
  g_assert_null (again.path);
  g_assert_cmpuint (count_registered (fx, fx->out, NULL), ==, 1);
}

/* A connection cut mid-file, then a second call that asks for the rest only. */
static void
test_resume_after_cut (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  gsize size = g_bytes_get_size (hub.model);
  set_fault (FAULT_CUT, "model.safetensors");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "model.safetensors");
  bs_test_assert_contains (error->message, "test/tiny-bert");
  g_clear_error (&error);
  assert_nothing_installed (fx);
  g_autofree char *part = stage_file (fx, "model.safetensors.incomplete");
  g_assert_cmpint (file_size (part), ==, CUT_AFTER);

  guint mark = log_mark ();
  download_ok (&o, NULL, NULL, NULL, &result);
  g_autoptr (GPtrArray) cdn = requests (mark, "GET", "/cdn/");
  g_assert_cmpuint (cdn->len, ==, 1);
  Request *r = cdn->pdata[0];
  g_autofree char *range = g_strdup_printf ("bytes=%d-", CUT_AFTER);
  g_assert_cmpstr (r->range, ==, range);
  g_assert_cmpuint (r->status, ==, 206);
  g_assert_cmpint (r->body_bytes, ==, (gint64) size - CUT_AFTER);
  g_assert_cmpint (result.resumed_bytes, ==, CUT_AFTER);
  g_assert_cmpint (result.downloaded_bytes, <, (gint64) size);
  g_autofree char *weights = g_build_filename (fx->out, "model.safetensors", NULL);
  assert_same_file (weights, hub.model);
  assert_loads (fx->out);
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_registered (fx, fx->out, "hub:test/tiny-bert@main"), ==, 1);
}

/* A server that ignores Range answers 200: the file starts over. */
static void
test_resume_ignored_range (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  set_fault (FAULT_CUT, "model.safetensors");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  set_fault (FAULT_IGNORE_RANGE, "model.safetensors");
  guint mark = log_mark ();
  download_ok (&o, NULL, NULL, NULL, &result);
  g_autoptr (GPtrArray) cdn = requests (mark, "GET", "/cdn/");
  g_assert_cmpuint (cdn->len, ==, 1);
  g_assert_nonnull (((Request *) cdn->pdata[0])->range);
  g_assert_cmpuint (((Request *) cdn->pdata[0])->status, ==, 200);
  g_assert_cmpint (result.resumed_bytes, ==, 0);
  g_autofree char *weights = g_build_filename (fx->out, "model.safetensors", NULL);
  assert_same_file (weights, hub.model);
  g_assert_cmpuint (count_registered (fx, fx->out, NULL), ==, 1);
}

/* A partial file of other contents (another ETag) is not continued. */
static void
test_resume_other_contents (Fixture *fx, gconstpointer data)
{
  g_assert_cmpint (g_mkdir_with_parents (fx->stage, 0755), ==, 0);
  g_autofree char *part = stage_file (fx, "model.safetensors.incomplete");
  g_autofree char *tag = stage_file (fx, "model.safetensors.incomplete.etag");
  g_autofree char *junk = g_strnfill (5000, 'x');
  g_autofree char *other = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "other", -1);
  g_assert_true (g_file_set_contents (part, junk, -1, NULL));
  g_assert_true (g_file_set_contents (tag, other, -1, NULL));

  BsHubOptions o = options_for (fx, "test/tiny-bert");
  g_auto (BsHubResult) result = { 0 };
  download_ok (&o, NULL, NULL, NULL, &result);
  g_assert_cmpint (result.resumed_bytes, ==, 0);
  g_autofree char *weights = g_build_filename (fx->out, "model.safetensors", NULL);
  assert_same_file (weights, hub.model);
  /* the last request for the weights asked for all of them */
  g_autoptr (GPtrArray) cdn = requests (fx->mark, "GET", "/cdn/");
  g_assert_cmpuint (cdn->len, >=, 1);
  g_assert_null (((Request *) cdn->pdata[cdn->len - 1])->range);
}

/* A failure after the weights arrived (here: the registry cannot be
 * opened) keeps them: the next call checks and reuses them. */
static void
test_resume_complete_file (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  o.db_path = fx->dir; /* a folder, not a database */
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_OPEN);
  g_test_message ("%s", error->message);
  g_assert_false (g_file_test (fx->out, G_FILE_TEST_EXISTS));
  g_autofree char *kept = stage_file (fx, "model.safetensors");
  assert_same_file (kept, hub.model);

  o.db_path = fx->db;
  guint mark = log_mark ();
  download_ok (&o, NULL, NULL, NULL, &result);
  g_autoptr (GPtrArray) cdn = requests (mark, NULL, "/cdn/");
  g_assert_cmpuint (cdn->len, ==, 0);
  g_assert_cmpint (result.resumed_bytes, ==, (gint64) g_bytes_get_size (hub.model));
  g_autofree char *weights = g_build_filename (fx->out, "model.safetensors", NULL);
  assert_same_file (weights, hub.model);
  g_assert_cmpuint (count_registered (fx, fx->out, NULL), ==, 1);
}

static void
test_checksum_mismatch (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/bad-checksum");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_CHECKSUM);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "model.safetensors");
  bs_test_assert_contains (error->message, "test/bad-checksum");
  bs_test_assert_contains (error->message, "SHA-256");
  assert_nothing_installed (fx);
  g_autofree char *weights = stage_file (fx, "model.safetensors");
  g_autofree char *part = stage_file (fx, "model.safetensors.incomplete");
  g_assert_false (g_file_test (weights, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

static void
test_not_found (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/no-such-repo");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "test/no-such-repo");
  g_clear_error (&error);
  assert_nothing_installed (fx);
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));

  o = options_for (fx, "test/tiny-bert");
  o.revision = "v9.9";
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "v9.9");
  g_clear_error (&error);

  o = options_for (fx, "test/no-vocab");
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "vocab.txt");
  assert_nothing_installed (fx);
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));
}

static void
test_gated (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/gated-bert");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_AUTH);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "HF_TOKEN");
  bs_test_assert_contains (error->message, "test/gated-bert");
  g_clear_error (&error);
  assert_nothing_installed (fx);
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));

  o.token = "hf_wrong";
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_AUTH);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* the right token: sent to the hub, never to the CDN */
  o.token = TOKEN;
  guint mark = log_mark ();
  download_ok (&o, NULL, NULL, NULL, &result);
  assert_loads (fx->out);
  g_autoptr (GPtrArray) all = requests (mark, NULL, "/");
  guint n_cdn = 0;
  for (guint i = 0; i < all->len; i++)
    {
      Request *r = all->pdata[i];
      if (g_str_has_prefix (r->path, "/cdn/"))
        {
          n_cdn++;
          g_assert_null (r->authorization);
        }
      else
        g_assert_cmpstr (r->authorization, ==, "Bearer " TOKEN);
    }
  g_assert_cmpuint (n_cdn, ==, 1);
  g_assert_cmpuint (count_registered (fx, fx->out, "hub:test/gated-bert@main"), ==, 1);
}

static void
test_pytorch_only (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/pytorch-only");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "pytorch_model.bin");
  bs_test_assert_contains (error->message, "pickle");
  bs_test_assert_contains (error->message, "model.safetensors");
  assert_nothing_installed (fx);
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));
  /* asked about, never fetched */
  g_autoptr (GPtrArray) heads = requests (fx->mark, "HEAD", "/pytorch_model.bin");
  g_autoptr (GPtrArray) gets = requests (fx->mark, "GET", "pytorch_model.bin");
  g_autoptr (GPtrArray) cdn = requests (fx->mark, NULL, "/cdn/");
  g_assert_cmpuint (heads->len, ==, 1);
  g_assert_cmpuint (gets->len, ==, 0);
  g_assert_cmpuint (cdn->len, ==, 0);
}

static void
test_not_bert (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/gpt2");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "test/gpt2");
  assert_nothing_installed (fx);
  /* stopped at config.json: no weights asked for */
  g_autoptr (GPtrArray) weights = requests (fx->mark, NULL, "model.safetensors");
  g_assert_cmpuint (weights->len, ==, 0);
}

static void
test_server_error_retry (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  set_fail_500 (1);
  g_auto (BsHubResult) result = { 0 };
  download_ok (&o, NULL, NULL, NULL, &result);
  g_autoptr (GPtrArray) configs = requests (fx->mark, "GET", "/config.json");
  g_assert_cmpuint (configs->len, ==, 2);
  g_assert_cmpuint (((Request *) configs->pdata[0])->status, ==, 500);
  g_assert_cmpuint (((Request *) configs->pdata[1])->status, ==, 200);
  assert_loads (fx->out);
  g_assert_cmpuint (count_registered (fx, fx->out, NULL), ==, 1);
}

static void
test_server_error_gives_up (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  set_fail_500 (100);
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_SERVER);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "500");
  bs_test_assert_contains (error->message, "config.json");
  g_autoptr (GPtrArray) all = requests (fx->mark, NULL, "/");
  g_assert_cmpuint (all->len, ==, 1 + BS_HUB_MAX_RETRIES);
  set_fail_500 (0);
  assert_nothing_installed (fx);
}

/* Cancelled mid-file: the bytes so far stay for the next call. */
static void
test_cancel (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  gsize size = g_bytes_get_size (hub.model);
  set_fault (FAULT_SLOW, "model.safetensors");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Recorder rec = { .thread = g_thread_self (), .cancel = cancellable };
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, record_progress, &rec, cancellable, &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "test/tiny-bert");
  g_clear_error (&error);
  assert_nothing_installed (fx);
  g_autofree char *part = stage_file (fx, "model.safetensors.incomplete");
  gint64 kept = file_size (part);
  g_assert_cmpint (kept, >, 0);
  g_assert_cmpint (kept, <, (gint64) size);

  join_writers ();
  guint mark = log_mark ();
  download_ok (&o, NULL, NULL, NULL, &result);
  g_autoptr (GPtrArray) cdn = requests (mark, "GET", "/cdn/");
  g_assert_cmpuint (cdn->len, ==, 1);
  g_autofree char *range = g_strdup_printf ("bytes=%" G_GINT64_FORMAT "-", kept);
  g_assert_cmpstr (((Request *) cdn->pdata[0])->range, ==, range);
  g_assert_cmpint (result.resumed_bytes, ==, kept);
  g_autofree char *weights = g_build_filename (fx->out, "model.safetensors", NULL);
  assert_same_file (weights, hub.model);
  g_assert_cmpuint (count_registered (fx, fx->out, NULL), ==, 1);
}

/* Shards are joined into one model.safetensors with the same tensors. */
static void
test_sharded (Fixture *fx, gconstpointer data)
{
  BsHubOptions o = options_for (fx, "test/sharded-bert");
  Recorder rec = { .thread = g_thread_self () };
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  download_ok (&o, record_progress, &rec, NULL, &result);
  g_assert_cmpuint (result.n_shards, ==, 2);
  g_assert_true (rec.phases & (1u << BS_HUB_PHASE_MERGING));
  g_autofree char *merged = g_build_filename (fx->out, "model.safetensors", NULL);
  g_autofree char *index = g_build_filename (fx->out, "model.safetensors.index.json", NULL);
  g_autofree char *shard = g_build_filename (fx->out, "model-00001-of-00002.safetensors", NULL);
  g_assert_false (g_file_test (index, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (shard, G_FILE_TEST_EXISTS));

  g_autoptr (BsSafetensors) got = bs_safetensors_open (merged, &error);
  g_assert_no_error (error);
  g_autoptr (BsSafetensors) want = bs_safetensors_new_from_bytes (hub.model, "model.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_safetensors_get_n_tensors (got), ==, bs_safetensors_get_n_tensors (want));
  for (guint i = 0; i < bs_safetensors_get_n_tensors (want); i++)
    {
      const BsTensorInfo *w = bs_safetensors_get_tensor (want, i);
      const BsTensorInfo *g = bs_safetensors_lookup (got, w->name);
      g_assert_nonnull (g);
      g_assert_cmpint (g->dtype, ==, w->dtype);
      g_assert_cmpmem (g->shape, sizeof (gint64) * (gsize) g->n_dims, w->shape, sizeof (gint64) * (gsize) w->n_dims);
      g_assert_cmpmem (g->data, g->n_bytes, w->data, w->n_bytes);
    }
  assert_loads (fx->out);
  g_assert_cmpuint (count_registered (fx, fx->out, "hub:test/sharded-bert@main"), ==, 1);
}

static void
test_disk_full (Fixture *fx, gconstpointer data)
{
  bs_hub_set_disk_free_for_testing (100000);
  BsHubOptions o = options_for (fx, "test/tiny-bert");
  g_auto (BsHubResult) result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_DISK_FULL);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "test/tiny-bert");
  bs_test_assert_contains (error->message, "disk space");
  g_autofree char *need = g_format_size (g_bytes_get_size (hub.model));
  bs_test_assert_contains (error->message, need);
  assert_nothing_installed (fx);
  /* refused before the weights were asked for */
  g_autoptr (GPtrArray) cdn = requests (fx->mark, NULL, "/cdn/");
  g_assert_cmpuint (cdn->len, ==, 0);
}

static void
test_no_network (Fixture *fx, gconstpointer data)
{
  /* a port nothing listens on: bound, then closed */
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, any_port, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  g_autofree char *endpoint = g_strdup_printf ("http://127.0.0.1:%u", port);

  BsHubOptions o = options_for (fx, "test/tiny-bert");
  o.endpoint = endpoint;
  g_auto (BsHubResult) result = { 0 };
  g_assert_false (bs_hub_download (&o, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, BS_HUB_ERROR, BS_HUB_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  bs_test_assert_contains (error->message, "127.0.0.1");
  bs_test_assert_contains (error->message, "internet connection");
  assert_nothing_installed (fx);
  g_assert_false (g_file_test (fx->stage, G_FILE_TEST_EXISTS));
}

typedef struct
{
  int status;
  char *out, *err;
} CliRun;

static void
cli_run_clear (CliRun *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

/* bert-studio-cli download args, with HF_ENDPOINT naming the fake hub and
 * HF_TOKEN set to token (NULL: unset) */
static void
run_cli (CliRun *r, const char *token, const char *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "HF_ENDPOINT", hub.url, TRUE);
  if (token != NULL)
    g_subprocess_launcher_setenv (launcher, "HF_TOKEN", token, TRUE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) g_getenv ("BS_CLI"));
  g_ptr_array_add (argv, "download");
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  r->status = g_subprocess_get_exit_status (proc);
}

static void
test_cli (Fixture *fx, gconstpointer data)
{
  if (g_getenv ("BS_CLI") == NULL)
    {
      g_test_skip ("BS_CLI does not name the built bert-studio-cli");
      return;
    }
  g_auto (CliRun) ok = { 0 };
  run_cli (&ok, NULL, (const char *const[]) { "test/tiny-bert", "--output", fx->out, "--db", fx->db, "--json", NULL });
  g_test_message ("stderr: %s", ok.err);
  g_assert_cmpint (ok.status, ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (parser, ok.out, -1, &error);
  g_assert_no_error (error);
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (o, "model"), >, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "path"), ==, fx->out);
  g_assert_cmpstr (json_object_get_string_member (o, "repo"), ==, "test/tiny-bert");
  assert_loads (fx->out);
  g_assert_cmpuint (count_registered (fx, fx->out, "hub:test/tiny-bert@main"), ==, 1);

  /* bad input: exit status 2 and a message naming the repository */
  g_autofree char *other = g_build_filename (fx->dir, "other", NULL);
  g_auto (CliRun) missing = { 0 };
  run_cli (&missing, NULL, (const char *const[]) { "test/no-such-repo", "--output", other, "--db", fx->db, NULL });
  g_assert_cmpint (missing.status, ==, 2);
  bs_test_assert_contains (missing.err, "test/no-such-repo");
  g_auto (CliRun) pickle = { 0 };
  run_cli (&pickle, NULL, (const char *const[]) { "test/pytorch-only", "--output", other, "--db", fx->db, NULL });
  g_assert_cmpint (pickle.status, ==, 2);
  bs_test_assert_contains (pickle.err, "pickle");
  /* HF_TOKEN opens a gated repository */
  g_autofree char *gated = g_build_filename (fx->dir, "gated", NULL);
  g_auto (CliRun) no_token = { 0 };
  run_cli (&no_token, NULL, (const char *const[]) { "test/gated-bert", "--output", gated, "--db", fx->db, NULL });
  g_assert_cmpint (no_token.status, ==, 2);
  bs_test_assert_contains (no_token.err, "HF_TOKEN");
  g_auto (CliRun) with_token = { 0 };
  run_cli (&with_token, TOKEN, (const char *const[]) { "test/gated-bert", "--output", gated, "--db", fx->db, NULL });
  g_test_message ("stderr: %s", with_token.err);
  g_assert_cmpint (with_token.status, ==, 0);
  bs_test_assert_contains (with_token.out, gated);
  g_assert_cmpuint (count_registered (fx, gated, "hub:test/gated-bert@main"), ==, 1);
  /* Ctrl+C mid-file: exit status 130, the bytes kept; then continued */
  g_autofree char *slow = g_build_filename (fx->dir, "slow", NULL);
  g_autofree char *part = g_build_filename (fx->dir, "slow.partial", "model.safetensors.incomplete", NULL);
  set_fault (FAULT_SLOW, "model.safetensors");
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "HF_ENDPOINT", hub.url, TRUE);
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("BS_CLI"), "download",
                                                              "test/tiny-bert", "--output", slow, "--db", fx->db, NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 2000 && file_size (part) <= 0; i++)
    g_usleep (10000);
  g_assert_cmpint (file_size (part), >, 0);
  g_subprocess_send_signal (proc, SIGINT);
  g_auto (CliRun) stopped = { 0 };
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &stopped.out, &stopped.err, &error);
  g_assert_no_error (error);
  g_test_message ("stderr: %s", stopped.err);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 130);
  bs_test_assert_contains (stopped.err, "cancelled");
  gint64 kept = file_size (part);
  g_assert_cmpint (kept, >, 0);
  g_assert_cmpint (kept, <, (gint64) g_bytes_get_size (hub.model));
  join_writers ();
  g_auto (CliRun) resumed = { 0 };
  run_cli (&resumed, NULL, (const char *const[]) { "test/tiny-bert", "--output", slow, "--db", fx->db, "--json", NULL });
  g_assert_cmpint (resumed.status, ==, 0);
  g_autofree char *resumed_bytes = g_strdup_printf ("\"resumed_bytes\": %" G_GINT64_FORMAT, kept);
  bs_test_assert_contains (resumed.out, resumed_bytes);
  assert_loads (slow);

  g_auto (CliRun) name = { 0 };
  run_cli (&name, NULL, (const char *const[]) { "not//a/repo", NULL });
  g_assert_cmpint (name.status, ==, 2);
}

int
main (int argc, char **argv)
{
  /* hermetic: no proxy between the client and the fake hub, no token */
  const char *proxies[] = { "http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                            "ALL_PROXY", "NO_PROXY", "HF_TOKEN", "HF_ENDPOINT", NULL };
  for (int i = 0; proxies[i] != NULL; i++)
    g_unsetenv (proxies[i]);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  /* a writer may find its connection closed by a cancelled client */
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hub/repo-names", test_repo_names);
#define ADD(name, func) g_test_add ("/hub/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("download", test_download);
  ADD ("resume/after-cut", test_resume_after_cut);
  ADD ("resume/ignored-range", test_resume_ignored_range);
  ADD ("resume/other-contents", test_resume_other_contents);
  ADD ("resume/complete-file", test_resume_complete_file);
  ADD ("checksum-mismatch", test_checksum_mismatch);
  ADD ("not-found", test_not_found);
  ADD ("gated", test_gated);
  ADD ("pytorch-only", test_pytorch_only);
  ADD ("not-bert", test_not_bert);
  ADD ("server-error/retry", test_server_error_retry);
  ADD ("server-error/gives-up", test_server_error_gives_up);
  ADD ("cancel", test_cancel);
  ADD ("sharded", test_sharded);
  ADD ("disk-full", test_disk_full);
  ADD ("no-network", test_no_network);
  ADD ("cli", test_cli);
#undef ADD
  int status = g_test_run ();
  if (hub.thread != NULL)
    hub_stop ();
  return status;
}
