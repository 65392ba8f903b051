/* The model that ships with the app, as a user meets it: the first window
 * opens on Classify with it loaded and its card shown; a text classified
 * gives the classifier's own probabilities; it is in the registry (so the
 * Train page offers it as a base model); the user's own model takes over,
 * and when its folder has gone the default comes back; a broken or missing
 * default model is said plainly, and the first window then opens on Data.
 *
 * The real model is not needed: a tiny random one with a model_card.json is
 * made here, and BERT_STUDIO_DEFAULT_MODEL points at it (set before
 * anything starts).  Needs a display: run under `xvfb-run -a meson test`;
 * without one every case is skipped.  tests/meson.build gives it the window
 * test's environment: a memory GSettings backend, no session bus. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bs-application.h"
#include "bs-classifier.h"
#include "bs-classify-page.h"
#include "bs-default-model.h"
#include "bs-model-card.h"
#include "bs-test-model.h"
#include "bs-test-util.h"
#include "bs-test-widget-util.h"
#include "bs-train-job.h"
#include "bs-window.h"

#define CARD_NAME "Movie reviews (tiny)"
#define CARD_DESCRIPTION "Tells a good review from a bad one."
#define CARD_TRAINED_ON "Twelve reviews written for this test"

static const char *const card_json =
  "{\"name\": \"" CARD_NAME "\", \"description\": \"" CARD_DESCRIPTION "\", "
  "\"trained_on\": \"" CARD_TRAINED_ON "\", \"max_length\": 16, \"truncation\": \"head+tail\", "
  "\"metrics\": {\"test_accuracy\": 0.88, \"test_examples\": 500}, \"license\": \"CC0-1.0\"}";

static BsApplication *app;
static char *tmp_dir;
static char *default_dir;
static BsClassifier *reference; /* the default model, called directly */

/* How long bs_test_run_until waits for what a case expects (a model loads
 * slowly under the sanitizers). */
#define WAIT_SECONDS 30

/* ---- helpers ---- */

/* Shown: found under widget, and it and every parent visible. */
static void
assert_label_shown (GtkWidget *widget, const char *text)
{
  GtkLabel *label = bs_test_find_label (widget, text);
  if (label == NULL)
    g_test_message ("no label “%s”", text);
  g_assert_nonnull (label);
  for (GtkWidget *w = GTK_WIDGET (label); w != NULL; w = gtk_widget_get_parent (w))
    g_assert_true (gtk_widget_get_visible (w));
}

static AdwViewStack *
window_stack (BsWindow *window)
{
  return ADW_VIEW_STACK (gtk_widget_get_template_child (GTK_WIDGET (window), BS_TYPE_WINDOW, "stack"));
}

static BsWindow *
open_window (void)
{
  BsWindow *window = bs_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (bs_test_is_mapped, window, WAIT_SECONDS));
  return window;
}

static BsClassifyPage *
classify_page (BsWindow *window)
{
  return BS_CLASSIFY_PAGE (adw_view_stack_get_child_by_name (window_stack (window), "classify"));
}

static gboolean
has_no_window (gpointer data)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (BS_IS_WINDOW (l->data))
      return FALSE;
  return TRUE;
}

/* As the user closes it: the page it is on is remembered. */
static void
close_window (BsWindow *window)
{
  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (has_no_window, NULL, WAIT_SECONDS));
}

static gboolean
model_loaded (gpointer page)
{
  const char *subtitle = adw_action_row_get_subtitle (bs_test_child (page, "model_row"));
  return subtitle != NULL && g_str_has_prefix (subtitle, "Labels: ");
}

static gboolean
load_failed (gpointer page)
{
  const char *subtitle = adw_action_row_get_subtitle (bs_test_child (page, "model_row"));
  return subtitle != NULL && strstr (subtitle, "could not be loaded") != NULL;
}

static gboolean
result_shown (gpointer page)
{
  return gtk_widget_get_visible (bs_test_child (page, "result_box"));
}

static const char *
selected_item (BsClassifyPage *page)
{
  AdwComboRow *row = bs_test_child (page, "model_row");
  guint i = adw_combo_row_get_selected (row);
  g_assert_cmpuint (i, !=, GTK_INVALID_LIST_POSITION);
  return gtk_string_list_get_string (GTK_STRING_LIST (adw_combo_row_get_model (row)), i);
}

static char *
make_model (const char *name, const char *const *labels, int n_labels, guint64 seed)
{
  char *dir = g_build_filename (tmp_dir, name, NULL);
  bs_test_make_tiny_bert (dir, 32, labels, n_labels, seed);
  return dir;
}

/* ---- the first start ---- */

static void
test_first_start (void)
{
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr (GError) error = NULL;
  g_autofree char *last_page = g_settings_get_string (settings, "last-page");
  g_assert_cmpstr (last_page, ==, "");

  /* registered at startup, under its card's name */
  g_autoptr (GPtrArray) models = bs_store_list_models (bs_application_get_store (app), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (models->len, ==, 1);
  const BsModelInfo *info = g_ptr_array_index (models, 0);
  g_assert_cmpstr (info->path, ==, default_dir);
  g_assert_cmpstr (info->name, ==, CARD_NAME);
  g_assert_cmpstr (info->source, ==, "default");

  /* Classify, with the model loading at once */
  BsWindow *window = open_window ();
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (window_stack (window)), ==, "classify");
  BsClassifyPage *page = classify_page (window);
  g_assert_true (bs_test_run_until (bs_test_is_mapped, page, WAIT_SECONDS));
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  AdwComboRow *row = bs_test_child (page, "model_row");
  g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (row)), ==, 1);
  g_assert_true (g_str_has_prefix (selected_item (page), CARD_NAME " (built in, bert, "));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Labels: neg, pos");

  /* its card */
  GtkWidget *card = bs_test_child (page, "card_box");
  g_assert_true (gtk_widget_get_visible (card));
  assert_label_shown (card, CARD_NAME);
  assert_label_shown (card, CARD_DESCRIPTION);
  assert_label_shown (card, "Comes with BERT Studio");
  assert_label_shown (card, "Trained on");
  assert_label_shown (card, CARD_TRAINED_ON);
  assert_label_shown (card, "Accuracy");
  g_autofree char *accuracy = g_strdup_printf ("%.1f%% right on %d test texts", 88.0, 500);
  assert_label_shown (card, accuracy);
  /* the card's 16 tokens, not the model's 32 */
  assert_label_shown (card, "16 tokens of a text, from its start and its end");
  assert_label_shown (card, "CC0-1.0");

  /* a text: the classifier's probabilities, read as the card says */
  g_autoptr (GString) long_text = g_string_new (NULL);
  for (int i = 0; i < 30; i++)
    g_string_append (long_text, i < 15 ? "a wonderful film " : "dull and far too long ");
  GtkTextView *view = bs_test_child (page, "text_view");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), long_text->str, -1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "classify.run", NULL));
  g_assert_true (bs_test_run_until (result_shown, page, WAIT_SECONDS));
  float expected[2];
  const char *texts[] = { long_text->str };
  g_assert_true (bs_classifier_predict (reference, texts, 1, expected, &error));
  g_assert_no_error (error);
  GtkGrid *bars = bs_test_child (page, "bars_grid");
  for (int k = 0; k < 2; k++)
    {
      GtkLabel *name = GTK_LABEL (gtk_grid_get_child_at (bars, 0, k));
      GtkProgressBar *bar = GTK_PROGRESS_BAR (gtk_grid_get_child_at (bars, 1, k));
      g_assert_cmpstr (gtk_label_get_text (name), ==, bs_classifier_get_label (reference, k));
      g_assert_cmpfloat_with_epsilon (gtk_progress_bar_get_fraction (bar), expected[k], 1e-6);
    }
  g_assert_cmpstr (gtk_label_get_text (bs_test_child (page, "label_label")), ==,
                   bs_classifier_get_label (reference, expected[1] > expected[0]));
  /* the answer right under the button, the card below it: on a short
   * window the card would push the answer out of sight */
  bs_test_run_for (200);
  graphene_rect_t button_at, result_at, card_at;
  g_assert_true (gtk_widget_compute_bounds (bs_test_child (page, "classify_button"), GTK_WIDGET (page), &button_at));
  g_assert_true (gtk_widget_compute_bounds (bs_test_child (page, "result_box"), GTK_WIDGET (page), &result_at));
  g_assert_true (gtk_widget_compute_bounds (card, GTK_WIDGET (page), &card_at));
  g_assert_cmpfloat (button_at.origin.y + button_at.size.height, <=, result_at.origin.y);
  g_assert_cmpfloat (result_at.origin.y + result_at.size.height, <=, card_at.origin.y);

  /* shown, not chosen: nothing remembered as the user's choice */
  g_autofree char *chosen = g_settings_get_string (settings, "classify-model");
  g_assert_cmpstr (chosen, ==, "");
  close_window (window);
  g_free (last_page);
  last_page = g_settings_get_string (settings, "last-page");
  g_assert_cmpstr (last_page, ==, "classify");
}

/* ---- the user's own models ---- */

static void
test_own_model (void)
{
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr (GError) error = NULL;
  const char *const labels[] = { "no", "yes" };
  g_autofree char *mine = make_model ("mine", labels, 2, 5);
  g_assert_cmpint (bs_store_register_model_folder (bs_application_get_store (app), mine, "fine-tune", 0, &error), >, 0);

  /* the newest of the user's own first; the default after it */
  BsWindow *window = open_window ();
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (window_stack (window)), ==, "classify");
  BsClassifyPage *page = classify_page (window);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  AdwComboRow *row = bs_test_child (page, "model_row");
  GListModel *list = adw_combo_row_get_model (row);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 2);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  g_assert_true (g_str_has_prefix (selected_item (page), "mine ("));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Labels: no, yes");
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "card_box"))); /* it has no card */

  /* chosen, the default is remembered like any model */
  adw_combo_row_set_selected (row, 1);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "card_box")));
  g_autofree char *chosen = g_settings_get_string (settings, "classify-model");
  g_assert_cmpstr (chosen, ==, default_dir);
  adw_combo_row_set_selected (row, 0);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  g_free (chosen);
  chosen = g_settings_get_string (settings, "classify-model");
  g_assert_cmpstr (chosen, ==, mine);

  /* the window opens next where it closed */
  adw_view_stack_set_visible_child_name (window_stack (window), "runs");
  close_window (window);

  /* the chosen model's folder has gone: the default again */
  bs_test_remove_tree (mine);
  window = open_window ();
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (window_stack (window)), ==, "runs");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "classify"));
  page = classify_page (window);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  g_assert_true (g_str_has_prefix (selected_item (page), CARD_NAME " (built in"));
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "card_box")));
  close_window (window);

  g_autoptr (BsModelInfo) info = bs_store_find_model (bs_application_get_store (app), mine, &error);
  g_assert_no_error (error);
  g_assert_true (bs_store_delete_model (bs_application_get_store (app), info->id, &error));
  g_settings_reset (settings, "classify-model");
}

/* ---- a broken or missing default model ---- */

static void
test_broken (void)
{
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *config = g_build_filename (default_dir, "config.json", NULL);
  g_autofree char *moved = g_build_filename (tmp_dir, "config.json.moved", NULL);
  g_autofree char *good = NULL;
  g_assert_true (g_file_get_contents (config, &good, NULL, NULL));

  /* broken: said on the page, in words about the model that ships */
  g_assert_true (g_file_set_contents (config, "{\"model_type\": \"bert\", \"hidden_size\": ", -1, NULL));
  BsWindow *window = open_window ();
  BsClassifyPage *page = classify_page (window);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (window_stack (window)), ==, "classify");
  g_assert_true (bs_test_run_until (load_failed, page, WAIT_SECONDS));
  const char *subtitle = adw_action_row_get_subtitle (bs_test_child (page, "model_row"));
  g_assert_true (g_str_has_prefix (subtitle, "The model that comes with BERT Studio could not be loaded: "));
  g_assert_nonnull (strstr (subtitle, config));
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "card_box")));
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "result_box")));
  /* classifying tries again, and says it again */
  GtkTextView *view = bs_test_child (page, "text_view");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "a fine film", -1);
  gtk_widget_activate_action (GTK_WIDGET (page), "classify.run", NULL);
  bs_test_run_for (200);
  g_assert_true (bs_test_run_until (load_failed, page, WAIT_SECONDS));
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "result_box")));
  close_window (window);

  /* missing: no model at all, and a first start opens on Data */
  g_assert_cmpint (g_rename (config, moved), ==, 0);
  g_assert_null (bs_default_model_dir ());
  g_settings_reset (settings, "last-page");
  window = open_window ();
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (window_stack (window)), ==, "data");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "classify"));
  page = classify_page (window);
  g_assert_true (bs_test_run_until (bs_test_is_mapped, page, WAIT_SECONDS));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (bs_test_child (page, "stack")), ==, "empty");
  close_window (window);

  /* back: loaded again */
  g_assert_cmpint (g_rename (moved, config), ==, 0);
  g_assert_true (g_file_set_contents (config, good, -1, NULL));
  window = open_window ();
  page = classify_page (window);
  g_assert_true (bs_test_run_until (bs_test_is_mapped, page, WAIT_SECONDS));
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  close_window (window);
  g_settings_reset (settings, "last-page");
}

/* ---- setup ---- */

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/default-model/needs-display", bs_test_skip_without_display);
      return g_test_run ();
    }

  /* before any thread starts: the environment is not thread-safe */
  tmp_dir = g_dir_make_tmp ("bs-default-model-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *folder = g_build_filename (tmp_dir, "default-model", NULL);
  g_setenv (BS_DEFAULT_MODEL_ENV, folder, TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  const char *const labels[] = { "neg", "pos" };
  default_dir = make_model ("default-model", labels, 2, 7);
  g_autofree char *card = g_build_filename (default_dir, BS_MODEL_CARD_FILE, NULL);
  g_assert_true (g_file_set_contents (card, card_json, -1, &error));
  reference = bs_classifier_load (default_dir, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (reference), ==, 16);

  g_autofree char *db_path = g_build_filename (tmp_dir, "test.db", NULL);
  app = bs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  bs_application_set_database_path (app, db_path);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/default-model/first-start", test_first_start);
  g_test_add_func ("/default-model/own-model", test_own_model);
  g_test_add_func ("/default-model/broken", test_broken);
  int status = g_test_run ();

  /* let the workers of the closed windows report back */
  bs_test_run_for (200);
  g_clear_pointer (&reference, bs_classifier_free);
  g_clear_object (&app);
  bs_test_remove_tree (tmp_dir);
  g_free (default_dir);
  g_free (tmp_dir);
  return status;
}
