/* The Data page: a dataset imported through the page's import function
 * (what the import dialog's Import calls) fills the list, the preview and
 * the class balance; a malformed file shows its error and adds nothing; the
 * token-length histogram with and without a model; the validation split,
 * export, a test split appended, delete; the import dialog's choices from a
 * peek at a file; the narrow layout.
 *
 * Needs a display: run under `xvfb-run -a meson test`; without one every
 * case is skipped.  tests/meson.build gives it a memory GSettings backend,
 * the build tree's compiled schema and no session bus. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bs-application.h"
#include "bs-data-page-private.h"
#include "bs-import-dialog.h"
#include "bs-store.h"
#include "bs-test-util.h"
#include "bs-test-widget-util.h"
#include "bs-window.h"

/* registered once, so that its startup opened the store */
static BsApplication *app;
static char *tmp_dir;
static char *db_path;
static BsWindow *window;
static BsDataPage *page;

/* How long bs_test_run_until waits for what a case expects (the imports
 * run on worker threads, slowly under the sanitizers). */
#define WAIT_SECONDS 60

/* ---- helpers ---- */

static gboolean
import_finished (gpointer data)
{
  return !bs_data_page_get_importing (page);
}

static gboolean
details_loaded (gpointer data)
{
  return !bs_data_page_get_loading (page);
}

static gboolean
tokens_state_is (gpointer state)
{
  return g_strcmp0 (bs_data_page_get_tokens_state (page, NULL), state) == 0;
}

static guint
n_datasets (void)
{
  return bs_data_page_get_datasets (page)->len;
}

static gboolean
n_datasets_is (gpointer n)
{
  return n_datasets () == GPOINTER_TO_UINT (n);
}

static const BsDataset *
dataset_at (guint i)
{
  return g_ptr_array_index (bs_data_page_get_datasets (page), i);
}

static GtkLabel *
find_label_prefix (GtkWidget *widget,
                   const char *prefix)
{
  if (GTK_IS_LABEL (widget) && g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), prefix))
    return GTK_LABEL (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *label = find_label_prefix (child, prefix);
      if (label != NULL)
        return label;
    }
  return NULL;
}

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "data", name, NULL);
}

static char *
write_tmp (const char *name,
           const char *contents)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static BsDataset *
stored_dataset (const char *name)
{
  g_autoptr (GError) error = NULL;
  BsDataset *d = bs_store_find_dataset (bs_application_get_store (app), name, &error);

  g_assert_no_error (error);
  return d;
}

/* ---- the import dialog ---- */

static void
store_result (GObject *source,
              GAsyncResult *result,
              gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static gboolean
is_set (gpointer pointer)
{
  return *(gpointer *) pointer != NULL;
}

static void
on_import (BsImportDialog *dialog,
           const BsImportRequest *request,
           BsImportRequest **out)
{
  *out = bs_import_request_copy (request);
}

static void
test_peek (void)
{
  g_autofree char *imdb = fixture ("imdb-train-20.jsonl.gz");
  g_autofree char *agnews = fixture ("agnews-test-20.csv.gz");
  g_autofree char *reviews = write_tmp ("reviews.csv",
                                        "\xEF\xBB\xBFid,Review,sentiment\r\n"
                                        "1,\"A long, \"\"quoted\"\"\nfilm\",pos\r\n");
  g_autofree char *folder = g_test_build_filename (G_TEST_DIST, "fixtures", "data", "sample_aclImdb", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsImportPeek) peek = NULL;

  peek = bs_import_peek (imdb, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (peek->format, ==, BS_IMPORT_JSONL);
  g_assert_true (peek->compressed);
  g_assert_cmpuint (g_strv_length (peek->columns), ==, 2);
  g_assert_cmpstr (peek->columns[0], ==, "text");
  g_assert_cmpstr (peek->columns[1], ==, "label");
  g_assert_cmpstr (peek->samples[1], ==, "0");
  g_clear_pointer (&peek, bs_import_peek_free);

  /* AG News: no header, class, title, description */
  peek = bs_import_peek (agnews, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (peek->format, ==, BS_IMPORT_CSV);
  g_assert_true (peek->compressed);
  g_assert_cmpuint (g_strv_length (peek->columns), ==, 3);
  g_assert_cmpstr (peek->columns[0], ==, "3");
  g_assert_false (peek->header_likely);
  g_clear_pointer (&peek, bs_import_peek_free);

  /* a byte order mark, CR LF, a quoted field over two lines */
  peek = bs_import_peek (reviews, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (peek->columns), ==, 3);
  g_assert_cmpstr (peek->columns[0], ==, "id");
  g_assert_true (peek->header_likely);
  g_assert_cmpstr (peek->samples[1], ==, "A long, \"quoted\"\nfilm");
  g_assert_cmpstr (peek->samples[2], ==, "pos");
  g_clear_pointer (&peek, bs_import_peek_free);

  peek = bs_import_peek (folder, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (peek->format, ==, BS_IMPORT_FOLDER);
  g_assert_cmpuint (g_strv_length (peek->columns), ==, 0);
  g_clear_pointer (&peek, bs_import_peek_free);

  /* the dialog's way: on a worker thread */
  {
    GAsyncResult *result = NULL;
    bs_import_peek_async (imdb, NULL, store_result, &result);
    g_assert_true (bs_test_run_until (is_set, &result, WAIT_SECONDS));
    peek = bs_import_peek_finish (result, &error);
    g_object_unref (result);
    g_assert_no_error (error);
    g_assert_cmpstr (peek->columns[0], ==, "text");
    g_clear_pointer (&peek, bs_import_peek_free);
  }

  {
    g_autofree char *missing = g_build_filename (tmp_dir, "missing.csv", NULL);
    g_autofree char *empty = write_tmp ("empty.csv", "\n\n");
    g_assert_null (bs_import_peek (missing, NULL, &error));
    g_assert_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_READ);
    g_clear_error (&error);
    g_assert_null (bs_import_peek (empty, NULL, &error));
    g_assert_error (error, BS_IMPORT_ERROR, BS_IMPORT_ERROR_EMPTY);
  }
}

/* The dialog starts from the importer's guesses; for a file without a
 * header, short values are the label and values with spaces the text. */
static void
test_dialog (void)
{
  g_autofree char *imdb = fixture ("imdb-train-20.jsonl.gz");
  g_autofree char *agnews = fixture ("agnews-test-20.csv.gz");
  g_autofree char *reviews = g_build_filename (tmp_dir, "reviews.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsImportPeek) peek = NULL;
  g_autoptr (BsImportRequest) request = NULL;
  g_autoptr (GPtrArray) datasets = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_dataset_free);
  BsImportDialog *dialog;
  BsDataset *taken = g_new0 (BsDataset, 1);

  /* JSON Lines: the fields the importer would guess */
  peek = bs_import_peek (imdb, NULL, &error);
  g_assert_no_error (error);
  dialog = bs_import_dialog_new (GTK_WINDOW (window), peek, NULL);
  request = bs_import_dialog_get_request (dialog);
  g_assert_nonnull (request);
  g_assert_cmpstr (request->label_column, ==, "label");
  g_assert_cmpuint (g_strv_length (request->text_columns), ==, 1);
  g_assert_cmpstr (request->text_columns[0], ==, "text");
  g_assert_false (request->no_header);
  g_clear_pointer (&request, bs_import_request_free);
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_pointer (&peek, bs_import_peek_free);

  peek = bs_import_peek (agnews, NULL, &error);
  g_assert_no_error (error);
  dialog = bs_import_dialog_new (GTK_WINDOW (window), peek, NULL);
  request = bs_import_dialog_get_request (dialog);
  g_assert_nonnull (request);
  g_assert_true (request->no_header);
  g_assert_cmpstr (request->label_column, ==, "1");
  g_assert_cmpuint (g_strv_length (request->text_columns), ==, 2);
  g_assert_cmpstr (request->text_columns[0], ==, "2");
  g_assert_cmpstr (request->text_columns[1], ==, "3");
  g_assert_cmpstr (request->name, ==, "agnews-test-20");
  g_assert_null (request->split);
  g_assert_cmpfloat (request->validation_ratio, ==, 0.1);
  g_assert_cmpint (request->append_to, ==, 0);
  g_clear_pointer (&request, bs_import_request_free);

  /* with the header switched on, the columns are the first row's values */
  gtk_switch_set_active (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "header_switch"), TRUE);
  request = bs_import_dialog_get_request (dialog);
  g_assert_nonnull (request);
  g_assert_false (request->no_header);
  g_clear_pointer (&request, bs_import_request_free);

  /* no label: unlabeled texts */
  gtk_switch_set_active (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "header_switch"), FALSE);
  adw_combo_row_set_selected (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "label_row"), 3);
  request = bs_import_dialog_get_request (dialog);
  g_assert_nonnull (request);
  g_assert_null (request->label_column);
  g_assert_cmpstr (request->split, ==, "unlabeled");
  g_clear_pointer (&request, bs_import_request_free);
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_pointer (&peek, bs_import_peek_free);

  /* a header: the importer's names; a name taken stops Import */
  peek = bs_import_peek (reviews, NULL, &error);
  g_assert_no_error (error);
  taken->id = 7;
  taken->name = g_strdup ("reviews");
  taken->labels = g_strsplit ("neg,pos", ",", -1);
  g_ptr_array_add (datasets, taken);
  dialog = bs_import_dialog_new (GTK_WINDOW (window), peek, datasets);
  g_assert_null (bs_import_dialog_get_request (dialog));
  gtk_editable_set_text (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "name_row"), "reviews 2");
  gtk_editable_set_text (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "label_names_row"),
                         " negative, ,positive ");
  request = bs_import_dialog_get_request (dialog);
  g_assert_nonnull (request);
  g_assert_cmpstr (request->name, ==, "reviews 2");
  g_assert_cmpstr (request->label_column, ==, "sentiment");
  g_assert_cmpuint (g_strv_length (request->text_columns), ==, 1);
  g_assert_cmpstr (request->text_columns[0], ==, "Review");
  g_assert_cmpuint (g_strv_length (request->label_names), ==, 2);
  g_assert_cmpstr (request->label_names[1], ==, "positive");
  g_clear_pointer (&request, bs_import_request_free);

  /* or the test split of an existing dataset */
  adw_combo_row_set_selected (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "target_row"), 1);
  request = bs_import_dialog_get_request (dialog);
  g_assert_nonnull (request);
  g_assert_cmpint (request->append_to, ==, 7);
  g_assert_cmpstr (request->split, ==, "test");
  g_assert_null (request->name);
  g_assert_null (request->label_names);
  g_clear_pointer (&request, bs_import_request_free);

  /* Import hands the request over and closes the dialog */
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  g_signal_connect (dialog, "import", G_CALLBACK (on_import), &request);
  g_signal_emit_by_name (bs_test_template_child (dialog, BS_TYPE_IMPORT_DIALOG, "import_button"), "clicked");
  g_assert_nonnull (request);
  g_assert_cmpint (request->append_to, ==, 7);
  g_assert_cmpstr (request->path, ==, reviews);
  bs_test_run_for (20);
  g_assert_null (dialog);
}

/* ---- the page ---- */

static void
test_empty (void)
{
  GtkStack *stack = bs_test_template_child (page, BS_TYPE_DATA_PAGE, "stack");
  g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.import-dataset");

  g_assert_cmpuint (n_datasets (), ==, 0);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");
  g_assert_null (bs_data_page_get_message (page));

  /* Ctrl+I, from any page */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "import-dataset"));
  g_assert_cmpuint (g_strv_length (accels), ==, 1);
  g_assert_cmpstr (accels[0], ==, "<Control>i");
}

static void
test_import (void)
{
  g_autofree char *path = fixture ("imdb-train-20.jsonl.gz");
  g_autoptr (BsImportRequest) request = bs_import_request_new (path);
  GtkStack *stack = bs_test_template_child (page, BS_TYPE_DATA_PAGE, "stack");
  GListModel *examples = bs_data_page_get_examples (page);
  GtkListBox *balance = bs_data_page_get_balance_list (page);
  const char *labels[] = { "neg", "pos", NULL };
  const char *status = NULL;
  guint n_train = 0;

  request->label_names = g_strdupv ((char **) labels);
  g_assert_true (bs_data_page_import (page, request));
  g_assert_true (bs_data_page_get_importing (page));
  /* one at a time */
  g_assert_false (bs_data_page_import (page, request));
  g_assert_true (bs_test_run_until (import_finished, NULL, WAIT_SECONDS));
  g_assert_null (bs_data_page_get_message (page));

  /* the list shows it, and it is shown */
  g_assert_cmpuint (n_datasets (), ==, 1);
  g_assert_cmpstr (dataset_at (0)->name, ==, "imdb-train-20");
  g_assert_cmpint (dataset_at (0)->n_train, ==, 20);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "datasets");
  g_assert_cmpint (bs_data_page_get_selected (page), ==, dataset_at (0)->id);
  g_assert_true (bs_test_run_until (details_loaded, NULL, WAIT_SECONDS));

  /* the preview, every row */
  g_assert_cmpuint (g_list_model_get_n_items (examples), ==, 20);
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (examples, i);
      g_assert_true (g_strv_contains (labels, bs_example_item_get_label (item)));
      g_assert_cmpstr (bs_example_item_get_split (item), ==, "train");
      g_assert_cmpuint (strlen (bs_example_item_get_text (item)), >, 0);
      g_assert_null (strchr (bs_example_item_get_text (item), '\n'));
      n_train++;
    }
  g_assert_cmpuint (n_train, ==, 20);

  /* the class balance: two labels, ten each */
  for (guint i = 0; i < 2; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (balance, (int) i);
      g_assert_nonnull (row);
      g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, labels[i]);
      g_assert_nonnull (find_label_prefix (GTK_WIDGET (row), "10 (50%)"));
    }
  g_assert_null (gtk_list_box_get_row_at_index (balance, 2));

  /* no model chosen on the Train page: the histogram says so */
  g_assert_cmpstr (bs_data_page_get_tokens_state (page, &status), ==, "status");
  g_assert_nonnull (strstr (status, "Train page"));
  g_assert_null (bs_token_histogram_get_stats (bs_data_page_get_histogram (page)));
}

static void
test_token_lengths (void)
{
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *model = g_build_filename (tmp_dir, "model", NULL);
  g_autofree char *vocab = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer",
                                                  "bert-base-uncased-vocab.txt", NULL);
  g_autofree char *copy = g_build_filename (model, "vocab.txt", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  BsTokenHistogram *histogram = bs_data_page_get_histogram (page);
  GtkLabel *keep = bs_test_template_child (page, BS_TYPE_DATA_PAGE, "keep_label");
  const BsTokenStats *stats;
  const gint64 *bars;
  guint n_bars;
  gint64 sum = 0;
  const char *status = NULL;

  g_assert_cmpint (g_mkdir_with_parents (model, 0755), ==, 0);
  g_file_get_contents (vocab, &contents, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (copy, contents, -1, &error);
  g_assert_no_error (error);

  /* the model of the Train page, counted on a worker thread */
  g_settings_set_string (settings, "last-model", model);
  g_assert_true (bs_test_run_until (tokens_state_is, (gpointer) "chart", WAIT_SECONDS));
  stats = bs_token_histogram_get_stats (histogram);
  g_assert_nonnull (stats);
  g_assert_cmpuint (stats->n_texts, ==, 20);
  bars = bs_token_histogram_get_bars (histogram, &n_bars, NULL);
  g_assert_cmpuint (n_bars, >, 0);
  for (guint i = 0; i < n_bars; i++)
    sum += bars[i];
  g_assert_cmpint (sum, ==, 20);

  /* max_length is the Train page's setting; the sentence follows it */
  g_settings_set_int (settings, "max-length", 64);
  bs_test_run_for (20);
  g_assert_cmpint (bs_token_histogram_get_max_length (histogram), ==, 64);
  g_assert_true (g_str_has_prefix (gtk_label_get_text (keep), "64 tokens keep "));
  g_settings_set_int (settings, "max-length", 512);
  bs_test_run_for (20);
  g_assert_true (g_str_has_prefix (gtk_label_get_text (keep), "512 tokens keep "));
  g_settings_reset (settings, "max-length");

  /* a folder without a vocabulary: why, in the histogram's place */
  g_settings_set_string (settings, "last-model", tmp_dir);
  g_assert_true (bs_test_run_until (details_loaded, NULL, WAIT_SECONDS));
  g_assert_cmpstr (bs_data_page_get_tokens_state (page, NULL), ==, "status");
  bs_data_page_get_tokens_state (page, &status);
  g_assert_true (g_str_has_prefix (status, "Could not count the tokens"));
  g_settings_set_string (settings, "last-model", model);
  g_assert_true (bs_test_run_until (tokens_state_is, (gpointer) "chart", WAIT_SECONDS));
}

static void
test_import_error (void)
{
  g_autofree char *bad = write_tmp ("bad.jsonl", "{\"text\": \"fine\", \"label\": 1}\n{\"text\": \"broken\",\n");
  g_autoptr (BsImportRequest) request = bs_import_request_new (bad);
  g_autoptr (GPtrArray) stored = NULL;
  const char *message;

  g_assert_true (bs_data_page_import (page, request));
  g_assert_true (bs_test_run_until (import_finished, NULL, WAIT_SECONDS));

  /* the error names the file and the line, and stays on the page */
  message = bs_data_page_get_message (page);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, "bad.jsonl:2"));
  g_assert_true (gtk_revealer_get_reveal_child (bs_test_template_child (page, BS_TYPE_DATA_PAGE, "import_revealer")));

  /* nothing was added */
  g_assert_cmpuint (n_datasets (), ==, 1);
  stored = bs_store_list_datasets (bs_application_get_store (app), NULL);
  g_assert_cmpuint (stored->len, ==, 1);

  /* dismissed */
  g_signal_emit_by_name (bs_test_template_child (page, BS_TYPE_DATA_PAGE, "message_close_button"), "clicked");
  g_assert_null (bs_data_page_get_message (page));
}

static gboolean
validation_is (gpointer n)
{
  g_autoptr (BsDataset) d = stored_dataset ("imdb-train-20");
  return d->n_validation == GPOINTER_TO_INT (n) && n_datasets () == 1
         && dataset_at (0)->n_validation == GPOINTER_TO_INT (n);
}

static void
test_split (void)
{
  GtkSpinButton *share = bs_test_template_child (page, BS_TYPE_DATA_PAGE, "split_share_spin");

  gtk_spin_button_set_value (share, 20);
  gtk_widget_activate (bs_test_template_child (page, BS_TYPE_DATA_PAGE, "split_apply_button"));
  /* 20% of each label's ten */
  g_assert_true (bs_test_run_until (validation_is, GINT_TO_POINTER (4), WAIT_SECONDS));
  g_assert_true (bs_test_run_until (details_loaded, NULL, WAIT_SECONDS));
  g_assert_cmpint (dataset_at (0)->n_train, ==, 16);
  g_assert_cmpfloat (gtk_spin_button_get_value (share), ==, 20);

  gtk_spin_button_set_value (share, 0);
  gtk_widget_activate (bs_test_template_child (page, BS_TYPE_DATA_PAGE, "split_apply_button"));
  g_assert_true (bs_test_run_until (validation_is, GINT_TO_POINTER (0), WAIT_SECONDS));
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_export (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "export.jsonl", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  bs_data_page_export (page, path, BS_EXPORT_JSONL);
  g_assert_true (bs_test_run_until (file_exists, path, WAIT_SECONDS));
  /* written atomically: complete once it is there */
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 21);
  g_assert_nonnull (strstr (lines[0], "\"split\""));
}

static gboolean
test_count_is (gpointer n)
{
  return n_datasets () == 1 && dataset_at (0)->n_test == GPOINTER_TO_INT (n);
}

static void
test_append_test_split (void)
{
  g_autofree char *path = fixture ("imdb-train-20.jsonl.gz");
  g_autoptr (BsImportRequest) request = bs_import_request_new (path);
  GListModel *examples = bs_data_page_get_examples (page);
  guint n_test = 0;

  request->append_to = dataset_at (0)->id;
  request->split = g_strdup ("test");
  g_assert_true (bs_data_page_import (page, request));
  g_assert_true (bs_test_run_until (import_finished, NULL, WAIT_SECONDS));
  g_assert_null (bs_data_page_get_message (page));
  g_assert_true (bs_test_run_until (test_count_is, GINT_TO_POINTER (20), WAIT_SECONDS));
  g_assert_true (bs_test_run_until (details_loaded, NULL, WAIT_SECONDS));

  g_assert_cmpuint (g_list_model_get_n_items (examples), ==, 40);
  for (guint i = 0; i < 40; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (examples, i);
      n_test += g_strcmp0 (bs_example_item_get_split (item), "test") == 0;
    }
  g_assert_cmpuint (n_test, ==, 20);
  /* twenty of each label now */
  g_assert_nonnull (find_label_prefix (GTK_WIDGET (bs_data_page_get_balance_list (page)), "20 (50%)"));
}

static void
test_delete (void)
{
  GtkStack *stack = bs_test_template_child (page, BS_TYPE_DATA_PAGE, "stack");
  g_autoptr (BsDataset) gone = NULL;
  g_autoptr (GError) error = NULL;

  bs_data_page_delete (page, bs_data_page_get_selected (page));
  g_assert_true (bs_test_run_until (n_datasets_is, GUINT_TO_POINTER (0), WAIT_SECONDS));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");
  g_assert_cmpint (bs_data_page_get_selected (page), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (bs_data_page_get_examples (page)), ==, 0);
  gone = bs_store_find_dataset (bs_application_get_store (app), "imdb-train-20", &error);
  g_assert_null (gone);
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
}

/* What keeps a window from being as narrow as asked, for the log. */
static void
report_wide (GtkWidget *widget,
             int limit,
             int depth)
{
  int min = 0;

  if (!gtk_widget_get_visible (widget))
    return;
  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
  if (min <= limit)
    return;
  g_test_message ("%*s%s (%s): %d px", depth * 2, "", G_OBJECT_TYPE_NAME (widget),
                  gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)) ? : "", min);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    report_wide (child, limit, depth + 1);
}

static gboolean
is_folded (gpointer leaflet)
{
  return adw_leaflet_get_folded (leaflet);
}

static gboolean
is_unfolded (gpointer leaflet)
{
  return !adw_leaflet_get_folded (leaflet);
}

/* At 600 px the list and the details take turns.  The page alone in a
 * window, so that the other pages' widths do not count. */
static void
test_narrow (void)
{
  g_autofree char *path = fixture ("imdb-train-20.jsonl.gz");
  g_autoptr (BsImportRequest) request = bs_import_request_new (path);
  GtkWindow *narrow;
  BsDataPage *narrow_page;
  AdwLeaflet *leaflet;
  GtkListBox *list;
  int min = 0;

  /* with a dataset shown, so that the details are measured too */
  g_assert_true (bs_data_page_import (page, request));
  g_assert_true (bs_test_run_until (import_finished, NULL, WAIT_SECONDS));
  g_assert_true (bs_test_run_until (details_loaded, NULL, WAIT_SECONDS));

  narrow = GTK_WINDOW (gtk_window_new ());
  narrow_page = BS_DATA_PAGE (bs_data_page_new ());
  gtk_window_set_child (narrow, GTK_WIDGET (narrow_page));
  gtk_window_set_default_size (narrow, 600, 700);
  gtk_window_present (narrow);
  g_assert_true (bs_test_run_until (bs_test_is_mapped, narrow_page, WAIT_SECONDS));
  g_assert_cmpint (bs_data_page_get_selected (narrow_page), >, 0);
  leaflet = bs_test_template_child (narrow_page, BS_TYPE_DATA_PAGE, "leaflet");
  list = bs_test_template_child (narrow_page, BS_TYPE_DATA_PAGE, "dataset_list");

  gtk_widget_measure (GTK_WIDGET (narrow_page), GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
  if (min > 600)
    report_wide (GTK_WIDGET (narrow_page), 600, 0);
  g_assert_cmpint (min, <=, 600);
  g_assert_true (bs_test_run_until (is_folded, leaflet, WAIT_SECONDS));
  g_assert_true (adw_leaflet_get_visible_child (leaflet)
                 == bs_test_template_child (narrow_page, BS_TYPE_DATA_PAGE, "sidebar"));
  /* choosing a dataset shows it; Back, the list again */
  g_signal_emit_by_name (list, "row-activated", gtk_list_box_get_row_at_index (list, 0));
  g_assert_true (adw_leaflet_get_visible_child (leaflet)
                 == bs_test_template_child (narrow_page, BS_TYPE_DATA_PAGE, "content"));
  g_signal_emit_by_name (bs_test_template_child (narrow_page, BS_TYPE_DATA_PAGE, "back_button"), "clicked");
  g_assert_true (adw_leaflet_get_visible_child (leaflet)
                 == bs_test_template_child (narrow_page, BS_TYPE_DATA_PAGE, "sidebar"));

  /* wide again: side by side */
  gtk_window_set_default_size (narrow, 1100, 700);
  g_assert_true (bs_test_run_until (is_unfolded, leaflet, WAIT_SECONDS));
  g_assert_true (bs_test_run_until (details_loaded, NULL, WAIT_SECONDS));
  gtk_window_destroy (narrow);
}

int
main (int argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  AdwViewStack *stack;
  int status;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/data-page/needs-display", bs_test_skip_without_display);
      return g_test_run ();
    }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  tmp_dir = g_dir_make_tmp ("bs-data-page-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmp_dir, "test.db", NULL);

  app = bs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  bs_application_set_database_path (app, db_path);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  window = bs_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (bs_test_is_mapped, window, WAIT_SECONDS));
  stack = bs_test_template_child (window, BS_TYPE_WINDOW, "stack");
  page = BS_DATA_PAGE (adw_view_stack_get_child_by_name (stack, "data"));
  g_assert_nonnull (page);

  g_test_add_func ("/import-dialog/peek", test_peek);
  g_test_add_func ("/import-dialog/choices", test_dialog);
  g_test_add_func ("/data-page/empty", test_empty);
  g_test_add_func ("/data-page/import", test_import);
  g_test_add_func ("/data-page/token-lengths", test_token_lengths);
  g_test_add_func ("/data-page/import-error", test_import_error);
  g_test_add_func ("/data-page/validation-split", test_split);
  g_test_add_func ("/data-page/export", test_export);
  g_test_add_func ("/data-page/append-test-split", test_append_test_split);
  g_test_add_func ("/data-page/delete", test_delete);
  g_test_add_func ("/data-page/narrow", test_narrow);
  status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  /* the page's tasks hold the application until they have reported */
  bs_test_run_for (100);
  /* never run, so no shutdown: finalizing frees the store */
  g_clear_object (&app);
  bs_test_remove_tree (tmp_dir);
  g_free (db_path);
  g_free (tmp_dir);
  return status;
}
