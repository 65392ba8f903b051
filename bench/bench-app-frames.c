/* bench-app-frames: is the window responsive while a job trains?
 *
 *   GSK_RENDERER=cairo xvfb-run -a bench-app-frames [--seconds 20]
 *
 * (On a display without a GPU, GTK's GL renderer runs on llvmpipe, software
 * GL whose threads take the cores training needs: cairo is what such a
 * machine should use, and what a GPU-backed desktop is closer to.)
 *
 * Opens the app on a temporary database with a synthetic dataset and a
 * small model, starts training from the Train page, and meanwhile records
 * (1) the time between frames of the window's frame clock and (2) how late
 * a 5 ms timer on the main thread fires: the longest stretch the main
 * thread was busy. Prints one JSON line. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "bs-application.h"
#include "bs-blas.h"
#include "bs-import.h"
#include "bs-random.h"
#include "bs-train-job.h"
#include "bs-train-page.h"
#include "bs-window.h"

static GArray *frame_gaps, *stalls;
static gint64 last_frame, last_tick;

static gboolean
on_frame (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  if (last_frame > 0)
    {
      double gap = (now - last_frame) / 1e3;
      g_array_append_val (frame_gaps, gap);
    }
  last_frame = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
on_tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  if (last_tick > 0)
    {
      double late = (now - last_tick) / 1e3 - 5.0;
      g_array_append_val (stalls, late);
    }
  last_tick = now;
  return G_SOURCE_CONTINUE;
}

static int
compare (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
percentile (GArray *values, double p)
{
  if (values->len == 0)
    return 0.0;
  g_array_sort (values, compare);
  return g_array_index (values, double, (guint) (p * (values->len - 1)));
}

static void
write_reviews (const char *path, int n)
{
  static const char *const words[2][4] = { { "bad", "awful", "boring", "poor" }, { "good", "great", "fine", "fun" } };
  static const char *const filler[] = { "the", "movie", "film", "was", "and", "it", "a", "story", "plot", "acting" };
  BsRandom rng;
  bs_random_init (&rng, 1);
  g_autoptr (GString) out = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GString) text = g_string_new (words[i % 2][bs_random_below (&rng, 4)]);
      for (int k = 0; k < 80; k++)
        g_string_append_printf (text, " %s", filler[bs_random_below (&rng, 10)]);
      g_string_append_printf (out, "{\"text\": \"%s\", \"label\": %d}\n", text->str, i % 2);
    }
  g_file_set_contents (path, out->str, -1, NULL);
}

int
main (int argc, char **argv)
{
  double seconds = 20;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "How long to watch the training (default 20)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— frame times while training");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, NULL))
    return 2;
  bs_blas_init ();
  gtk_init ();
  adw_init ();

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-frames-XXXXXX", &error);
  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_autofree char *db = g_build_filename (dir, "bench.db", NULL);
  BsApplication *app = bs_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  bs_application_set_database_path (app, db);
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    {
      fprintf (stderr, "bench-app-frames: %s\n", error->message);
      return 1;
    }
  BsStore *store = bs_application_get_store (app);
  g_autofree char *data = g_build_filename (dir, "reviews.jsonl", NULL);
  write_reviews (data, 20000);
  BsImportOptions options = { .format = BS_IMPORT_JSONL, .name = "reviews", .validation_ratio = 0.05 };
  g_auto (BsImportResult) imported = { 0 };
  g_autofree char *vocab = g_build_filename (BS_SOURCE_ROOT, "tests", "fixtures", "tokenizer",
                                             "bert-base-uncased-vocab.txt", NULL);
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->hidden_size = 128, config->n_layers = 2, config->n_heads = 2, config->intermediate_size = 512;
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  g_autofree char *model_dir = g_build_filename (dir, "model", NULL);
  if (model == NULL || !bs_import (store, data, &options, &imported, NULL, &error)
      || (bs_model_init_weights (model, 1), !bs_save_model_folder (model, vocab, TRUE, model_dir, &error))
      || bs_store_register_model_folder (store, model_dir, "folder", 0, &error) == 0)
    {
      fprintf (stderr, "bench-app-frames: %s\n", error->message);
      return 1;
    }
  g_autoptr (GSettings) settings = g_settings_new (APPLICATION_ID);
  g_settings_set_string (settings, "last-model", model_dir);
  g_settings_set_string (settings, "last-dataset", "reviews");
  g_settings_set_int (settings, "batch-size", 32);

  BsWindow *window = bs_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", "train");
  BsTrainPage *page = BS_TRAIN_PAGE (gtk_widget_get_template_child (GTK_WIDGET (window), BS_TYPE_WINDOW, "train_page"));
  frame_gaps = g_array_new (FALSE, FALSE, sizeof (double));
  stalls = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 settle = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < settle)
    g_main_context_iteration (NULL, FALSE);

  g_signal_emit_by_name (gtk_widget_get_template_child (GTK_WIDGET (page), BS_TYPE_TRAIN_PAGE, "start_button"),
                         "clicked");
  gtk_widget_add_tick_callback (GTK_WIDGET (window), on_frame, NULL, NULL);
  g_timeout_add (5, on_tick, NULL);
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end && bs_train_page_get_running (page))
    g_main_context_iteration (NULL, TRUE);
  gboolean still_running = bs_train_page_get_running (page);

  printf ("{\"bench\":\"app-frames\",\"seconds\":%.0f,\"training\":%s,\"frames\":%u,\"frame_ms_p50\":%.1f,"
          "\"frame_ms_p99\":%.1f,\"frame_ms_max\":%.1f,\"main_thread_busy_ms_p99\":%.1f,"
          "\"main_thread_busy_ms_max\":%.1f}\n",
          seconds, still_running ? "true" : "false", frame_gaps->len, percentile (frame_gaps, 0.5),
          percentile (frame_gaps, 0.99), percentile (frame_gaps, 1.0), percentile (stalls, 0.99),
          percentile (stalls, 1.0));
  bs_train_page_cancel (page);
  while (bs_train_page_get_running (page))
    g_main_context_iteration (NULL, TRUE);
  return 0;
}
