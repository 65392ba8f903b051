/* The training chart: TensorBoard's smoothing, ticks, labels, decimation,
 * hover lookup and export without a display; the widget itself (its
 * accessible label, snapshot and export) with one, and skipped without. */
#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "bs-chart-private.h"
#include "bs-chart-series.h"
#include "bs-chart.h"
#include "bs-test-widget-util.h"

static gboolean have_display;

/* ---- helpers ---- */

static BsChartSeries *
series_from (const double *ys, guint n, double smoothing)
{
  BsChartSeries *s = bs_chart_series_new ("loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  bs_chart_series_set_smoothing (s, smoothing);
  for (guint i = 0; i < n; i++)
    bs_chart_series_append (s, i, ys[i]);
  return s;
}

static void
assert_ticks (GArray *ticks, const double *expected, guint n)
{
  g_assert_cmpuint (ticks->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (g_array_index (ticks, double, i), expected[i],
                                    fabs (expected[i]) * 1e-9 + 1e-15);
}

static void
assert_format (double value, const char *expected)
{
  g_autofree char *text = bs_chart_format_value (value);
  g_assert_cmpstr (text, ==, expected);
}

static void
assert_tick_format (double value, double step, const char *expected)
{
  g_autofree char *text = bs_chart_format_tick (value, step);
  g_assert_cmpstr (text, ==, expected);
}

/* A deterministic noisy decreasing curve. */
static BsChartSeries *
noisy_series (guint n, guint32 seed)
{
  BsChartSeries *s = bs_chart_series_new ("loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *xs = g_new (double, n);
  g_autofree double *ys = g_new (double, n);

  for (guint i = 0; i < n; i++)
    {
      xs[i] = i;
      ys[i] = exp (-(double) i / n * 3) + g_rand_double_range (rand, -0.2, 0.2);
    }
  bs_chart_series_append_many (s, xs, ys, n);
  return s;
}

static gboolean
no_temp_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    if (strstr (name, ".tmp-") != NULL)
      return FALSE;
  return TRUE;
}

/* ---- smoothing ---- */

/* By hand, w = 0.5, y = 1, 3, 2, 6:
 *   last = 0.5,    debias 1 - 0.5    = 0.5    -> 1
 *   last = 1.75,   debias 1 - 0.25   = 0.75   -> 7/3
 *   last = 1.875,  debias 1 - 0.125  = 0.875  -> 15/7
 *   last = 3.9375, debias 1 - 0.0625 = 0.9375 -> 4.2 */
static void
test_smoothing_tensorboard (void)
{
  static const double ys[] = { 1, 3, 2, 6 };
  static const double expected[] = { 1.0, 7.0 / 3.0, 15.0 / 7.0, 4.2 };
  g_autoptr (BsChartSeries) s = series_from (ys, G_N_ELEMENTS (ys), 0.5);

  for (guint i = 0; i < G_N_ELEMENTS (ys); i++)
    g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (s, i), expected[i], 1e-12);

  /* w = 0.9 against TensorBoard's own loop (Math.pow for the debias) */
  static const double ys2[] = { 0.7, 0.65, 0.8, 0.4, 0.45 };
  g_autoptr (BsChartSeries) s2 = series_from (ys2, G_N_ELEMENTS (ys2), 0.9);
  double last = 0.0;
  for (guint i = 0; i < G_N_ELEMENTS (ys2); i++)
    {
      last = last * 0.9 + (1 - 0.9) * ys2[i];
      double want = last / (1 - pow (0.9, i + 1));
      g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (s2, i), want, 1e-12);
    }

  /* weight 0 is the raw value */
  bs_chart_series_set_smoothing (s, 0.0);
  for (guint i = 0; i < G_N_ELEMENTS (ys); i++)
    g_assert_cmpfloat (bs_chart_series_get_smoothed (s, i), ==, ys[i]);

  /* and set back, recomputed from the start */
  bs_chart_series_set_smoothing (s, 0.5);
  for (guint i = 0; i < G_N_ELEMENTS (ys); i++)
    g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (s, i), expected[i], 1e-12);
}

/* A non-finite value is shown as is and does not count; a constant stays
 * constant. */
static void
test_smoothing_special (void)
{
  static const double ys[] = { 1, NAN, 3 };
  g_autoptr (BsChartSeries) s = series_from (ys, G_N_ELEMENTS (ys), 0.5);

  g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (s, 0), 1.0, 1e-12);
  g_assert_true (isnan (bs_chart_series_get_smoothed (s, 1)));
  g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (s, 2), 7.0 / 3.0, 1e-12);

  static const double flat[] = { 0.25, 0.25, 0.25, 0.25, 0.25, 0.25 };
  g_autoptr (BsChartSeries) c = series_from (flat, G_N_ELEMENTS (flat), 0.99);
  for (guint i = 0; i < G_N_ELEMENTS (flat); i++)
    g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (c, i), 0.25, 1e-12);
}

/* A point that arrives late is put in step order, and the smoothing redone. */
static void
test_series_out_of_order (void)
{
  g_autoptr (BsChartSeries) s = bs_chart_series_new ("loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  bs_chart_series_set_smoothing (s, 0.5);
  bs_chart_series_append (s, 0, 1);
  bs_chart_series_append (s, 2, 2);
  bs_chart_series_append (s, 3, 6);
  bs_chart_series_append (s, 1, 3);

  static const double xs[] = { 0, 1, 2, 3 };
  static const double ys[] = { 1, 3, 2, 6 };
  g_assert_cmpuint (bs_chart_series_get_n_points (s), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      double x, y;
      g_assert_true (bs_chart_series_get_point (s, i, &x, &y));
      g_assert_cmpfloat (x, ==, xs[i]);
      g_assert_cmpfloat (y, ==, ys[i]);
    }
  g_assert_cmpfloat_with_epsilon (bs_chart_series_get_smoothed (s, 3), 4.2, 1e-12);
  g_assert_false (bs_chart_series_get_point (s, 4, NULL, NULL));

  double lo, hi, pos;
  g_assert_true (bs_chart_series_get_y_range (s, FALSE, &lo, &hi, &pos));
  g_assert_cmpfloat (lo, ==, 1);
  g_assert_cmpfloat (hi, ==, 6);

  bs_chart_series_clear (s);
  g_assert_cmpuint (bs_chart_series_get_n_points (s), ==, 0);
  g_assert_false (bs_chart_series_get_y_range (s, FALSE, &lo, &hi, &pos));
}

/* ---- axes ---- */

static void
test_ticks_nice (void)
{
  double step;
  g_autoptr (GArray) a = bs_chart_nice_ticks (0, 0.73, 5, 0, &step);
  assert_ticks (a, (const double[]) { 0, 0.2, 0.4, 0.6 }, 4);
  g_assert_cmpfloat_with_epsilon (step, 0.2, 1e-12);

  g_autoptr (GArray) b = bs_chart_nice_ticks (0, 10000, 5, 0, &step);
  assert_ticks (b, (const double[]) { 0, 5000, 10000 }, 3);

  g_autoptr (GArray) c = bs_chart_nice_ticks (-1, 1, 5, 0, &step);
  assert_ticks (c, (const double[]) { -1, -0.5, 0, 0.5, 1 }, 5);

  /* steps are whole: no 0.5 between steps 0 and 3 */
  g_autoptr (GArray) d = bs_chart_nice_ticks (0, 3, 8, 1, &step);
  assert_ticks (d, (const double[]) { 0, 1, 2, 3 }, 4);

  g_autoptr (GArray) e = bs_chart_nice_ticks (0.0173, 0.7312, 6, 0, &step);
  assert_ticks (e, (const double[]) { 0.2, 0.4, 0.6 }, 3);

  g_autoptr (GArray) f = bs_chart_nice_ticks (2e-6, 2.1e-5, 5, 0, &step);
  assert_ticks (f, (const double[]) { 5e-6, 1e-5, 1.5e-5, 2e-5 }, 4);

  /* never more than asked for, and from 3 asked, at least 2 */
  for (guint max = 3; max < 12; max++)
    for (double hi = 0.013; hi < 1e6; hi *= 1.7)
      {
        g_autoptr (GArray) t = bs_chart_nice_ticks (-hi / 3, hi, max, 0, NULL);
        g_assert_cmpuint (t->len, <=, max);
        g_assert_cmpuint (t->len, >=, 2);
      }
}

static void
test_ticks_log (void)
{
  g_autoptr (GArray) a = bs_chart_log_ticks (1e-5, 1, 8);
  assert_ticks (a, (const double[]) { 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1 }, 6);

  /* too many decades: every third */
  g_autoptr (GArray) b = bs_chart_log_ticks (1e-8, 1, 4);
  assert_ticks (b, (const double[]) { 1e-6, 1e-3, 1 }, 3);

  /* under two decades: 1, 2, 5 */
  g_autoptr (GArray) c = bs_chart_log_ticks (1e-4, 5e-3, 8);
  assert_ticks (c, (const double[]) { 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3 }, 6);

  /* inside one decade: linear */
  g_autoptr (GArray) d = bs_chart_log_ticks (3e-5, 8e-5, 4);
  assert_ticks (d, (const double[]) { 4e-5, 6e-5, 8e-5 }, 3);
}

static void
test_format (void)
{
  assert_format (0, "0");
  assert_format (0.312, "0.312");
  assert_format (0.31249, "0.312");
  assert_format (12, "12");
  assert_format (12.34, "12.3");
  assert_format (-0.5, "-0.5");
  assert_format (1200, "1.2k");
  assert_format (1234, "1.23k");
  assert_format (999.7, "1k");
  assert_format (15000, "15k");
  assert_format (1.5e6, "1.5M");
  assert_format (0.001, "0.001");
  assert_format (0.00123, "0.00123");
  assert_format (2e-5, "2e-05");
  assert_format (2.5e-5, "2.5e-05");
  assert_format (3e-4, "3e-04");
  assert_format (1, "1");

  /* tick labels show what tells the ticks apart */
  assert_tick_format (0.4, 0.2, "0.4");
  assert_tick_format (0.30000000000000004, 0.1, "0.3");
  assert_tick_format (1500, 500, "1.5k");
  assert_tick_format (1000, 500, "1k");
  assert_tick_format (500, 500, "500");
  assert_tick_format (100200, 200, "100.2k");
  assert_tick_format (1.5e-5, 5e-6, "1.5e-05");
  assert_tick_format (1e-12, 0.2, "0");
}

/* ---- decimation and lookups ---- */

/* Brute force over each column of x: the pyramid's extremes are the true
 * ones, and each column keeps exactly its min and max, in order. */
static void
test_decimate (void)
{
  const guint n = 10007;
  const guint columns = 37;
  g_autoptr (BsChartSeries) s = noisy_series (n, 42);
  /* a few holes, which must be skipped */
  bs_chart_series_append (s, n, NAN);
  bs_chart_series_append (s, n + 1, 0.5);
  const double *xs = bs_chart_series_peek_x (s);
  const double *ys = bs_chart_series_peek_y (s, FALSE);
  guint total = bs_chart_series_get_n_points (s);
  double x0 = 100.5, x1 = n - 3.25;
  g_autofree guint *indices = g_new (guint, 2 * columns);

  guint count = bs_chart_decimate (s, FALSE, x0, x1, columns, indices);
  g_assert_cmpuint (count, <=, 2 * columns);

  guint at = 0;
  for (guint c = 0; c < columns; c++)
    {
      double lo = x0 + (x1 - x0) * c / columns;
      double hi = x0 + (x1 - x0) * (c + 1) / columns;
      guint argmin = G_MAXUINT, argmax = G_MAXUINT;
      for (guint i = 0; i < total; i++)
        {
          gboolean inside = xs[i] >= lo && (c + 1 == columns ? xs[i] <= x1 : xs[i] < hi);
          if (!inside || !isfinite (ys[i]))
            continue;
          if (argmin == G_MAXUINT || ys[i] < ys[argmin])
            argmin = i;
          if (argmax == G_MAXUINT || ys[i] > ys[argmax])
            argmax = i;
        }
      if (argmin == G_MAXUINT)
        continue;
      g_assert_cmpuint (at, <, count);
      g_assert_cmpuint (indices[at++], ==, MIN (argmin, argmax));
      if (argmin != argmax)
        g_assert_cmpuint (indices[at++], ==, MAX (argmin, argmax));
    }
  g_assert_cmpuint (at, ==, count);

  /* and the range query on its own, on ranges of every size */
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  for (guint k = 0; k < 2000; k++)
    {
      guint a = g_rand_int_range (rand, 0, total);
      guint b = a + 1 + g_rand_int_range (rand, 0, MIN (total - a, k < 1000 ? 40u : total));
      guint got_min, got_max, want_min = a, want_max = a;
      for (guint i = a; i < b; i++)
        {
          if (!isfinite (ys[want_min]) || (isfinite (ys[i]) && ys[i] < ys[want_min]))
            want_min = i;
          if (!isfinite (ys[want_max]) || (isfinite (ys[i]) && ys[i] > ys[want_max]))
            want_max = i;
        }
      g_assert_true (bs_chart_series_range_extremes (s, FALSE, a, b, &got_min, &got_max));
      g_assert_cmpuint (got_min, ==, want_min);
      g_assert_cmpuint (got_max, ==, want_max);
    }

  /* fewer points than columns: every point is kept */
  static const double few[] = { 3, 1, 4, 1, 5 };
  g_autoptr (BsChartSeries) f = series_from (few, G_N_ELEMENTS (few), 0);
  count = bs_chart_decimate (f, FALSE, 0, 4, columns, indices);
  g_assert_cmpuint (count, ==, 5);
  for (guint i = 0; i < count; i++)
    g_assert_cmpuint (indices[i], ==, i);
}

/* The polyline's extent per column: its points and where it crosses the
 * columns' edges, linear in axis space. */
static void
test_column_ranges (void)
{
  double lo[10], hi[10];

  g_autoptr (BsChartSeries) a = bs_chart_series_new (NULL, BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  bs_chart_series_append (a, 0, 0);
  bs_chart_series_append (a, 10, 10);
  bs_chart_column_ranges (a, FALSE, FALSE, 0, 0, 10, 10, lo, hi);
  for (guint c = 0; c < 10; c++)
    {
      g_assert_cmpfloat_with_epsilon (lo[c], c, 1e-12);
      g_assert_cmpfloat_with_epsilon (hi[c], c + 1, 1e-12);
    }

  /* a spike on a column's edge shows in both columns */
  static const double spike[] = { 0, 5, 0 };
  g_autoptr (BsChartSeries) b = series_from (spike, G_N_ELEMENTS (spike), 0);
  bs_chart_column_ranges (b, FALSE, FALSE, 0, 0, 2, 2, lo, hi);
  g_assert_cmpfloat (lo[0], ==, 0);
  g_assert_cmpfloat (hi[0], ==, 5);
  g_assert_cmpfloat (lo[1], ==, 0);
  g_assert_cmpfloat (hi[1], ==, 5);

  /* columns outside the points stay empty */
  bs_chart_column_ranges (b, FALSE, FALSE, 0, -2, 2, 4, lo, hi);
  g_assert_true (isnan (lo[0]) && isnan (hi[0]));
  g_assert_cmpfloat (hi[2], ==, 5);

  /* log: interpolated in decades; values <= 0 at the floor */
  g_autoptr (BsChartSeries) c = bs_chart_series_new (NULL, BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  bs_chart_series_append (c, 0, 1);
  bs_chart_series_append (c, 10, 100);
  bs_chart_series_append (c, 20, 0);
  bs_chart_column_ranges (c, FALSE, TRUE, -9, 0, 10, 10, lo, hi);
  for (guint k = 0; k < 10; k++)
    {
      g_assert_cmpfloat_with_epsilon (lo[k], 0.2 * k, 1e-12);
      g_assert_cmpfloat_with_epsilon (hi[k], 0.2 * (k + 1), 1e-12);
    }
  bs_chart_column_ranges (c, FALSE, TRUE, -9, 10, 20, 1, lo, hi);
  g_assert_cmpfloat (lo[0], ==, -9);
  g_assert_cmpfloat (hi[0], ==, 2);

  /* on the noisy series: each column spans at least its points' extremes */
  g_autoptr (BsChartSeries) n = noisy_series (5000, 9);
  g_autofree guint *indices = g_new (guint, 2 * 10);
  guint count = bs_chart_decimate (n, FALSE, 0, 4999, 10, indices);
  bs_chart_column_ranges (n, FALSE, FALSE, 0, 0, 4999, 10, lo, hi);
  const double *xs = bs_chart_series_peek_x (n);
  const double *ys = bs_chart_series_peek_y (n, FALSE);
  for (guint i = 0; i < count; i++)
    {
      double x = xs[indices[i]];
      guint column = 0;
      while (column < 9 && x >= 4999.0 * (column + 1) / 10)
        column++;
      g_assert_cmpfloat (ys[indices[i]], >=, lo[column]);
      g_assert_cmpfloat (ys[indices[i]], <=, hi[column]);
    }
}

static void
test_nearest (void)
{
  g_autoptr (BsChartSeries) s = bs_chart_series_new (NULL, BS_CHART_COLOR_GREEN, BS_CHART_STYLE_POINTS);

  g_assert_cmpuint (bs_chart_series_find_nearest (s, 5), ==, G_MAXUINT);
  for (guint i = 0; i < 4; i++)
    bs_chart_series_append (s, i * 10.0, i);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 14), ==, 1);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 15), ==, 1);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 16), ==, 2);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 20), ==, 2);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, -5), ==, 0);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 100), ==, 3);

  /* a repeated step answers with its first point */
  bs_chart_series_append (s, 30, 7);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 29), ==, 3);
  g_assert_cmpuint (bs_chart_series_find_nearest (s, 1e9), ==, 3);
}

/* ---- rendering and export without a widget ---- */

static GPtrArray *
demo_series (void)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (list, noisy_series (5000, 1));
  BsChartSeries *val = bs_chart_series_new ("validation loss", BS_CHART_COLOR_ORANGE, BS_CHART_STYLE_POINTS);
  for (guint i = 0; i <= 5000; i += 500)
    bs_chart_series_append (val, i, exp (-i / 5000.0 * 3) + 0.05);
  g_ptr_array_add (list, val);
  return list;
}

static void
test_render (void)
{
  g_autoptr (GPtrArray) series = demo_series ();
  BsChartRenderOptions options = { .series = series, .smoothing = 0.6, .show_raw = TRUE, .scale = 1 };
  gdk_rgba_parse (&options.fg, "black");
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 640, 300);
  cairo_t *cr = cairo_create (surface);
  BsChartFrame frame;

  bs_chart_render (&options, cr, 640, 300, &frame);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_true (frame.has_data);
  g_assert_cmpfloat (frame.plot.origin.x, >, 0);
  g_assert_cmpfloat (frame.plot.origin.x + frame.plot.size.width, <=, 640);
  g_assert_cmpfloat (frame.plot.origin.y + frame.plot.size.height, <=, 300);
  g_assert_cmpfloat (frame.x0, ==, 0);
  g_assert_cmpfloat (frame.x1, ==, 5000);

  /* log scale: the range is in decades */
  options.log_y = TRUE;
  bs_chart_render (&options, cr, 640, 300, &frame);
  g_assert_true (frame.log_y);
  g_assert_cmpfloat (frame.y1, <, 1);

  /* nothing to draw */
  g_autoptr (GPtrArray) empty = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (empty, bs_chart_series_new ("loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE));
  options.series = empty;
  bs_chart_render (&options, cr, 640, 300, &frame);
  g_assert_false (frame.has_data);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_export (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-chart-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *png = g_build_filename (dir, "loss.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "loss.svg", NULL);
  g_autoptr (GPtrArray) series = demo_series ();
  BsChartRenderOptions options = { .series = series, .smoothing = 0.6, .show_raw = TRUE, .scale = 1 };

  g_assert_true (bs_chart_render_to_png (&options, png, 800, 360, &error));
  g_assert_no_error (error);
  cairo_surface_t *image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, 800);
  g_assert_cmpint (cairo_image_surface_get_height (image), ==, 360);
  /* a white background, some ink */
  cairo_surface_flush (image);
  const guint32 *pixels = (const guint32 *) (void *) cairo_image_surface_get_data (image);
  g_assert_cmphex (pixels[0], ==, 0xffffffff);
  guint ink = 0;
  for (guint i = 0; i < 800 * 360; i++)
    ink += pixels[i] != 0xffffffff;
  g_assert_cmpuint (ink, >, 2000);
  cairo_surface_destroy (image);

  g_assert_true (bs_chart_render_to_svg (&options, svg, 800, 360, &error));
  g_assert_no_error (error);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, &error));
  g_assert_true (g_str_has_prefix (text, "<?xml"));
  g_assert_nonnull (strstr (text, "<svg"));
  g_assert_nonnull (strstr (text, "width=\"800"));
  g_assert_nonnull (strstr (text, "</svg>"));

  /* an existing file is replaced whole */
  g_assert_true (bs_chart_render_to_png (&options, png, 200, 100, &error));
  image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, 200);
  cairo_surface_destroy (image);

  g_assert_true (no_temp_files (dir));

  /* errors name the file; nothing is left behind */
  g_autofree char *missing = g_build_filename (dir, "no", "such", "dir.png", NULL);
  g_assert_false (bs_chart_render_to_png (&options, missing, 100, 100, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);
  g_assert_false (bs_chart_render_to_svg (&options, svg, 0, 100, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (no_temp_files (dir));

  g_remove (png);
  g_remove (svg);
  g_rmdir (dir);
}

/* ---- the widget (needs a display) ---- */

static void
test_widget_accessible (void)
{
  if (!have_display)
    {
      g_test_skip ("needs a display");
      return;
    }

  BsChart *chart = BS_CHART (g_object_ref_sink (bs_chart_new ()));
  g_autoptr (BsChartSeries) s = bs_chart_series_new ("Training loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);

  gtk_test_accessible_assert_role (chart, GTK_ACCESSIBLE_ROLE_IMG);
  bs_chart_set_title (chart, "Loss");
  gtk_test_accessible_assert_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL, "Loss, no data yet");

  bs_chart_add_series (chart, s);
  for (guint i = 0; i < 1233; i++)
    bs_chart_series_append (s, i, 0.7 - i * 1e-4);
  bs_chart_series_append (s, 1233, 0.312);
  /* a visible jump (0.58 -> 0.312) updates it at once */
  gtk_test_accessible_assert_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Training loss, 1234 steps, last 0.312");

  /* small moves wait for the next hundred appends or a second */
  bs_chart_series_append (s, 1234, 0.3121);
  gtk_test_accessible_assert_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Training loss, 1234 steps, last 0.312");
  bs_test_run_for (1300);
  gtk_test_accessible_assert_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Training loss, 1235 steps, last 0.312");

  g_autoptr (BsChartSeries) val = bs_chart_series_new ("Validation loss", BS_CHART_COLOR_ORANGE, BS_CHART_STYLE_POINTS);
  bs_chart_series_append (val, 1000, 0.4);
  bs_chart_add_series (chart, val);
  gtk_test_accessible_assert_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Loss: Training loss, 1235 steps, last 0.312; "
                                       "Validation loss, 1 step, last 0.4");

  bs_chart_remove_all (chart);
  g_assert_cmpuint (bs_chart_get_n_series (chart), ==, 0);
  gtk_test_accessible_assert_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL, "Loss, no data yet");

  /* removed series no longer reach the chart */
  bs_chart_series_append (s, 2000, 0.1);
  g_object_unref (chart);
}

static void
count_cb (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static void
test_widget_properties (void)
{
  if (!have_display)
    {
      g_test_skip ("needs a display");
      return;
    }

  BsChart *chart = BS_CHART (g_object_ref_sink (bs_chart_new ()));
  g_autoptr (BsChartSeries) s = bs_chart_series_new ("loss", BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  guint notified = 0;

  bs_chart_add_series (chart, s);
  g_signal_connect (chart, "notify::smoothing", G_CALLBACK (count_cb), &notified);

  g_object_set (chart, "smoothing", 0.6, NULL);
  g_object_set (chart, "smoothing", 0.6, NULL);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpfloat (bs_chart_series_get_smoothing (s), ==, 0.6);
  g_assert_cmpfloat (bs_chart_get_smoothing (chart), ==, 0.6);

  /* a series added later gets the chart's smoothing */
  g_autoptr (BsChartSeries) late = bs_chart_series_new ("late", BS_CHART_COLOR_GREEN, BS_CHART_STYLE_LINE);
  bs_chart_add_series (chart, late);
  g_assert_cmpfloat (bs_chart_series_get_smoothing (late), ==, 0.6);
  bs_chart_remove_series (chart, late);
  g_assert_cmpuint (bs_chart_get_n_series (chart), ==, 1);
  g_assert_true (bs_chart_get_series (chart, 0) == s);

  g_assert_true (bs_chart_get_show_raw (chart));
  bs_chart_set_log_y (chart, TRUE);
  bs_chart_set_raw_only (chart, TRUE);
  bs_chart_set_x_label (chart, "epoch");
  g_assert_true (bs_chart_get_log_y (chart));
  g_assert_true (bs_chart_get_raw_only (chart));
  g_assert_cmpstr (bs_chart_get_x_label (chart), ==, "epoch");
  g_object_unref (chart);
}

static void
test_widget_snapshot_export (void)
{
  if (!have_display)
    {
      g_test_skip ("needs a display");
      return;
    }

  GtkWidget *window = gtk_window_new ();
  GtkWidget *chart = bs_chart_new ();
  g_autoptr (BsChartSeries) s = noisy_series (100000, 3);

  gtk_window_set_default_size (GTK_WINDOW (window), 800, 400);
  gtk_window_set_child (GTK_WINDOW (window), chart);
  bs_chart_add_series (BS_CHART (chart), s);
  bs_chart_set_smoothing (BS_CHART (chart), 0.9);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (bs_test_run_until (bs_test_is_mapped, chart, 5));
  bs_test_run_for (100);

  /* a frame, then one with the hover read-out */
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (chart);
  for (int hover = 0; hover < 2; hover++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      if (hover)
        bs_chart_set_hover (BS_CHART (chart), 300, 200);
      gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (chart), gtk_widget_get_height (chart));
      GskRenderNode *node = gtk_snapshot_free_to_node (snapshot);
      g_assert_nonnull (node);
      gsk_render_node_unref (node);
    }
  bs_chart_set_hover (BS_CHART (chart), NAN, NAN);

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-chart-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "chart.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "chart.svg", NULL);
  g_assert_true (bs_chart_export_png (BS_CHART (chart), png, 1200, 500, &error));
  g_assert_no_error (error);
  g_assert_true (bs_chart_export_svg (BS_CHART (chart), svg, 1200, 500, &error));
  g_assert_no_error (error);
  cairo_surface_t *image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, 1200);
  g_assert_cmpint (cairo_image_surface_get_height (image), ==, 500);
  cairo_surface_destroy (image);
  g_assert_true (g_file_test (svg, G_FILE_TEST_IS_REGULAR));
  g_assert_true (no_temp_files (dir));
  g_remove (png);
  g_remove (svg);
  g_rmdir (dir);

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char *argv[])
{
  /* the accessible labels are checked in the C locale */
  gtk_disable_setlocale ();
  g_test_init (&argc, &argv, NULL);
  have_display = gtk_init_check () && gdk_display_get_default () != NULL;

  g_test_add_func ("/chart/smoothing/tensorboard", test_smoothing_tensorboard);
  g_test_add_func ("/chart/smoothing/special", test_smoothing_special);
  g_test_add_func ("/chart/series/out-of-order", test_series_out_of_order);
  g_test_add_func ("/chart/ticks/nice", test_ticks_nice);
  g_test_add_func ("/chart/ticks/log", test_ticks_log);
  g_test_add_func ("/chart/format", test_format);
  g_test_add_func ("/chart/decimate", test_decimate);
  g_test_add_func ("/chart/column-ranges", test_column_ranges);
  g_test_add_func ("/chart/nearest", test_nearest);
  g_test_add_func ("/chart/render", test_render);
  g_test_add_func ("/chart/export", test_export);
  g_test_add_func ("/chart/widget/accessible", test_widget_accessible);
  g_test_add_func ("/chart/widget/properties", test_widget_properties);
  g_test_add_func ("/chart/widget/snapshot-export", test_widget_snapshot_export);
  return g_test_run ();
}
