/* The Classify page in a window: a tiny model from the registry, a text
 * classified with the probabilities the classifier gives (summing to 1), a
 * file classified and its predictions saved as CSV, and the server switch
 * serving the model on a port of the test's choosing (and saying so when
 * the port is taken).
 *
 * Needs a display: run under `xvfb-run -a meson test`; without one every
 * case is skipped.  tests/meson.build gives it the window test's
 * environment: a memory GSettings backend, no session bus. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bs-application.h"
#include "bs-classifier.h"
#include "bs-classify-page.h"
#include "bs-test-model.h"
#include "bs-test-util.h"
#include "bs-test-widget-util.h"
#include "bs-train-job.h"
#include "bs-window.h"

static BsApplication *app;
static char *tmp_dir;
static char *model_dir;
static BsClassifier *reference; /* the same model, called directly */

/* How long bs_test_run_until waits for what a case expects (a model loads
 * slowly under the sanitizers). */
#define WAIT_SECONDS 30

/* ---- helpers ---- */

typedef struct
{
  GtkWidget *root;
  const char *text;
} LabelSearch;

static gboolean
label_shown (gpointer data)
{
  LabelSearch *s = data;
  return bs_test_find_label (s->root, s->text) != NULL;
}

/* A window on the Classify page, with the model loaded. */
static BsClassifyPage *
open_page (BsWindow **out_window)
{
  BsWindow *window = bs_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (bs_test_is_mapped, window, WAIT_SECONDS));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "classify"));
  AdwViewStack *stack = ADW_VIEW_STACK (gtk_widget_get_template_child (GTK_WIDGET (window), BS_TYPE_WINDOW, "stack"));
  BsClassifyPage *page = BS_CLASSIFY_PAGE (adw_view_stack_get_child_by_name (stack, "classify"));
  g_assert_true (bs_test_run_until (bs_test_is_mapped, page, WAIT_SECONDS));
  *out_window = window;
  return page;
}

static gboolean
model_loaded (gpointer page)
{
  AdwActionRow *row = bs_test_child (page, "model_row");
  const char *subtitle = adw_action_row_get_subtitle (row);
  return subtitle != NULL && g_str_has_prefix (subtitle, "Labels: ");
}

static void
reference_probabilities (const char *text, float *out)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_classifier_predict (reference, &text, 1, out, &error));
  g_assert_no_error (error);
}

static void
set_text (BsClassifyPage *page, const char *text)
{
  GtkTextView *view = bs_test_child (page, "text_view");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), text, -1);
}

/* ---- a text ---- */

static gboolean
result_for (gpointer page)
{
  return gtk_widget_get_visible (bs_test_child (page, "result_box"));
}

/* The shown bars and percentages against the classifier's probabilities. */
static void
check_result (BsClassifyPage *page, const char *text)
{
  int n = bs_classifier_get_n_labels (reference);
  g_autofree float *expected = g_new (float, n);
  reference_probabilities (text, expected);
  GtkGrid *grid = bs_test_child (page, "bars_grid");
  double sum = 0, percent_sum = 0;
  int best = 0;
  for (int k = 0; k < n; k++)
    {
      GtkLabel *name = GTK_LABEL (gtk_grid_get_child_at (grid, 0, k));
      GtkProgressBar *bar = GTK_PROGRESS_BAR (gtk_grid_get_child_at (grid, 1, k));
      GtkLabel *percent = GTK_LABEL (gtk_grid_get_child_at (grid, 2, k));
      g_assert_cmpstr (gtk_label_get_text (name), ==, bs_classifier_get_label (reference, k));
      double p = gtk_progress_bar_get_fraction (bar);
      g_assert_cmpfloat_with_epsilon (p, expected[k], 1e-6);
      sum += p;
      /* "33.3%" (or "33,3%": g_strtod reads both) */
      percent_sum += g_strtod (gtk_label_get_text (percent), NULL);
      if (expected[k] > expected[best])
        best = k;
    }
  g_assert_null (gtk_grid_get_child_at (grid, 0, n));
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
  /* each rounded to 0.1 */
  g_assert_cmpfloat_with_epsilon (percent_sum, 100.0, 0.05 * n + 1e-9);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (bs_test_child (page, "label_label"))), ==,
                   bs_classifier_get_label (reference, best));
  const char *time = gtk_label_get_text (GTK_LABEL (bs_test_child (page, "time_label")));
  g_assert_true (g_str_has_prefix (time, "in "));
}

static gboolean
has_ctrl_enter (GtkWidget *widget)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          if (g_strcmp0 (trigger, "<Control>Return") == 0 && GTK_IS_NAMED_ACTION (action)
              && g_strcmp0 (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), "classify.run") == 0)
            return TRUE;
        }
    }
  return FALSE;
}

static void
test_text (void)
{
  BsWindow *window;
  BsClassifyPage *page = open_page (&window);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));

  /* newest first: the tiny model was registered after the older one */
  AdwComboRow *row = bs_test_child (page, "model_row");
  GListModel *models = adw_combo_row_get_model (row);
  g_assert_cmpuint (g_list_model_get_n_items (models), ==, 2);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  g_assert_true (g_str_has_prefix (gtk_string_list_get_string (GTK_STRING_LIST (models), 0), "tiny ("));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Labels: neg, pos, meh");

  /* nothing to classify yet; the hint shows in the empty box */
  g_assert_false (gtk_widget_is_sensitive (bs_test_child (page, "classify_button")));
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "placeholder_label")));
  g_assert_true (has_ctrl_enter (bs_test_child (page, "text_view")));

  const char *text = "a wonderful film with great acting";
  set_text (page, text);
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "placeholder_label")));
  g_assert_true (gtk_widget_is_sensitive (bs_test_child (page, "classify_button")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "classify.run", NULL));
  g_assert_true (bs_test_run_until (result_for, page, WAIT_SECONDS));
  check_result (page, text);

  /* a second text replaces the bars */
  const char *other = "the worst movie i have seen, boring from start to end";
  set_text (page, other);
  gtk_widget_activate (bs_test_child (page, "classify_button"));
  GtkGrid *grid = bs_test_child (page, "bars_grid");
  /* held, so that a new bar cannot take its address */
  g_autoptr (GtkWidget) first = g_object_ref (gtk_grid_get_child_at (grid, 1, 0));
  float expected[3];
  reference_probabilities (other, expected);
  gint64 end = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
  while (gtk_grid_get_child_at (grid, 1, 0) == first && g_get_monotonic_time () < end)
    bs_test_run_for (10);
  check_result (page, other);

  /* the older model: the result of the other model goes */
  adw_combo_row_set_selected (row, 1);
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "result_box")));
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Labels: no, yes");
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autofree char *remembered = g_settings_get_string (settings, "classify-model");
  g_assert_true (g_str_has_suffix (remembered, "older"));
  adw_combo_row_set_selected (row, 0);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- a file ---- */

/* An RFC 4180 reader for the checks. */
static GPtrArray *
parse_csv (const char *data)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  const char *p = data;
  while (*p != '\0')
    {
      GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
      for (;;)
        {
          GString *field = g_string_new (NULL);
          if (*p == '"')
            {
              for (p++; !(*p == '"' && p[1] != '"'); p++)
                {
                  g_assert_true (*p != '\0');
                  if (*p == '"')
                    p++;
                  g_string_append_c (field, *p);
                }
              p++;
            }
          else
            while (*p != ',' && *p != '\r' && *p != '\0')
              g_string_append_c (field, *p++);
          g_ptr_array_add (row, g_string_free (field, FALSE));
          if (*p == ',')
            {
              p++;
              continue;
            }
          /* CRLF ends every record */
          g_assert_true (p[0] == '\r' && p[1] == '\n');
          p += 2;
          break;
        }
      g_ptr_array_add (rows, row);
    }
  return rows;
}

static gboolean
file_done (gpointer page)
{
  return !gtk_widget_get_visible (bs_test_child (page, "file_progress"));
}

static gboolean
exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Classifies input (named name) and checks the saved CSV holds texts. */
static void
classify_file (BsClassifyPage *page, const char *name, const char *input, const char *const *texts)
{
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
  g_autofree char *out = g_strconcat (path, ".predictions.csv", NULL);
  g_assert_true (g_file_set_contents (path, input, -1, NULL));
  g_autoptr (GFile) file = g_file_new_for_path (path);
  bs_classify_page_classify_file (page, file);
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "file_list")));
  g_assert_true (bs_test_run_until (file_done, page, WAIT_SECONDS));
  guint n = g_strv_length ((char **) texts);
  g_autofree char *done = g_strdup_printf ("%u texts classified", n);
  g_assert_cmpstr (adw_action_row_get_subtitle (bs_test_child (page, "file_row")), ==, done);
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "save_button")));
  g_assert_true (gtk_widget_is_sensitive (bs_test_child (page, "save_button")));

  g_autoptr (GFile) out_file = g_file_new_for_path (out);
  bs_classify_page_save_predictions (page, out_file);
  g_assert_true (bs_test_run_until (exists, out, WAIT_SECONDS));
  bs_test_run_for (50);

  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (out, &csv, NULL, NULL));
  g_autoptr (GPtrArray) rows = parse_csv (csv);
  int n_labels = bs_classifier_get_n_labels (reference);
  g_assert_cmpuint (rows->len, ==, n + 1);
  GPtrArray *header = g_ptr_array_index (rows, 0);
  g_assert_cmpuint (header->len, ==, 2 + n_labels);
  g_assert_cmpstr (g_ptr_array_index (header, 0), ==, "text");
  g_assert_cmpstr (g_ptr_array_index (header, 1), ==, "label");
  for (int k = 0; k < n_labels; k++)
    g_assert_cmpstr (g_ptr_array_index (header, 2 + k), ==, bs_classifier_get_label (reference, k));
  for (guint i = 0; i < n; i++)
    {
      GPtrArray *row = g_ptr_array_index (rows, i + 1);
      g_assert_cmpuint (row->len, ==, 2 + n_labels);
      g_assert_cmpstr (g_ptr_array_index (row, 0), ==, texts[i]);
      float expected[8];
      reference_probabilities (texts[i], expected);
      double sum = 0;
      int best = 0;
      for (int k = 0; k < n_labels; k++)
        {
          char *end = NULL;
          double p = g_ascii_strtod (g_ptr_array_index (row, 2 + k), &end);
          g_assert_cmpint (*end, ==, '\0');
          /* six decimals */
          g_assert_cmpfloat_with_epsilon (p, expected[k], 1e-5);
          sum += p;
          if (expected[k] > expected[best])
            best = k;
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      g_assert_cmpstr (g_ptr_array_index (row, 1), ==, bs_classifier_get_label (reference, best));
    }
}

static gboolean
file_failed (gpointer page)
{
  const char *subtitle = adw_action_row_get_subtitle (bs_test_child (page, "file_row"));
  return file_done (page) && subtitle != NULL && strstr (subtitle, "no column") != NULL;
}

static void
test_file (void)
{
  BsWindow *window;
  BsClassifyPage *page = open_page (&window);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "file_list")));

  /* one text a line; a blank line is none */
  const char *const lines[] = { "a wonderful film", "the worst movie, i think", "", "plot", "\"quoted\" words",
                                "ünïcödé 🎬", NULL };
  const char *const line_texts[] = { "a wonderful film", "the worst movie, i think", "plot", "\"quoted\" words",
                                     "ünïcödé 🎬", NULL };
  g_autofree char *joined = g_strjoinv ("\r\n", (char **) lines);
  classify_file (page, "reviews.txt", joined, line_texts);

  /* CSV: the text column wherever it is, quoted fields over lines */
  const char *const csv_texts[] = { "great, really great", "line one\nline two", "boring", NULL };
  classify_file (page, "reviews.csv",
                 "\xEF\xBB\xBFid,Review,label\n1,\"great, really great\",pos\n2,\"line one\r\nline two\",neg\n3,boring,neg\n",
                 csv_texts);

  /* JSON Lines: the "text" field */
  const char *const jsonl_texts[] = { "fine", "not \"fine\"", NULL };
  classify_file (page, "reviews.jsonl", "{\"text\": \"fine\", \"label\": 1}\n\n{\"text\": \"not \\\"fine\\\"\"}\n",
                 jsonl_texts);

  /* Cancel: the file's many texts are not all classified by then */
  g_autofree char *many = g_build_filename (tmp_dir, "many.txt", NULL);
  g_autoptr (GString) lines_of_many = g_string_new (NULL);
  for (int i = 0; i < 20000; i++)
    g_string_append_printf (lines_of_many, "review number %d, a fine film\n", i);
  g_assert_true (g_file_set_contents (many, lines_of_many->str, -1, NULL));
  g_autoptr (GFile) many_file = g_file_new_for_path (many);
  bs_classify_page_classify_file (page, many_file);
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "file_cancel_button")));
  g_assert_false (gtk_widget_is_sensitive (bs_test_child (page, "file_button")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "classify.cancel-file", NULL));
  g_assert_true (bs_test_run_until (file_done, page, WAIT_SECONDS));
  g_assert_cmpstr (adw_action_row_get_subtitle (bs_test_child (page, "file_row")), ==, "Cancelled");
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "save_button")));
  g_assert_true (gtk_widget_is_sensitive (bs_test_child (page, "file_button")));

  /* a CSV without a text column: said on the row */
  g_autofree char *bad = g_build_filename (tmp_dir, "bad.csv", NULL);
  g_assert_true (g_file_set_contents (bad, "id,words\n1,hello\n", -1, NULL));
  g_autoptr (GFile) bad_file = g_file_new_for_path (bad);
  bs_classify_page_classify_file (page, bad_file);
  g_assert_true (bs_test_run_until (file_failed, page, WAIT_SECONDS));
  /* the predictions of the file before went with it */
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "save_button")));
  g_assert_false (gtk_widget_is_sensitive (bs_test_child (page, "save_button")));

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- the server ---- */

static guint
free_port (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* GET path on port: the whole answer, or NULL when nothing listens. */
static char *
http_get (guint port, const char *path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 10);
  g_autoptr (GSocketConnection) connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection == NULL)
    return NULL;
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr (GError) error = NULL;
  g_assert_true (g_output_stream_write_all (out, request, strlen (request), NULL, NULL, &error));
  g_assert_no_error (error);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr (GString) answer = g_string_new (NULL);
  char buffer[4096];
  gssize n;
  while ((n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error)) > 0)
    g_string_append_len (answer, buffer, n);
  g_assert_no_error (error);
  return g_string_free (g_steal_pointer (&answer), FALSE);
}

static gboolean
serving (gpointer page)
{
  return gtk_widget_get_visible (bs_test_child (page, "address_row"))
         && gtk_switch_get_state (bs_test_child (page, "server_switch"));
}

static gboolean
server_off (gpointer page)
{
  GtkSwitch *sw = bs_test_child (page, "server_switch");
  return !gtk_switch_get_active (sw) && !gtk_switch_get_state (sw) && gtk_widget_is_sensitive (GTK_WIDGET (sw))
         && !gtk_widget_get_visible (bs_test_child (page, "address_row"));
}

static gboolean
port_closed (gpointer port)
{
  g_autofree char *answer = http_get (GPOINTER_TO_UINT (port), "/health");
  return answer == NULL;
}

static void
test_server (void)
{
  BsWindow *window;
  BsClassifyPage *page = open_page (&window);
  g_assert_true (bs_test_run_until (model_loaded, page, WAIT_SECONDS));
  GtkSwitch *sw = bs_test_child (page, "server_switch");
  GtkSpinButton *port_spin = bs_test_child (page, "port_spin");
  g_assert_false (gtk_switch_get_active (sw));
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "address_row")));

  guint port = free_port ();
  gtk_spin_button_set_value (port_spin, port);
  gtk_switch_set_active (sw, TRUE);
  g_assert_true (bs_test_run_until (serving, page, WAIT_SECONDS));
  /* the address in the port's place */
  g_assert_false (gtk_widget_get_visible (bs_test_child (page, "port_row")));
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/", port);
  g_assert_cmpstr (gtk_label_get_text (bs_test_child (page, "address_label")), ==, uri);
  g_assert_true (gtk_label_get_selectable (bs_test_child (page, "address_label")));

  /* blocking here is fine: the server has threads of its own */
  g_autofree char *health = http_get (port, "/health");
  g_assert_nonnull (health);
  g_assert_true (g_str_has_prefix (health, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (health, "\"ok\""));
  g_autofree char *model = http_get (port, "/model");
  g_assert_nonnull (strstr (model, "\"tiny\""));

  /* Copy puts the address on the clipboard */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "classify.copy-address", NULL));
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (page));
  GdkContentProvider *content = gdk_clipboard_get_content (clipboard);
  g_assert_nonnull (content);
  g_auto (GValue) value = G_VALUE_INIT;
  g_value_init (&value, G_TYPE_STRING);
  g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
  g_assert_cmpstr (g_value_get_string (&value), ==, uri);

  /* off: the port is free again */
  gtk_switch_set_active (sw, FALSE);
  g_assert_true (bs_test_run_until (server_off, page, WAIT_SECONDS));
  g_assert_true (port_closed (GUINT_TO_POINTER (port)));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (port_spin)));
  g_assert_true (gtk_widget_get_visible (bs_test_child (page, "port_row")));

  /* a port another program holds: said so, and the switch goes back off */
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) other = g_socket_listener_new ();
  guint taken = g_socket_listener_add_any_inet_port (other, NULL, &error);
  g_assert_no_error (error);
  gtk_spin_button_set_value (port_spin, taken);
  gtk_switch_set_active (sw, TRUE);
  g_autofree char *message = g_strdup_printf ("Port %u is in use by another program: choose another port", taken);
  LabelSearch search = { GTK_WIDGET (window), message };
  g_assert_true (bs_test_run_until (label_shown, &search, WAIT_SECONDS));
  g_assert_true (bs_test_run_until (server_off, page, WAIT_SECONDS));
  g_socket_listener_close (other);

  /* closing the window stops a server that runs */
  port = free_port ();
  gtk_spin_button_set_value (port_spin, port);
  gtk_switch_set_active (sw, TRUE);
  g_assert_true (bs_test_run_until (serving, page, WAIT_SECONDS));
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (port_closed, GUINT_TO_POINTER (port), WAIT_SECONDS));
}

/* ---- setup ---- */

static char *
make_model (const char *name, const char *const *labels, int n_labels, guint64 seed)
{
  char *dir = g_build_filename (tmp_dir, name, NULL);
  bs_test_make_tiny_bert (dir, 32, labels, n_labels, seed);
  g_autoptr (GError) error = NULL;
  BsStore *store = bs_application_get_store (app);
  g_assert_nonnull (store);
  g_assert_cmpint (bs_store_register_model_folder (store, dir, "test", 0, &error), >, 0);
  g_assert_no_error (error);
  return dir;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/classify/needs-display", bs_test_skip_without_display);
      return g_test_run ();
    }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  tmp_dir = g_dir_make_tmp ("bs-classify-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *db_path = g_build_filename (tmp_dir, "test.db", NULL);
  app = bs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  bs_application_set_database_path (app, db_path);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  const char *const older_labels[] = { "no", "yes" };
  g_free (make_model ("older", older_labels, 2, 3)); /* registered: the list's second model */
  const char *const labels[] = { "neg", "pos", "meh" };
  model_dir = make_model ("tiny", labels, 3, 7);
  reference = bs_classifier_load (model_dir, 0, &error);
  g_assert_no_error (error);

  g_test_add_func ("/classify/text", test_text);
  g_test_add_func ("/classify/file", test_file);
  g_test_add_func ("/classify/server", test_server);
  int status = g_test_run ();

  /* let the workers of the closed windows report back */
  bs_test_run_for (200);
  g_clear_pointer (&reference, bs_classifier_free);
  g_clear_object (&app);
  bs_test_remove_tree (tmp_dir);
  g_free (model_dir);
  g_free (tmp_dir);
  return status;
}
