/* The store: schema and migrations, datasets, runs, metrics (buffered,
 * read by a second connection while a job writes), interrupted runs,
 * evaluations and the model registry.  Every test uses its own temporary
 * database. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bs-config.h"
#include "bs-model.h"
#include "bs-store-private.h"
#include "bs-store.h"
#include "bs-test-util.h"

/* ---- helpers ---- */

typedef struct
{
  char *dir;
  char *db;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("bs-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->db = g_build_filename (f->dir, "test.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  bs_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

static BsStore *
open_store (const char *path)
{
  g_autoptr (GError) error = NULL;
  BsStore *store = bs_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

/* The single integer a query returns. */
static gint64
query_int (BsStore *store, const char *sql)
{
  g_autoptr (GError) error = NULL;
  bs_store_lock (store);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (store, sql, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  gint64 v = sqlite3_column_int64 (st, 0);
  bs_store_unlock (store);
  return v;
}

static char *
query_text (BsStore *store, const char *sql)
{
  g_autoptr (GError) error = NULL;
  bs_store_lock (store);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (store, sql, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  char *v = g_strdup ((const char *) sqlite3_column_text (st, 0));
  bs_store_unlock (store);
  return v;
}

static void
exec_sql (BsStore *store, const char *sql)
{
  bs_store_lock (store);
  char *message = NULL;
  int rc = sqlite3_exec (bs_store_get_db (store), sql, NULL, NULL, &message);
  if (rc != SQLITE_OK)
    g_test_message ("%s: %s", sql, message);
  sqlite3_free (message);
  bs_store_unlock (store);
  g_assert_cmpint (rc, ==, SQLITE_OK);
}

static gint64
new_run (BsStore *store, gint64 dataset_id)
{
  g_autoptr (GError) error = NULL;
  BsRunInfo info = { .kind = "fine-tune", .dataset_id = dataset_id, .model_path = "/models/base",
                     .output_path = "/models/out", .params_json = "{\"lr\": 2e-05, \"batch_size\": 64}" };
  gint64 id = bs_store_create_run (store, &info, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static BsMetric
metric (gint64 run, gint64 step, const char *split)
{
  BsMetric m = { .run_id = run, .epoch = 0, .step = step, .split = split, .loss = 1.0 / (double) (step + 1),
                 .accuracy = 0.5, .lr = 2e-5, .examples_per_s = 100, .time = (double) step * 0.25 };
  return m;
}

static guint
n_metrics (BsStore *store, gint64 run)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = bs_store_get_metrics (store, run, NULL, -1, &error);
  g_assert_no_error (error);
  return rows->len;
}

/* ---- schema ---- */

static void
test_schema (Fixture *f, gconstpointer data)
{
  /* an empty file is an empty database: migrated */
  g_assert_true (g_file_set_contents (f->db, "", 0, NULL));
  {
    g_autoptr (BsStore) store = open_store (f->db);
    g_assert_cmpstr (bs_store_get_path (store), ==, f->db);
    g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, BS_STORE_SCHEMA_VERSION);
    g_autofree char *mode = query_text (store, "PRAGMA journal_mode");
    g_assert_cmpstr (mode, ==, "wal");
    g_assert_cmpint (query_int (store, "PRAGMA foreign_keys"), ==, 1);
    const char *tables[] = { "datasets", "examples", "runs", "metrics", "evaluations", "models" };
    for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
      {
        g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                                                tables[i]);
        g_assert_cmpint (query_int (store, sql), ==, 1);
      }
    g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                       "AND name = 'examples_by_dataset'"), ==, 1);
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (bs_store_create_dataset (store, "kept", "somewhere", NULL, &error), ==, 1);
    g_assert_no_error (error);
  }
  /* reopening changes nothing and keeps the data */
  {
    g_autoptr (BsStore) store = open_store (f->db);
    g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, BS_STORE_SCHEMA_VERSION);
    g_assert_cmpint (query_int (store, "SELECT count(*) FROM datasets"), ==, 1);
    g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_master WHERE name = 'datasets'"), ==, 1);
    /* a newer program's schema is refused, not damaged */
    exec_sql (store, "PRAGMA user_version = 99");
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (BsStore) newer = bs_store_open (f->db, &error);
  g_assert_null (newer);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_VERSION);
  bs_test_assert_contains (error->message, f->db);
  bs_test_assert_contains (error->message, "99");
  g_clear_error (&error);

  /* a file that is not a database */
  g_autofree char *junk = g_build_filename (f->dir, "junk.db", NULL);
  g_assert_true (g_file_set_contents (junk, "this is not a database, just some text that is long enough", -1, NULL));
  g_autoptr (BsStore) bad = bs_store_open (junk, &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
  bs_test_assert_contains (error->message, junk);
  bs_test_assert_contains (error->message, "not a database");
  g_clear_error (&error);

  /* a folder that cannot be created */
  g_autofree char *under_file = g_build_filename (junk, "sub", "x.db", NULL);
  g_autoptr (BsStore) nowhere = bs_store_open (under_file, &error);
  g_assert_null (nowhere);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_OPEN);
}

static void
test_default_path (Fixture *f, gconstpointer data)
{
  g_autofree char *saved = g_strdup (g_getenv ("BERT_STUDIO_DB"));
  g_setenv ("BERT_STUDIO_DB", f->db, TRUE);
  g_autofree char *path = bs_store_default_path ();
  g_assert_cmpstr (path, ==, f->db);
  {
    g_autoptr (BsStore) store = open_store (NULL);
    g_assert_cmpstr (bs_store_get_path (store), ==, f->db);
  }
  g_assert_true (g_file_test (f->db, G_FILE_TEST_IS_REGULAR));
  g_unsetenv ("BERT_STUDIO_DB");
  g_autofree char *xdg = bs_store_default_path ();
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "bert-studio", "bert-studio.db", NULL);
  g_assert_cmpstr (xdg, ==, expected);
  if (saved != NULL)
    g_setenv ("BERT_STUDIO_DB", saved, TRUE);
}

/* ---- datasets ---- */

static void
test_datasets (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  const char *labels[] = { "neg", "pos", "with \"quote\"", NULL };
  gint64 id = bs_store_create_dataset (store, "reviews", "/data/reviews.csv", labels, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bs_store_create_dataset (store, "reviews", NULL, NULL, &error), ==, 0);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_EXISTS);
  bs_test_assert_contains (error->message, "reviews");
  g_clear_error (&error);
  g_assert_cmpint (bs_store_create_dataset (store, "", NULL, NULL, &error), ==, 0);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  gint64 other = bs_store_create_dataset (store, "42", NULL, NULL, &error);
  g_assert_no_error (error);

  g_autoptr (BsDataset) d = bs_store_get_dataset (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (d->name, ==, "reviews");
  g_assert_cmpstr (d->source, ==, "/data/reviews.csv");
  g_assert_cmpstrv (d->labels, labels);
  g_assert_cmpint (d->n_train + d->n_validation + d->n_test + d->n_unlabeled, ==, 0);
  g_assert_cmpint (ABS (d->created - g_get_real_time () / G_USEC_PER_SEC), <, 60);

  /* names before ids: "42" is a name here */
  g_autoptr (BsDataset) by_name = bs_store_lookup_dataset (store, "42", &error);
  g_assert_no_error (error);
  g_assert_cmpint (by_name->id, ==, other);
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autoptr (BsDataset) by_id = bs_store_lookup_dataset (store, id_text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (by_id->name, ==, "reviews");
  g_assert_null (bs_store_lookup_dataset (store, "nope", &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
  bs_test_assert_contains (error->message, "nope");
  g_clear_error (&error);
  g_assert_null (bs_store_get_dataset (store, 999, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  const char *renamed[] = { "a", NULL };
  g_assert_true (bs_store_set_dataset_labels (store, other, renamed, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) list = bs_store_list_datasets (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstrv (((BsDataset *) g_ptr_array_index (list, 1))->labels, renamed);
  /* label_names is plain JSON for sqlite3 users */
  g_autofree char *json = query_text (store, "SELECT label_names FROM datasets WHERE name = 'reviews'");
  g_assert_cmpstr (json, ==, "[\"neg\", \"pos\", \"with \\\"quote\\\"\"]");

  /* examples by split, in id order; deleting the dataset deletes them; a
   * run keeps its row */
  g_autofree char *insert = g_strdup_printf (
    "INSERT INTO examples (dataset_id, split, label, text) VALUES "
    "(%1$" G_GINT64_FORMAT ", 'train', 1, 'b'), (%1$" G_GINT64_FORMAT ", 'test', 0, 'c'), "
    "(%1$" G_GINT64_FORMAT ", 'train', 0, 'a'), (%1$" G_GINT64_FORMAT ", 'unlabeled', -1, 'u')", id);
  exec_sql (store, insert);
  g_autoptr (BsExamples) train = bs_store_load_examples (store, id, "train", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (train->n, ==, 2);
  g_assert_cmpstr (train->texts[0], ==, "b");
  g_assert_cmpstr (train->texts[1], ==, "a");
  g_assert_null (train->texts[2]);
  g_assert_cmpint (train->labels[0], ==, 1);
  g_assert_cmpint (train->ids[0], <, train->ids[1]);
  g_autoptr (BsExamples) all = bs_store_load_examples (store, id, NULL, &error);
  g_assert_cmpuint (all->n, ==, 4);
  g_assert_cmpint (all->labels[3], ==, -1);
  g_assert_null (bs_store_load_examples (store, id, "dev", &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_clear_pointer (&d, bs_dataset_free);
  d = bs_store_get_dataset (store, id, &error);
  g_assert_cmpint (d->n_train, ==, 2);
  g_assert_cmpint (d->n_test, ==, 1);
  g_assert_cmpint (d->n_unlabeled, ==, 1);

  gint64 run = new_run (store, id);
  g_assert_true (bs_store_delete_dataset (store, id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM examples"), ==, 0);
  g_autoptr (BsRun) r = bs_store_get_run (store, run, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->dataset_id, ==, 0);
  g_assert_false (bs_store_delete_dataset (store, id, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* ---- runs ---- */

static void
test_runs (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  gint64 ds = bs_store_create_dataset (store, "d", NULL, NULL, &error);
  gint64 id = new_run (store, ds);
  g_autoptr (BsRun) r = bs_store_get_run (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->kind, ==, "fine-tune");
  g_assert_cmpstr (r->status, ==, "running");
  g_assert_cmpint (r->pid, ==, getpid ());
  g_assert_cmpint (r->dataset_id, ==, ds);
  g_assert_cmpstr (r->model_path, ==, "/models/base");
  g_assert_null (r->teacher_path);
  g_assert_cmpstr (r->params_json, ==, "{\"lr\": 2e-05, \"batch_size\": 64}");
  g_assert_cmpint (r->finished, ==, 0);
  g_assert_cmpint (r->started, >, 0);

  BsRunInfo bad_kind = { .kind = "train" };
  g_assert_cmpint (bs_store_create_run (store, &bad_kind, &error), ==, 0);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
  bs_test_assert_contains (error->message, "fine-tune");
  g_clear_error (&error);
  BsRunInfo bad_params = { .kind = "distill", .params_json = "{lr: 1}" };
  g_assert_cmpint (bs_store_create_run (store, &bad_params, &error), ==, 0);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  BsRunInfo bad_dataset = { .kind = "evaluate", .dataset_id = 77 };
  g_assert_cmpint (bs_store_create_run (store, &bad_dataset, &error), ==, 0);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  BsRunInfo plain = { .kind = "evaluate" };
  gint64 second = bs_store_create_run (store, &plain, &error);
  g_assert_no_error (error);

  g_assert_false (bs_store_set_run_status (store, id, "done", NULL, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (bs_store_set_run_status (store, 999, "failed", NULL, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (bs_store_set_run_status (store, id, "failed", "out of memory", &error));
  g_assert_no_error (error);
  g_clear_pointer (&r, bs_run_free);
  r = bs_store_get_run (store, id, &error);
  g_assert_cmpstr (r->status, ==, "failed");
  g_assert_cmpstr (r->message, ==, "out of memory");
  g_assert_cmpint (r->finished, >=, r->started);

  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 2);
  g_assert_cmpint (((BsRun *) g_ptr_array_index (runs, 0))->id, ==, second); /* newest first */

  /* deleting a run deletes its metrics */
  BsMetric m = metric (id, 1, "train");
  g_assert_true (bs_store_add_metric (store, &m, &error));
  g_assert_true (bs_store_flush (store, &error));
  g_assert_true (bs_store_delete_run (store, id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM metrics"), ==, 0);
}

/* ---- metrics ---- */

static void
test_metrics_rows (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  gint64 run = new_run (store, 0);
  for (gint64 step = 1; step <= 10; step++)
    {
      BsMetric m = metric (run, step, "train");
      g_assert_true (bs_store_add_metric (store, &m, &error));
    }
  BsMetric v = metric (run, 10, "validation");
  v.lr = NAN; /* none: NULL */
  g_assert_true (bs_store_add_metric (store, &v, &error));
  BsMetric wrong = metric (run, 3, "test");
  g_assert_false (bs_store_add_metric (store, &wrong, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* the writer's own reads see its buffered rows */
  g_autoptr (GArray) rows = bs_store_get_metrics (store, run, "train", 5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 5);
  BsMetric *first = &g_array_index (rows, BsMetric, 0);
  g_assert_cmpint (first->step, ==, 6);
  g_assert_cmpstr (first->split, ==, "train");
  g_assert_cmpfloat (first->loss, ==, 1.0 / 7);
  g_assert_cmpfloat (first->lr, ==, 2e-5);
  g_autoptr (GArray) val = bs_store_get_metrics (store, run, "validation", -1, &error);
  g_assert_cmpuint (val->len, ==, 1);
  g_assert_true (isnan (g_array_index (val, BsMetric, 0).lr));
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM metrics WHERE lr IS NULL"), ==, 1);

  /* the same key again replaces; resuming drops the rows after a step */
  BsMetric again = metric (run, 4, "train");
  again.loss = 9;
  g_assert_true (bs_store_add_metric (store, &again, &error));
  g_assert_true (bs_store_flush (store, &error));
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM metrics WHERE split = 'train'"), ==, 10);
  g_autofree char *loss = query_text (store, "SELECT loss FROM metrics WHERE step = 4 AND split = 'train'");
  g_assert_cmpstr (loss, ==, "9.0");
  g_assert_true (bs_store_delete_metrics_after (store, run, 6, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_metrics (store, run), ==, 6);

  /* CSV: header, rows by step, RFC 4180 line ends, NULL as an empty field */
  g_autofree char *csv = g_build_filename (f->dir, "metrics.csv", NULL);
  BsMetric late = metric (run, 7, "validation");
  late.accuracy = NAN;
  g_assert_true (bs_store_add_metric (store, &late, &error)); /* exported without a flush */
  g_assert_true (bs_store_export_metrics_csv (store, run, csv, &error));
  g_assert_no_error (error);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_autofree char *expected = g_strdup_printf (
    "run_id,epoch,step,split,loss,accuracy,lr,examples_per_s,time\r\n"
    "%1$" G_GINT64_FORMAT ",0,1,train,0.5,0.5,2e-05,100,0.25\r\n"
    "%1$" G_GINT64_FORMAT ",0,2,train,0.3333333333333333,0.5,2e-05,100,0.5\r\n"
    "%1$" G_GINT64_FORMAT ",0,3,train,0.25,0.5,2e-05,100,0.75\r\n"
    "%1$" G_GINT64_FORMAT ",0,4,train,9,0.5,2e-05,100,1\r\n"
    "%1$" G_GINT64_FORMAT ",0,5,train,0.16666666666666666,0.5,2e-05,100,1.25\r\n"
    "%1$" G_GINT64_FORMAT ",0,6,train,0.14285714285714285,0.5,2e-05,100,1.5\r\n"
    "%1$" G_GINT64_FORMAT ",0,7,validation,0.125,,2e-05,100,1.75\r\n", run);
  g_assert_cmpstr (text, ==, expected);
  g_autofree char *nowhere = g_build_filename (f->dir, "no", "such", "dir.csv", NULL);
  g_assert_false (bs_store_export_metrics_csv (store, run, nowhere, &error));
  g_assert_nonnull (error);
  bs_test_assert_contains (error->message, nowhere);
  g_clear_error (&error);
  g_assert_false (bs_store_export_metrics_csv (store, 999, csv, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* A row is visible to another connection right after bs_store_flush, and
 * within the commit delay without one; closing the store commits too. */
static void
test_metrics_flush (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) writer = open_store (f->db);
  g_autoptr (BsStore) reader = open_store (f->db);
  g_autoptr (GError) error = NULL;
  gint64 run = new_run (writer, 0);

  BsMetric m = metric (run, 1, "train");
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (bs_store_add_metric (writer, &m, &error));
  guint seen = n_metrics (reader, run);
  if (g_get_monotonic_time () - t0 < BS_STORE_METRIC_DELAY_MS * 1000 / 2)
    g_assert_cmpuint (seen, ==, 0); /* buffered, not one commit per row */
  g_assert_true (bs_store_flush (writer, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_metrics (reader, run), ==, 1);

  /* no flush, no other call: the helper thread commits it */
  m = metric (run, 2, "train");
  t0 = g_get_monotonic_time ();
  g_assert_true (bs_store_add_metric (writer, &m, &error));
  while (n_metrics (reader, run) < 2 && g_get_monotonic_time () - t0 < 1500 * 1000)
    g_usleep (10 * 1000);
  gint64 waited = g_get_monotonic_time () - t0;
  g_test_message ("a buffered row became visible after %.0f ms", (double) waited / 1000);
  g_assert_cmpuint (n_metrics (reader, run), ==, 2);
  g_assert_cmpint (waited, <, 1500 * 1000);

  /* a status change commits the rows before it */
  m = metric (run, 3, "train");
  g_assert_true (bs_store_add_metric (writer, &m, &error));
  g_assert_true (bs_store_set_run_status (writer, run, "cancelled", NULL, &error));
  g_assert_cmpuint (n_metrics (reader, run), ==, 3);

  /* and so does closing */
  m = metric (run, 4, "train");
  g_assert_true (bs_store_add_metric (writer, &m, &error));
  g_clear_pointer (&writer, bs_store_free);
  g_assert_cmpuint (n_metrics (reader, run), ==, 4);
}

typedef struct
{
  const char *db;
  gint64 run;
  int n_rows;
  gint done; /* atomic */
  GError *error;
  guint max_seen;
  guint polls;
} Concurrent;

static gpointer
write_metrics (gpointer data)
{
  Concurrent *c = data;
  g_autoptr (BsStore) store = bs_store_open (c->db, &c->error);
  for (int i = 1; store != NULL && i <= c->n_rows && c->error == NULL; i++)
    {
      BsMetric m = metric (c->run, i, i % 50 == 0 ? "validation" : "train");
      if (!bs_store_add_metric (store, &m, &c->error))
        break;
      if (i % 500 == 0 && !bs_store_flush (store, &c->error)) /* as before a checkpoint */
        break;
      if (i % 10 == 0)
        g_usleep (1000); /* a batch */
    }
  if (store != NULL && c->error == NULL)
    bs_store_flush (store, &c->error);
  g_atomic_int_set (&c->done, 1);
  return NULL;
}

static gpointer
read_metrics (gpointer data)
{
  Concurrent *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsStore) store = bs_store_open (c->db, &error);
  g_assert_no_error (error);
  gint64 last_train = 0;
  guint total = 0;
  for (;;)
    {
      gboolean finished = g_atomic_int_get (&c->done);
      /* as a chart polls: only what is new */
      g_autoptr (GArray) rows = bs_store_get_metrics (store, c->run, "train", last_train, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        {
          gint64 step = g_array_index (rows, BsMetric, i).step;
          g_assert_cmpint (step, >, last_train);
          last_train = step;
        }
      total += rows->len;
      c->polls++;
      if (finished)
        break;
      g_usleep (2000);
    }
  c->max_seen = total;
  return NULL;
}

static void
test_metrics_concurrent (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 run;
  {
    g_autoptr (BsStore) store = open_store (f->db);
    run = new_run (store, 0);
  }
  Concurrent c = { .db = f->db, .run = run, .n_rows = 3000 };
  GThread *reader = g_thread_new ("reader", read_metrics, &c);
  GThread *writer = g_thread_new ("writer", write_metrics, &c);
  /* meanwhile a third connection writes other tables */
  {
    g_autoptr (BsStore) other = open_store (f->db);
    for (int i = 0; i < 20; i++)
      {
        g_autofree char *name = g_strdup_printf ("set-%d", i);
        g_assert_cmpint (bs_store_create_dataset (other, name, NULL, NULL, &error), >, 0);
        g_assert_no_error (error);
        g_usleep (2000);
      }
  }
  g_thread_join (writer);
  g_thread_join (reader);
  g_assert_no_error (c.error);
  g_test_message ("the reader polled %u times", c.polls);
  g_assert_cmpuint (c.max_seen, ==, 3000 - 3000 / 50);
  g_autoptr (BsStore) check = open_store (f->db);
  g_assert_cmpuint (n_metrics (check, run), ==, 3000);
}

/* ---- interrupted runs ---- */

static gint64
dead_pid (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    _exit (0);
  g_assert_cmpint (pid, >, 0);
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return pid;
}

static void
test_interrupted (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  gint64 alive = new_run (store, 0);
  gint64 dead = new_run (store, 0);
  gint64 reused = new_run (store, 0);
  gint64 rebooted = new_run (store, 0);
  gint64 done = new_run (store, 0);
  g_assert_true (bs_store_set_run_status (store, done, "finished", NULL, &error));

  /* nothing to do while this process runs them all */
  g_assert_cmpint (bs_store_mark_interrupted (store, &error), ==, 0);
  g_assert_no_error (error);

  g_autofree char *sql = g_strdup_printf (
    "UPDATE runs SET pid = %" G_GINT64_FORMAT " WHERE id = %" G_GINT64_FORMAT "; "
    /* this process's pid, recorded by an earlier process that had it */
    "UPDATE runs SET pid_start = pid_start - 1 WHERE id = %" G_GINT64_FORMAT "; "
    "UPDATE runs SET boot_id = 'another-boot' WHERE id = %" G_GINT64_FORMAT "; "
    "UPDATE runs SET pid = %" G_GINT64_FORMAT " WHERE id = %" G_GINT64_FORMAT,
    dead_pid (), dead, reused, rebooted, dead_pid (), done);
  exec_sql (store, sql);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs WHERE pid_start IS NOT NULL"), ==, 5);

  g_assert_cmpint (bs_store_mark_interrupted (store, &error), ==, 3);
  g_assert_no_error (error);
  const struct { gint64 id; const char *status; } expect[] = {
    { alive, "running" }, { dead, "interrupted" }, { reused, "interrupted" }, { rebooted, "interrupted" },
    { done, "finished" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      g_autoptr (BsRun) r = bs_store_get_run (store, expect[i].id, &error);
      g_assert_cmpstr (r->status, ==, expect[i].status);
    }
  g_autoptr (BsRun) r = bs_store_get_run (store, dead, &error);
  bs_test_assert_contains (r->message, "ended without finishing");
  g_assert_cmpint (r->finished, ==, 0); /* not finished: resumable */
  g_assert_cmpint (bs_store_mark_interrupted (store, &error), ==, 0);

  /* resumed here: owned by this process again */
  g_assert_true (bs_store_set_run_status (store, dead, "running", NULL, &error));
  g_clear_pointer (&r, bs_run_free);
  r = bs_store_get_run (store, dead, &error);
  g_assert_cmpint (r->pid, ==, getpid ());
  g_assert_cmpint (bs_store_mark_interrupted (store, &error), ==, 0);
}

/* ---- evaluations ---- */

static void
test_evaluations (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  gint64 run = new_run (store, 0);
  const char *labels[] = { "neg", "pos" };
  double precision[] = { 0.75, 1.0 / 3 }, recall[] = { 0.5, 0.6 }, f1[] = { 0.6, NAN };
  gint64 support[] = { 10, 5 }, confusion[] = { 5, 5, 2, 3 };
  BsEvaluation e = { .run_id = run, .split = "test", .step = 100, .n_examples = 15, .accuracy = 8.0 / 15,
                     .loss = 0.7, .latency_ms = 3.5, .n_labels = 2, .labels = labels, .precision = precision,
                     .recall = recall, .f1 = f1, .support = support, .confusion = confusion };
  gint64 id = bs_store_add_evaluation (store, &e, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_autoptr (GPtrArray) list = bs_store_list_evaluations (store, run, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  BsEvaluationRecord *r = g_ptr_array_index (list, 0);
  g_assert_cmpstr (r->split, ==, "test");
  g_assert_cmpint (r->n_examples, ==, 15);
  g_assert_cmpfloat (r->accuracy, ==, 8.0 / 15);
  g_assert_cmpstr (r->confusion_json, ==, "[[5, 5], [2, 3]]");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, r->per_class_json, -1, &error));
  JsonArray *per_class = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (per_class), ==, 2);
  JsonObject *pos = json_array_get_object_element (per_class, 1);
  g_assert_cmpstr (json_object_get_string_member (pos, "label"), ==, "pos");
  g_assert_cmpfloat (json_object_get_double_member (pos, "precision"), ==, 1.0 / 3);
  g_assert_true (json_object_get_null_member (pos, "f1"));
  g_assert_cmpint (json_object_get_int_member (pos, "support"), ==, 5);
  /* the JSON columns are valid for sqlite3's json functions too */
  g_assert_cmpint (query_int (store, "SELECT json_extract (confusion, '$[1][0]') FROM evaluations"), ==, 2);
  g_autoptr (GPtrArray) none = bs_store_list_evaluations (store, run + 1, &error);
  g_assert_cmpuint (none->len, ==, 0);
}

/* ---- model registry ---- */

static void
write_model_folder (const char *dir, BsArch arch, gint64 *n_weights, gint64 *size)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autoptr (BsConfig) config = bs_config_new (arch);
  config->vocab_size = 50;
  config->hidden_size = 8;
  config->n_layers = 2;
  config->n_heads = 2;
  config->intermediate_size = 16;
  config->max_position_embeddings = 32;
  const char *labels[] = { "World", "Sports", "Business" };
  bs_config_set_labels (config, labels, 3);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_assert_true (bs_config_save (config, config_path, &error));
  g_assert_no_error (error);
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_true (g_file_set_contents (weights, "0123456789", 10, NULL));
  g_autofree char *sub = g_build_filename (dir, "checkpoint", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_autofree char *in_sub = g_build_filename (sub, "big", NULL);
  g_assert_true (g_file_set_contents (in_sub, "not counted", -1, NULL));
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  g_assert_no_error (error);
  *n_weights = (gint64) bs_model_get_n_weights (model);
  GStatBuf st;
  g_assert_cmpint (g_stat (config_path, &st), ==, 0);
  *size = (gint64) st.st_size + 10;
}

static void
test_models (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  gint64 run = new_run (store, 0);
  BsModelRecord rec = { .path = "/models/a", .architecture = "bert", .n_params = 10, .size_bytes = 40,
                        .labels_json = "[\"neg\", \"pos\"]", .source = "import" };
  gint64 id = bs_store_register_model (store, &rec, &error);
  g_assert_no_error (error);
  rec.n_params = 11;
  rec.run_id = run;
  rec.name = "renamed";
  g_assert_cmpint (bs_store_register_model (store, &rec, &error), ==, id); /* upsert by path */
  g_autoptr (BsModelInfo) m = bs_store_find_model (store, "/models/a", &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->id, ==, id);
  g_assert_cmpint (m->n_params, ==, 11);
  g_assert_cmpint (m->run_id, ==, run);
  g_assert_cmpstr (m->name, ==, "renamed");
  rec.labels_json = "[not json";
  rec.path = "/models/b";
  g_assert_cmpint (bs_store_register_model (store, &rec, &error), ==, 0);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_SQL);
  bs_test_assert_contains (error->message, "/models/b");
  g_clear_error (&error);

  for (int arch = 0; arch < 2; arch++)
    {
      g_autofree char *dir = g_build_filename (f->dir, arch == 0 ? "bert-tiny" : "distil-tiny", NULL);
      gint64 n_weights, size;
      write_model_folder (dir, arch == 0 ? BS_ARCH_BERT : BS_ARCH_DISTILBERT, &n_weights, &size);
      gint64 mid = bs_store_register_model_folder (store, dir, "fine-tune", run, &error);
      g_assert_no_error (error);
      g_autoptr (BsModelInfo) info = bs_store_get_model (store, mid, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (info->architecture, ==, arch == 0 ? "bert" : "distilbert");
      g_assert_cmpint (info->n_params, ==, n_weights);
      g_assert_cmpint (info->size_bytes, ==, size);
      g_assert_cmpstr (info->labels_json, ==, "[\"World\", \"Sports\", \"Business\"]");
      g_assert_cmpstr (info->name, ==, arch == 0 ? "bert-tiny" : "distil-tiny");
      g_assert_cmpstr (info->path, ==, dir);
      g_assert_cmpstr (info->source, ==, "fine-tune");
    }
  g_autofree char *empty = g_build_filename (f->dir, "empty", NULL);
  g_mkdir (empty, 0755);
  g_assert_cmpint (bs_store_register_model_folder (store, empty, NULL, 0, &error), ==, 0);
  g_assert_nonnull (error);
  bs_test_assert_contains (error->message, "config.json");
  g_clear_error (&error);

  g_autoptr (GPtrArray) models = bs_store_list_models (store, &error);
  g_assert_cmpuint (models->len, ==, 3);
  /* a deleted run leaves its models registered */
  g_assert_true (bs_store_delete_run (store, run, &error));
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM models WHERE run_id IS NULL"), ==, 3);
  g_assert_true (bs_store_delete_model (store, id, &error));
  g_assert_null (bs_store_get_model (store, id, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* The model that ships with the app: registered at each start, without a
 * write when nothing changed; moved when its folder moves; forgotten when
 * there is none; the user's models and every folder left alone. */
static void
test_default_model (Fixture *f, gconstpointer data)
{
  g_autoptr (BsStore) store = open_store (f->db);
  g_autoptr (GError) error = NULL;
  g_autofree char *a = g_build_filename (f->dir, "default-a", NULL);
  g_autofree char *b = g_build_filename (f->dir, "default-b", NULL);
  g_autofree char *own = g_build_filename (f->dir, "own", NULL);
  gint64 n_weights, size;
  write_model_folder (a, BS_ARCH_BERT, &n_weights, &size);
  write_model_folder (b, BS_ARCH_DISTILBERT, &n_weights, &size);
  write_model_folder (own, BS_ARCH_BERT, &n_weights, &size);
  gint64 own_id = bs_store_register_model_folder (store, own, "folder", 0, &error);
  g_assert_no_error (error);

  g_assert_true (bs_store_register_default_model (store, a, "Sentiment", &error));
  g_assert_no_error (error);
  g_autoptr (BsModelInfo) first = bs_store_find_model (store, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first->name, ==, "Sentiment");
  g_assert_cmpstr (first->source, ==, BS_MODEL_SOURCE_DEFAULT);
  g_assert_cmpstr (first->architecture, ==, "bert");

  /* again: nothing written */
  gint64 changes = query_int (store, "SELECT total_changes()");
  g_assert_true (bs_store_register_default_model (store, a, "Sentiment", &error));
  g_assert_cmpint (query_int (store, "SELECT total_changes()"), ==, changes);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM models WHERE source = 'default'"), ==, 1);

  /* renamed: the same row */
  g_assert_true (bs_store_register_default_model (store, a, "Sentiment (small)", &error));
  g_autoptr (BsModelInfo) renamed = bs_store_find_model (store, a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (renamed->id, ==, first->id);
  g_assert_cmpstr (renamed->name, ==, "Sentiment (small)");

  /* moved (an update, the source tree): the old folder's row goes */
  g_assert_true (bs_store_register_default_model (store, b, NULL, &error));
  g_assert_null (bs_store_find_model (store, a, NULL));
  g_autoptr (BsModelInfo) moved = bs_store_find_model (store, b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (moved->name, ==, "default-b");
  g_assert_cmpstr (moved->architecture, ==, "distilbert");
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM models WHERE source = 'default'"), ==, 1);

  /* a folder without config.json is refused, saying so */
  g_autofree char *empty = g_build_filename (f->dir, "empty", NULL);
  g_mkdir (empty, 0755);
  g_assert_false (bs_store_register_default_model (store, empty, NULL, &error));
  g_assert_nonnull (error);
  bs_test_assert_contains (error->message, "config.json");
  g_clear_error (&error);
  g_autoptr (BsModelInfo) still = bs_store_find_model (store, b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (still->source, ==, BS_MODEL_SOURCE_DEFAULT);

  /* none any more: forgotten, and only that */
  g_assert_true (bs_store_register_default_model (store, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM models WHERE source = 'default'"), ==, 0);
  g_autoptr (BsModelInfo) kept = bs_store_get_model (store, own_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kept->source, ==, "folder");
  g_autofree char *a_config = g_build_filename (a, "config.json", NULL);
  g_autofree char *b_config = g_build_filename (b, "config.json", NULL);
  g_assert_true (g_file_test (a_config, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (b_config, G_FILE_TEST_IS_REGULAR));
  changes = query_int (store, "SELECT total_changes()");
  g_assert_true (bs_store_register_default_model (store, NULL, NULL, &error));
  g_assert_cmpint (query_int (store, "SELECT total_changes()"), ==, changes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func) g_test_add ("/store/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("schema", test_schema);
  ADD ("default-path", test_default_path);
  ADD ("datasets", test_datasets);
  ADD ("runs", test_runs);
  ADD ("metrics/rows", test_metrics_rows);
  ADD ("metrics/flush", test_metrics_flush);
  ADD ("metrics/concurrent", test_metrics_concurrent);
  ADD ("interrupted", test_interrupted);
  ADD ("evaluations", test_evaluations);
  ADD ("models", test_models);
  ADD ("default-model", test_default_model);
#undef ADD
  return g_test_run ();
}
