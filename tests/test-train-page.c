/* The Train page as a user drives it: a tiny run started with the Start
 * button puts points on the charts, writes its metrics to SQLite and ends
 * with an evaluation; Cancel stops a run within a batch; the Runs page
 * draws past runs, one of another process among them, from the database
 * alone; pretraining first runs before the fine-tuning it feeds. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bs-application.h"
#include "bs-chart.h"
#include "bs-distill-page.h"
#include "bs-import.h"
#include "bs-random.h"
#include "bs-run-view.h"
#include "bs-runs-page.h"
#include "bs-test-util.h"
#include "bs-test-widget-util.h"
#include "bs-train-page.h"
#include "bs-window.h"

static BsApplication *app;
static char *tmp_dir;

/* Reviews whose label shows in two of their words (as in test-jobs). */
static void
write_reviews (const char *path, int n, guint64 seed)
{
  static const char *const pos[] = { "good", "great", "excellent", "wonderful" };
  static const char *const neg[] = { "bad", "terrible", "awful", "boring" };
  static const char *const filler[] = { "the", "movie", "film", "was", "and", "it", "a", "story" };
  BsRandom rng;
  bs_random_init (&rng, seed);
  g_autoptr (GString) out = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    {
      int label = i % 2, length = 6 + (int) bs_random_below (&rng, 8);
      int at = (int) bs_random_below (&rng, length);
      g_autoptr (GString) text = g_string_new (NULL);
      for (int k = 0; k < length; k++)
        g_string_append_printf (text, k ? " %s" : "%s",
                                k == at ? (label ? pos : neg)[bs_random_below (&rng, 4)]
                                        : filler[bs_random_below (&rng, 8)]);
      g_string_append_printf (out, "{\"text\": \"%s\", \"label\": \"%s\"}\n", text->str, label ? "pos" : "neg");
    }
  g_assert_true (g_file_set_contents (path, out->str, -1, NULL));
}

static char *model_dir;

static void
setup_store (void)
{
  g_autoptr (GError) error = NULL;
  BsStore *store = bs_application_get_store (app);
  g_assert_nonnull (store);
  g_autofree char *train = g_build_filename (tmp_dir, "train.jsonl", NULL);
  g_autofree char *test = g_build_filename (tmp_dir, "test.jsonl", NULL);
  write_reviews (train, 320, 1);
  write_reviews (test, 80, 2);
  BsImportOptions options = { .format = BS_IMPORT_JSONL, .name = "reviews", .validation_ratio = 0.1, .seed = 1 };
  g_auto (BsImportResult) result = { 0 };
  g_assert_true (bs_import (store, train, &options, &result, NULL, &error));
  g_assert_no_error (error);
  gint64 id = result.dataset_id;
  bs_import_result_clear (&result);
  options.split = "test";
  options.validation_ratio = 0;
  g_assert_true (bs_import_append (store, id, test, &options, &result, NULL, &error));

  g_autofree char *vocab = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", "bert-base-uncased-vocab.txt",
                                                  NULL);
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->vocab_size = 30522, config->hidden_size = 16, config->n_layers = 1, config->n_heads = 2;
  config->intermediate_size = 32, config->max_position_embeddings = 32;
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  bs_model_init_weights (model, 3);
  model_dir = g_build_filename (tmp_dir, "base", NULL);
  g_assert_true (bs_save_model_folder (model, vocab, TRUE, model_dir, &error));
  g_assert_cmpint (bs_store_register_model_folder (store, model_dir, "folder", 0, &error), >, 0);
  g_assert_no_error (error);

  /* the page's settings: a run of a few seconds */
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_settings_set_string (settings, "last-model", model_dir);
  g_settings_set_string (settings, "last-dataset", "reviews");
  g_settings_set_int (settings, "max-length", 24);
  g_settings_set_int (settings, "batch-size", 16);
  g_settings_set_double (settings, "learning-rate", 0.002);
  g_settings_set_int (settings, "epochs", 2);
}

/* A run made by another process (the CLI) before the window opens. */
static void
train_in_another_process (void)
{
  const char *cli = g_getenv ("BS_CLI");
  g_assert_nonnull (cli);
  g_autoptr (GError) error = NULL;
  g_autofree char *output = g_build_filename (tmp_dir, "from-cli", NULL);
  g_autoptr (GSubprocess) train = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, cli, "train", "--db",
      bs_application_get_database_path (app), "--dataset", "reviews", "--model", model_dir, "--output", output,
      "--max-length", "24", "--batch-size", "16", "--max-steps", "7", "--lr", "0.002", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (train, NULL, &error));
  g_assert_no_error (error);
}

static BsWindow *window;
static BsTrainPage *page;

static void
open_window (void)
{
  window = bs_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "train"));
  page = bs_test_template_child (window, BS_TYPE_WINDOW, "train_page");
  bs_test_run_for (300);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (page)));
}

static gboolean
page_idle (gpointer data)
{
  return !bs_train_page_get_running (data);
}

static guint
n_points (const char *chart_name, guint series)
{
  BsRunView *view = bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "run_view");
  BsChart *chart = bs_test_template_child (view, BS_TYPE_RUN_VIEW, chart_name);
  return bs_chart_series_get_n_points (bs_chart_get_series (chart, series));
}

static gboolean
has_points (gpointer data)
{
  return n_points ("loss_chart", 0) > 0;
}

static const BsRun *
newest_run (GPtrArray *runs)
{
  g_assert_cmpuint (runs->len, >, 0);
  return g_ptr_array_index (runs, 0);
}

static void
test_train (void)
{
  g_autoptr (GError) error = NULL;
  g_signal_emit_by_name (bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "start_button"), "clicked");
  g_assert_true (bs_train_page_get_running (page));
  g_assert_true (bs_test_run_until (page_idle, page, 120));

  /* 288 training texts in batches of 16, two epochs */
  g_assert_cmpuint (n_points ("loss_chart", 0), ==, 36);
  g_assert_cmpuint (n_points ("accuracy_chart", 0), ==, 36);
  g_assert_cmpuint (n_points ("lr_chart", 0), ==, 36);
  g_assert_cmpuint (n_points ("loss_chart", 1), >=, 1); /* validation points */

  BsStore *store = bs_application_get_store (app);
  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  const BsRun *run = newest_run (runs);
  g_assert_cmpstr (run->status, ==, "finished");
  g_autoptr (GArray) rows = bs_store_get_metrics (store, run->id, "train", 0, &error);
  g_assert_cmpuint (rows->len, ==, 36);
  g_autoptr (GPtrArray) evals = bs_store_list_evaluations (store, run->id, &error);
  g_assert_cmpuint (evals->len, >=, 1);

  BsRunView *view = bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "run_view");
  g_assert_true (gtk_revealer_get_reveal_child (
      bs_test_template_child (view, BS_TYPE_RUN_VIEW, "evaluation_revealer")));
}

static void
test_cancel (void)
{
  g_autoptr (GError) error = NULL;
  /* long enough to be cancelled in the middle */
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_settings_set_int (settings, "epochs", 100);
  g_signal_emit_by_name (bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "start_button"), "clicked");
  g_assert_true (bs_test_run_until (has_points, NULL, 60));
  g_signal_emit_by_name (bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "cancel_button"), "clicked");
  g_assert_true (bs_test_run_until (page_idle, page, 60));

  BsStore *store = bs_application_get_store (app);
  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  const BsRun *run = newest_run (runs);
  g_assert_cmpstr (run->status, ==, "cancelled");
  /* stopped within a batch of the click: far from the 1800 batches of the
   * whole run, and no batch after the last the page saw */
  g_autoptr (GArray) rows = bs_store_get_metrics (store, run->id, "train", 0, &error);
  g_assert_cmpuint (rows->len, <, 1800);
  g_assert_cmpuint (rows->len, ==, n_points ("loss_chart", 0));
  g_settings_set_int (settings, "epochs", 2);
  g_autofree char *checkpoint = g_build_filename (run->output_path, "checkpoint", "state.json", NULL);
  g_assert_true (g_file_test (checkpoint, G_FILE_TEST_EXISTS));
}

/* The Runs page draws the finished run from the database alone. */
static void
test_runs_page (void)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "runs"));
  bs_test_run_for (500);
  BsRunsPage *runs_page = NULL;
  AdwViewStack *stack = bs_test_template_child (window, BS_TYPE_WINDOW, "stack");
  runs_page = BS_RUNS_PAGE (adw_view_stack_get_visible_child (stack));
  GtkListBox *list = bs_test_template_child (runs_page, BS_TYPE_RUNS_PAGE, "run_list");
  /* the cancelled run first, then the finished one */
  GtkListBoxRow *finished = gtk_list_box_get_row_at_index (list, 1);
  g_assert_nonnull (finished);
  gtk_list_box_select_row (list, finished);
  bs_test_run_for (200);
  BsRunView *view = bs_test_template_child (runs_page, BS_TYPE_RUNS_PAGE, "run_view");
  BsChart *loss = bs_test_template_child (view, BS_TYPE_RUN_VIEW, "loss_chart");
  g_assert_cmpuint (bs_chart_series_get_n_points (bs_chart_get_series (loss, 0)), ==, 36);
  g_assert_true (gtk_revealer_get_reveal_child (
      bs_test_template_child (view, BS_TYPE_RUN_VIEW, "evaluation_revealer")));
  /* the run of another process, drawn from the database alone */
  gtk_list_box_select_row (list, gtk_list_box_get_row_at_index (list, 2));
  bs_test_run_for (200);
  g_assert_cmpuint (bs_chart_series_get_n_points (bs_chart_get_series (loss, 0)), ==, 7);
  g_assert_true (gtk_revealer_get_reveal_child (
      bs_test_template_child (view, BS_TYPE_RUN_VIEW, "evaluation_revealer")));
  /* the cancelled one can be resumed */
  gtk_list_box_select_row (list, gtk_list_box_get_row_at_index (list, 0));
  bs_test_run_for (200);
  g_assert_true (gtk_widget_get_visible (bs_test_template_child (runs_page, BS_TYPE_RUNS_PAGE, "resume_button")));
}

/* "Continue pretraining on my texts first": a pretraining run on the
 * dataset's texts, then fine-tuning from the model it made. */
static void
test_pretrain_first (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "train"));
  bs_test_run_for (200);
  GtkWidget *group = bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "pretrain_group");
  GtkWidget *epochs_row = bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "pretrain_epochs_row");
  g_assert_true (gtk_widget_get_visible (group));
  g_assert_false (gtk_widget_get_sensitive (epochs_row));
  GtkSwitch *on = bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "pretrain_switch");
  gtk_switch_set_active (on, TRUE);
  g_assert_true (gtk_widget_get_sensitive (epochs_row));
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_assert_true (g_settings_get_boolean (settings, "pretrain-first"));
  g_settings_set_int (settings, "epochs", 1);

  BsStore *store = bs_application_get_store (app);
  g_autoptr (GPtrArray) before = bs_store_list_runs (store, &error);
  g_signal_emit_by_name (bs_test_template_child (page, BS_TYPE_TRAIN_PAGE, "start_button"), "clicked");
  g_assert_true (bs_test_run_until (page_idle, page, 120));

  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  g_assert_cmpuint (runs->len, ==, before->len + 2);
  const BsRun *fine_tune = g_ptr_array_index (runs, 0), *pretrain = g_ptr_array_index (runs, 1);
  g_assert_cmpstr (pretrain->kind, ==, "pretrain");
  g_assert_cmpstr (pretrain->status, ==, "finished");
  g_assert_cmpstr (pretrain->model_path, ==, model_dir);
  g_assert_cmpstr (fine_tune->kind, ==, "fine-tune");
  g_assert_cmpstr (fine_tune->status, ==, "finished");
  g_assert_cmpstr (fine_tune->model_path, ==, pretrain->output_path);
  g_autoptr (GArray) pretrain_rows = bs_store_get_metrics (store, pretrain->id, "train", 0, &error);
  g_assert_cmpuint (pretrain_rows->len, >, 0);
  /* the charts show the fine-tuning: 288 texts in batches of 16, one epoch */
  g_assert_cmpuint (n_points ("loss_chart", 0), ==, 18);
  g_autoptr (GPtrArray) evals = bs_store_list_evaluations (store, fine_tune->id, &error);
  g_assert_cmpuint (evals->len, >=, 1);

  gtk_switch_set_active (on, FALSE);
  g_assert_false (g_settings_get_boolean (settings, "pretrain-first"));
  g_settings_set_int (settings, "epochs", 2);
}

/* The Distill page has no pretraining. */
static void
test_distill_page_has_no_pretraining (void)
{
  BsDistillPage *distill = bs_test_template_child (window, BS_TYPE_WINDOW, "distill_page");
  BsTrainPage *inner = bs_test_template_child (distill, BS_TYPE_DISTILL_PAGE, "train_page");
  g_assert_false (gtk_widget_get_visible (bs_test_template_child (inner, BS_TYPE_TRAIN_PAGE, "pretrain_group")));
}

int
main (int argc, char *argv[])
{
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/train-page/needs-display", bs_test_skip_without_display);
      return g_test_run ();
    }
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_autoptr (GError) error = NULL;
  tmp_dir = g_dir_make_tmp ("bs-train-page-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *db = g_build_filename (tmp_dir, "test.db", NULL);
  /* the jobs' models go to the user data folder: keep it in the test's */
  g_setenv ("XDG_DATA_HOME", tmp_dir, TRUE);

  app = bs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  bs_application_set_database_path (app, db);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  setup_store ();
  train_in_another_process ();
  open_window ();

  g_test_add_func ("/train-page/train", test_train);
  g_test_add_func ("/train-page/cancel", test_cancel);
  g_test_add_func ("/train-page/runs-page", test_runs_page);
  g_test_add_func ("/train-page/pretrain-first", test_pretrain_first);
  g_test_add_func ("/train-page/distill-page-has-no-pretraining", test_distill_page_has_no_pretraining);
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  bs_test_run_for (100);
  g_clear_object (&app);
  bs_test_remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (model_dir);
  return status;
}
