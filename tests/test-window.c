/* The application's frame: the window with its five pages, the page actions
 * and their shortcuts, the primary menu, toasts, the window state in
 * GSettings, preferences and About.
 *
 * Needs a display: run under `xvfb-run -a meson test` (as .ci/run is to);
 * without one every case is skipped.  tests/meson.build gives it a memory
 * GSettings backend, the build tree's compiled schema and no session bus. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bs-application.h"
#include "bs-classify-page.h"
#include "bs-data-page.h"
#include "bs-distill-page.h"
#include "bs-parallel.h"
#include "bs-preferences-window.h"
#include "bs-runs-page.h"
#include "bs-test-util.h"
#include "bs-test-widget-util.h"
#include "bs-train-page.h"
#include "bs-window.h"

/* registered once, so that its startup opened the store */
static BsApplication *app;
static char *tmp_dir;
static char *db_path;

/* How long bs_test_run_until waits for what a case expects. */
#define WAIT_SECONDS 5

/* ---- helpers ---- */

static BsWindow *
new_window (void)
{
  BsWindow *window = bs_window_new (app);

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (bs_test_is_mapped, window, WAIT_SECONDS));
  return window;
}

static gpointer
find_window (GType type)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      return l->data;
  return NULL;
}

static gboolean
has_no_bs_window (gpointer data)
{
  return find_window (BS_TYPE_WINDOW) == NULL;
}

/* ---- the window ---- */

static const struct
{
  const char *name;
  const char *title;
  const char *accel;
} pages[] = {
  { "data", "Data", "<Alt>1" },
  { "train", "Train", "<Alt>2" },
  { "distill", "Distill", "<Alt>3" },
  { "classify", "Classify", "<Alt>4" },
  { "runs", "Runs", "<Alt>5" },
};

static void
test_pages (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  BsWindow *window;

  /* a first start without a default model (the tests' environment has
   * none; tests/test-default-model.c has one) */
  g_settings_reset (settings, "last-page");
  window = new_window ();
  AdwViewStack *stack = bs_test_template_child (window, BS_TYPE_WINDOW, "stack");
  g_autoptr(GtkSelectionModel) model = adw_view_stack_get_pages (stack);
  GType page_types[] = {
    BS_TYPE_DATA_PAGE, BS_TYPE_TRAIN_PAGE, BS_TYPE_DISTILL_PAGE, BS_TYPE_CLASSIFY_PAGE, BS_TYPE_RUNS_PAGE,
  };

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, G_N_ELEMENTS (pages));
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (model), i);
      GtkWidget *child = adw_view_stack_page_get_child (page);

      g_assert_cmpstr (adw_view_stack_page_get_name (page), ==, pages[i].name);
      g_assert_cmpstr (adw_view_stack_page_get_title (page), ==, pages[i].title);
      g_assert_true (g_str_has_suffix (adw_view_stack_page_get_icon_name (page), "-symbolic"));
      g_assert_true (G_TYPE_CHECK_INSTANCE_TYPE (child, page_types[i]));
    }
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "data");

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The window opens on the page it closed on; a name no page has (an older
 * or newer version's) is ignored. */
static void
test_last_page (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *saved = NULL;
  BsWindow *window = new_window ();

  adw_view_stack_set_visible_child_name (bs_test_template_child (window, BS_TYPE_WINDOW, "stack"), "runs");
  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (has_no_bs_window, NULL, WAIT_SECONDS));
  saved = g_settings_get_string (settings, "last-page");
  g_assert_cmpstr (saved, ==, "runs");

  window = new_window ();
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (bs_test_template_child (window, BS_TYPE_WINDOW, "stack")),
                   ==, "runs");
  gtk_window_destroy (GTK_WINDOW (window));

  g_settings_set_string (settings, "last-page", "nowhere");
  window = new_window ();
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (bs_test_template_child (window, BS_TYPE_WINDOW, "stack")),
                   ==, "data");
  gtk_window_destroy (GTK_WINDOW (window));
  g_settings_reset (settings, "last-page");
}

/* A closed window frees itself and every page: nothing keeps a page (and
 * the models, runs and charts it holds) alive after its window. */
static void
test_freed_on_close (void)
{
  for (int round = 0; round < 2; round++)
    {
      BsWindow *window = new_window ();
      AdwViewStack *stack = bs_test_template_child (window, BS_TYPE_WINDOW, "stack");
      GtkSelectionModel *model = adw_view_stack_get_pages (stack);
      guint n = g_list_model_get_n_items (G_LIST_MODEL (model));
      g_autofree gpointer *watched = g_new0 (gpointer, n + 2);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (model), i);
          watched[i] = adw_view_stack_page_get_child (page);
        }
      g_object_unref (model);
      watched[n] = stack;
      watched[n + 1] = window;
      /* every page shown through win.page, as Alt+1…5 and the switcher do */
      for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
        {
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", pages[i].name));
          bs_test_run_for (50);
        }
      for (guint i = 0; i < n + 2; i++)
        g_object_add_weak_pointer (watched[i], &watched[i]);

      gtk_window_destroy (GTK_WINDOW (window));
      bs_test_run_for (100);
      for (guint i = 0; i < n + 2; i++)
        if (watched[i] != NULL)
          g_test_message ("round %d: a %s outlives its window", round, G_OBJECT_TYPE_NAME (watched[i]));
      for (guint i = 0; i < n + 2; i++)
        g_assert_null (watched[i]);
    }
}

static void
test_page_actions (void)
{
  BsWindow *window = new_window ();
  AdwViewStack *stack = bs_test_template_child (window, BS_TYPE_WINDOW, "stack");

  for (guint i = G_N_ELEMENTS (pages); i-- > 0;)
    {
      g_autofree char *detailed = g_strdup_printf ("win.page::%s", pages[i].name);
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), detailed);

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", pages[i].name));
      g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, pages[i].name);
      g_assert_cmpuint (g_strv_length (accels), ==, 1);
      g_assert_cmpstr (accels[0], ==, pages[i].accel);
    }

  /* the action's state follows the stack when the switcher changes it */
  adw_view_stack_set_visible_child_name (stack, "classify");
  {
    g_autoptr(GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (window), "page");
    g_assert_cmpstr (g_variant_get_string (state, NULL), ==, "classify");
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_primary_menu (void)
{
  BsWindow *window = new_window ();
  GtkMenuButton *button = bs_test_template_child (window, BS_TYPE_WINDOW, "primary_menu_button");
  GMenuModel *menu = gtk_menu_button_get_menu_model (button);
  g_autoptr(GPtrArray) actions = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *label = NULL;

  /* an icon: the tooltip (and the same accessible label, in the template)
   * say what it is */
  g_object_get (button, "tooltip-text", &label, NULL);
  g_assert_cmpstr (label, ==, "Main Menu");
  g_assert_true (gtk_menu_button_get_primary (button));

  for (int s = 0; s < g_menu_model_get_n_items (menu); s++)
    {
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, s, G_MENU_LINK_SECTION);
      for (int i = 0; section != NULL && i < g_menu_model_get_n_items (section); i++)
        {
          char *action = NULL;
          g_assert_true (g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_ACTION, "s", &action));
          g_ptr_array_add (actions, action);
        }
    }
  g_assert_cmpuint (actions->len, ==, 3);
  g_assert_cmpstr (actions->pdata[0], ==, "app.preferences");
  g_assert_cmpstr (actions->pdata[1], ==, "win.show-help-overlay");
  g_assert_cmpstr (actions->pdata[2], ==, "app.about");

  /* and the actions exist: the help overlay came from the resources */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "preferences"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "show-help-overlay"));
  g_assert_nonnull (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_toast (void)
{
  BsWindow *window = new_window ();
  GtkWidget *overlay = bs_test_template_child (window, BS_TYPE_WINDOW, "toast_overlay");

  g_assert_null (bs_test_find_label (overlay, "Dataset imported"));
  bs_window_add_toast (window, "Dataset imported");
  bs_test_run_for (50);
  g_assert_nonnull (bs_test_find_label (overlay, "Dataset imported"));
  gtk_window_destroy (GTK_WINDOW (window));

  /* text, not markup: an error message as it is (in a window of its own:
   * a second toast waits for the first) */
  window = new_window ();
  overlay = bs_test_template_child (window, BS_TYPE_WINDOW, "toast_overlay");
  bs_window_add_toast (window, "<data>:1:38: unexpected end & more");
  bs_test_run_for (50);
  g_assert_nonnull (bs_test_find_label (overlay, "<data>:1:38: unexpected end & more"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
switcher_bar_revealed (gpointer bar)
{
  return adw_view_switcher_bar_get_reveal (bar);
}

/* At 600 px the view switcher does not fit in the header bar: the bottom
 * bar shows the pages instead. */
static void
test_narrow (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  BsWindow *window;
  AdwViewSwitcherBar *bar;

  g_settings_set_int (settings, "window-width", 600);
  window = new_window ();
  bar = bs_test_template_child (window, BS_TYPE_WINDOW, "switcher_bar");
  g_assert_true (bs_test_run_until (switcher_bar_revealed, bar, WAIT_SECONDS));
  gtk_window_destroy (GTK_WINDOW (window));

  g_settings_set_int (settings, "window-width", 1200);
  window = new_window ();
  bar = bs_test_template_child (window, BS_TYPE_WINDOW, "switcher_bar");
  bs_test_run_for (100);
  g_assert_false (adw_view_switcher_bar_get_reveal (bar));
  gtk_window_destroy (GTK_WINDOW (window));

  g_settings_reset (settings, "window-width");
}

static void
test_window_state (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  BsWindow *window;
  int width, height;

  /* restored from the settings */
  g_settings_set_int (settings, "window-width", 800);
  g_settings_set_int (settings, "window-height", 500);
  window = new_window ();
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 800);
  g_assert_cmpint (height, ==, 500);

  /* saved when it closes */
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 640);
  bs_test_run_for (50);
  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (has_no_bs_window, NULL, WAIT_SECONDS));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 900);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 640);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));

  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

/* ---- the application ---- */

static void
test_store (void)
{
  g_assert_nonnull (bs_application_get_store (app));
  g_assert_cmpstr (bs_application_get_database_path (app), ==, db_path);
  g_assert_true (g_file_test (db_path, G_FILE_TEST_IS_REGULAR));
}

static gboolean
threads_are (gpointer n)
{
  return bs_parallel_get_n_threads () == GPOINTER_TO_INT (n);
}

static void
test_preferences (void)
{
  BsWindow *window = new_window ();
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  int n_cpus = (int) g_get_num_processors ();
  BsPreferencesWindow *preferences;
  GtkAdjustment *threads;
  AdwActionRow *database_row;

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  preferences = find_window (BS_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (preferences);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (preferences)) == GTK_WINDOW (window));

  /* a second activation presents the same window */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  g_assert_true (find_window (BS_TYPE_PREFERENCES_WINDOW) == preferences);

  database_row = bs_test_template_child (preferences, BS_TYPE_PREFERENCES_WINDOW, "database_row");
  g_assert_cmpstr (adw_action_row_get_subtitle (database_row), ==, db_path);

  /* 0, the default, shows all processors; a choice applies to the engine */
  threads = bs_test_template_child (preferences, BS_TYPE_PREFERENCES_WINDOW, "threads_adjustment");
  g_assert_cmpfloat (gtk_adjustment_get_value (threads), ==, n_cpus);
  g_assert_cmpfloat (gtk_adjustment_get_upper (threads), ==, n_cpus);
  gtk_adjustment_set_value (threads, 1);
  g_assert_cmpint (g_settings_get_int (settings, "threads"), ==, 1);
  g_assert_true (bs_test_run_until (threads_are, GINT_TO_POINTER (1), WAIT_SECONDS));

  g_settings_reset (settings, "threads");
  g_assert_true (bs_test_run_until (threads_are, GINT_TO_POINTER (n_cpus), WAIT_SECONDS));

  /* it goes with its parent */
  gtk_window_destroy (GTK_WINDOW (window));
  bs_test_run_for (50);
  g_assert_null (find_window (BS_TYPE_PREFERENCES_WINDOW));
}

/* The metainfo's release notes, as text: <p> and <li> contents. */
static GPtrArray *
metainfo_release_paragraphs (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data",
                                                 APPLICATION_ID ".metainfo.xml.in", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) regex = g_regex_new ("<(p|li)>\\s*(.*?)\\s*</\\1>", G_REGEX_DOTALL, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  GPtrArray *paragraphs = g_ptr_array_new_with_free_func (g_free);
  const char *release;

  g_file_get_contents (path, &xml, NULL, &error);
  g_assert_no_error (error);
  release = strstr (xml, "<release ");
  g_assert_nonnull (release);
  g_regex_match (regex, release, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    g_ptr_array_add (paragraphs, g_match_info_fetch (match, 2));
  return paragraphs;
}

static void
test_about (void)
{
  BsWindow *window = new_window ();
  g_autoptr(GPtrArray) paragraphs = metainfo_release_paragraphs ();
  AdwAboutWindow *about;
  const char *notes;

  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  about = find_window (ADW_TYPE_ABOUT_WINDOW);
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "BERT Studio");
  g_assert_cmpstr (adw_about_window_get_version (about), ==, PACKAGE_VERSION);
  g_assert_cmpstr (adw_about_window_get_application_icon (about), ==, APPLICATION_ID);
  g_assert_cmpint (adw_about_window_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_cmpstr (adw_about_window_get_release_notes_version (about), ==, PACKAGE_VERSION);

  /* the same release notes as the metainfo */
  notes = adw_about_window_get_release_notes (about);
  g_assert_cmpuint (paragraphs->len, >=, 2);
  for (guint i = 0; i < paragraphs->len; i++)
    {
      g_autofree char *expected = g_strdup_printf (">%s<", (char *) paragraphs->pdata[i]);
      if (strstr (notes, expected) == NULL)
        g_test_message ("the About window's release notes lack “%s”", (char *) paragraphs->pdata[i]);
      g_assert_nonnull (strstr (notes, expected));
    }

  gtk_window_destroy (GTK_WINDOW (window));
  bs_test_run_for (50);
  g_assert_null (find_window (ADW_TYPE_ABOUT_WINDOW));
}

static void
test_quit (void)
{
  new_window ();
  new_window ();
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  g_assert_true (bs_test_run_until (has_no_bs_window, NULL, WAIT_SECONDS));
}

int
main (int argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/window/needs-display", bs_test_skip_without_display);
      return g_test_run ();
    }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  tmp_dir = g_dir_make_tmp ("bs-window-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmp_dir, "test.db", NULL);

  app = bs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  bs_application_set_database_path (app, db_path);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/app/store", test_store);
  g_test_add_func ("/window/pages", test_pages);
  g_test_add_func ("/window/page-actions", test_page_actions);
  g_test_add_func ("/window/last-page", test_last_page);
  g_test_add_func ("/window/freed-on-close", test_freed_on_close);
  g_test_add_func ("/window/primary-menu", test_primary_menu);
  g_test_add_func ("/window/toast", test_toast);
  g_test_add_func ("/window/narrow", test_narrow);
  g_test_add_func ("/window/state", test_window_state);
  g_test_add_func ("/app/preferences", test_preferences);
  g_test_add_func ("/app/about", test_about);
  g_test_add_func ("/app/quit", test_quit);
  status = g_test_run ();

  /* never run, so no shutdown: finalizing frees the store */
  g_clear_object (&app);
  bs_test_remove_tree (tmp_dir);
  g_free (db_path);
  g_free (tmp_dir);
  return status;
}
