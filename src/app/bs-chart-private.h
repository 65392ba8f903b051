/* bs-chart-private.h: the chart's internals that tests and the benchmark use
 * without a display — extreme-value lookups, decimation, ticks, labels and
 * the cairo renderer behind both the widget and the exporters. */
#pragma once

#include <cairo.h>
#include <gtk/gtk.h>
#include <pango/pango.h>

#include "bs-chart.h"
#include "bs-chart-series.h"

G_BEGIN_DECLS

/* --- series --- */

/* The raw values, and the smoothed ones (raw again when smoothing is off). */
const double *bs_chart_series_peek_x (BsChartSeries *self);
const double *bs_chart_series_peek_y (BsChartSeries *self,
                                      gboolean smoothed);

/* The first index whose x is >= x (n when none). */
guint bs_chart_series_lower_bound (BsChartSeries *self,
                                   double x);

/* The indices of the smallest and largest finite y in [begin, end) (the
 * earliest on ties), in O(log n) from a min/max pyramid kept on append.
 * FALSE when the range holds no finite value. */
gboolean bs_chart_series_range_extremes (BsChartSeries *self,
                                         gboolean smoothed,
                                         guint begin,
                                         guint end,
                                         guint *argmin,
                                         guint *argmax);

/* Finite y range over all points, in O(1); min_positive for log axes
 * (G_MAXDOUBLE when no value is > 0). FALSE when no value is finite. */
gboolean bs_chart_series_get_y_range (BsChartSeries *self,
                                      gboolean smoothed,
                                      double *min,
                                      double *max,
                                      double *min_positive);

/* --- decimation --- */

/* Reduces the points with x in [x0, x1] to the extremes of each of n_columns
 * equal x-columns: the argmin and argmax of each column, in index order (one
 * index when they coincide). indices needs room for 2 * n_columns; returns
 * how many were written. O(n_columns * log n), whatever the number of points. */
guint bs_chart_decimate (BsChartSeries *series,
                         gboolean smoothed,
                         double x0,
                         double x1,
                         guint n_columns,
                         guint *indices);

/* For each of n_columns equal x-columns of [x0, x1] (the last one closed):
 * the least and greatest value the polyline through the points takes in it
 * — its points' extremes and its values where it crosses the column's edges
 * — in axis space (log10 (y) on a log axis, log_floor for y <= 0). NaN for
 * the columns it does not reach. O(n_columns * log n). */
void bs_chart_column_ranges (BsChartSeries *series,
                             gboolean smoothed,
                             gboolean log_y,
                             double log_floor,
                             double x0,
                             double x1,
                             guint n_columns,
                             double *lo,
                             double *hi);

/* --- axes --- */

/* Multiples of a 1, 2 or 5 x 10^k step (never below min_step) inside
 * [lo, hi], at most max_ticks of them (at least 2 when max_ticks >= 3).
 * Returns a GArray of doubles; *step (may be NULL) gets the step. */
GArray *bs_chart_nice_ticks (double lo,
                             double hi,
                             guint max_ticks,
                             double min_step,
                             double *step);
/* Ticks for a log10 axis over [lo, hi] (both > 0): powers of ten (every k-th
 * when there are too many), with 2 and 5 multiples added when the range
 * spans less than about two decades. */
GArray *bs_chart_log_ticks (double lo,
                            double hi,
                            guint max_ticks);

/* Compact labels: "0", "0.25", "12", "1.2k", "3M", "0.001", "2e-05".
 * format_value keeps 3 significant digits; format_tick shows as many
 * decimals as the tick step needs. */
char *bs_chart_format_value (double value);
char *bs_chart_format_tick (double value,
                            double step);

/* --- rendering --- */

typedef struct
{
  GPtrArray *series;        /* of BsChartSeries */
  double smoothing;
  gboolean show_raw;
  gboolean raw_only;
  gboolean log_y;
  const char *x_label;      /* NULL: "step" */
  GdkRGBA fg;               /* text and grid derive from it */
  GdkRGBA bg;               /* alpha 0: transparent */
  gboolean dark;            /* palette shades for a dark background */
  PangoContext *pango;      /* fonts and their metrics */
  int scale;                /* device pixels per unit, for decimation */
  gboolean vector;          /* strokes only, no raster masks (SVG) */
} BsChartRenderOptions;

/* Where the last frame put things, for hover. */
typedef struct
{
  gboolean has_data;
  graphene_rect_t plot;
  double x0, x1;            /* data x at the plot's left and right edge */
  double y0, y1;            /* data y (log10 of it on a log axis) at bottom and top */
  gboolean log_y;
} BsChartFrame;

void bs_chart_render (const BsChartRenderOptions *options,
                      cairo_t *cr,
                      int width,
                      int height,
                      BsChartFrame *frame);

/* Shows the hover read-out as if the pointer were at (x, y) in widget
 * coordinates, or hides it when x is NaN: for tests and the demo. */
void bs_chart_set_hover (BsChart *self,
                         double x,
                         double y);

/* The line colour of a palette entry. */
void bs_chart_color_to_rgba (BsChartColor color,
                             gboolean dark,
                             GdkRGBA *rgba);

/* Headless export of what bs_chart_render draws, on a white background. */
gboolean bs_chart_render_to_png (const BsChartRenderOptions *options,
                                 const char *path,
                                 int width,
                                 int height,
                                 GError **error);
gboolean bs_chart_render_to_svg (const BsChartRenderOptions *options,
                                 const char *path,
                                 int width,
                                 int height,
                                 GError **error);

G_END_DECLS
