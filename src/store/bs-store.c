/* bs-store.c: the SQLite database behind BERT Studio.
 *
 * Metrics arrive once per batch from a job's worker thread.  Rather than
 * holding a write transaction open between batches (which would lock out
 * every other writer, e.g. a second job, for most of each second), rows are
 * buffered in memory and written in one short transaction at most
 * BS_STORE_METRIC_DELAY_MS after the first buffered row: by the next call on
 * the store, or by a helper thread when the job is busy with a long batch. */
#include "config.h"

#include "bs-store-private.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>

#include "bs-atomic-file.h"
#include "bs-config.h"
#include "bs-json.h"
#include "bs-random.h"

G_DEFINE_QUARK (bs-store-error-quark, bs_store_error)

/* Long enough to ride out another connection's import or metric commit. */
#define BUSY_TIMEOUT_MS 10000
/* Buffered metric rows beyond this are written at once, to bound memory. */
#define MAX_PENDING_METRICS 4096

const char *const bs_store_splits[4] = { "train", "validation", "test", "unlabeled" };

struct _BsStore
{
  sqlite3 *db;
  char *path;
  GRecMutex conn_lock; /* the connection and every field but the timer's */
  int txn_depth;
  gboolean txn_doomed; /* an inner step of the open transaction failed */
  gboolean txn_durable;
  sqlite3_stmt *insert_metric;
  GArray *pending;     /* BsMetric; split points to a static string */
  GError *flush_error; /* from the helper thread, for the next call */

  GMutex timer_lock;   /* taken after conn_lock, never before */
  GCond timer_cond;
  gint64 deadline;     /* monotonic µs by which pending must be written; 0: none */
  gboolean quit;
  GThread *flusher;
};

#define LOCK_STORE(s) g_autoptr (GRecMutexLocker) G_GNUC_UNUSED store_locker_ = g_rec_mutex_locker_new (&(s)->conn_lock)

/* ---- errors and statements ---- */

gboolean
bs_store_sql_error (BsStore *s, GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  /* Translators: what failed, the database file, and SQLite's reason */
  g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_SQL, _("%s (in %s): %s"), what, s->path,
               sqlite3_errmsg (s->db));
  return FALSE;
}

sqlite3_stmt *
bs_store_prepare (BsStore *s, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      /* Translators: %.60s is the start of an SQL statement */
      bs_store_sql_error (s, error, _("Could not prepare the statement “%.60s”"), sql);
      return NULL;
    }
  return stmt;
}

/* what: marked N_(), translated on failure */
static gboolean
exec (BsStore *s, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec (s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return bs_store_sql_error (s, error, "%s", _(what));
  return TRUE;
}

static gboolean
is_busy (BsStore *s)
{
  return (sqlite3_extended_errcode (s->db) & 0xff) == SQLITE_BUSY;
}

static char *
column_dup (sqlite3_stmt *stmt, int i)
{
  const unsigned char *text = sqlite3_column_text (stmt, i);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static double
column_double (sqlite3_stmt *stmt, int i)
{
  return sqlite3_column_type (stmt, i) == SQLITE_NULL ? NAN : sqlite3_column_double (stmt, i);
}

static void
bind_text (sqlite3_stmt *stmt, int i, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, i, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, i);
}

static void
bind_id (sqlite3_stmt *stmt, int i, gint64 id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, i, id);
  else
    sqlite3_bind_null (stmt, i);
}

static void
bind_double (sqlite3_stmt *stmt, int i, double v)
{
  if (isfinite (v))
    sqlite3_bind_double (stmt, i, v);
  else
    sqlite3_bind_null (stmt, i);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* The shortest text that reads back as the same double, in plain notation
 * between 1e-4 and 1e16 as Python's repr writes it (100, not 1e+02). */
static void
append_double (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char format[8];
  int precision;
  for (precision = 1; precision <= 17; precision++)
    {
      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  const char *e = strchr (buf, 'e');
  int exponent = e != NULL ? atoi (e + 1) : 0;
  if (e != NULL && exponent >= -4 && exponent < 16)
    {
      g_snprintf (format, sizeof format, "%%.%dg", MAX (precision, exponent + 1));
      g_ascii_formatd (buf, sizeof buf, format, v);
    }
  g_string_append (out, buf);
}

static void
append_json_double (GString *out, double v)
{
  if (isfinite (v))
    append_double (out, v);
  else
    g_string_append (out, "null");
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void
append_csv_field (GString *out, const char *field)
{
  if (field == NULL)
    return;
  if (strpbrk (field, ",\"\r\n") == NULL)
    {
      g_string_append (out, field);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = field; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

char *
bs_store_labels_to_json (const char *const *labels)
{
  GString *out = g_string_new ("[");
  for (gsize i = 0; labels != NULL && labels[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      bs_json_append_string (out, labels[i]);
    }
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

/* The names of a JSON array of strings; never NULL (non-strings become ""). */
static GStrv
labels_from_json (const char *json)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (json != NULL && json_parser_load_from_data (parser, json, -1, NULL))
    {
      JsonNode *root = json_parser_get_root (parser);
      if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
        {
          JsonArray *array = json_node_get_array (root);
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *node = json_array_get_element (array, i);
              gboolean is_string = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
              g_strv_builder_add (builder, is_string ? json_node_get_string (node) : "");
            }
        }
    }
  return g_strv_builder_end (builder);
}

static const char *
static_split (const char *split)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bs_store_splits); i++)
    if (split != NULL && strcmp (split, bs_store_splits[i]) == 0)
      return bs_store_splits[i];
  return NULL;
}

gboolean
bs_store_is_split (const char *split)
{
  return static_split (split) != NULL;
}

static gboolean
check_split (const char *split, GError **error)
{
  if (split == NULL || bs_store_is_split (split))
    return TRUE;
  g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
               /* Translators: %s is what was given as a split; keep the split names as they are */
               _("“%s” is not a split (train, validation, test or unlabeled)"), split);
  return FALSE;
}

/* ---- the process identity of a run ---- */

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks after
 * boot.  With the boot id it tells a live run from a reused pid. */
static gboolean
read_pid_start (gint64 pid, gint64 *start)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  const char *p = strrchr (stat, ')'); /* the command name may hold spaces */
  if (p == NULL)
    return FALSE;
  g_auto (GStrv) fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 20)
    return FALSE;
  /* after ")": field 3 (state) is fields[0], so field 22 is fields[19] */
  return g_ascii_string_to_signed (fields[19], 10, 0, G_MAXINT64, start, NULL);
}

static const char *
boot_id (void)
{
  static char *id;
  static gsize once;
  if (g_once_init_enter (&once))
    {
      char *text = NULL;
      if (g_file_get_contents ("/proc/sys/kernel/random/boot_id", &text, NULL, NULL))
        id = g_strstrip (text);
      g_once_init_leave (&once, 1);
    }
  return id;
}

static void
bind_this_process (sqlite3_stmt *stmt, int pid_index)
{
  gint64 start;
  sqlite3_bind_int64 (stmt, pid_index, getpid ());
  if (read_pid_start (getpid (), &start))
    sqlite3_bind_int64 (stmt, pid_index + 1, start);
  else
    sqlite3_bind_null (stmt, pid_index + 1);
  bind_text (stmt, pid_index + 2, boot_id ());
}

/* ---- metrics buffer ---- */

static void
set_deadline (BsStore *s, gint64 deadline)
{
  g_mutex_lock (&s->timer_lock);
  s->deadline = deadline;
  g_cond_signal (&s->timer_cond);
  g_mutex_unlock (&s->timer_lock);
}

/* Writes the buffered rows in one transaction (or into the open one).  On
 * SQLITE_BUSY they stay buffered for another try; on other errors they are
 * dropped, as they would fail again. */
static gboolean
write_pending (BsStore *s, gboolean durable, GError **error)
{
  if (s->pending->len == 0)
    return TRUE;

  gboolean own_txn = s->txn_depth == 0;
  gboolean ok = TRUE;
  if (s->insert_metric == NULL)
    {
      s->insert_metric = bs_store_prepare (s,
        "INSERT OR REPLACE INTO metrics (run_id, epoch, step, split, loss, accuracy, lr, examples_per_s, time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
      if (s->insert_metric == NULL)
        return FALSE;
    }
  if (own_txn && durable)
    ok = exec (s, "PRAGMA synchronous = FULL", N_("Could not ask for a synced commit of the metrics"), error);
  if (ok && own_txn)
    ok = exec (s, "BEGIN IMMEDIATE", N_("Could not start writing the metrics"), error);
  gboolean began = ok && own_txn;
  for (guint i = 0; ok && i < s->pending->len; i++)
    {
      const BsMetric *m = &g_array_index (s->pending, BsMetric, i);
      sqlite3_stmt *st = s->insert_metric;
      sqlite3_bind_int64 (st, 1, m->run_id);
      sqlite3_bind_int (st, 2, m->epoch);
      sqlite3_bind_int64 (st, 3, m->step);
      sqlite3_bind_text (st, 4, m->split, -1, SQLITE_STATIC);
      bind_double (st, 5, m->loss);
      bind_double (st, 6, m->accuracy);
      bind_double (st, 7, m->lr);
      bind_double (st, 8, m->examples_per_s);
      bind_double (st, 9, m->time);
      if (sqlite3_step (st) != SQLITE_DONE)
        /* Translators: a run's number and a step's */
        ok = bs_store_sql_error (s, error, _("Could not write the metrics of run %" PRId64 " at step %" PRId64),
                                 m->run_id, m->step);
      sqlite3_reset (st);
    }
  if (began)
    {
      if (ok)
        ok = exec (s, "COMMIT", N_("Could not commit the metrics"), error);
      if (!ok)
        sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
    }
  gboolean keep = !ok && is_busy (s);
  if (own_txn && durable)
    sqlite3_exec (s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
  if (!keep)
    {
      g_array_set_size (s->pending, 0);
      set_deadline (s, 0);
    }
  return ok;
}

static gpointer
flusher_main (gpointer data)
{
  BsStore *s = data;
  g_mutex_lock (&s->timer_lock);
  while (!s->quit)
    {
      if (s->deadline == 0)
        {
          g_cond_wait (&s->timer_cond, &s->timer_lock);
          continue;
        }
      if (g_get_monotonic_time () < s->deadline)
        {
          g_cond_wait_until (&s->timer_cond, &s->timer_lock, s->deadline);
          continue;
        }
      g_mutex_unlock (&s->timer_lock);

      g_rec_mutex_lock (&s->conn_lock);
      if (s->txn_depth == 0 && s->pending->len > 0)
        {
          GError *local = NULL;
          if (!write_pending (s, FALSE, &local))
            {
              if (s->flush_error == NULL)
                s->flush_error = local;
              else
                g_error_free (local);
            }
          if (s->pending->len > 0) /* busy: try again later */
            set_deadline (s, g_get_monotonic_time () + BS_STORE_METRIC_DELAY_MS * 1000);
        }
      g_rec_mutex_unlock (&s->conn_lock);

      g_mutex_lock (&s->timer_lock);
    }
  g_mutex_unlock (&s->timer_lock);
  return NULL;
}

static gboolean
take_flush_error (BsStore *s, GError **error)
{
  if (s->flush_error == NULL)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&s->flush_error));
  return FALSE;
}

gboolean
bs_store_add_metric (BsStore *s, const BsMetric *metric, GError **error)
{
  LOCK_STORE (s);
  if (!take_flush_error (s, error))
    return FALSE;
  const char *split = static_split (metric->split);
  if (split == NULL || (split != bs_store_splits[0] && split != bs_store_splits[1]))
    {
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                   /* Translators: a split name, then a run's number; keep train and validation as they are */
                   _("A metric's split is “%s”, not train or validation (run %" PRId64 ")"),
                   metric->split ? metric->split : "(null)", metric->run_id);
      return FALSE;
    }
  BsMetric row = *metric;
  row.split = split;
  g_array_append_val (s->pending, row);
  if (s->pending->len >= MAX_PENDING_METRICS && s->txn_depth == 0)
    return write_pending (s, FALSE, error);
  if (s->pending->len == 1)
    {
      if (s->flusher == NULL)
        s->flusher = g_thread_new ("bs-store-flush", flusher_main, s);
      set_deadline (s, g_get_monotonic_time () + BS_STORE_METRIC_DELAY_MS * 1000);
    }
  return TRUE;
}

gboolean
bs_store_flush (BsStore *s, GError **error)
{
  LOCK_STORE (s);
  if (!take_flush_error (s, error))
    return FALSE;
  if (s->txn_depth > 0)
    return write_pending (s, FALSE, error);
  return write_pending (s, TRUE, error);
}

/* ---- transactions ---- */

static gboolean
write_begin (BsStore *s, gboolean durable, GError **error)
{
  g_rec_mutex_lock (&s->conn_lock);
  if (s->txn_depth == 0)
    {
      s->txn_doomed = FALSE;
      s->txn_durable = durable;
      if (!write_pending (s, durable, error)
          || (durable && !exec (s, "PRAGMA synchronous = FULL", N_("Could not ask for a synced commit"), error))
          || !exec (s, "BEGIN IMMEDIATE", N_("Could not start a write transaction"), error))
        {
          if (durable)
            sqlite3_exec (s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
          g_rec_mutex_unlock (&s->conn_lock);
          return FALSE;
        }
    }
  s->txn_depth++;
  return TRUE;
}

static gboolean
write_end (BsStore *s, gboolean ok, GError **error)
{
  g_assert (s->txn_depth > 0);
  if (!ok)
    s->txn_doomed = TRUE;
  if (--s->txn_depth == 0)
    {
      if (ok && s->txn_doomed)
        {
          g_set_error_literal (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                               _("A step of the transaction failed; nothing was written"));
          ok = FALSE;
        }
      if (ok)
        ok = exec (s, "COMMIT", N_("Could not commit"), error);
      if (!ok)
        sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
      if (s->txn_durable)
        sqlite3_exec (s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    }
  g_rec_mutex_unlock (&s->conn_lock);
  return ok;
}

gboolean
bs_store_write_begin (BsStore *s, GError **error)
{
  return write_begin (s, FALSE, error);
}

gboolean
bs_store_write_end (BsStore *s, gboolean ok, GError **error)
{
  return write_end (s, ok, error);
}

sqlite3 *
bs_store_get_db (BsStore *s)
{
  return s->db;
}

void
bs_store_lock (BsStore *s)
{
  g_rec_mutex_lock (&s->conn_lock);
}

void
bs_store_unlock (BsStore *s)
{
  g_rec_mutex_unlock (&s->conn_lock);
}

/* ---- opening and the schema ---- */

/* Each entry brings the schema from version i to i + 1, in one transaction.
 * Append; never edit a released one.  The comments stay in sqlite_master,
 * so `.schema` in sqlite3 shows them. */
static const char *const migrations[] = {
  /* 1 */
  "CREATE TABLE datasets (\n"
  "  id INTEGER PRIMARY KEY,\n"
  "  name TEXT NOT NULL UNIQUE,\n"
  "  source TEXT,                              -- the imported file or folder\n"
  "  label_names TEXT NOT NULL DEFAULT '[]'    -- JSON array; examples.label indexes it\n"
  "    CHECK (json_valid (label_names) AND json_type (label_names) = 'array'),\n"
  "  created INTEGER NOT NULL,                 -- Unix seconds\n"
  "  tokens_key TEXT                           -- the tokenizer examples.n_tokens was counted with\n"
  ");\n"
  "CREATE TABLE examples (\n"
  "  id INTEGER PRIMARY KEY,\n"
  "  dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,\n"
  "  split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test', 'unlabeled')),\n"
  "  label INTEGER NOT NULL DEFAULT -1 CHECK (label >= -1), -- -1: unlabeled\n"
  "  text TEXT NOT NULL,\n"
  "  n_tokens INTEGER                          -- with [CLS] and [SEP], untruncated; NULL: not counted\n"
  ");\n"
  "CREATE INDEX examples_by_dataset ON examples (dataset_id, split);\n"
  "CREATE TABLE runs (\n"
  "  id INTEGER PRIMARY KEY,\n"
  "  kind TEXT NOT NULL CHECK (kind IN ('fine-tune', 'distill', 'evaluate', 'pretrain')),\n"
  "  dataset_id INTEGER REFERENCES datasets (id) ON DELETE SET NULL,\n"
  "  model_path TEXT,\n"
  "  teacher_path TEXT,\n"
  "  output_path TEXT,\n"
  "  params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid (params)), -- every hyper-parameter\n"
  "  status TEXT NOT NULL DEFAULT 'running'\n"
  "    CHECK (status IN ('running', 'finished', 'cancelled', 'failed', 'interrupted')),\n"
  "  message TEXT,\n"
  "  pid INTEGER,                              -- the process running it\n"
  "  pid_start INTEGER,                        -- its start time (/proc/PID/stat), against pid reuse\n"
  "  boot_id TEXT,\n"
  "  started INTEGER NOT NULL,                 -- Unix seconds\n"
  "  finished INTEGER\n"
  ");\n"
  "CREATE INDEX runs_by_status ON runs (status);\n"
  "CREATE INDEX runs_by_dataset ON runs (dataset_id);\n"
  "CREATE TABLE metrics (                      -- one row per batch (train) or validation pass\n"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
  "  epoch INTEGER NOT NULL,\n"
  "  step INTEGER NOT NULL,\n"
  "  split TEXT NOT NULL CHECK (split IN ('train', 'validation')),\n"
  "  loss REAL,\n"
  "  accuracy REAL,\n"
  "  lr REAL,\n"
  "  examples_per_s REAL,\n"
  "  time REAL,                                -- seconds since the run started\n"
  "  PRIMARY KEY (run_id, split, step)\n"
  ") WITHOUT ROWID;\n"
  "CREATE TABLE evaluations (\n"
  "  id INTEGER PRIMARY KEY,\n"
  "  run_id INTEGER REFERENCES runs (id) ON DELETE CASCADE,\n"
  "  split TEXT,\n"
  "  step INTEGER,\n"
  "  n_examples INTEGER NOT NULL,\n"
  "  accuracy REAL,\n"
  "  loss REAL,\n"
  "  latency_ms REAL,                          -- per text\n"
  "  per_class TEXT NOT NULL DEFAULT '[]' CHECK (json_valid (per_class)), -- [{label, precision, recall, f1, support}]\n"
  "  confusion TEXT NOT NULL DEFAULT '[]' CHECK (json_valid (confusion)), -- [[...]], row = true label\n"
  "  created INTEGER NOT NULL\n"
  ");\n"
  "CREATE INDEX evaluations_by_run ON evaluations (run_id);\n"
  "CREATE TABLE models (\n"
  "  id INTEGER PRIMARY KEY,\n"
  "  path TEXT NOT NULL UNIQUE,                -- a Hugging Face folder\n"
  "  name TEXT NOT NULL,\n"
  "  architecture TEXT,                        -- bert, distilbert\n"
  "  n_params INTEGER,\n"
  "  size_bytes INTEGER,\n"
  "  labels TEXT CHECK (labels IS NULL OR json_valid (labels)),\n"
  "  source TEXT,                              -- fine-tune, distill, import, …\n"
  "  run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,\n"
  "  created INTEGER NOT NULL\n"
  ");\n"
  "CREATE INDEX models_by_run ON models (run_id);\n",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == BS_STORE_SCHEMA_VERSION);

static gboolean
read_user_version (BsStore *s, int *version, GError **error)
{
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, "PRAGMA user_version", error);
  if (st == NULL)
    return FALSE;
  if (sqlite3_step (st) != SQLITE_ROW)
    return bs_store_sql_error (s, error, _("Could not read the schema version"));
  *version = sqlite3_column_int (st, 0);
  return TRUE;
}

static gboolean
check_version (BsStore *s, int version, GError **error)
{
  if (version >= 0 && version <= BS_STORE_SCHEMA_VERSION)
    return TRUE;
  g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_VERSION,
               /* Translators: the database file, its schema version, and the newest version this program knows */
               _("%s has schema version %d; this BERT Studio knows versions up to %d (a newer BERT Studio wrote it)"),
               s->path, version, BS_STORE_SCHEMA_VERSION);
  return FALSE;
}

static gboolean
migrate (BsStore *s, GError **error)
{
  int version;
  if (!read_user_version (s, &version, error) || !check_version (s, version, error))
    return FALSE;
  while (version < BS_STORE_SCHEMA_VERSION)
    {
      if (!exec (s, "BEGIN IMMEDIATE", N_("Could not start upgrading the schema"), error))
        return FALSE;
      /* another process may have migrated meanwhile */
      gboolean ok = read_user_version (s, &version, error) && check_version (s, version, error);
      int target = version + 1;
      if (ok && version < BS_STORE_SCHEMA_VERSION)
        {
          g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
          ok = exec (s, migrations[version], N_("Could not upgrade the schema"), error)
               && exec (s, set_version, N_("Could not record the schema version"), error);
          if (ok)
            version++;
        }
      if (ok)
        ok = exec (s, "COMMIT", N_("Could not commit the schema upgrade"), error);
      if (!ok)
        {
          sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
          /* Translators: begins an error message; %d is a schema version */
          g_prefix_error (error, _("Upgrading to schema version %d: "), target);
          return FALSE;
        }
    }
  return TRUE;
}

char *
bs_store_default_path (void)
{
  const char *env = g_getenv ("BERT_STUDIO_DB");
  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "bert-studio", "bert-studio.db", NULL);
}

BsStore *
bs_store_open (const char *path, GError **error)
{
  g_autofree char *file = path != NULL ? g_strdup (path) : bs_store_default_path ();
  g_autofree char *dir = g_path_get_dirname (file);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_OPEN,
                   /* Translators: a folder, the database file, and the system's reason */
                   _("Could not create the folder %s for the database %s: %s"), dir, file, g_strerror (saved));
      return NULL;
    }

  g_autoptr (BsStore) s = g_new0 (BsStore, 1);
  s->path = g_steal_pointer (&file);
  g_rec_mutex_init (&s->conn_lock);
  g_mutex_init (&s->timer_lock);
  g_cond_init (&s->timer_cond);
  s->pending = g_array_new (FALSE, FALSE, sizeof (BsMetric));
  int rc = sqlite3_open_v2 (s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      /* Translators: the database file and SQLite's reason */
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_OPEN, _("Could not open the database %s: %s"), s->path,
                   s->db != NULL ? sqlite3_errmsg (s->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (s->db, 1);
  sqlite3_busy_timeout (s->db, BUSY_TIMEOUT_MS);

  /* The first statement reads the file: a file that is not a database fails here. */
  g_autoptr (sqlite3_stmt) wal = bs_store_prepare (s, "PRAGMA journal_mode = WAL", error);
  if (wal == NULL || sqlite3_step (wal) != SQLITE_ROW)
    {
      if (wal != NULL)
        /* Translators: write-ahead logging is an SQLite journal mode (WAL) */
        bs_store_sql_error (s, error, _("Could not switch to write-ahead logging"));
      /* Translators: begins an error message; %s is the database file */
      g_prefix_error (error, _("Opening the database %s: "), s->path);
      return NULL;
    }
  const char *mode = (const char *) sqlite3_column_text (wal, 0);
  if (mode == NULL || g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_OPEN,
                   /* Translators: the database file and an SQLite journal mode (keep it as it is) */
                   _("The database %s cannot use write-ahead logging (journal mode stays “%s”); "
                     "put it on a local file system"), s->path, mode ? mode : "?");
      return NULL;
    }
  g_clear_pointer (&wal, sqlite3_finalize); /* a statement in progress would block COMMIT */
  if (!exec (s, "PRAGMA foreign_keys = ON",
             /* Translators: foreign keys are SQLite's checks of the references between tables */
             N_("Could not enable foreign keys"), error)
      /* Translators: keep synchronous = NORMAL as it is: it is an SQLite setting */
      || !exec (s, "PRAGMA synchronous = NORMAL", N_("Could not set synchronous = NORMAL"), error)
      || !migrate (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

void
bs_store_free (BsStore *s)
{
  if (s == NULL)
    return;
  if (s->flusher != NULL)
    {
      g_mutex_lock (&s->timer_lock);
      s->quit = TRUE;
      g_cond_signal (&s->timer_cond);
      g_mutex_unlock (&s->timer_lock);
      g_thread_join (s->flusher);
    }
  if (s->db != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (s->txn_depth == 0 && !write_pending (s, TRUE, &error))
        /* Translators: %s says why the training metrics could not be written */
        g_warning (_("Metrics were lost: %s"), error->message);
      if (s->flush_error != NULL)
        /* Translators: %s says why the training metrics could not be written */
        g_warning (_("Metrics were lost: %s"), s->flush_error->message);
      sqlite3_finalize (s->insert_metric);
      sqlite3_close_v2 (s->db);
    }
  g_clear_error (&s->flush_error);
  g_array_unref (s->pending);
  g_rec_mutex_clear (&s->conn_lock);
  g_mutex_clear (&s->timer_lock);
  g_cond_clear (&s->timer_cond);
  g_free (s->path);
  g_free (s);
}

const char *
bs_store_get_path (BsStore *s)
{
  return s->path;
}

/* ---- datasets ---- */

void
bs_dataset_free (BsDataset *d)
{
  if (d == NULL)
    return;
  g_free (d->name);
  g_free (d->source);
  g_strfreev (d->labels);
  g_free (d);
}

#define DATASET_SELECT \
  "SELECT d.id, d.name, d.source, d.label_names, d.created, " \
  "(SELECT count(*) FROM examples WHERE dataset_id = d.id AND split = 'train'), " \
  "(SELECT count(*) FROM examples WHERE dataset_id = d.id AND split = 'validation'), " \
  "(SELECT count(*) FROM examples WHERE dataset_id = d.id AND split = 'test'), " \
  "(SELECT count(*) FROM examples WHERE dataset_id = d.id AND split = 'unlabeled') " \
  "FROM datasets d "

static BsDataset *
dataset_from_row (sqlite3_stmt *st)
{
  BsDataset *d = g_new0 (BsDataset, 1);
  d->id = sqlite3_column_int64 (st, 0);
  d->name = column_dup (st, 1);
  d->source = column_dup (st, 2);
  d->labels = labels_from_json ((const char *) sqlite3_column_text (st, 3));
  d->created = sqlite3_column_int64 (st, 4);
  d->n_train = sqlite3_column_int64 (st, 5);
  d->n_validation = sqlite3_column_int64 (st, 6);
  d->n_test = sqlite3_column_int64 (st, 7);
  d->n_unlabeled = sqlite3_column_int64 (st, 8);
  return d;
}

/* The one dataset WHERE ?1 is name (or id when name is NULL); NULL with
 * NOT_FOUND when there is none. */
static BsDataset *
query_dataset (BsStore *s, const char *where, gint64 id, const char *name, GError **error)
{
  LOCK_STORE (s);
  g_autofree char *sql = g_strconcat (DATASET_SELECT, where, NULL);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, sql, error);
  if (st == NULL)
    return NULL;
  if (name != NULL)
    sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64 (st, 1, id);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    return dataset_from_row (st);
  if (rc != SQLITE_DONE)
    /* Translators: %s is a dataset's name */
    bs_store_sql_error (s, error, _("Could not read the dataset %s"), name ? name : "");
  else if (name != NULL)
    /* Translators: a dataset's name and the database file */
    g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND, _("No dataset named “%s” in %s"), name, s->path);
  else
    g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND,
                 /* Translators: a dataset's id and the database file */
                 _("No dataset with id %" PRId64 " in %s"), id, s->path);
  return NULL;
}

BsDataset *
bs_store_get_dataset (BsStore *s, gint64 id, GError **error)
{
  return query_dataset (s, "WHERE d.id = ?1", id, NULL, error);
}

BsDataset *
bs_store_find_dataset (BsStore *s, const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  return query_dataset (s, "WHERE d.name = ?1", 0, name, error);
}

BsDataset *
bs_store_lookup_dataset (BsStore *s, const char *name_or_id, GError **error)
{
  g_autoptr (GError) local = NULL;
  BsDataset *d = bs_store_find_dataset (s, name_or_id, &local);
  if (d != NULL)
    return d;
  if (!g_error_matches (local, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  guint64 id;
  if (g_ascii_string_to_unsigned (name_or_id, 10, 1, G_MAXINT64, &id, NULL))
    {
      d = bs_store_get_dataset (s, (gint64) id, NULL);
      if (d != NULL)
        return d;
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND,
                   /* Translators: what the user gave (twice: as a name and as an id), then the database file */
                   _("No dataset named “%s” or with id %s in %s"), name_or_id, name_or_id, s->path);
      return NULL;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}

GPtrArray *
bs_store_list_datasets (BsStore *s, GError **error)
{
  LOCK_STORE (s);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, DATASET_SELECT "ORDER BY d.id", error);
  if (st == NULL)
    return NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_dataset_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (list, dataset_from_row (st));
  if (rc != SQLITE_DONE)
    {
      bs_store_sql_error (s, error, _("Could not list the datasets"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

static gboolean
check_name (const char *name, GError **error)
{
  if (name != NULL && name[0] != '\0' && g_utf8_validate (name, -1, NULL))
    return TRUE;
  g_set_error_literal (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                       _("A dataset needs a name (non-empty UTF-8)"));
  return FALSE;
}

static gint64
create_dataset (BsStore *s, const char *name, const char *source, const char *const *labels, GError **error)
{
  g_autoptr (sqlite3_stmt) find = bs_store_prepare (s, "SELECT id FROM datasets WHERE name = ?", error);
  if (find == NULL)
    return 0;
  sqlite3_bind_text (find, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step (find);
  if (rc == SQLITE_ROW)
    {
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_EXISTS,
                   /* Translators: a dataset's name, its id, and the database file */
                   _("A dataset named “%s” already exists (id %" PRId64 ") in %s"),
                   name, (gint64) sqlite3_column_int64 (find, 0), s->path);
      return 0;
    }
  if (rc != SQLITE_DONE)
    /* Translators: %s is a dataset's name */
    return bs_store_sql_error (s, error, _("Could not look for a dataset named “%s”"), name);

  g_autofree char *labels_json = bs_store_labels_to_json (labels);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "INSERT INTO datasets (name, source, label_names, created) VALUES (?, ?, ?, ?)", error);
  if (st == NULL)
    return 0;
  sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  bind_text (st, 2, source);
  sqlite3_bind_text (st, 3, labels_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 4, now_seconds ());
  if (sqlite3_step (st) != SQLITE_DONE)
    /* Translators: %s is a dataset's name */
    return bs_store_sql_error (s, error, _("Could not create the dataset “%s”"), name);
  return sqlite3_last_insert_rowid (s->db);
}

gint64
bs_store_create_dataset (BsStore *s, const char *name, const char *source, const char *const *labels,
                         GError **error)
{
  if (!check_name (name, error) || !write_begin (s, FALSE, error))
    return 0;
  gint64 id = create_dataset (s, name, source, labels, error);
  return write_end (s, id > 0, error) ? id : 0;
}

/* What update_by_id changes, and so what its messages say: each a whole
 * sentence, for the translators. */
typedef enum
{
  SET_DATASET_LABELS,
  DELETE_DATASET,
  DELETE_RUN,
  DELETE_MODEL,
} RowChange;

typedef enum
{
  ROW_DATASET,
  ROW_RUN,
  ROW_MODEL,
} RowKind;

static gboolean
changed_one (BsStore *s, RowKind kind, gint64 id, GError **error)
{
  if (sqlite3_changes (s->db) > 0)
    return TRUE;
  g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND,
               /* Translators: a dataset's id and the database file */
               kind == ROW_DATASET ? _("No dataset with id %" PRId64 " in %s")
               /* Translators: a run's number and the database file */
               : kind == ROW_RUN ? _("No run with id %" PRId64 " in %s")
               /* Translators: a model's id and the database file */
               : _("No model with id %" PRId64 " in %s"),
               id, s->path);
  return FALSE;
}

/* Runs sql with ?1 = id (and ?2 = text when text is not NULL) inside a write
 * transaction; the row must exist. */
static gboolean
update_by_id (BsStore *s, const char *sql, gint64 id, const char *text, RowChange change, GError **error)
{
  if (!write_begin (s, FALSE, error))
    return FALSE;
  gboolean ok = FALSE;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, sql, error);
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, id);
      if (text != NULL)
        sqlite3_bind_text (st, 2, text, -1, SQLITE_STATIC);
      if (sqlite3_step (st) != SQLITE_DONE)
        bs_store_sql_error (s, error,
                            /* Translators: a dataset's id */
                            change == SET_DATASET_LABELS ? _("Could not set the labels of dataset %" PRId64)
                            /* Translators: a dataset's id */
                            : change == DELETE_DATASET ? _("Could not delete dataset %" PRId64)
                            /* Translators: a run's number */
                            : change == DELETE_RUN ? _("Could not delete run %" PRId64)
                            /* Translators: a model's id */
                            : _("Could not delete model %" PRId64),
                            id);
      else
        ok = changed_one (s, change == DELETE_RUN ? ROW_RUN : change == DELETE_MODEL ? ROW_MODEL : ROW_DATASET, id,
                          error);
    }
  return write_end (s, ok, error);
}

gboolean
bs_store_set_dataset_labels (BsStore *s, gint64 dataset_id, const char *const *labels, GError **error)
{
  g_autofree char *json = bs_store_labels_to_json (labels);
  return update_by_id (s, "UPDATE datasets SET label_names = ?2 WHERE id = ?1", dataset_id, json, SET_DATASET_LABELS,
                       error);
}

gboolean
bs_store_delete_dataset (BsStore *s, gint64 id, GError **error)
{
  return update_by_id (s, "DELETE FROM datasets WHERE id = ?1", id, NULL, DELETE_DATASET, error);
}

static gboolean
dataset_exists (BsStore *s, gint64 id, GError **error)
{
  g_autoptr (BsDataset) d = bs_store_get_dataset (s, id, error);
  return d != NULL;
}

void
bs_examples_free (BsExamples *e)
{
  if (e == NULL)
    return;
  g_strfreev (e->texts);
  g_free (e->labels);
  g_free (e->ids);
  g_free (e);
}

BsExamples *
bs_store_load_examples (BsStore *s, gint64 dataset_id, const char *split, GError **error)
{
  LOCK_STORE (s);
  if (!check_split (split, error) || !dataset_exists (s, dataset_id, error))
    return NULL;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, split != NULL
    ? "SELECT id, label, text FROM examples WHERE dataset_id = ?1 AND split = ?2 ORDER BY id"
    : "SELECT id, label, text FROM examples WHERE dataset_id = ?1 ORDER BY id", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, dataset_id);
  if (split != NULL)
    sqlite3_bind_text (st, 2, split, -1, SQLITE_STATIC);
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (st, 0);
      gint32 label = sqlite3_column_int (st, 1);
      g_array_append_val (ids, id);
      g_array_append_val (labels, label);
      g_ptr_array_add (texts, column_dup (st, 2));
    }
  if (rc != SQLITE_DONE)
    {
      /* Translators: a dataset's id */
      bs_store_sql_error (s, error, _("Could not read the examples of dataset %" PRId64), dataset_id);
      return NULL;
    }
  BsExamples *e = g_new0 (BsExamples, 1);
  e->n = texts->len;
  g_ptr_array_add (texts, NULL);
  e->texts = (char **) g_ptr_array_free (g_steal_pointer (&texts), FALSE);
  e->labels = (gint32 *) (void *) g_array_free (g_steal_pointer (&labels), FALSE);
  e->ids = (gint64 *) (void *) g_array_free (g_steal_pointer (&ids), FALSE);
  return e;
}

static gboolean
split_validation (BsStore *s, gint64 dataset_id, double ratio, guint64 seed, GError **error)
{
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "SELECT id, label FROM examples WHERE dataset_id = ? AND split IN ('train', 'validation') AND label >= 0 "
    "ORDER BY id", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, dataset_id);
  /* per label, its example ids in id order */
  g_autoptr (GPtrArray) by_label = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (st, 0);
      int label = sqlite3_column_int (st, 1);
      while (by_label->len <= (guint) label)
        g_ptr_array_add (by_label, g_array_new (FALSE, FALSE, sizeof (gint64)));
      g_array_append_val (g_ptr_array_index (by_label, label), id);
    }
  if (rc != SQLITE_DONE)
    /* Translators: a dataset's id; keep train as it is: it is a split's name */
    return bs_store_sql_error (s, error, _("Could not read the train examples of dataset %" PRId64),
                               dataset_id);

  g_autoptr (sqlite3_stmt) reset = bs_store_prepare (s,
    "UPDATE examples SET split = 'train' WHERE dataset_id = ? AND split = 'validation'", error);
  g_autoptr (sqlite3_stmt) move = bs_store_prepare (s, "UPDATE examples SET split = 'validation' WHERE id = ?", error);
  if (reset == NULL || move == NULL)
    return FALSE;
  sqlite3_bind_int64 (reset, 1, dataset_id);
  if (sqlite3_step (reset) != SQLITE_DONE)
    /* Translators: a dataset's id; keep validation and train as they are: they are splits' names */
    return bs_store_sql_error (s, error, _("Could not merge the validation split of dataset %" PRId64
                                           " back into train"), dataset_id);

  BsRandom rng;
  bs_random_init (&rng, seed);
  for (guint label = 0; label < by_label->len; label++)
    {
      GArray *ids = g_ptr_array_index (by_label, label);
      gsize n = ids->len;
      gsize n_val = (gsize) floor (ratio * (double) n + 0.5);
      if (n_val >= n && n > 0)
        n_val = n - 1; /* keep at least one example of each label to train on */
      /* the first n_val of a Fisher–Yates shuffle */
      gint64 *v = (gint64 *) (void *) ids->data;
      for (gsize i = 0; i < n_val; i++)
        {
          gsize j = i + (gsize) bs_random_below (&rng, n - i);
          gint64 t = v[i];
          v[i] = v[j];
          v[j] = t;
          sqlite3_bind_int64 (move, 1, v[i]);
          if (sqlite3_step (move) != SQLITE_DONE)
            /* Translators: an example's id; keep validation as it is: it is a split's name */
            return bs_store_sql_error (s, error, _("Could not move example %" PRId64 " to validation"), v[i]);
          sqlite3_reset (move);
        }
    }
  return TRUE;
}

gboolean
bs_store_split_validation (BsStore *s, gint64 dataset_id, double ratio, guint64 seed, GError **error)
{
  if (!(ratio >= 0.0 && ratio < 1.0))
    {
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                   /* Translators: %g is a number such as 0.1 */
                   _("The validation ratio is %g; it must be at least 0 and below 1"), ratio);
      return FALSE;
    }
  if (!write_begin (s, FALSE, error))
    return FALSE;
  gboolean ok = dataset_exists (s, dataset_id, error) && split_validation (s, dataset_id, ratio, seed, error);
  return write_end (s, ok, error);
}

/* An integer label name, as JSON export writes it: "-3", "0", "12". */
static gboolean
is_integer_name (const char *name)
{
  gint64 v;
  return g_ascii_string_to_signed (name, 10, G_MININT64, G_MAXINT64, &v, NULL)
         && strcmp (name, "-0") != 0 && (name[0] != '0' || name[1] == '\0')
         && (name[0] != '-' || name[1] != '0');
}

/* Streams an export: text collected in out and written in pieces. */
typedef struct
{
  BsAtomicFile *file;
  GString *out;
} Writer;

static gboolean
writer_maybe_flush (Writer *w, gboolean force, GError **error)
{
  if (!force && w->out->len < 256 * 1024)
    return TRUE;
  gboolean ok = bs_atomic_file_write (w->file, w->out->str, w->out->len, error);
  g_string_truncate (w->out, 0);
  return ok;
}

gboolean
bs_store_export_dataset (BsStore *s, gint64 dataset_id, const char *split, const char *path,
                         BsExportFormat format, GError **error)
{
  LOCK_STORE (s);
  if (!check_split (split, error))
    return FALSE;
  g_autoptr (BsDataset) d = bs_store_get_dataset (s, dataset_id, error);
  if (d == NULL)
    return FALSE;
  guint n_labels = g_strv_length (d->labels);
  gboolean numeric = n_labels > 0;
  for (guint i = 0; i < n_labels; i++)
    numeric = numeric && is_integer_name (d->labels[i]);

  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, split != NULL
    ? "SELECT split, label, text FROM examples WHERE dataset_id = ?1 AND split = ?2 ORDER BY id"
    : "SELECT split, label, text FROM examples WHERE dataset_id = ?1 ORDER BY id", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, dataset_id);
  if (split != NULL)
    sqlite3_bind_text (st, 2, split, -1, SQLITE_STATIC);

  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;
  g_autoptr (GString) out = g_string_sized_new (300 * 1024);
  Writer w = { file, out };
  if (format == BS_EXPORT_CSV)
    g_string_append (out, split != NULL ? "text,label\r\n" : "text,label,split\r\n");
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *row_split = (const char *) sqlite3_column_text (st, 0);
      int label = sqlite3_column_int (st, 1);
      const char *text = (const char *) sqlite3_column_text (st, 2);
      const char *name = label >= 0 && (guint) label < n_labels ? d->labels[label] : NULL;
      if (label >= 0 && name == NULL)
        {
          g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* Translators: a dataset's name, a label's index, and the number of label names */
                                    "Dataset “%s” has an example with label %d but only %u label name",
                                    "Dataset “%s” has an example with label %d but only %u label names", n_labels),
                       d->name, label, n_labels);
          return FALSE;
        }
      if (format == BS_EXPORT_CSV)
        {
          append_csv_field (out, text);
          g_string_append_c (out, ',');
          append_csv_field (out, name);
          if (split == NULL)
            {
              g_string_append_c (out, ',');
              g_string_append (out, row_split);
            }
          g_string_append (out, "\r\n");
        }
      else
        {
          g_string_append (out, "{\"text\": ");
          bs_json_append_string (out, text ? text : "");
          g_string_append (out, ", \"label\": ");
          if (name == NULL)
            g_string_append (out, numeric ? "-1" : "null");
          else if (numeric)
            g_string_append (out, name);
          else
            bs_json_append_string (out, name);
          if (split == NULL)
            g_string_append_printf (out, ", \"split\": \"%s\"", row_split);
          g_string_append (out, "}\n");
        }
      if (!writer_maybe_flush (&w, FALSE, error))
        return FALSE;
    }
  if (rc != SQLITE_DONE)
    /* Translators: %s is a dataset's name */
    return bs_store_sql_error (s, error, _("Could not read the examples of dataset “%s”"), d->name);
  return writer_maybe_flush (&w, TRUE, error) && bs_atomic_file_commit (file, error);
}

/* ---- runs ---- */

static const char *const run_kinds[] = { "fine-tune", "distill", "evaluate", "pretrain", NULL };
static const char *const run_statuses[] = { "running", "finished", "cancelled", "failed", "interrupted", NULL };

static gboolean
check_word (const char *value, const char *const *allowed, const char *what, GError **error)
{
  if (value != NULL && g_strv_contains (allowed, value))
    return TRUE;
  g_autofree char *list = g_strjoinv (", ", (char **) allowed);
  /* Translators: kind or status (a database column, not translated), the value given, and the values allowed */
  g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID, _("A run's %s is “%s”, not one of %s"), what,
               value ? value : "(null)", list);
  return FALSE;
}

void
bs_run_free (BsRun *r)
{
  if (r == NULL)
    return;
  g_free (r->kind);
  g_free (r->model_path);
  g_free (r->teacher_path);
  g_free (r->output_path);
  g_free (r->params_json);
  g_free (r->status);
  g_free (r->message);
  g_free (r);
}

gint64
bs_store_create_run (BsStore *s, const BsRunInfo *info, GError **error)
{
  if (!check_word (info->kind, run_kinds, "kind", error))
    return 0;
  if (info->params_json != NULL)
    {
      g_autoptr (JsonParser) parser = json_parser_new_immutable ();
      g_autoptr (GError) local = NULL;
      if (!json_parser_load_from_data (parser, info->params_json, -1, &local)
          || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          /* Translators: %s is what is wrong, or the parameters given */
          g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID, _("A run's parameters are not a JSON object: %s"),
                       local ? local->message : info->params_json);
          return 0;
        }
    }
  if (!write_begin (s, FALSE, error))
    return 0;
  gint64 id = 0;
  if (info->dataset_id <= 0 || dataset_exists (s, info->dataset_id, error))
    {
      g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
        "INSERT INTO runs (kind, dataset_id, model_path, teacher_path, output_path, params, status, "
        "pid, pid_start, boot_id, started) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)", error);
      if (st != NULL)
        {
          sqlite3_bind_text (st, 1, info->kind, -1, SQLITE_STATIC);
          bind_id (st, 2, info->dataset_id);
          bind_text (st, 3, info->model_path);
          bind_text (st, 4, info->teacher_path);
          bind_text (st, 5, info->output_path);
          bind_text (st, 6, info->params_json ? info->params_json : "{}");
          bind_this_process (st, 7);
          sqlite3_bind_int64 (st, 10, now_seconds ());
          if (sqlite3_step (st) == SQLITE_DONE)
            id = sqlite3_last_insert_rowid (s->db);
          else
            /* Translators: %s is a run's kind: fine-tune, distill, evaluate or pretrain (not translated) */
            bs_store_sql_error (s, error, _("Could not record a new %s run"), info->kind);
        }
    }
  return write_end (s, id > 0, error) ? id : 0;
}

gboolean
bs_store_set_run_status (BsStore *s, gint64 run_id, const char *status, const char *message, GError **error)
{
  if (!check_word (status, run_statuses, "status", error) || !write_begin (s, TRUE, error))
    return FALSE;
  gboolean ok = FALSE;
  /* running again (resumed): this process owns it now */
  gboolean resumed = strcmp (status, "running") == 0;
  gboolean ends = !resumed && strcmp (status, "interrupted") != 0;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, resumed
    ? "UPDATE runs SET status = ?2, message = ?3, finished = NULL, pid = ?4, pid_start = ?5, boot_id = ?6 WHERE id = ?1"
    : "UPDATE runs SET status = ?2, message = ?3, finished = ?4 WHERE id = ?1", error);
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, run_id);
      sqlite3_bind_text (st, 2, status, -1, SQLITE_STATIC);
      bind_text (st, 3, message);
      if (resumed)
        bind_this_process (st, 4);
      else if (ends)
        sqlite3_bind_int64 (st, 4, now_seconds ());
      if (sqlite3_step (st) != SQLITE_DONE)
        /* Translators: a run's number and a status: running, finished, cancelled, failed or interrupted
           (not translated) */
        bs_store_sql_error (s, error, _("Could not set the status of run %" PRId64 " to %s"), run_id, status);
      else
        ok = changed_one (s, ROW_RUN, run_id, error);
    }
  return write_end (s, ok, error);
}

#define RUN_SELECT \
  "SELECT id, kind, dataset_id, model_path, teacher_path, output_path, params, status, message, pid, " \
  "started, finished FROM runs "

static BsRun *
run_from_row (sqlite3_stmt *st)
{
  BsRun *r = g_new0 (BsRun, 1);
  r->id = sqlite3_column_int64 (st, 0);
  r->kind = column_dup (st, 1);
  r->dataset_id = sqlite3_column_int64 (st, 2);
  r->model_path = column_dup (st, 3);
  r->teacher_path = column_dup (st, 4);
  r->output_path = column_dup (st, 5);
  r->params_json = column_dup (st, 6);
  r->status = column_dup (st, 7);
  r->message = column_dup (st, 8);
  r->pid = sqlite3_column_int64 (st, 9);
  r->started = sqlite3_column_int64 (st, 10);
  r->finished = sqlite3_column_int64 (st, 11);
  return r;
}

GPtrArray *
bs_store_list_runs (BsStore *s, GError **error)
{
  LOCK_STORE (s);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, RUN_SELECT "ORDER BY id DESC", error);
  if (st == NULL)
    return NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_run_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (list, run_from_row (st));
  if (rc != SQLITE_DONE)
    {
      bs_store_sql_error (s, error, _("Could not list the runs"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

BsRun *
bs_store_get_run (BsStore *s, gint64 id, GError **error)
{
  LOCK_STORE (s);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, RUN_SELECT "WHERE id = ?", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    return run_from_row (st);
  if (rc != SQLITE_DONE)
    /* Translators: a run's number */
    bs_store_sql_error (s, error, _("Could not read run %" PRId64), id);
  else
    /* Translators: a run's number and the database file */
    g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND, _("No run with id %" PRId64 " in %s"), id,
                 s->path);
  return NULL;
}

/* Is the process that recorded (pid, pid_start, boot) still running it? */
static gboolean
owner_alive (gint64 pid, gboolean has_start, gint64 pid_start, const char *boot)
{
  if (pid <= 0 || pid > G_MAXINT)
    return FALSE;
  if (boot != NULL && boot_id () != NULL && strcmp (boot, boot_id ()) != 0)
    return FALSE; /* recorded before the last reboot */
  if (kill ((pid_t) pid, 0) != 0 && errno == ESRCH)
    return FALSE;
  gint64 start;
  if (has_start && read_pid_start (pid, &start) && start != pid_start)
    return FALSE; /* the pid now belongs to another process (possibly this one) */
  return TRUE;
}

int
bs_store_mark_interrupted (BsStore *s, GError **error)
{
  if (!write_begin (s, TRUE, error))
    return -1;
  int n = 0;
  gboolean ok = FALSE;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "SELECT id, pid, pid_start, boot_id FROM runs WHERE status = 'running'", error);
  g_autoptr (sqlite3_stmt) mark = bs_store_prepare (s,
    "UPDATE runs SET status = 'interrupted', message = ? WHERE id = ? AND status = 'running'", error);
  if (st != NULL && mark != NULL)
    {
      typedef struct { gint64 id, pid; } Dead;
      g_autoptr (GArray) dead = g_array_new (FALSE, FALSE, sizeof (Dead));
      int rc;
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          gint64 pid = sqlite3_column_int64 (st, 1);
          if (!owner_alive (pid, sqlite3_column_type (st, 2) != SQLITE_NULL, sqlite3_column_int64 (st, 2),
                            (const char *) sqlite3_column_text (st, 3)))
            {
              Dead row = { sqlite3_column_int64 (st, 0), pid };
              g_array_append_val (dead, row);
            }
        }
      ok = rc == SQLITE_DONE || bs_store_sql_error (s, error, _("Could not read the running runs"));
      for (guint i = 0; ok && i < dead->len; i++)
        {
          const Dead *row = &g_array_index (dead, Dead, i);
          /* Translators: stored with an interrupted run; the number is a process id */
          g_autofree char *message = g_strdup_printf (_("process %" PRId64 " ended without finishing the run"),
                                                      row->pid);
          sqlite3_bind_text (mark, 1, message, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (mark, 2, row->id);
          if (sqlite3_step (mark) != SQLITE_DONE)
            /* Translators: a run's number */
            ok = bs_store_sql_error (s, error, _("Could not mark run %" PRId64 " interrupted"), row->id);
          sqlite3_reset (mark);
          n++;
        }
    }
  return write_end (s, ok, error) ? n : -1;
}

gboolean
bs_store_delete_run (BsStore *s, gint64 run_id, GError **error)
{
  return update_by_id (s, "DELETE FROM runs WHERE id = ?1", run_id, NULL, DELETE_RUN, error);
}

gboolean
bs_store_delete_metrics_after (BsStore *s, gint64 run_id, gint64 step, GError **error)
{
  if (!write_begin (s, FALSE, error))
    return FALSE;
  gboolean ok = FALSE;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, "DELETE FROM metrics WHERE run_id = ? AND step > ?", error);
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, run_id);
      sqlite3_bind_int64 (st, 2, step);
      ok = sqlite3_step (st) == SQLITE_DONE
           /* Translators: a run's number and a step's */
           || bs_store_sql_error (s, error, _("Could not delete the metrics of run %" PRId64
                                              " after step %" PRId64), run_id, step);
    }
  return write_end (s, ok, error);
}

/* Rows of metrics in the order of the statement's columns 0…8. */
#define METRIC_SELECT \
  "SELECT run_id, epoch, step, split, loss, accuracy, lr, examples_per_s, time FROM metrics "

static BsMetric
metric_from_row (sqlite3_stmt *st)
{
  BsMetric m = {
    .run_id = sqlite3_column_int64 (st, 0),
    .epoch = sqlite3_column_int (st, 1),
    .step = sqlite3_column_int64 (st, 2),
    .split = static_split ((const char *) sqlite3_column_text (st, 3)),
    .loss = column_double (st, 4),
    .accuracy = column_double (st, 5),
    .lr = column_double (st, 6),
    .examples_per_s = column_double (st, 7),
    .time = column_double (st, 8),
  };
  return m;
}

GArray *
bs_store_get_metrics (BsStore *s, gint64 run_id, const char *split, gint64 after_step, GError **error)
{
  LOCK_STORE (s);
  /* this connection's own rows first, so that a job reads what it wrote */
  if (s->txn_depth == 0 && !write_pending (s, FALSE, error))
    return NULL;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, split != NULL
    ? METRIC_SELECT "WHERE run_id = ?1 AND split = ?3 AND step > ?2 ORDER BY split, step"
    : METRIC_SELECT "WHERE run_id = ?1 AND step > ?2 ORDER BY split, step", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  sqlite3_bind_int64 (st, 2, after_step);
  if (split != NULL)
    sqlite3_bind_text (st, 3, split, -1, SQLITE_STATIC);
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (BsMetric));
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      BsMetric m = metric_from_row (st);
      g_array_append_val (rows, m);
    }
  if (rc != SQLITE_DONE)
    {
      /* Translators: a run's number */
      bs_store_sql_error (s, error, _("Could not read the metrics of run %" PRId64), run_id);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

static void
append_csv_double (GString *out, double v)
{
  if (isfinite (v))
    append_double (out, v);
}

gboolean
bs_store_export_metrics_csv (BsStore *s, gint64 run_id, const char *path, GError **error)
{
  LOCK_STORE (s);
  g_autoptr (BsRun) run = bs_store_get_run (s, run_id, error);
  if (run == NULL || (s->txn_depth == 0 && !write_pending (s, FALSE, error)))
    return FALSE;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, METRIC_SELECT "WHERE run_id = ? ORDER BY step, split", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, run_id);
  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;
  g_autoptr (GString) out = g_string_new ("run_id,epoch,step,split,loss,accuracy,lr,examples_per_s,time\r\n");
  Writer w = { file, out };
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      BsMetric m = metric_from_row (st);
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",%d,%" G_GINT64_FORMAT ",%s,", m.run_id, m.epoch, m.step,
                              m.split ? m.split : "");
      append_csv_double (out, m.loss);
      g_string_append_c (out, ',');
      append_csv_double (out, m.accuracy);
      g_string_append_c (out, ',');
      append_csv_double (out, m.lr);
      g_string_append_c (out, ',');
      append_csv_double (out, m.examples_per_s);
      g_string_append_c (out, ',');
      append_csv_double (out, m.time);
      g_string_append (out, "\r\n");
      if (!writer_maybe_flush (&w, FALSE, error))
        return FALSE;
    }
  if (rc != SQLITE_DONE)
    /* Translators: a run's number */
    return bs_store_sql_error (s, error, _("Could not read the metrics of run %" PRId64), run_id);
  return writer_maybe_flush (&w, TRUE, error) && bs_atomic_file_commit (file, error);
}

/* ---- evaluations ---- */

gint64
bs_store_add_evaluation (BsStore *s, const BsEvaluation *e, GError **error)
{
  int n = e->n_labels;
  if (n < 0 || (n > 0 && e->labels == NULL))
    {
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID,
                   /* Translators: a run's number and a number of labels */
                   g_dngettext (GETTEXT_PACKAGE, "An evaluation of run %" PRId64 " has %d label but no names",
                                "An evaluation of run %" PRId64 " has %d labels but no names", (gulong) n),
                   e->run_id, n);
      return 0;
    }
  g_autoptr (GString) per_class = g_string_new ("[");
  for (int i = 0; i < n; i++)
    {
      g_string_append (per_class, i > 0 ? ", {\"label\": " : "{\"label\": ");
      bs_json_append_string (per_class, e->labels[i]);
      g_string_append (per_class, ", \"precision\": ");
      append_json_double (per_class, e->precision ? e->precision[i] : NAN);
      g_string_append (per_class, ", \"recall\": ");
      append_json_double (per_class, e->recall ? e->recall[i] : NAN);
      g_string_append (per_class, ", \"f1\": ");
      append_json_double (per_class, e->f1 ? e->f1[i] : NAN);
      if (e->support != NULL)
        g_string_append_printf (per_class, ", \"support\": %" G_GINT64_FORMAT "}", e->support[i]);
      else
        g_string_append (per_class, ", \"support\": null}");
    }
  g_string_append_c (per_class, ']');
  g_autoptr (GString) confusion = g_string_new ("[");
  for (int i = 0; e->confusion != NULL && i < n; i++)
    {
      g_string_append (confusion, i > 0 ? ", [" : "[");
      for (int j = 0; j < n; j++)
        g_string_append_printf (confusion, j > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                                e->confusion[(gsize) i * (gsize) n + (gsize) j]);
      g_string_append_c (confusion, ']');
    }
  g_string_append_c (confusion, ']');

  if (!write_begin (s, TRUE, error))
    return 0;
  gint64 id = 0;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "INSERT INTO evaluations (run_id, split, step, n_examples, accuracy, loss, latency_ms, per_class, confusion, created) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (st != NULL)
    {
      bind_id (st, 1, e->run_id);
      bind_text (st, 2, e->split);
      sqlite3_bind_int64 (st, 3, e->step);
      sqlite3_bind_int64 (st, 4, e->n_examples);
      bind_double (st, 5, e->accuracy);
      bind_double (st, 6, e->loss);
      bind_double (st, 7, e->latency_ms);
      sqlite3_bind_text (st, 8, per_class->str, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 9, confusion->str, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 10, now_seconds ());
      if (sqlite3_step (st) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid (s->db);
      else
        /* Translators: a run's number */
        bs_store_sql_error (s, error, _("Could not record an evaluation of run %" PRId64), e->run_id);
    }
  return write_end (s, id > 0, error) ? id : 0;
}

void
bs_evaluation_record_free (BsEvaluationRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->split);
  g_free (r->per_class_json);
  g_free (r->confusion_json);
  g_free (r);
}

GPtrArray *
bs_store_list_evaluations (BsStore *s, gint64 run_id, GError **error)
{
  LOCK_STORE (s);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "SELECT id, run_id, split, step, n_examples, accuracy, loss, latency_ms, per_class, confusion, created "
    "FROM evaluations WHERE ?1 = 0 OR run_id = ?1 ORDER BY id", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_evaluation_record_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      BsEvaluationRecord *r = g_new0 (BsEvaluationRecord, 1);
      r->id = sqlite3_column_int64 (st, 0);
      r->run_id = sqlite3_column_int64 (st, 1);
      r->split = column_dup (st, 2);
      r->step = sqlite3_column_int64 (st, 3);
      r->n_examples = sqlite3_column_int64 (st, 4);
      r->accuracy = column_double (st, 5);
      r->loss = column_double (st, 6);
      r->latency_ms = column_double (st, 7);
      r->per_class_json = column_dup (st, 8);
      r->confusion_json = column_dup (st, 9);
      r->created = sqlite3_column_int64 (st, 10);
      g_ptr_array_add (list, r);
    }
  if (rc != SQLITE_DONE)
    {
      bs_store_sql_error (s, error, _("Could not list the evaluations"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

/* ---- model registry ---- */

void
bs_model_info_free (BsModelInfo *m)
{
  if (m == NULL)
    return;
  g_free (m->path);
  g_free (m->name);
  g_free (m->architecture);
  g_free (m->labels_json);
  g_free (m->source);
  g_free (m);
}

gint64
bs_store_register_model (BsStore *s, const BsModelRecord *r, GError **error)
{
  if (r->path == NULL || r->path[0] == '\0')
    {
      g_set_error_literal (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID, _("A model record needs a path"));
      return 0;
    }
  g_autofree char *path = g_canonicalize_filename (r->path, NULL);
  g_autofree char *base = g_path_get_basename (path);
  if (!write_begin (s, TRUE, error))
    return 0;
  gint64 id = 0;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "INSERT INTO models (path, name, architecture, n_params, size_bytes, labels, source, run_id, created) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (path) DO UPDATE SET name = ?2, architecture = ?3, n_params = ?4, size_bytes = ?5, "
    "labels = ?6, source = ?7, run_id = ?8 RETURNING id", error);
  if (st != NULL)
    {
      sqlite3_bind_text (st, 1, path, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, r->name ? r->name : base, -1, SQLITE_STATIC);
      bind_text (st, 3, r->architecture);
      sqlite3_bind_int64 (st, 4, r->n_params);
      sqlite3_bind_int64 (st, 5, r->size_bytes);
      bind_text (st, 6, r->labels_json);
      bind_text (st, 7, r->source);
      bind_id (st, 8, r->run_id);
      sqlite3_bind_int64 (st, 9, now_seconds ());
      if (sqlite3_step (st) == SQLITE_ROW)
        id = sqlite3_column_int64 (st, 0);
      else
        /* Translators: %s is a model's folder */
        bs_store_sql_error (s, error, _("Could not register the model %s"), path);
      sqlite3_reset (st); /* RETURNING completes the insert on the next step or reset */
    }
  return write_end (s, id > 0, error) ? id : 0;
}

/* Parameters of a BERT / DistilBERT sequence classifier with this config,
 * as bs-model.c lays them out (the test checks the two agree). */
static gint64
config_n_params (const BsConfig *c)
{
  gint64 h = c->hidden_size, inter = c->intermediate_size;
  gint64 layer = 4 * (h * h + h) + 2 * h + (h * inter + inter) + (inter * h + h) + 2 * h;
  gint64 n = (gint64) c->vocab_size * h + (gint64) c->max_position_embeddings * h + 2 * h
             + (gint64) c->n_layers * layer
             + (h * h + h)                     /* pooler or pre_classifier */
             + (gint64) c->n_labels * (h + 1); /* classifier */
  if (c->arch == BS_ARCH_BERT)
    n += (gint64) c->type_vocab_size * h;
  return n;
}

/* The record of a Hugging Face folder: its architecture, labels and
 * parameters from config.json, the size of its files. The record's labels
 * are *labels_json, the caller's to free. */
static gboolean
folder_record (const char *dir, BsModelRecord *record, char **labels_json, GError **error)
{
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (BsConfig) config = bs_config_load (config_path, error);
  if (config == NULL)
    return FALSE;

  /* the files of the folder itself, not of subfolders such as checkpoints */
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      /* Translators: a folder and the reason */
      g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_IO, _("Could not list the model folder %s: %s"), dir,
                   local->message);
      return FALSE;
    }
  gint64 size = 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_stat (file, &st) == 0 && S_ISREG (st.st_mode))
        size += (gint64) st.st_size;
    }
  *labels_json = bs_store_labels_to_json ((const char *const *) config->labels);
  record->path = dir;
  record->architecture = bs_arch_model_type (config->arch);
  record->n_params = config_n_params (config);
  record->size_bytes = size;
  record->labels_json = *labels_json;
  return TRUE;
}

gint64
bs_store_register_model_folder (BsStore *s, const char *dir, const char *source, gint64 run_id, GError **error)
{
  BsModelRecord record = { .source = source, .run_id = run_id };
  g_autofree char *labels = NULL;
  if (!folder_record (dir, &record, &labels, error))
    return 0;
  return bs_store_register_model (s, &record, error);
}

#define MODEL_SELECT \
  "SELECT id, path, name, architecture, n_params, size_bytes, labels, source, run_id, created FROM models "

static BsModelInfo *
model_from_row (sqlite3_stmt *st)
{
  BsModelInfo *m = g_new0 (BsModelInfo, 1);
  m->id = sqlite3_column_int64 (st, 0);
  m->path = column_dup (st, 1);
  m->name = column_dup (st, 2);
  m->architecture = column_dup (st, 3);
  m->n_params = sqlite3_column_int64 (st, 4);
  m->size_bytes = sqlite3_column_int64 (st, 5);
  m->labels_json = column_dup (st, 6);
  m->source = column_dup (st, 7);
  m->run_id = sqlite3_column_int64 (st, 8);
  m->created = sqlite3_column_int64 (st, 9);
  return m;
}

GPtrArray *
bs_store_list_models (BsStore *s, GError **error)
{
  LOCK_STORE (s);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, MODEL_SELECT "ORDER BY id", error);
  if (st == NULL)
    return NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_model_info_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (list, model_from_row (st));
  if (rc != SQLITE_DONE)
    {
      bs_store_sql_error (s, error, _("Could not list the models"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

static BsModelInfo *
query_model (BsStore *s, const char *where, gint64 id, const char *path, GError **error)
{
  LOCK_STORE (s);
  g_autofree char *sql = g_strconcat (MODEL_SELECT, where, NULL);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, sql, error);
  if (st == NULL)
    return NULL;
  if (path != NULL)
    sqlite3_bind_text (st, 1, path, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64 (st, 1, id);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    return model_from_row (st);
  if (rc != SQLITE_DONE)
    bs_store_sql_error (s, error, _("Could not read a model"));
  else if (path != NULL)
    /* Translators: a model's folder and the database file */
    g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND, _("No model at %s is registered in %s"), path,
                 s->path);
  else
    /* Translators: a model's id and the database file */
    g_set_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND, _("No model with id %" PRId64 " in %s"), id,
                 s->path);
  return NULL;
}

BsModelInfo *
bs_store_get_model (BsStore *s, gint64 id, GError **error)
{
  return query_model (s, "WHERE id = ?1", id, NULL, error);
}

BsModelInfo *
bs_store_find_model (BsStore *s, const char *path, GError **error)
{
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  return query_model (s, "WHERE path = ?1", 0, canonical, error);
}

gboolean
bs_store_delete_model (BsStore *s, gint64 id, GError **error)
{
  return update_by_id (s, "DELETE FROM models WHERE id = ?1", id, NULL, DELETE_MODEL, error);
}

/* Whether the registry holds exactly this default model and no other. */
static gboolean
default_model_current (BsStore *s, const BsModelRecord *r, const char *path)
{
  LOCK_STORE (s);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s,
    "SELECT count(*) FROM models WHERE source = ?1 AND NOT (path IS ?2 AND name IS ?3 AND architecture IS ?4 "
    "AND n_params = ?5 AND size_bytes = ?6 AND labels IS ?7 AND run_id IS NULL)", NULL);
  g_autoptr (BsModelInfo) info = path != NULL ? query_model (s, "WHERE path = ?1", 0, path, NULL) : NULL;
  if (st == NULL || (path != NULL && (info == NULL || g_strcmp0 (info->source, BS_MODEL_SOURCE_DEFAULT) != 0)))
    return FALSE;
  sqlite3_bind_text (st, 1, BS_MODEL_SOURCE_DEFAULT, -1, SQLITE_STATIC);
  bind_text (st, 2, path);
  bind_text (st, 3, r->name);
  bind_text (st, 4, r->architecture);
  sqlite3_bind_int64 (st, 5, r->n_params);
  sqlite3_bind_int64 (st, 6, r->size_bytes);
  bind_text (st, 7, r->labels_json);
  return sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int64 (st, 0) == 0;
}

gboolean
bs_store_register_default_model (BsStore *s, const char *dir, const char *name, GError **error)
{
  BsModelRecord record = { .name = name, .source = BS_MODEL_SOURCE_DEFAULT };
  g_autofree char *labels = NULL;
  if (dir != NULL && !folder_record (dir, &record, &labels, error))
    return FALSE;
  g_autofree char *path = dir != NULL ? g_canonicalize_filename (dir, NULL) : NULL;
  g_autofree char *base = path != NULL ? g_path_get_basename (path) : NULL;
  if (record.name == NULL)
    record.name = base;
  /* at each start: a read when nothing changed */
  if (default_model_current (s, &record, path))
    return TRUE;
  if (!write_begin (s, TRUE, error))
    return FALSE;
  gboolean ok = FALSE;
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (s, "DELETE FROM models WHERE source = ?1 AND path IS NOT ?2", error);
  if (st != NULL)
    {
      sqlite3_bind_text (st, 1, BS_MODEL_SOURCE_DEFAULT, -1, SQLITE_STATIC);
      bind_text (st, 2, path);
      ok = sqlite3_step (st) == SQLITE_DONE;
      if (!ok)
        bs_store_sql_error (s, error, _("Could not forget an older default model"));
    }
  if (ok && path != NULL)
    ok = bs_store_register_model (s, &record, error) > 0;
  return write_end (s, ok, error);
}
