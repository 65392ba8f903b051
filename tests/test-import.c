/* The importers, on small files written here and on excerpts of the real
 * datasets (fixtures/data); every kind of bad input with its FILE:LINE and
 * nothing left behind; the validation split; exports; token statistics; and
 * bert-studio-cli's data commands (BS_CLI). */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "bs-dataset-stats.h"
#include "bs-import.h"
#include "bs-store-private.h"
#include "bs-store.h"
#include "bs-test-util.h"

/* ---- helpers ---- */

typedef struct
{
  char *dir;
  char *db;
  BsStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("bs-import-XXXXXX", &error);
  g_assert_no_error (error);
  f->db = g_build_filename (f->dir, "test.db", NULL);
  f->store = bs_store_open (f->db, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  bs_store_free (f->store);
  bs_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

/* Writes len bytes (len < 0: a string) to dir/name, making folders. */
static char *
write_file (Fixture *f, const char *name, const char *content, gssize len)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, content, len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_gzip (Fixture *f, const char *name, const char *content)
{
  g_autoptr (GZlibCompressor) gzip = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) out = g_converter_output_stream_new (memory, G_CONVERTER (gzip));
  g_autoptr (GError) error = NULL;
  g_assert_true (g_output_stream_write_all (out, content, strlen (content), NULL, NULL, &error));
  g_assert_true (g_output_stream_close (out, NULL, &error));
  g_assert_no_error (error);
  GMemoryOutputStream *m = G_MEMORY_OUTPUT_STREAM (memory);
  return write_file (f, name, g_memory_output_stream_get_data (m),
                     (gssize) g_memory_output_stream_get_data_size (m));
}

static char *
fixture_data (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "data", name, NULL);
}

static gint64
count (Fixture *f, const char *sql)
{
  g_autoptr (GError) error = NULL;
  bs_store_lock (f->store);
  g_autoptr (sqlite3_stmt) st = bs_store_prepare (f->store, sql, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  gint64 v = sqlite3_column_int64 (st, 0);
  bs_store_unlock (f->store);
  return v;
}

static gint64
import_ok (Fixture *f, const char *path, const BsImportOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_auto (BsImportResult) result = { 0 };
  g_assert_true (bs_import (f->store, path, options, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.dataset_id, >, 0);
  g_assert_cmpint (result.n_skipped, ==, 0);
  return result.dataset_id;
}

/* The import fails with code, its message starts with "path:line: " (line
 * 0: "path: ") and holds needle, and the database is as it was. */
static void
import_fails (Fixture *f, const char *path, const BsImportOptions *options, int code, gint64 line,
              const char *needle)
{
  gint64 datasets = count (f, "SELECT count(*) FROM datasets");
  gint64 examples = count (f, "SELECT count(*) FROM examples");
  g_autoptr (GError) error = NULL;
  g_auto (BsImportResult) result = { 0 };
  g_assert_false (bs_import (f->store, path, options, &result, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, BS_IMPORT_ERROR, code);
  g_autofree char *where = line > 0 ? g_strdup_printf ("%s:%" G_GINT64_FORMAT ": ", path, line)
                                    : g_strdup_printf ("%s: ", path);
  g_assert_true (g_str_has_prefix (error->message, where));
  bs_test_assert_contains (error->message, needle);
  g_assert_cmpint (count (f, "SELECT count(*) FROM datasets"), ==, datasets);
  g_assert_cmpint (count (f, "SELECT count(*) FROM examples"), ==, examples);
}

static BsExamples *
examples (Fixture *f, gint64 id, const char *split)
{
  g_autoptr (GError) error = NULL;
  BsExamples *e = bs_store_load_examples (f->store, id, split, &error);
  g_assert_no_error (error);
  return e;
}

static BsDataset *
dataset (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  BsDataset *d = bs_store_get_dataset (f->store, id, &error);
  g_assert_no_error (error);
  return d;
}

static void
assert_labels (Fixture *f, gint64 id, const char *const *expected)
{
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpstrv (d->labels, expected);
}

/* ---- CSV and TSV ---- */

static void
test_csv_quoting (Fixture *f, gconstpointer data)
{
  /* BOM, CRLF, quoted commas, "" escapes, a quoted CRLF line break, blank
   * lines, label names sorted */
  g_autofree char *path = write_file (f, "quotes.csv",
    "\xEF\xBB\xBFtext,label\r\n"
    "plain text,pos\r\n"
    "\"with, a comma\",neg\r\n"
    "\r\n"
    "\"she said \"\"hi\"\"\", pos \r\n"
    "\"two\r\nlines\",neg\r\n"
    "last without newline,pos", -1);
  gint64 id = import_ok (f, path, NULL);
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpstr (d->name, ==, "quotes");
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  g_assert_cmpstr (d->source, ==, canonical);
  const char *labels[] = { "neg", "pos", NULL };
  g_assert_cmpstrv (d->labels, labels);
  g_autoptr (BsExamples) e = examples (f, id, "train");
  g_assert_cmpuint (e->n, ==, 5);
  const char *texts[] = { "plain text", "with, a comma", "she said \"hi\"", "two\nlines", "last without newline", NULL };
  g_assert_cmpstrv (e->texts, texts);
  gint32 want[] = { 1, 0, 1, 0, 1 };
  for (gsize i = 0; i < 5; i++)
    g_assert_cmpint (e->labels[i], ==, want[i]);
}

static void
test_csv_columns (Fixture *f, gconstpointer data)
{
  /* guessed: review and sentiment, case-insensitively */
  g_autofree char *guess = write_file (f, "guess.csv", "id,Review,Sentiment\n1,good,positive\n2,bad,negative\n", -1);
  gint64 id = import_ok (f, guess, NULL);
  g_autoptr (BsExamples) e = examples (f, id, "train");
  g_assert_cmpstr (e->texts[0], ==, "good");
  const char *pn[] = { "negative", "positive", NULL };
  assert_labels (f, id, pn);

  /* chosen by name; two text columns joined; an empty one left out */
  g_autofree char *multi = write_file (f, "multi.csv", "title,body,y\nA,first,x\nB,,y\n", -1);
  const char *cols[] = { "title", "body", NULL };
  BsImportOptions by_name = { .name = "multi", .text_columns = cols, .label_column = "y" };
  id = import_ok (f, multi, &by_name);
  g_autoptr (BsExamples) m = examples (f, id, "train");
  g_assert_cmpstr (m->texts[0], ==, "A first");
  g_assert_cmpstr (m->texts[1], ==, "B");

  /* two columns, one the label: the other is the text */
  g_autofree char *two = write_file (f, "two.csv", "words,label\nhello,1\n", -1);
  id = import_ok (f, two, NULL);
  g_autoptr (BsExamples) t = examples (f, id, "train");
  g_assert_cmpstr (t->texts[0], ==, "hello");

  /* no header: 1-based column numbers */
  g_autofree char *bare = write_file (f, "bare.csv", "2,\"x, y\",z\n1,u,v\n", -1);
  const char *numbered[] = { "2", "3", NULL };
  BsImportOptions by_number = { .no_header = TRUE, .label_column = "1", .text_columns = numbered };
  id = import_ok (f, bare, &by_number);
  g_autoptr (BsExamples) b = examples (f, id, "train");
  g_assert_cmpstr (b->texts[0], ==, "x, y z");
  g_assert_cmpint (b->labels[0], ==, 1);
  const char *twelve[] = { "1", "2", NULL };
  assert_labels (f, id, twelve);

  /* the unlabeled split needs no label column */
  g_autofree char *unlabeled = write_file (f, "texts.csv", "text\nfirst\nsecond\n", -1);
  BsImportOptions unsup = { .split = "unlabeled" };
  id = import_ok (f, unlabeled, &unsup);
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpint (d->n_unlabeled, ==, 2);
  g_assert_cmpuint (g_strv_length (d->labels), ==, 0);
}

static void
test_tsv (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "data.tsv",
    "sentence\tlabel\n"
    "a, with commas\t0\n"
    "\"quoted\ttab\"\t1\n"
    "plain \"inner\" quotes\t1\n", -1);
  gint64 id = import_ok (f, path, NULL);
  g_autoptr (BsExamples) e = examples (f, id, "train");
  const char *texts[] = { "a, with commas", "quoted\ttab", "plain \"inner\" quotes", NULL };
  g_assert_cmpstrv (e->texts, texts);
  g_assert_cmpint (e->labels[2], ==, 1);
}

/* ---- JSON Lines ---- */

static void
test_jsonl (Fixture *f, gconstpointer data)
{
  /* IMDB's shape: 0/1 and -1 for unlabeled (which goes to the unlabeled
   * split); null is unlabeled too; blank lines are skipped */
  g_autofree char *imdb = write_file (f, "imdb.jsonl",
    "{\"text\": \"good \\u00e9 \\\"film\\\"\", \"label\": 1}\n"
    "\n"
    "   \n"
    "{\"text\": \"bad\", \"label\": 0, \"extra\": [1, 2]}\r\n"
    "{\"text\": \"who knows\", \"label\": -1}\n"
    "{\"text\": \"nobody\", \"label\": null}\n", -1);
  gint64 id = import_ok (f, imdb, NULL);
  g_autoptr (BsDataset) d = dataset (f, id);
  const char *labels[] = { "0", "1", NULL };
  g_assert_cmpstrv (d->labels, labels);
  g_assert_cmpint (d->n_train, ==, 2);
  g_assert_cmpint (d->n_unlabeled, ==, 2);
  g_autoptr (BsExamples) train = examples (f, id, "train");
  g_assert_cmpstr (train->texts[0], ==, "good \xc3\xa9 \"film\"");
  g_assert_cmpint (train->labels[0], ==, 1);
  g_assert_cmpint (train->labels[1], ==, 0);

  /* chosen fields, several joined, string labels, a split field */
  g_autofree char *fields = write_file (f, "fields.jsonl",
    "{\"title\": \"T1\", \"body\": \"B1\", \"topic\": \"sport\", \"split\": \"test\"}\n"
    "{\"title\": \"T2\", \"body\": \"B2\", \"topic\": \"art\", \"split\": \"train\"}\n", -1);
  const char *cols[] = { "title", "body", NULL };
  BsImportOptions o = { .text_columns = cols, .label_column = "topic" };
  id = import_ok (f, fields, &o);
  g_autoptr (BsExamples) test = examples (f, id, "test");
  g_assert_cmpuint (test->n, ==, 1);
  g_assert_cmpstr (test->texts[0], ==, "T1 B1");
  g_assert_cmpint (test->labels[0], ==, 1); /* art, sport */
  /* an asked-for split wins over the field */
  BsImportOptions forced = { .name = "forced", .text_columns = cols, .label_column = "topic", .split = "validation" };
  id = import_ok (f, fields, &forced);
  g_autoptr (BsDataset) v = dataset (f, id);
  g_assert_cmpint (v->n_validation, ==, 2);
}

/* ---- gzip ---- */

static void
test_gzip (Fixture *f, gconstpointer data)
{
  g_autofree char *csv = write_gzip (f, "a.csv.gz", "text,label\n\"x,\ny\",a\nz,b\n");
  gint64 id = import_ok (f, csv, NULL);
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpstr (d->name, ==, "a");
  g_autoptr (BsExamples) e = examples (f, id, "train");
  g_assert_cmpstr (e->texts[0], ==, "x,\ny");

  /* recognised by content, whatever the name says */
  g_autofree char *tsv = write_gzip (f, "b.tsv", "text\tlabel\nq\t1\n");
  id = import_ok (f, tsv, NULL);
  g_autoptr (BsExamples) t = examples (f, id, "train");
  g_assert_cmpstr (t->texts[0], ==, "q");

  g_autofree char *jsonl = write_gzip (f, "c.jsonl.gz", "{\"text\": \"j\", \"label\": \"x\"}\n");
  id = import_ok (f, jsonl, NULL);
  g_autoptr (BsExamples) j = examples (f, id, "train");
  g_assert_cmpstr (j->texts[0], ==, "j");

  /* a file without a known extension: the format is sniffed */
  g_autofree char *sniffed = write_gzip (f, "d.data", "{\"text\": \"s\", \"label\": 2}\n");
  id = import_ok (f, sniffed, NULL);
  g_autoptr (BsExamples) s = examples (f, id, "train");
  g_assert_cmpstr (s->texts[0], ==, "s");

  /* a cut-off gzip stream */
  g_autofree char *whole = write_gzip (f, "whole.csv.gz", "text,label\nsome text that is long enough,1\n");
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (whole, &bytes, &len, NULL));
  g_autofree char *cut = write_file (f, "cut.csv.gz", bytes, (gssize) len - 12);
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_import (f->store, cut, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, cut));
  bs_test_assert_contains (error->message, "could not read");
  g_assert_cmpint (count (f, "SELECT count(*) FROM datasets"), ==, 4);
}

/* ---- folders ---- */

static void
test_folder (Fixture *f, gconstpointer data)
{
  g_free (write_file (f, "tree/README", "not an example", -1));
  g_free (write_file (f, "tree/train/pos/10_9.txt", "ten", -1));
  g_free (write_file (f, "tree/train/pos/2_8.txt", "two\n", -1));
  g_free (write_file (f, "tree/train/pos/.hidden", "skip me", -1));
  g_free (write_file (f, "tree/train/neg/1_1.txt", "one", -1));
  g_free (write_file (f, "tree/train/unsup/0_0.txt", "unknown", -1));
  g_free (write_gzip (f, "tree/test/pos/5_10.txt.gz", "zipped\r\n"));
  g_free (write_file (f, "tree/test/meh/7_5.txt", "middling", -1));
  g_autofree char *tree = g_build_filename (f->dir, "tree", NULL);
  gint64 id = import_ok (f, tree, NULL);
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpstr (d->name, ==, "tree");
  const char *labels[] = { "meh", "neg", "pos", NULL };
  g_assert_cmpstrv (d->labels, labels);
  g_autoptr (BsExamples) train = examples (f, id, "train");
  const char *texts[] = { "one", "two", "ten", NULL }; /* neg, then pos in natural order */
  g_assert_cmpstrv (train->texts, texts);
  g_assert_cmpint (train->labels[0], ==, 1);
  g_assert_cmpint (train->labels[1], ==, 2);
  g_autoptr (BsExamples) test = examples (f, id, "test");
  const char *test_texts[] = { "middling", "zipped", NULL };
  g_assert_cmpstrv (test->texts, test_texts);
  g_autoptr (BsExamples) unsup = examples (f, id, "unlabeled");
  g_assert_cmpuint (unsup->n, ==, 1);
  g_assert_cmpint (unsup->labels[0], ==, -1);

  /* only one split of it */
  BsImportOptions only_test = { .name = "tree-test", .split = "test" };
  id = import_ok (f, tree, &only_test);
  g_autoptr (BsDataset) t = dataset (f, id);
  g_assert_cmpint (t->n_test, ==, 2);
  g_assert_cmpint (t->n_train + t->n_unlabeled, ==, 0);

  /* label folders without split folders */
  g_free (write_file (f, "flat/a/1.txt", "x", -1));
  g_free (write_file (f, "flat/b/1.txt", "y", -1));
  g_autofree char *flat = g_build_filename (f->dir, "flat", NULL);
  id = import_ok (f, flat, NULL);
  g_autoptr (BsDataset) fl = dataset (f, id);
  g_assert_cmpint (fl->n_train, ==, 2);

  /* a folder named as a file format, a file as a folder */
  BsImportOptions as_csv = { .format = BS_IMPORT_CSV };
  import_fails (f, tree, &as_csv, BS_IMPORT_ERROR_OPTIONS, 0, "folder");
  g_free (write_file (f, "empty/nothing.txt", "x", -1));
  g_autofree char *empty = g_build_filename (f->dir, "empty", NULL);
  import_fails (f, empty, NULL, BS_IMPORT_ERROR_EMPTY, 0, "no label folders");
}

/* ---- the real data's shapes ---- */

static char *
read_text (const char *path)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
test_fixtures (Fixture *f, gconstpointer data)
{
  g_autofree char *tree = fixture_data ("sample_aclImdb");
  gint64 id = import_ok (f, tree, NULL);
  g_autoptr (BsDataset) d = dataset (f, id);
  const char *labels[] = { "neg", "pos", NULL };
  g_assert_cmpstrv (d->labels, labels);
  g_assert_cmpint (d->n_train, ==, 10);
  g_assert_cmpint (d->n_test, ==, 10);
  g_assert_cmpint (d->n_unlabeled, ==, 5);
  g_autoptr (BsExamples) train = examples (f, id, "train");
  g_autofree char *first = fixture_data ("sample_aclImdb/train/neg/0_3.txt");
  g_autofree char *first_text = read_text (first);
  g_assert_cmpstr (train->texts[0], ==, first_text);
  g_autofree char *last = fixture_data ("sample_aclImdb/train/pos/4_8.txt");
  g_autofree char *last_text = read_text (last);
  g_assert_cmpstr (train->texts[9], ==, last_text);
  g_assert_cmpint (train->labels[9], ==, 1);

  g_autofree char *jsonl = fixture_data ("imdb-train-20.jsonl.gz");
  BsImportOptions imdb = { .name = "imdb" };
  id = import_ok (f, jsonl, &imdb);
  g_autoptr (BsDataset) j = dataset (f, id);
  const char *numbers[] = { "0", "1", NULL };
  g_assert_cmpstrv (j->labels, numbers);
  g_assert_cmpint (j->n_train, ==, 20);
  g_autoptr (BsExamples) je = examples (f, id, "train");
  g_assert_true (g_str_has_prefix (je->texts[0], "Story of a man who has unnatural feelings for a pig."));
  g_assert_cmpint (je->labels[0], ==, 0);
  g_assert_cmpint (je->labels[19], ==, 1);
  /* the same reviews as the folder's, byte for byte */
  g_assert_cmpstr (je->texts[0], ==, first_text);

  /* AG News: no header; class index 1-4, title, description */
  g_autofree char *ag = fixture_data ("agnews-test-20.csv.gz");
  const char *cols[] = { "2", "3", NULL };
  BsImportOptions agopts = { .name = "ag", .no_header = TRUE, .label_column = "1", .text_columns = cols,
                             .split = "test" };
  id = import_ok (f, ag, &agopts);
  g_autoptr (BsDataset) a = dataset (f, id);
  const char *classes[] = { "1", "2", "3", "4", NULL };
  g_assert_cmpstrv (a->labels, classes);
  g_assert_cmpint (a->n_test, ==, 20);
  g_autoptr (BsExamples) ae = examples (f, id, "test");
  g_assert_cmpstr (ae->texts[0], ==,
                   "Fears for T N pension after talks Unions representing workers at Turner   Newall say they are "
                   "'disappointed' after talks with stricken parent firm Federal Mogul.");
  g_assert_cmpint (ae->labels[0], ==, 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) balance = bs_dataset_label_counts (f->store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (balance->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      BsLabelCount *c = &g_array_index (balance, BsLabelCount, i);
      g_assert_cmpstr (c->split, ==, "test");
      g_assert_cmpint (c->label, ==, (int) i);
      g_assert_cmpint (c->count, ==, 5);
    }
}

/* ---- bad input ---- */

typedef struct
{
  const char *name;
  const char *content;
  gssize length;
  int code;
  gint64 line;
  const char *needle;
} BadCase;

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  static const BadCase cases[] = {
    { "unterminated.csv", "text,label\nok,pos\n\"never closed,neg\nmore,pos\n", -1,
      BS_IMPORT_ERROR_MALFORMED, 3, "not closed" },
    { "after-quote.csv", "text,label\nok,pos\n\"a\"b,pos\n", -1, BS_IMPORT_ERROR_MALFORMED, 3, "closing quote" },
    { "columns.csv", "text,label\na,pos\nb,neg,extra\n", -1, BS_IMPORT_ERROR_MALFORMED, 3, "3 CSV fields" },
    /* the line is where the record starts, counted physically */
    { "multiline.csv", "text,label\n\"one\ntwo\nthree\",pos\nbad\n", -1, BS_IMPORT_ERROR_MALFORMED, 5, "1 CSV field where the header has 2" },
    { "no-text.csv", "foo,bar,label\na,b,c\n", -1, BS_IMPORT_ERROR_COLUMN, 1, "no text column" },
    { "no-label.csv", "text,other\na,b\n", -1, BS_IMPORT_ERROR_COLUMN, 1, "no label column" },
    { "utf8.csv", "text,label\nok,pos\nbad \xff text,neg\n", -1, BS_IMPORT_ERROR_ENCODING, 3, "UTF-8" },
    { "nul.csv", "text,label\na\0b,pos\n", 19, BS_IMPORT_ERROR_ENCODING, 2, "NUL" },
    { "empty.csv", "", 0, BS_IMPORT_ERROR_EMPTY, 1, "empty" },
    { "header-only.csv", "text,label\r\n", -1, BS_IMPORT_ERROR_EMPTY, 2, "no rows" },
    { "empty-text.csv", "text,label\nfine,1\n   ,0\n", -1, BS_IMPORT_ERROR_TEXT, 3, "empty" },
    { "split.csv", "text,label,split\na,1,train\nb,0,dev\n", -1, BS_IMPORT_ERROR_MALFORMED, 3, "“dev”" },
    { "not-json.jsonl", "{\"text\": \"a\", \"label\": 1}\n{bad\n", -1, BS_IMPORT_ERROR_MALFORMED, 2, "not valid JSON (at column 1: Parse error" },
    { "array.jsonl", "\n[1, 2]\n", -1, BS_IMPORT_ERROR_MALFORMED, 2, "not a JSON object" },
    { "no-field.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n{\"text\": \"c\"}\n", -1,
      BS_IMPORT_ERROR_COLUMN, 3, "no field “label”" },
    { "no-text.jsonl", "{\"words\": \"a\", \"label\": 1}\n", -1, BS_IMPORT_ERROR_COLUMN, 1, "no text field" },
    { "number-text.jsonl", "{\"text\": 5, \"label\": 1}\n", -1, BS_IMPORT_ERROR_MALFORMED, 1, "not a string" },
    { "label-object.jsonl", "{\"text\": \"a\", \"label\": {\"x\": 1}}\n", -1, BS_IMPORT_ERROR_MALFORMED, 1,
      "neither a string nor a number" },
    { "utf8.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"\xc3\x28\", \"label\": 1}\n", -1,
      BS_IMPORT_ERROR_ENCODING, 2, "UTF-8" },
    { "escaped-nul.jsonl", "{\"text\": \"a\\u0000b\", \"label\": 1}\n", -1, BS_IMPORT_ERROR_ENCODING, 1, "\\u0000" },
    { "empty.jsonl", "", 0, BS_IMPORT_ERROR_EMPTY, 1, "empty" },
    { "blank.jsonl", "\n  \n", -1, BS_IMPORT_ERROR_EMPTY, 3, "no rows" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const BadCase *c = &cases[i];
      g_test_message ("case %s", c->name);
      g_autofree char *path = write_file (f, c->name, c->content, c->length);
      import_fails (f, path, NULL, c->code, c->line, c->needle);
    }

  /* in a folder: the file, and the line of the bad byte */
  g_free (write_file (f, "badtree/train/pos/1.txt", "fine", -1));
  g_autofree char *bad = write_file (f, "badtree/train/neg/2.txt", "line one\nline \xfe two\n", -1);
  g_autofree char *tree = g_build_filename (f->dir, "badtree", NULL);
  gint64 before = count (f, "SELECT count(*) FROM examples");
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_import (f->store, tree, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_ENCODING);
  g_autofree char *where = g_strdup_printf ("%s:2: ", bad);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_assert_cmpint (count (f, "SELECT count(*) FROM examples"), ==, before);
  g_clear_error (&error);

  /* a missing file, a bad split, a taken name */
  g_autofree char *missing = g_build_filename (f->dir, "missing.csv", NULL);
  g_assert_false (bs_import (f->store, missing, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  bs_test_assert_contains (error->message, missing);
  g_clear_error (&error);
  g_autofree char *good = write_file (f, "good.csv", "text,label\na,1\n", -1);
  BsImportOptions dev = { .split = "dev" };
  import_fails (f, good, &dev, BS_IMPORT_ERROR_OPTIONS, 0, "not a split");
  import_ok (f, good, NULL);
  g_assert_false (bs_import (f->store, good, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_EXISTS);
  bs_test_assert_contains (error->message, "good");
  g_clear_error (&error);

  /* a failure after thousands of good rows leaves nothing either */
  g_autoptr (GString) big = g_string_new ("text,label\n");
  for (int i = 0; i < 5000; i++)
    g_string_append_printf (big, "row %d,%d\n", i, i % 2);
  g_string_append (big, "\"broken,1\n");
  g_autofree char *late = write_file (f, "late.csv", big->str, -1);
  import_fails (f, late, NULL, BS_IMPORT_ERROR_MALFORMED, 5002, "not closed");
}

static void
test_skip_bad_rows (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "mixed.csv",
    "text,label\n"
    "good one,pos\n"
    "bad,pos,extra\n"
    "\"x\"y,neg\n"
    "bad \xff,neg\n"
    "  ,pos\n"
    "good two,neg\n", -1);
  BsImportOptions o = { .skip_bad_rows = TRUE };
  g_autoptr (GError) error = NULL;
  g_auto (BsImportResult) result = { 0 };
  g_assert_true (bs_import (f->store, path, &o, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.n_rows, ==, 2);
  g_assert_cmpint (result.n_skipped, ==, 4);
  g_assert_cmpuint (result.skipped->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *where = g_strdup_printf ("%s:%u: ", path, i + 3);
      g_assert_true (g_str_has_prefix (g_ptr_array_index (result.skipped, i), where));
    }
  g_autoptr (BsExamples) e = examples (f, result.dataset_id, "train");
  const char *texts[] = { "good one", "good two", NULL };
  g_assert_cmpstrv (e->texts, texts);

  /* nothing good at all is still an error */
  g_autofree char *all_bad = write_file (f, "allbad.jsonl", "{x\n[1]\n", -1);
  BsImportOptions skip = { .skip_bad_rows = TRUE };
  import_fails (f, all_bad, &skip, BS_IMPORT_ERROR_EMPTY, 0, "all 2 were bad");

  /* more bad rows than are listed: all are counted */
  g_autoptr (GString) many = g_string_new ("{\"text\": \"ok\", \"label\": 1}\n");
  for (int i = 0; i < BS_IMPORT_MAX_REPORTED + 5; i++)
    g_string_append (many, "{\"text\": 1, \"label\": 1}\n");
  g_autofree char *lots = write_file (f, "lots.jsonl", many->str, -1);
  g_auto (BsImportResult) r2 = { 0 };
  g_assert_true (bs_import (f->store, lots, &skip, &r2, NULL, &error));
  g_assert_cmpint (r2.n_skipped, ==, BS_IMPORT_MAX_REPORTED + 5);
  g_assert_cmpuint (r2.skipped->len, ==, BS_IMPORT_MAX_REPORTED);
}

/* ---- labels ---- */

static void
test_labels (Fixture *f, gconstpointer data)
{
  /* integers sort by value */
  g_autofree char *nums = write_file (f, "nums.csv", "text,label\na,10\nb,9\nc,010\nd,-1\ne,\n", -1);
  gint64 id = import_ok (f, nums, NULL);
  const char *sorted[] = { "9", "10", NULL };
  assert_labels (f, id, sorted);
  g_autoptr (BsExamples) e = examples (f, id, "train");
  g_assert_cmpint (e->labels[0], ==, 1);
  g_assert_cmpint (e->labels[1], ==, 0);
  g_assert_cmpint (e->labels[2], ==, 1); /* 010 is 10 */
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpint (d->n_unlabeled, ==, 2); /* -1 and empty */

  /* names fixed in advance: numbers index them, others are bad rows */
  const char *names[] = { "neg", "pos", NULL };
  g_autofree char *fixed = write_file (f, "fixed.csv", "text,label\na,pos\nb,0\n", -1);
  BsImportOptions o = { .label_names = names };
  id = import_ok (f, fixed, &o);
  assert_labels (f, id, names);
  g_autoptr (BsExamples) fe = examples (f, id, "train");
  g_assert_cmpint (fe->labels[0], ==, 1);
  g_assert_cmpint (fe->labels[1], ==, 0);
  g_autofree char *unknown = write_file (f, "unknown.csv", "text,label\na,pos\nb,meh\n", -1);
  BsImportOptions o2 = { .name = "unknown", .label_names = names };
  import_fails (f, unknown, &o2, BS_IMPORT_ERROR_LABEL, 3, "“meh” is not one of the dataset's labels (neg, pos)");

  /* a column of free text is not a label column */
  g_autoptr (GString) wide = g_string_new ("text,label\n");
  for (int i = 0; i < 10001; i++)
    g_string_append_printf (wide, "t,label %d\n", i);
  g_autofree char *too_many = write_file (f, "wide.csv", wide->str, -1);
  BsImportOptions skip = { .skip_bad_rows = TRUE };
  import_fails (f, too_many, &skip, BS_IMPORT_ERROR_LABEL, 10002, "more than 10000 distinct labels");
}

static void
test_append (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *train = write_file (f, "train.csv", "text,label\na,neg\nb,pos\n", -1);
  gint64 id = import_ok (f, train, NULL);

  /* IMDB's test file labels 0/1: indexes into neg/pos */
  g_autofree char *test = write_file (f, "test.jsonl", "{\"text\": \"c\", \"label\": 1}\n{\"text\": \"d\", \"label\": \"neg\"}\n", -1);
  BsImportOptions as_test = { .split = "test" };
  g_auto (BsImportResult) result = { 0 };
  g_assert_true (bs_import_append (f->store, id, test, &as_test, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result.dataset_id, ==, id);
  g_assert_cmpint (result.n_rows, ==, 2);
  g_autoptr (BsExamples) e = examples (f, id, "test");
  g_assert_cmpint (e->labels[0], ==, 1);
  g_assert_cmpint (e->labels[1], ==, 0);
  const char *names[] = { "neg", "pos", NULL };
  assert_labels (f, id, names);

  /* a label the dataset lacks fails the append, which leaves the dataset as it was */
  gint64 before = count (f, "SELECT count(*) FROM examples");
  g_autofree char *extra = write_file (f, "extra.csv", "text,label\ne,pos\nf,neutral\n", -1);
  g_assert_false (bs_import_append (f->store, id, extra, &as_test, NULL, NULL, &error));
  g_assert_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_LABEL);
  g_autofree char *where = g_strdup_printf ("%s:3: ", extra);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_clear_error (&error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM examples"), ==, before);
  g_assert_cmpint (count (f, "SELECT count(*) FROM datasets"), ==, 1);

  /* names that are numbers match only as names: AG News' 1-4 */
  g_autofree char *ag = write_file (f, "ag.csv", "text,label\nw,1\nx,2\ny,3\nz,4\n", -1);
  gint64 ag_id = import_ok (f, ag, NULL);
  g_autofree char *more = write_file (f, "ag-more.csv", "text,label\nv,4\nu,0\n", -1);
  g_assert_false (bs_import_append (f->store, ag_id, more, &as_test, NULL, NULL, &error));
  g_assert_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_LABEL);
  bs_test_assert_contains (error->message, "“0”");
  g_clear_error (&error);

  /* an unknown dataset */
  g_assert_false (bs_import_append (f->store, 999, train, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* ---- cancellation ---- */

static void
cancel_on_progress (gint64 n_rows, double fraction, gpointer data)
{
  g_assert_cmpfloat (fraction, <=, 1.0);
  g_cancellable_cancel (data);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) big = g_string_new ("text,label\n");
  for (int i = 0; i < 10000; i++)
    g_string_append_printf (big, "row %d,%d\n", i, i % 3);
  g_autofree char *path = write_file (f, "big.csv", big->str, -1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  BsImportOptions o = { .progress = cancel_on_progress, .progress_data = cancellable };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_import (f->store, path, &o, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (count (f, "SELECT count(*) FROM datasets"), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM examples"), ==, 0);
}

/* ---- the validation split ---- */

static GHashTable *
validation_ids (Fixture *f, gint64 id)
{
  GHashTable *set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr (BsExamples) v = examples (f, id, "validation");
  for (gsize i = 0; i < v->n; i++)
    g_hash_table_add (set, g_memdup2 (&v->ids[i], sizeof (gint64)));
  return set;
}

static gboolean
same_set (GHashTable *a, GHashTable *b)
{
  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, a);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (b, key))
      return FALSE;
  return TRUE;
}

static void
test_split (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) csv = g_string_new ("text,label\n");
  for (int i = 0; i < 300; i++)
    g_string_append_printf (csv, "text %d,%s\n", i, i % 3 == 0 ? "b" : "a"); /* 200 a, 100 b */
  g_string_append (csv, "no label,\n");
  g_autofree char *path = write_file (f, "split.csv", csv->str, -1);
  BsImportOptions o = { .validation_ratio = 0.2, .seed = 7 };
  gint64 id = import_ok (f, path, &o);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) counts = bs_dataset_label_counts (f->store, id, &error);
  g_assert_no_error (error);
  /* train a 160, b 80; validation a 40, b 20; the unlabeled row stays */
  const struct { const char *split; int label; gint64 n; } want[] = {
    { "train", 0, 160 }, { "train", 1, 80 }, { "validation", 0, 40 }, { "validation", 1, 20 }, { "unlabeled", -1, 1 },
  };
  g_assert_cmpuint (counts->len, ==, G_N_ELEMENTS (want));
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      BsLabelCount *c = &g_array_index (counts, BsLabelCount, i);
      g_assert_cmpstr (c->split, ==, want[i].split);
      g_assert_cmpint (c->label, ==, want[i].label);
      g_assert_cmpint (c->count, ==, want[i].n);
    }
  g_autoptr (GHashTable) first = validation_ids (f, id);

  /* the same seed: the same examples; another: others; ratio 0: none */
  g_assert_true (bs_store_split_validation (f->store, id, 0.2, 8, &error));
  g_autoptr (GHashTable) other = validation_ids (f, id);
  g_assert_cmpuint (g_hash_table_size (other), ==, 60);
  g_assert_false (same_set (first, other));
  g_assert_true (bs_store_split_validation (f->store, id, 0.2, 7, &error));
  g_autoptr (GHashTable) again = validation_ids (f, id);
  g_assert_true (same_set (first, again));
  /* a second import of the same file with the same seed picks the same rows */
  BsImportOptions copy = { .name = "copy", .validation_ratio = 0.2, .seed = 7 };
  gint64 id2 = import_ok (f, path, &copy);
  g_autoptr (BsExamples) v1 = examples (f, id, "validation");
  g_autoptr (BsExamples) v2 = examples (f, id2, "validation");
  g_assert_cmpstrv (v1->texts, v2->texts);

  g_assert_true (bs_store_split_validation (f->store, id, 0, 7, &error));
  g_autoptr (BsDataset) d = dataset (f, id);
  g_assert_cmpint (d->n_validation, ==, 0);
  g_assert_cmpint (d->n_train, ==, 300);
  g_assert_false (bs_store_split_validation (f->store, id, 1.0, 7, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_INVALID);
}

/* ---- export ---- */

static void
test_export (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src = write_file (f, "src.jsonl",
    "{\"text\": \"comma, \\\"quote\\\"\\nnewline\", \"label\": \"pos\"}\n"
    "{\"text\": \"caf\\u00e9 \\u2028 tab\\there\", \"label\": \"neg\"}\n"
    "{\"text\": \"unlabeled one\", \"label\": null}\n", -1);
  gint64 id = import_ok (f, src, NULL);
  g_assert_true (bs_import_append (f->store, id, src, &(BsImportOptions) { .split = "test" }, NULL, NULL, &error));
  g_assert_no_error (error);

  g_autofree char *csv = g_build_filename (f->dir, "out.csv", NULL);
  g_assert_true (bs_store_export_dataset (f->store, id, "train", csv, BS_EXPORT_CSV, &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (csv);
  g_assert_cmpstr (text, ==,
                   "text,label\r\n"
                   "\"comma, \"\"quote\"\"\nnewline\",pos\r\n"
                   "caf\xc3\xa9 \xe2\x80\xa8 tab\there,neg\r\n");

  /* all splits round-trip through CSV and JSON Lines */
  for (int format = 0; format < 2; format++)
    {
      g_autofree char *out = g_build_filename (f->dir, format == 0 ? "all.csv" : "all.jsonl", NULL);
      g_assert_true (bs_store_export_dataset (f->store, id, NULL, out, format == 0 ? BS_EXPORT_CSV : BS_EXPORT_JSONL,
                                              &error));
      g_assert_no_error (error);
      BsImportOptions o = { .name = format == 0 ? "from-csv" : "from-jsonl" };
      gint64 back = import_ok (f, out, &o);
      g_autoptr (BsDataset) a = dataset (f, id);
      g_autoptr (BsDataset) b = dataset (f, back);
      g_assert_cmpstrv (a->labels, b->labels);
      g_assert_cmpint (a->n_train, ==, b->n_train);
      g_assert_cmpint (a->n_test, ==, b->n_test);
      g_assert_cmpint (a->n_unlabeled, ==, b->n_unlabeled);
      g_autoptr (BsExamples) ea = examples (f, id, NULL);
      g_autoptr (BsExamples) eb = examples (f, back, NULL);
      g_assert_cmpstrv (ea->texts, eb->texts);
      for (gsize i = 0; i < ea->n; i++)
        g_assert_cmpint (ea->labels[i], ==, eb->labels[i]);
      /* and the second export is the same file */
      g_autofree char *out2 = g_build_filename (f->dir, format == 0 ? "all2.csv" : "all2.jsonl", NULL);
      g_assert_true (bs_store_export_dataset (f->store, back, NULL, out2, format == 0 ? BS_EXPORT_CSV : BS_EXPORT_JSONL,
                                              &error));
      g_autofree char *t1 = read_text (out);
      g_autofree char *t2 = read_text (out2);
      g_assert_cmpstr (t1, ==, t2);
    }

  /* integer names are JSON numbers; unlabeled is -1 then */
  g_autofree char *imdb = write_file (f, "imdb.jsonl", "{\"text\": \"x\", \"label\": 1}\n{\"text\": \"y\", \"label\": -1}\n", -1);
  gint64 nid = import_ok (f, imdb, NULL);
  g_autofree char *jl = g_build_filename (f->dir, "imdb-out.jsonl", NULL);
  g_assert_true (bs_store_export_dataset (f->store, nid, NULL, jl, BS_EXPORT_JSONL, &error));
  g_autofree char *jtext = read_text (jl);
  g_assert_cmpstr (jtext, ==,
                   "{\"text\": \"x\", \"label\": 1, \"split\": \"train\"}\n"
                   "{\"text\": \"y\", \"label\": -1, \"split\": \"unlabeled\"}\n");

  g_autofree char *nowhere = g_build_filename (f->dir, "missing", "x.csv", NULL);
  g_assert_false (bs_store_export_dataset (f->store, id, NULL, nowhere, BS_EXPORT_CSV, &error));
  g_assert_nonnull (error);
  bs_test_assert_contains (error->message, nowhere);
  g_clear_error (&error);
  g_assert_false (bs_store_export_dataset (f->store, 999, NULL, csv, BS_EXPORT_CSV, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* ---- token statistics ---- */

static BsTokenizer *
tiny_tokenizer (Fixture *f, gboolean lower)
{
  g_autofree char *vocab = write_file (f, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\n##s\n", -1);
  g_autoptr (GError) error = NULL;
  BsTokenizer *tok = bs_tokenizer_new_from_file (vocab, lower, &error);
  g_assert_no_error (error);
  return tok;
}

static void
test_stats (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "stats.csv",
    "text,label\n"
    "the cat,a\n"                              /* 4 tokens with [CLS] and [SEP] */
    "the cat sat,b\n"                          /* 5 */
    "cats sat,a\n"                             /* cat ##s sat: 5 */
    "the the the the the the,b\n"              /* 8 */
    "dog,a\n"                                  /* [UNK]: 3 */
    "the cat sat the cat sat the cat sat,a\n", /* 11 */
    -1);
  gint64 id = import_ok (f, path, NULL);
  g_autoptr (BsTokenizer) tok = tiny_tokenizer (f, TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsTokenStats) s = bs_dataset_token_stats (f->store, id, "train", tok, 5, 4, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (s->from_cache);
  g_assert_cmpuint (s->n_texts, ==, 6);
  gint32 lengths[] = { 4, 5, 5, 8, 3, 11 };
  for (gsize i = 0; i < 6; i++)
    g_assert_cmpint (s->lengths[i], ==, lengths[i]);
  g_assert_cmpint (s->min, ==, 3);
  g_assert_cmpint (s->max, ==, 11);
  g_assert_cmpfloat (s->mean, ==, 6.0);
  g_assert_cmpint (s->p50, ==, 5);
  g_assert_cmpint (s->p90, ==, 11);
  g_assert_cmpint (s->p95, ==, 11);
  g_assert_cmpint (s->p99, ==, 11);
  g_assert_cmpuint (s->n_within, ==, 4);
  g_assert_cmpfloat (s->fraction_within, ==, 4.0 / 6);
  g_assert_cmpfloat (bs_token_stats_fraction_within (s, 8), ==, 5.0 / 6);
  g_assert_cmpfloat (bs_token_stats_fraction_within (s, 2), ==, 0);
  g_assert_cmpint (s->bin_width, ==, 4);
  g_assert_cmpuint (s->n_bins, ==, 3);
  g_assert_cmpint (s->bins[0], ==, 1);
  g_assert_cmpint (s->bins[1], ==, 3);
  g_assert_cmpint (s->bins[2], ==, 2);

  /* cached: the counts are in examples.n_tokens, and a second call reads them */
  g_assert_cmpint (count (f, "SELECT sum (n_tokens) FROM examples"), ==, 36);
  g_autoptr (BsTokenStats) again = bs_dataset_token_stats (f->store, id, NULL, tok, 5, 4, NULL, &error);
  g_assert_true (again->from_cache);
  g_assert_cmpint (again->p50, ==, 5);

  /* another vocabulary (cased: "The" is [UNK]) is counted afresh */
  g_autofree char *upper = write_file (f, "upper.csv", "text,label\nThe cat,a\n", -1);
  g_assert_true (bs_import_append (f->store, id, upper, &(BsImportOptions) { .split = "test" }, NULL, NULL, &error));
  g_autoptr (BsTokenizer) cased = tiny_tokenizer (f, FALSE);
  g_autoptr (BsTokenStats) c = bs_dataset_token_stats (f->store, id, NULL, cased, 5, 4, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (c->from_cache);
  g_assert_cmpuint (c->n_texts, ==, 7);
  g_assert_cmpint (c->lengths[6], ==, 4);
  g_autoptr (BsTokenStats) test_only = bs_dataset_token_stats (f->store, id, "test", cased, 5, 4, NULL, &error);
  g_assert_true (test_only->from_cache);
  g_assert_cmpuint (test_only->n_texts, ==, 1);

  /* many texts: the parallel count agrees with one encoder */
  g_autoptr (GString) many = g_string_new ("text,label\n");
  for (int i = 0; i < 3000; i++)
    {
      g_string_append (many, "the");
      for (int k = 0; k < i % 17; k++)
        g_string_append (many, k % 2 ? " cats" : " sat");
      g_string_append (many, ",x\n");
    }
  g_autofree char *big = write_file (f, "many.csv", many->str, -1);
  gint64 big_id = import_ok (f, big, NULL);
  g_autoptr (BsTokenStats) bs = bs_dataset_token_stats (f->store, big_id, NULL, tok, 128, 16, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (BsExamples) texts = examples (f, big_id, NULL);
  for (gsize i = 0; i < texts->n; i++)
    {
      g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, texts->texts[i], -1, 0, 0);
      g_assert_cmpint (bs->lengths[i], ==, (gint32) enc->n_tokens);
    }

  g_assert_null (bs_dataset_token_stats (f->store, 999, NULL, tok, 5, 4, NULL, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* ---- the CLI ---- */

typedef struct
{
  int status;
  char *out;
  char *err;
} CliRun;

static void
cli_run_clear (CliRun *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

static void
run_cli (CliRun *r, const char *db, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) g_getenv ("BS_CLI"));
  va_list args;
  va_start (args, db);
  const char *arg;
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  if (db != NULL)
    {
      g_ptr_array_add (argv, "--db");
      g_ptr_array_add (argv, (char *) db);
    }
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv ((const char *const *) argv->pdata,
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  r->status = g_subprocess_get_exit_status (proc);
  if (r->status != 0)
    g_test_message ("exit %d: %s", r->status, r->err);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
test_cli (Fixture *f, gconstpointer data)
{
  const char *cli = g_getenv ("BS_CLI");
  if (cli == NULL || !g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("BS_CLI does not name the built bert-studio-cli");
      return;
    }
  g_autofree char *db = g_build_filename (f->dir, "cli.db", NULL);
  g_autofree char *tree = fixture_data ("sample_aclImdb");
  g_autofree char *jsonl = fixture_data ("imdb-train-20.jsonl.gz");
  g_autofree char *ag = fixture_data ("agnews-test-20.csv.gz");
  g_autofree char *vocab = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", "bert-base-uncased-vocab.txt",
                                                  NULL);

  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "import", tree, "--json", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpstr (r.err, ==, ""); /* no progress line when stderr is not a terminal */
    g_autoptr (JsonNode) root = parse_json (r.out);
    JsonObject *o = json_node_get_object (root);
    g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, 25);
    JsonObject *d = json_object_get_object_member (o, "dataset");
    g_assert_cmpstr (json_object_get_string_member (d, "name"), ==, "sample_aclImdb");
    g_assert_cmpint (json_object_get_int_member (d, "unlabeled"), ==, 5);
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "import", jsonl, "--name", "imdb", "--validation-ratio", "0.2", "--seed", "3", NULL);
    g_assert_cmpint (r.status, ==, 0);
    bs_test_assert_contains (r.out, "Imported 20 rows into dataset “imdb”");
    bs_test_assert_contains (r.out, "train 16, validation 4");
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "import", ag, "--name", "ag", "--no-header", "--label-column", "1", "--text-column", "2",
             "--text-column", "3", "--split", "test", NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "datasets", "--json", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_autoptr (JsonNode) root = parse_json (r.out);
    JsonArray *list = json_node_get_array (root);
    g_assert_cmpuint (json_array_get_length (list), ==, 3);
    JsonObject *agd = json_array_get_object_element (list, 2);
    g_assert_cmpstr (json_object_get_string_member (agd, "name"), ==, "ag");
    g_assert_cmpint (json_object_get_int_member (agd, "test"), ==, 20);
    JsonArray *labels = json_object_get_array_member (agd, "labels");
    g_assert_cmpuint (json_array_get_length (labels), ==, 4);
    g_assert_cmpstr (json_array_get_string_element (labels, 3), ==, "4");
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "datasets", NULL);
    g_assert_cmpint (r.status, ==, 0);
    bs_test_assert_contains (r.out, "sample_aclImdb");
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "stats", "imdb", "--vocab", vocab, "--max-length", "128", "--json", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_autoptr (JsonNode) root = parse_json (r.out);
    JsonObject *o = json_node_get_object (root);
    g_assert_cmpint (json_object_get_int_member (o, "n_texts"), ==, 20);
    /* the same figures as the library's on the same database */
    g_autoptr (GError) error = NULL;
    g_autoptr (BsStore) store = bs_store_open (db, &error);
    g_autoptr (BsDataset) d = bs_store_find_dataset (store, "imdb", &error);
    g_autoptr (BsTokenizer) tok = bs_tokenizer_new_from_file (vocab, TRUE, &error);
    g_assert_no_error (error);
    g_autoptr (BsTokenStats) s = bs_dataset_token_stats (store, d->id, NULL, tok, 128, 16, NULL, &error);
    g_assert_true (s->from_cache);
    JsonObject *p = json_object_get_object_member (o, "percentiles");
    g_assert_cmpint (json_object_get_int_member (p, "50"), ==, s->p50);
    g_assert_cmpint (json_object_get_int_member (p, "99"), ==, s->p99);
    g_assert_cmpint (json_object_get_int_member (o, "within_max_length"), ==, (gint64) s->n_within);
    g_assert_cmpint (json_object_get_int_member (o, "max"), ==, s->max);
    JsonArray *labels = json_object_get_array_member (o, "labels");
    g_assert_cmpuint (json_array_get_length (labels), ==, 4); /* train/validation x 0/1 */
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "stats", "ag", "--vocab", vocab, NULL);
    g_assert_cmpint (r.status, ==, 0);
    bs_test_assert_contains (r.out, "Percentiles: 50%");
    bs_test_assert_contains (r.out, "max_length 128 keeps");
  }
  g_autofree char *out_csv = g_build_filename (f->dir, "ag-out.csv", NULL);
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "export", "ag", out_csv, "--split", "test", NULL);
    g_assert_cmpint (r.status, ==, 0);
    bs_test_assert_contains (r.out, "Wrote 20 examples");
    g_auto (CliRun) back = { 0 };
    run_cli (&back, db, "import", out_csv, "--name", "ag-copy", "--split", "test", NULL);
    g_assert_cmpint (back.status, ==, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (BsStore) store = bs_store_open (db, &error);
    g_autoptr (BsDataset) a = bs_store_find_dataset (store, "ag", &error);
    g_autoptr (BsDataset) b = bs_store_find_dataset (store, "ag-copy", &error);
    g_autoptr (BsExamples) ea = bs_store_load_examples (store, a->id, "test", &error);
    g_autoptr (BsExamples) eb = bs_store_load_examples (store, b->id, "test", &error);
    g_assert_cmpstrv (ea->texts, eb->texts);
    g_assert_cmpstrv (a->labels, b->labels);
  }
  g_autofree char *out_jsonl = g_build_filename (f->dir, "imdb-out.jsonl", NULL);
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "export", "imdb", out_jsonl, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_autofree char *text = read_text (out_jsonl);
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 21);
    bs_test_assert_contains (lines[0], "\"label\": 0, \"split\": ");
  }

  /* bad input: 2, with the file and line; nothing imported */
  g_autofree char *bad = write_file (f, "bad.csv", "text,label\nok,1\n\"open,1\n", -1);
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "import", bad, NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_autofree char *where = g_strdup_printf ("%s:3: ", bad);
    bs_test_assert_contains (r.err, where);
    g_auto (CliRun) list = { 0 };
    run_cli (&list, db, "datasets", "--json", NULL);
    g_autoptr (JsonNode) root = parse_json (list.out);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 4);
  }
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, db, "import", bad, "--skip-bad-rows", "--json", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_autoptr (JsonNode) root = parse_json (r.out);
    JsonObject *o = json_node_get_object (root);
    g_assert_cmpint (json_object_get_int_member (o, "skipped"), ==, 1);
    g_autofree char *where = g_strdup_printf ("skipped %s:3: ", bad);
    bs_test_assert_contains (r.err, where);
  }
  g_autofree char *missing = g_build_filename (f->dir, "missing.csv", NULL);
  g_autofree char *bad_db = g_build_filename (bad, "sub", "x.db", NULL); /* under a file */
  const struct { const char *args[8]; int status; const char *needle; } cases[] = {
    { { "import", missing }, 2, "missing.csv" },
    { { "import", jsonl, "--name", "imdb" }, 2, "already exists" },
    { { "import" }, 2, "FILE is required" },
    { { "import", jsonl, "--bogus" }, 2, "--bogus" },
    { { "import", jsonl, "--format", "xml" }, 2, "--format" },
    { { "import", jsonl, "--validation-ratio", "1.5" }, 2, "--validation-ratio" },
    { { "stats", "nope", "--vocab", vocab }, 2, "nope" },
    { { "stats", "imdb" }, 2, "--vocab" },
    { { "stats", "imdb", "--vocab", missing }, 2, "missing.csv" },
    { { "export", "nope", out_csv }, 2, "nope" },
    { { "export", "imdb" }, 2, "DATASET and FILE" },
    { { "datasets", "extra" }, 2, "no arguments" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (CliRun) r = { 0 };
      const char *const *a = cases[i].args;
      run_cli (&r, db, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
      g_assert_cmpint (r.status, ==, cases[i].status);
      bs_test_assert_contains (r.err, cases[i].needle);
      g_assert_cmpstr (r.out, ==, "");
    }
  /* a database that cannot be opened is a failure, not bad input */
  {
    g_auto (CliRun) r = { 0 };
    run_cli (&r, bad_db, "datasets", NULL);
    g_assert_cmpint (r.status, ==, 1);
    bs_test_assert_contains (r.err, bad_db);
  }
  const char *commands[] = { "import", "datasets", "stats", "export" };
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto (CliRun) r = { 0 };
      run_cli (&r, NULL, commands[i], "--help", NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_autofree char *usage = g_strdup_printf ("bert-studio-cli %s", commands[i]);
      bs_test_assert_contains (r.out, usage);
      bs_test_assert_contains (r.out, "--db");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func) g_test_add ("/import/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("csv/quoting", test_csv_quoting);
  ADD ("csv/columns", test_csv_columns);
  ADD ("tsv", test_tsv);
  ADD ("jsonl", test_jsonl);
  ADD ("gzip", test_gzip);
  ADD ("folder", test_folder);
  ADD ("fixtures", test_fixtures);
  ADD ("bad-input", test_bad_input);
  ADD ("skip-bad-rows", test_skip_bad_rows);
  ADD ("labels", test_labels);
  ADD ("append", test_append);
  ADD ("cancel", test_cancel);
  ADD ("split", test_split);
  ADD ("export", test_export);
  ADD ("stats", test_stats);
  ADD ("cli", test_cli);
#undef ADD
  return g_test_run ();
}
