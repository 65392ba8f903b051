/* bench-chart: what a frame of the training chart costs.
 *
 *   bench-chart                  ms per frame at 1280x400, 3 series of 1k,
 *                                10k and 100k points each (JSON lines)
 *   bench-chart --window [--dark] [--live] [--hover X,Y] [--quit-after S]
 *               [--export PREFIX]
 *                                a demo window with realistic training
 *                                curves, to look at (and screenshot)
 *
 * The frame is the widget's own drawing function on a cairo image surface,
 * with the text and palette the widget uses; the widget adds one render
 * node around it. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <stdlib.h>

#include "bs-chart-private.h"
#include "bs-chart-series.h"
#include "bs-chart.h"

#define WIDTH 1280
#define HEIGHT 400
#define STEPS 3000

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1.0);
  double v = g_rand_double (rand);
  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

/* ---- the benchmark ---- */

static BsChartSeries *
bench_series (guint n, BsChartColor color, guint32 seed, double *ns_per_append)
{
  BsChartSeries *s = bs_chart_series_new ("series", color, BS_CHART_STYLE_LINE);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *ys = g_new (double, n);

  bs_chart_series_set_smoothing (s, 0.6);
  for (guint i = 0; i < n; i++)
    ys[i] = 0.3 + 0.5 * exp (-(double) i / n * 5) + 0.08 * gaussian (rand);

  /* one at a time, as a live run appends them */
  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    bs_chart_series_append (s, i, ys[i]);
  *ns_per_append = (g_get_monotonic_time () - start) * 1000.0 / n;
  return s;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
bench (void)
{
  static const guint sizes[] = { 1000, 10000, 100000 };
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, WIDTH, HEIGHT);
  cairo_t *cr = cairo_create (surface);
  /* one context for all frames, as the widget has */
  PangoContext *context = pango_cairo_create_context (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Cantarell 11");
  pango_context_set_font_description (context, font);
  pango_font_description_free (font);

  /* smoothed over faint raw values; the same on a log axis; raw only */
  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    for (int variant = 0; variant < 3; variant++)
      {
        gboolean log_y = variant == 1, raw_only = variant == 2;
        guint n = sizes[k];
        g_autoptr (GPtrArray) series = g_ptr_array_new_with_free_func (g_object_unref);
        double ns_per_append = 0.0;
        for (guint i = 0; i < 3; i++)
          {
            double ns;
            g_ptr_array_add (series, bench_series (n, (BsChartColor) i, 17 + i, &ns));
            ns_per_append += ns / 3;
          }

        BsChartRenderOptions options = {
          .series = series,
          .smoothing = 0.6,
          .show_raw = TRUE,
          .log_y = log_y,
          .raw_only = raw_only,
          .pango = context,
          .scale = 1,
        };
        gdk_rgba_parse (&options.fg, "rgba(0,0,0,0.8)");

        const guint frames = 60;
        double ms[60];
        for (guint f = 0; f < 3; f++)
          bs_chart_render (&options, cr, WIDTH, HEIGHT, NULL);
        for (guint f = 0; f < frames; f++)
          {
            cairo_save (cr);
            cairo_set_operator (cr, CAIRO_OPERATOR_CLEAR);
            cairo_paint (cr);
            cairo_restore (cr);
            gint64 start = g_get_monotonic_time ();
            bs_chart_render (&options, cr, WIDTH, HEIGHT, NULL);
            cairo_surface_flush (surface);
            ms[f] = (g_get_monotonic_time () - start) / 1000.0;
          }
        double sum = 0.0;
        for (guint f = 0; f < frames; f++)
          sum += ms[f];
        qsort (ms, frames, sizeof ms[0], compare_doubles);

        g_print ("{\"bench\": \"chart-frame\", \"series\": 3, \"points_per_series\": %u, "
                 "\"width\": %d, \"height\": %d, \"smoothing\": 0.6, \"show_raw\": true, "
                 "\"log_y\": %s, \"raw_only\": %s, \"frames\": %u, \"ms_per_frame_mean\": %.2f, "
                 "\"ms_per_frame_median\": %.2f, \"ms_per_frame_max\": %.2f, "
                 "\"ns_per_append\": %.1f}\n",
                 n, WIDTH, HEIGHT, log_y ? "true" : "false", raw_only ? "true" : "false", frames, sum / frames,
                 ms[frames / 2], ms[frames - 1], ns_per_append);
      }

  g_object_unref (context);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* ---- the demo ---- */

typedef struct
{
  GRand *rand;
  guint step;
  gboolean live;
  BsChartSeries *loss, *val_loss, *acc, *val_acc, *lr;
} Demo;

/* A fine-tuning run as it looks: a noisy loss falling fast then slowly,
 * validation every 250 steps that turns up a little at the end, per-batch
 * accuracy of 32 examples, and warm-up then linear decay of the rate. */
static void
demo_step (Demo *d)
{
  guint step = d->step++;
  double t = step;
  double base = 0.22 + 0.47 * exp (-t / 350.0) + 0.08 * exp (-t / 2500.0);
  double loss = base * exp (0.28 * gaussian (d->rand));
  if (g_rand_double (d->rand) < 0.004)
    loss *= 2.2;
  bs_chart_series_append (d->loss, t, loss);

  double p = 0.5 + 0.43 * (1.0 - exp (-t / 450.0));
  guint right = 0;
  for (guint i = 0; i < 32; i++)
    right += g_rand_double (d->rand) < p;
  bs_chart_series_append (d->acc, t, right / 32.0);

  double lr = t < 300 ? 2e-5 * t / 300.0 : 2e-5 * (STEPS - t) / (STEPS - 300.0);
  bs_chart_series_append (d->lr, t, lr);

  if (step > 0 && step % 250 == 0)
    {
      double over = t > 2000 ? (t - 2000) * 4e-5 : 0.0;
      bs_chart_series_append (d->val_loss, t, 0.27 + 0.43 * exp (-t / 420.0) + over + 0.01 * gaussian (d->rand));
      bs_chart_series_append (d->val_acc, t, p - 0.025 - over + 0.006 * gaussian (d->rand));
    }
}

static gboolean
demo_tick (gpointer data)
{
  Demo *d = data;

  for (guint i = 0; i < 10 && d->step <= STEPS; i++)
    demo_step (d);
  return d->step <= STEPS ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static GtkWidget *
card (const char *title, BsChart *chart, GtkWidget *extra)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new (title);

  gtk_widget_add_css_class (box, "card");
  gtk_widget_set_margin_start (header, 12);
  gtk_widget_set_margin_end (header, 12);
  gtk_widget_set_margin_top (header, 12);
  gtk_widget_add_css_class (label, "heading");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (header), label);
  if (extra != NULL)
    gtk_box_append (GTK_BOX (header), extra);
  gtk_box_append (GTK_BOX (box), header);

  gtk_widget_set_vexpand (GTK_WIDGET (chart), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (chart), TRUE);
  gtk_widget_set_margin_start (GTK_WIDGET (chart), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (chart), 6);
  gtk_widget_set_margin_bottom (GTK_WIDGET (chart), 6);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (chart));
  return box;
}

static GtkWidget *
smoothing_control (BsChart *chart)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new ("Smoothing");
  GtkWidget *scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 0.99, 0.01);

  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_size_request (scale, 140, -1);
  gtk_range_set_value (GTK_RANGE (scale), bs_chart_get_smoothing (chart));
  g_object_bind_property (gtk_range_get_adjustment (GTK_RANGE (scale)), "value",
                          chart, "smoothing", G_BINDING_DEFAULT);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), scale);
  return box;
}

typedef struct
{
  BsChart *chart;
  double x, y;
} Hover;

static gboolean
apply_hover (gpointer data)
{
  Hover *h = data;
  bs_chart_set_hover (h->chart, h->x, h->y);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
close_cb (GtkWindow *window, gboolean *done)
{
  *done = TRUE;
}

static int
demo (gboolean dark, gboolean live, const char *hover, double quit_after, const char *export_prefix)
{
  adw_init ();
  if (dark)
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);

  Demo d = {
    .rand = g_rand_new_with_seed (2024),
    .live = live,
    .loss = bs_chart_series_new ("Training loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE),
    .val_loss = bs_chart_series_new ("Validation loss", BS_CHART_COLOR_ORANGE, BS_CHART_STYLE_POINTS),
    .acc = bs_chart_series_new ("Training accuracy", BS_CHART_COLOR_GREEN, BS_CHART_STYLE_LINE),
    .val_acc = bs_chart_series_new ("Validation accuracy", BS_CHART_COLOR_PURPLE, BS_CHART_STYLE_POINTS),
    .lr = bs_chart_series_new ("Learning rate", BS_CHART_COLOR_PURPLE, BS_CHART_STYLE_LINE),
  };

  BsChart *loss = BS_CHART (bs_chart_new ());
  bs_chart_set_title (loss, "Loss");
  bs_chart_set_smoothing (loss, 0.9);
  bs_chart_add_series (loss, d.loss);
  bs_chart_add_series (loss, d.val_loss);

  BsChart *acc = BS_CHART (bs_chart_new ());
  bs_chart_set_title (acc, "Accuracy");
  bs_chart_set_smoothing (acc, 0.9);
  bs_chart_add_series (acc, d.acc);
  bs_chart_add_series (acc, d.val_acc);

  BsChart *lr = BS_CHART (bs_chart_new ());
  bs_chart_set_title (lr, "Learning rate");
  bs_chart_set_log_y (lr, TRUE);
  bs_chart_add_series (lr, d.lr);

  BsChart *empty = BS_CHART (bs_chart_new ());
  bs_chart_set_title (empty, "Distillation loss");

  if (!live)
    while (d.step <= STEPS)
      demo_step (&d);
  else
    g_timeout_add (50, demo_tick, &d);

  GtkWidget *window = adw_window_new ();
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new ("Training", "bert-base-uncased · IMDB"));
  gtk_box_append (GTK_BOX (outer), header);

  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_homogeneous (GTK_GRID (grid), TRUE);
  gtk_grid_set_column_homogeneous (GTK_GRID (grid), TRUE);
  gtk_widget_set_margin_start (grid, 18);
  gtk_widget_set_margin_end (grid, 18);
  gtk_widget_set_margin_top (grid, 18);
  gtk_widget_set_margin_bottom (grid, 18);
  gtk_widget_set_vexpand (grid, TRUE);
  gtk_grid_attach (GTK_GRID (grid), card ("Loss", loss, smoothing_control (loss)), 0, 0, 3, 1);
  gtk_grid_attach (GTK_GRID (grid), card ("Accuracy", acc, NULL), 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), card ("Learning rate", lr, NULL), 1, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), card ("Distillation loss", empty, NULL), 2, 1, 1, 1);
  gtk_box_append (GTK_BOX (outer), grid);

  adw_window_set_content (ADW_WINDOW (window), outer);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_maximize (GTK_WINDOW (window));

  gboolean done = FALSE;
  g_signal_connect (window, "close-request", G_CALLBACK (close_cb), &done);
  gtk_window_present (GTK_WINDOW (window));

  if (export_prefix != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *png = g_strconcat (export_prefix, ".png", NULL);
      g_autofree char *svg = g_strconcat (export_prefix, ".svg", NULL);
      if (!bs_chart_export_png (loss, png, 1000, 400, &error)
          || !bs_chart_export_svg (loss, svg, 1000, 400, &error))
        g_printerr ("%s\n", error->message);
    }

  Hover h = { .chart = loss };
  if (hover != NULL && sscanf (hover, "%lf,%lf", &h.x, &h.y) == 2)
    g_timeout_add (500, apply_hover, &h);
  if (quit_after > 0)
    g_timeout_add ((guint) (quit_after * 1000), quit_cb, &done);

  while (!done)
    g_main_context_iteration (NULL, TRUE);

  if (gtk_widget_get_realized (window))
    gtk_window_destroy (GTK_WINDOW (window));
  g_rand_free (d.rand);
  g_object_unref (d.loss);
  g_object_unref (d.val_loss);
  g_object_unref (d.acc);
  g_object_unref (d.val_acc);
  g_object_unref (d.lr);
  return 0;
}

int
main (int argc, char *argv[])
{
  gboolean window = FALSE, dark = FALSE, live = FALSE;
  g_autofree char *hover = NULL;
  g_autofree char *export_prefix = NULL;
  double quit_after = 0;
  GOptionEntry entries[] = {
    { "window", 0, 0, G_OPTION_ARG_NONE, &window, "Show the demo window", NULL },
    { "dark", 0, 0, G_OPTION_ARG_NONE, &dark, "Dark style", NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "Append the run while shown", NULL },
    { "hover", 0, 0, G_OPTION_ARG_STRING, &hover, "Hover the loss chart at X,Y", "X,Y" },
    { "quit-after", 0, 0, G_OPTION_ARG_DOUBLE, &quit_after, "Close after S seconds", "S" },
    { "export", 0, 0, G_OPTION_ARG_FILENAME, &export_prefix, "Export the loss chart to PREFIX.png and .svg", "PREFIX" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (window)
    return demo (dark, live, hover, quit_after, export_prefix);
  bench ();
  return 0;
}
