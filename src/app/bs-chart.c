/* bs-chart.c: the training chart. The drawing is one cairo function over a
 * list of series (bs_chart_render), shared by the widget, the exporters and
 * the benchmark; the widget caches its last frame as a render node, so that
 * hovering redraws only the crosshair and the read-out. */
#include "config.h"

#include "bs-chart.h"
#include "bs-chart-private.h"

#include <cairo-svg.h>
#include <glib/gi18n-lib.h>
#include <locale.h>
#include <math.h>
#include <pango/pangocairo.h>

#include "bs-atomic-file.h"

/* --- numbers --- */

/* Drops trailing zeros of a fraction ("1.50" -> "1.5", "2.0" -> "2"), up to
 * an exponent if there is one, whatever the locale's decimal point. */
static void
trim_fraction (GString *s)
{
  const char *point = localeconv ()->decimal_point;
  const char *found = strstr (s->str, point);
  if (found == NULL)
    return;
  gsize start = (gsize) (found - s->str);
  gsize end = start + strlen (point);
  while (end < s->len && g_ascii_isdigit (s->str[end]))
    end++;
  gsize keep = end;
  while (keep > start + strlen (point) && s->str[keep - 1] == '0')
    keep--;
  if (keep == start + strlen (point))
    keep = start;
  g_string_erase (s, (gssize) keep, (gssize) (end - keep));
}

/* step == 0: three significant digits. */
static char *
format_number (double value, double step)
{
  if (isnan (value))
    return g_strdup ("NaN");
  if (isinf (value))
    return g_strdup (value > 0 ? "∞" : "−∞");

  double a = fabs (value);
  if (a == 0.0 || (step > 0.0 && a < step * 1e-6))
    return g_strdup ("0");

  g_autoptr (GString) s = g_string_new (NULL);

  /* Learning rates: 2e-05 reads better than 0.00002. */
  if (a < 1e-3 * (1.0 - 1e-9))
    {
      int digits = 2;
      if (step > 0.0)
        digits = (int) (floor (log10 (a) + 1e-9) - floor (log10 (step) + 1e-9));
      digits = CLAMP (digits, 0, 6);
      g_string_printf (s, "%.*e", digits, value);
      trim_fraction (s);
      return g_string_free (g_steal_pointer (&s), FALSE);
    }

  static const struct
  {
    double scale;
    const char *suffix;
  } units[] = {
    { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" },
  };
  double scale = 1.0;
  const char *suffix = "";
  /* Three digits of 999.7 round to 1000, which is 1k. */
  double threshold = step > 0.0 ? 1.0 : 0.9995;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (a >= units[i].scale * threshold)
      {
        scale = units[i].scale;
        suffix = units[i].suffix;
        break;
      }

  double scaled = value / scale;
  int decimals;
  if (step > 0.0)
    decimals = (int) -floor (log10 (step / scale) + 1e-9);
  else
    decimals = 2 - (int) floor (log10 (fabs (scaled)) + 1e-9);
  decimals = CLAMP (decimals, 0, 9);
  g_string_printf (s, "%.*f", decimals, scaled);
  trim_fraction (s);
  g_string_append (s, suffix);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
bs_chart_format_value (double value)
{
  return format_number (value, 0.0);
}

char *
bs_chart_format_tick (double value, double step)
{
  return format_number (value, step);
}

/* Steps with thousands separators (in the user's locale), as in "1,234". */
static char *
format_step (double x)
{
  if (x == floor (x) && fabs (x) < 1e15)
    return g_strdup_printf ("%'.0f", x);
  return format_number (x, 0.0);
}

/* --- ticks --- */

/* The smallest 1, 2 or 5 x 10^k not below raw. */
static double
nice_step_at_least (double raw)
{
  double mag = pow (10.0, floor (log10 (raw)));
  double f = raw / mag;

  if (f <= 1.0 + 1e-9)
    return mag;
  if (f <= 2.0 + 1e-9)
    return 2.0 * mag;
  if (f <= 5.0 + 1e-9)
    return 5.0 * mag;
  return 10.0 * mag;
}

static void
append_multiples (GArray *ticks, double lo, double hi, double step)
{
  double first = ceil (lo / step - 1e-9);
  double last = floor (hi / step + 1e-9);

  for (double k = first; k <= last; k++)
    {
      double t = k * step;
      if (t == 0.0)
        t = 0.0; /* not -0 */
      g_array_append_val (ticks, t);
    }
}

GArray *
bs_chart_nice_ticks (double lo, double hi, guint max_ticks, double min_step, double *step_out)
{
  GArray *ticks = g_array_new (FALSE, FALSE, sizeof (double));
  double step = 0.0;

  max_ticks = MAX (max_ticks, 2);
  if (!isfinite (lo) || !isfinite (hi) || hi < lo)
    goto out;
  if (hi == lo)
    {
      g_array_append_val (ticks, lo);
      goto out;
    }

  step = nice_step_at_least ((hi - lo) / max_ticks);
  if (min_step > 0.0 && step < min_step)
    step = nice_step_at_least (min_step);
  while (floor (hi / step + 1e-9) - ceil (lo / step - 1e-9) + 1 > max_ticks)
    step = nice_step_at_least (step * 1.5);
  append_multiples (ticks, lo, hi, step);

out:
  if (step_out != NULL)
    *step_out = step;
  return ticks;
}

GArray *
bs_chart_log_ticks (double lo, double hi, guint max_ticks)
{
  GArray *ticks = g_array_new (FALSE, FALSE, sizeof (double));

  max_ticks = MAX (max_ticks, 2);
  if (!(lo > 0.0) || !(hi >= lo) || !isfinite (hi))
    return ticks;

  double e_lo = ceil (log10 (lo) - 1e-9);
  double e_hi = floor (log10 (hi) + 1e-9);

  if (log10 (hi / lo) < 2.0)
    {
      /* Within two decades powers of ten alone are too few: add 2 and 5. */
      static const double mantissas[] = { 1.0, 2.0, 5.0 };
      for (double e = floor (log10 (lo) + 1e-9); e <= e_hi + 1; e++)
        for (guint m = 0; m < G_N_ELEMENTS (mantissas); m++)
          {
            /* exp10 of an integer is exact where pow's product may not be */
            double t = mantissas[m] * pow (10.0, e);
            if (t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9))
              g_array_append_val (ticks, t);
          }
      if (ticks->len > max_ticks)
        {
          /* Keep the powers of ten and the fives. */
          g_array_set_size (ticks, 0);
          for (double e = floor (log10 (lo) + 1e-9); e <= e_hi + 1; e++)
            for (guint m = 0; m < G_N_ELEMENTS (mantissas); m += 2)
              {
                double t = mantissas[m] * pow (10.0, e);
                if (t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9))
                  g_array_append_val (ticks, t);
              }
        }
      if (ticks->len < 2)
        {
          /* Inside one decade: linear ticks read best. */
          g_array_unref (ticks);
          return bs_chart_nice_ticks (lo, hi, max_ticks, 0.0, NULL);
        }
      return ticks;
    }

  double every = ceil ((e_hi - e_lo + 1) / max_ticks);
  for (double e = e_lo; e <= e_hi; e++)
    if (fmod (fabs (e), every) == 0.0)
      {
        double t = pow (10.0, e);
        g_array_append_val (ticks, t);
      }
  return ticks;
}

/* --- decimation --- */

guint
bs_chart_decimate (BsChartSeries *series,
                   gboolean smoothed,
                   double x0,
                   double x1,
                   guint n_columns,
                   guint *indices)
{
  guint n = bs_chart_series_get_n_points (series);
  guint count = 0;

  if (n == 0 || n_columns == 0 || !(x1 >= x0))
    return 0;

  const double *xs = bs_chart_series_peek_x (series);
  double span = x1 - x0;
  guint begin = bs_chart_series_lower_bound (series, x0);

  for (guint c = 0; c < n_columns && begin < n; c++)
    {
      guint end;
      if (c + 1 == n_columns)
        {
          end = bs_chart_series_lower_bound (series, x1);
          while (end < n && xs[end] <= x1)
            end++;
        }
      else
        end = bs_chart_series_lower_bound (series, x0 + span * (c + 1) / n_columns);

      guint argmin, argmax;
      if (end > begin && bs_chart_series_range_extremes (series, smoothed, begin, end, &argmin, &argmax))
        {
          indices[count++] = MIN (argmin, argmax);
          if (argmin != argmax)
            indices[count++] = MAX (argmin, argmax);
        }
      begin = MAX (begin, end);
    }
  return count;
}

/* The first index whose x is > x. */
static guint
upper_bound (BsChartSeries *series, double x)
{
  const double *xs = bs_chart_series_peek_x (series);
  guint n = bs_chart_series_get_n_points (series);
  guint i = bs_chart_series_lower_bound (series, x);

  while (i < n && xs[i] <= x)
    i++;
  return i;
}

/* The polyline's value at x in axis space, from at = lower_bound (x);
 * NaN outside the points or next to a non-finite value. */
static double
edge_value (const double *xs, const double *ys, guint n, guint at, double x, gboolean log_y, double log_floor)
{
#define AXIS(v) (!log_y ? (v) : (v) > 0.0 ? log10 (v) : log_floor)
  if (at < n && xs[at] == x)
    return isfinite (ys[at]) ? AXIS (ys[at]) : NAN;
  if (at == 0 || at >= n || !isfinite (ys[at - 1]) || !isfinite (ys[at]))
    return NAN;
  double a = AXIS (ys[at - 1]), b = AXIS (ys[at]);
  double t = (x - xs[at - 1]) / (xs[at] - xs[at - 1]);
  return a + (b - a) * t;
#undef AXIS
}

void
bs_chart_column_ranges (BsChartSeries *series,
                        gboolean smoothed,
                        gboolean log_y,
                        double log_floor,
                        double x0,
                        double x1,
                        guint n_columns,
                        double *lo,
                        double *hi)
{
  guint n = bs_chart_series_get_n_points (series);

  for (guint c = 0; c < n_columns; c++)
    lo[c] = hi[c] = NAN;
  if (n == 0 || n_columns == 0 || !(x1 > x0))
    return;

  const double *xs = bs_chart_series_peek_x (series);
  const double *ys = bs_chart_series_peek_y (series, smoothed);
  double span = x1 - x0;
  guint begin = bs_chart_series_lower_bound (series, x0);
  double left = edge_value (xs, ys, n, begin, x0, log_y, log_floor);

  for (guint c = 0; c < n_columns; c++)
    {
      gboolean last = c + 1 == n_columns;
      double b = last ? x1 : x0 + span * (c + 1) / n_columns;
      guint at = bs_chart_series_lower_bound (series, b);
      guint end = last ? upper_bound (series, x1) : at;
      double right = edge_value (xs, ys, n, at, b, log_y, log_floor);
      double l = G_MAXDOUBLE, h = -G_MAXDOUBLE;
      guint argmin, argmax;

      if (!isnan (left))
        l = h = left;
      if (!isnan (right))
        {
          l = MIN (l, right);
          h = MAX (h, right);
        }
      if (end > begin && bs_chart_series_range_extremes (series, smoothed, begin, end, &argmin, &argmax))
        {
          /* monotonic: the extremes stay extremes in axis space */
          double vmin = log_y ? (ys[argmin] > 0.0 ? log10 (ys[argmin]) : log_floor) : ys[argmin];
          double vmax = log_y ? (ys[argmax] > 0.0 ? log10 (ys[argmax]) : log_floor) : ys[argmax];
          l = MIN (l, vmin);
          h = MAX (h, vmax);
        }
      if (l <= h)
        {
          lo[c] = l;
          hi[c] = h;
        }
      begin = MAX (begin, end);
      left = right;
    }
}

/* --- colours --- */

void
bs_chart_color_to_rgba (BsChartColor color, gboolean dark, GdkRGBA *rgba)
{
  /* The GNOME palette: a deep shade on light backgrounds, a light one on
   * dark backgrounds, as libadwaita does for its accent colour. */
  static const char *const light[] = {
    "#1c71d8", "#26a269", "#e66100", "#9141ac", "#e01b24", "#e5a50a", "#986a44",
  };
  static const char *const dark_shades[] = {
    "#78aeed", "#57e389", "#ffa348", "#dc8add", "#f66151", "#f8e45c", "#cdab8f",
  };
  guint i = MIN ((guint) color, G_N_ELEMENTS (light) - 1);

  gdk_rgba_parse (rgba, dark ? dark_shades[i] : light[i]);
}

static void
set_source (cairo_t *cr, const GdkRGBA *rgba, double alpha)
{
  cairo_set_source_rgba (cr, rgba->red, rgba->green, rgba->blue, rgba->alpha * alpha);
}

/* --- rendering --- */

#define PAD 8.0
#define TICK_GAP 8.0

typedef struct
{
  const BsChartRenderOptions *o;
  cairo_t *cr;
  PangoLayout *small;
  BsChartFrame *frame;
  guint *indices;
  guint n_columns;          /* device pixels across the plot */
  double scale;
  /* dense curves are drawn through an A8 mask of the plot, see draw_dense */
  cairo_surface_t *mask;
  double mask_top;          /* the mask's top edge, above the plot's */
  double *lo;
  double *hi;
} Render;

static gboolean
draws_smoothed (const BsChartRenderOptions *o, BsChartSeries *s)
{
  return bs_chart_series_get_style (s) == BS_CHART_STYLE_LINE
         && o->smoothing > 0.0
         && !o->raw_only;
}

static double
frame_x (const BsChartFrame *f, double x)
{
  return f->plot.origin.x + (x - f->x0) / (f->x1 - f->x0) * f->plot.size.width;
}

static double
frame_y (const BsChartFrame *f, double y)
{
  double v = y;
  if (f->log_y)
    {
      /* the bottom edge, and a little below so that a line leaves it */
      if (!(y > 0.0))
        return f->plot.origin.y + f->plot.size.height + 4.0;
      v = log10 (y);
    }
  double t = (v - f->y0) / (f->y1 - f->y0);
  /* cairo's fixed-point coordinates overflow far outside the plot */
  t = CLAMP (t, -10.0, 11.0);
  return f->plot.origin.y + f->plot.size.height * (1.0 - t);
}

static void
text_size (PangoLayout *layout, const char *text, int *width, int *height)
{
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, width, height);
}

/* align: 0 left/top, 0.5 centred, 1 right/bottom */
static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double align_x, double align_y)
{
  int w, h;
  text_size (layout, text, &w, &h);
  cairo_move_to (cr, round (x - w * align_x), round (y - h * align_y));
  pango_cairo_show_layout (cr, layout);
}

/* The data's extent; FALSE when nothing is drawable. */
static gboolean
compute_extent (const BsChartRenderOptions *o, BsChartFrame *f)
{
  double x_lo = G_MAXDOUBLE, x_hi = -G_MAXDOUBLE;
  double y_lo = G_MAXDOUBLE, y_hi = -G_MAXDOUBLE, y_pos = G_MAXDOUBLE;
  gboolean any = FALSE;

  for (guint i = 0; o->series != NULL && i < o->series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (o->series, i);
      guint n = bs_chart_series_get_n_points (s);
      if (n == 0)
        continue;

      gboolean smooth = draws_smoothed (o, s);
      for (int pass = 0; pass < 2; pass++)
        {
          gboolean smoothed_pass = pass == 1;
          if (smoothed_pass ? !smooth : (smooth && !o->show_raw))
            continue;
          double lo, hi, pos;
          if (!bs_chart_series_get_y_range (s, smoothed_pass, &lo, &hi, &pos))
            continue;
          any = TRUE;
          y_lo = MIN (y_lo, lo);
          y_hi = MAX (y_hi, hi);
          y_pos = MIN (y_pos, pos);
        }
      const double *xs = bs_chart_series_peek_x (s);
      x_lo = MIN (x_lo, xs[0]);
      x_hi = MAX (x_hi, xs[n - 1]);
    }
  if (!any)
    return FALSE;

  if (x_hi <= x_lo)
    {
      x_lo -= 1.0;
      x_hi += 1.0;
    }
  f->x0 = x_lo;
  f->x1 = x_hi;

  f->log_y = o->log_y && y_pos < G_MAXDOUBLE;
  if (f->log_y)
    {
      y_lo = log10 (y_pos);
      y_hi = log10 (MAX (y_hi, y_pos));
    }
  double range = y_hi - y_lo;
  double pad;
  if (range > 0.0)
    pad = range * 0.05;
  else if (f->log_y)
    pad = 0.5;
  else
    pad = y_lo != 0.0 ? fabs (y_lo) * 0.1 : 1.0;
  f->y0 = y_lo - pad;
  f->y1 = y_hi + pad;
  return TRUE;
}

static GArray *
y_ticks (const BsChartFrame *f, guint max_ticks, double *step)
{
  if (f->log_y)
    {
      *step = 0.0;
      return bs_chart_log_ticks (pow (10.0, f->y0), pow (10.0, f->y1), max_ticks);
    }
  return bs_chart_nice_ticks (f->y0, f->y1, max_ticks, 0.0, step);
}

static char *
y_tick_label (const BsChartFrame *f, double value, double step)
{
  return f->log_y ? bs_chart_format_value (value) : bs_chart_format_tick (value, step);
}

static void
trace_series (Render *r, BsChartSeries *s, gboolean smoothed)
{
  const BsChartFrame *f = r->frame;
  const double *xs = bs_chart_series_peek_x (s);
  const double *ys = bs_chart_series_peek_y (s, smoothed);
  guint n = bs_chart_decimate (s, smoothed, f->x0, f->x1, r->n_columns, r->indices);

  cairo_new_path (r->cr);
  for (guint i = 0; i < n; i++)
    {
      guint k = r->indices[i];
      double px = frame_x (f, xs[k]);
      double py = frame_y (f, ys[k]);
      if (i == 0)
        cairo_move_to (r->cr, px, py);
      else
        cairo_line_to (r->cr, px, py);
    }
}

/* Adds to the mask, with max, the coverage of rows [top, bottom) of one
 * column, times weight: an exact box filter vertically. */
static void
cover_column (guint8 *data, int stride, int rows, int column, double top, double bottom, double weight)
{
  int first = MAX ((int) floor (top), 0);
  int last = MIN ((int) ceil (bottom), rows);

  for (int row = first; row < last; row++)
    {
      double coverage = (MIN (row + 1.0, bottom) - MAX ((double) row, top)) * weight;
      guint8 value = (guint8) (CLAMP (coverage, 0.0, 1.0) * 255.0 + 0.5);
      guint8 *pixel = data + (gsize) row * stride + column;
      if (value > *pixel)
        *pixel = value;
    }
}

/* A curve with points a few pixels apart or closer. Stroking a noisy
 * polyline of thousands of short segments costs cairo tens of milliseconds
 * (its self-overlaps go through the tessellator), so each device-pixel
 * column gets instead the vertical extent the polyline takes in it (its
 * points' extremes and its values at the column's edges, from
 * bs_chart_column_ranges), widened by the line width, anti-aliased at the
 * ends, and spread to neighbouring columns for lines wider than a pixel so
 * that steep parts keep their width. One mask fill per curve: O(width). */
static void
draw_dense (Render *r, BsChartSeries *s, gboolean smoothed, const GdkRGBA *color, double alpha, double line_width)
{
  const BsChartFrame *f = r->frame;
  const graphene_rect_t *p = &f->plot;
  int stride = cairo_image_surface_get_stride (r->mask);
  int rows = cairo_image_surface_get_height (r->mask);
  int columns = cairo_image_surface_get_width (r->mask);
  double half = line_width * r->scale / 2.0;
  double y_range = f->y1 - f->y0;
  /* log axes: values <= 0 a little below the bottom edge */
  double log_floor = f->y0 - y_range * 4.0 / p->size.height;

  cairo_surface_flush (r->mask);
  guint8 *data = cairo_image_surface_get_data (r->mask);
  memset (data, 0, (gsize) stride * rows);

  bs_chart_column_ranges (s, smoothed, f->log_y, log_floor, f->x0, f->x1, r->n_columns, r->lo, r->hi);
  int spread = (int) floor (half + 0.5);
  for (int c = 0; c < columns && c < (int) r->n_columns; c++)
    {
      if (isnan (r->lo[c]))
        continue;
      /* device rows of the mask, y growing downwards */
      double top = ((p->origin.y - r->mask_top) + p->size.height * (1.0 - (r->hi[c] - f->y0) / y_range)) * r->scale;
      double bottom = ((p->origin.y - r->mask_top) + p->size.height * (1.0 - (r->lo[c] - f->y0) / y_range)) * r->scale;
      top = CLAMP (top - half, -1.0, rows + 1.0);
      bottom = CLAMP (bottom + half, -1.0, rows + 1.0);
      cover_column (data, stride, rows, c, top, bottom, 1.0);
      for (int d = 1; d <= spread; d++)
        {
          double weight = CLAMP (half + 0.5 - d, 0.0, 1.0);
          if (c - d >= 0)
            cover_column (data, stride, rows, c - d, top, bottom, weight);
          if (c + d < columns)
            cover_column (data, stride, rows, c + d, top, bottom, weight);
        }
    }
  cairo_surface_mark_dirty (r->mask);

  set_source (r->cr, color, alpha);
  cairo_mask_surface (r->cr, r->mask, p->origin.x, r->mask_top);
}

/* More points than one every few pixels? */
static gboolean
is_dense (Render *r, BsChartSeries *s)
{
  return (double) bs_chart_series_get_n_points (s) * 8.0 > r->n_columns;
}

/* Three ways to draw a curve, by cost and look:
 * - through the mask (draw_dense) when the points are close: O(width);
 * - an opaque line with points further apart than a device pixel: a stroke
 *   per segment, since the joins are hidden under the opaque line and
 *   small strokes spare cairo's tessellator (4x faster on noisy curves),
 *   and the mask's per-column spans show its vertices as beads;
 * - otherwise (faint or sparse lines, and SVG) one path. */
static void
draw_curve (Render *r, BsChartSeries *s, gboolean smoothed, const GdkRGBA *color, double alpha, double line_width)
{
  gboolean opaque = alpha >= 1.0 && color->alpha >= 1.0;
  guint n_points = bs_chart_series_get_n_points (s);

  if (r->mask != NULL && (opaque ? n_points > r->n_columns : is_dense (r, s)))
    {
      draw_dense (r, s, smoothed, color, alpha, line_width);
      return;
    }

  set_source (r->cr, color, alpha);
  cairo_set_line_width (r->cr, line_width);
  if (opaque && !r->o->vector)
    {
      const BsChartFrame *f = r->frame;
      const double *xs = bs_chart_series_peek_x (s);
      const double *ys = bs_chart_series_peek_y (s, smoothed);
      guint n = bs_chart_decimate (s, smoothed, f->x0, f->x1, r->n_columns, r->indices);
      double px = 0.0, py = 0.0;

      for (guint i = 0; i < n; i++)
        {
          guint k = r->indices[i];
          double qx = frame_x (f, xs[k]), qy = frame_y (f, ys[k]);
          if (i > 0)
            {
              cairo_move_to (r->cr, px, py);
              cairo_line_to (r->cr, qx, qy);
              cairo_stroke (r->cr);
            }
          px = qx;
          py = qy;
        }
      if (n == 1)
        {
          cairo_move_to (r->cr, px, py);
          cairo_close_path (r->cr);
          cairo_stroke (r->cr);
        }
      return;
    }
  trace_series (r, s, smoothed);
  cairo_stroke (r->cr);
}

static void
draw_points (Render *r, BsChartSeries *s, const GdkRGBA *color)
{
  const BsChartFrame *f = r->frame;
  const double *xs = bs_chart_series_peek_x (s);
  const double *ys = bs_chart_series_peek_y (s, FALSE);
  cairo_t *cr = r->cr;

  /* so many that the dots would merge: a line */
  if (is_dense (r, s))
    {
      draw_curve (r, s, FALSE, color, 1.0, 2.0);
      return;
    }

  /* A thin line between the dots shows the trend of sparse values. */
  draw_curve (r, s, FALSE, color, 0.45, 1.0);

  guint n = bs_chart_decimate (s, FALSE, f->x0, f->x1, r->n_columns, r->indices);
  for (guint i = 0; i < n; i++)
    {
      guint k = r->indices[i];
      cairo_new_sub_path (cr);
      cairo_arc (cr, frame_x (f, xs[k]), frame_y (f, ys[k]), 3.5, 0, 2 * G_PI);
    }
  set_source (cr, color, 1.0);
  cairo_fill (cr);
}

static void
draw_empty (Render *r, int width, int height)
{
  const BsChartRenderOptions *o = r->o;
  g_autoptr (PangoLayout) layout = pango_layout_new (o->pango);

  set_source (r->cr, &o->fg, 0.55);
  draw_text (r->cr, layout, _("No data yet"), width / 2.0, height / 2.0, 0.5, 0.5);
}

static void
draw_legend (Render *r, double x, double y)
{
  const BsChartRenderOptions *o = r->o;
  cairo_t *cr = r->cr;

  for (guint i = 0; i < o->series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (o->series, i);
      const char *name = bs_chart_series_get_name (s);
      GdkRGBA color;
      int w, h;

      if (name == NULL || *name == '\0')
        continue;
      bs_chart_color_to_rgba (bs_chart_series_get_color (s), o->dark, &color);
      text_size (r->small, name, &w, &h);
      set_source (cr, &color, 1.0);
      if (bs_chart_series_get_style (s) == BS_CHART_STYLE_POINTS)
        {
          cairo_arc (cr, x + 7.0, y + h / 2.0, 3.5, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      else
        {
          cairo_rectangle (cr, x, round (y + h / 2.0) - 1.0, 14.0, 2.0);
          cairo_fill (cr);
        }
      set_source (cr, &o->fg, 0.8);
      draw_text (cr, r->small, name, x + 20.0, y, 0.0, 0.0);
      x += 20.0 + w + 16.0;
    }
}

static void render (const BsChartRenderOptions *o, cairo_t *cr, int width, int height, BsChartFrame *f);

void
bs_chart_render (const BsChartRenderOptions *o, cairo_t *cr, int width, int height, BsChartFrame *frame)
{
  BsChartFrame local_frame;
  BsChartRenderOptions options = *o;

  if (options.pango != NULL)
    {
      render (&options, cr, width, height, frame != NULL ? frame : &local_frame);
      return;
    }

  /* no widget: the default font, hinted for this surface */
  PangoContext *context = pango_cairo_create_context (cr);
  g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans 10");
  pango_context_set_font_description (context, font);
  options.pango = context;
  render (&options, cr, width, height, frame != NULL ? frame : &local_frame);
  g_object_unref (context);
}

static void
render (const BsChartRenderOptions *o, cairo_t *cr, int width, int height, BsChartFrame *f)
{
  Render r = { .o = o, .cr = cr, .frame = f };
  const BsChartRenderOptions options = *o;

  memset (f, 0, sizeof *f);
  if (width <= 0 || height <= 0)
    return;

  cairo_save (cr);
  if (options.bg.alpha > 0.0)
    {
      set_source (cr, &options.bg, 1.0);
      cairo_paint (cr);
    }

  if (!compute_extent (&options, f))
    {
      draw_empty (&r, width, height);
      cairo_restore (cr);
      return;
    }
  f->has_data = TRUE;

  /* Tick labels a size smaller than the text around the chart. */
  g_autoptr (PangoFontDescription) small_font =
    pango_font_description_copy (pango_context_get_font_description (options.pango));
  int base_size = pango_font_description_get_size (small_font);
  if (base_size <= 0)
    base_size = 10 * PANGO_SCALE;
  if (pango_font_description_get_size_is_absolute (small_font))
    pango_font_description_set_absolute_size (small_font, base_size * 0.9);
  else
    pango_font_description_set_size (small_font, (int) (base_size * 0.9));
  g_autoptr (PangoLayout) small = pango_layout_new (options.pango);
  pango_layout_set_font_description (small, small_font);
  r.small = small;

  int text_w, text_h;
  text_size (small, "0", &text_w, &text_h);

  gboolean has_legend = FALSE;
  for (guint i = 0; i < options.series->len; i++)
    {
      const char *name = bs_chart_series_get_name (g_ptr_array_index (options.series, i));
      has_legend |= name != NULL && *name != '\0';
    }

  double top = PAD + (has_legend ? text_h + 8.0 : text_h / 2.0);
  double bottom = height - PAD - text_h - 4.0;
  double plot_h = MAX (bottom - top, 1.0);

  /* y ticks first: their labels' width decides where the plot starts */
  f->plot = GRAPHENE_RECT_INIT (0, top, 1, plot_h);
  double ystep;
  g_autoptr (GArray) yt = y_ticks (f, MAX (3, (guint) (plot_h / 32.0)), &ystep);
  int label_w = 0;
  for (guint i = 0; i < yt->len; i++)
    {
      g_autofree char *label = y_tick_label (f, g_array_index (yt, double, i), ystep);
      int w, h;
      text_size (small, label, &w, &h);
      label_w = MAX (label_w, w);
    }
  const char *x_label = options.x_label != NULL ? options.x_label : _("step");
  int x_label_w, x_label_h;
  text_size (small, x_label, &x_label_w, &x_label_h);

  double left = PAD + MAX (label_w, x_label_w) + TICK_GAP;
  double right = width - PAD - text_w * 2.0;
  f->plot = GRAPHENE_RECT_INIT (left, top, MAX (right - left, 1.0), plot_h);
  const graphene_rect_t *p = &f->plot;

  double xstep;
  g_autoptr (GArray) xt = bs_chart_nice_ticks (f->x0, f->x1, MAX (3, (guint) (p->size.width / 70.0)), 1.0, &xstep);

  /* grid */
  cairo_set_line_width (cr, 1.0);
  set_source (cr, &options.fg, 0.1);
  for (guint i = 0; i < yt->len; i++)
    {
      double py = round (frame_y (f, g_array_index (yt, double, i))) + 0.5;
      if (py < p->origin.y - 0.5 || py > p->origin.y + p->size.height + 0.5)
        continue;
      cairo_move_to (cr, p->origin.x, py);
      cairo_line_to (cr, p->origin.x + p->size.width, py);
    }
  for (guint i = 0; i < xt->len; i++)
    {
      double px = round (frame_x (f, g_array_index (xt, double, i))) + 0.5;
      cairo_move_to (cr, px, p->origin.y);
      cairo_line_to (cr, px, p->origin.y + p->size.height);
    }
  cairo_stroke (cr);
  set_source (cr, &options.fg, 0.25);
  cairo_move_to (cr, p->origin.x, round (p->origin.y + p->size.height) + 0.5);
  cairo_line_to (cr, p->origin.x + p->size.width, round (p->origin.y + p->size.height) + 0.5);
  cairo_stroke (cr);

  /* labels */
  set_source (cr, &options.fg, 0.55);
  for (guint i = 0; i < yt->len; i++)
    {
      double v = g_array_index (yt, double, i);
      double py = frame_y (f, v);
      if (py < p->origin.y - 0.5 || py > p->origin.y + p->size.height + 0.5)
        continue;
      g_autofree char *label = y_tick_label (f, v, ystep);
      draw_text (cr, small, label, left - TICK_GAP, py, 1.0, 0.5);
    }
  double label_y = p->origin.y + p->size.height + 4.0;
  for (guint i = 0; i < xt->len; i++)
    {
      double v = g_array_index (xt, double, i);
      g_autofree char *label = bs_chart_format_tick (v, xstep);
      int w, h;
      text_size (small, label, &w, &h);
      double px = CLAMP (frame_x (f, v), p->origin.x + w / 2.0, width - PAD - w / 2.0);
      draw_text (cr, small, label, px, label_y, 0.5, 0.0);
    }
  draw_text (cr, small, x_label, left - TICK_GAP, label_y, 1.0, 0.0);

  if (has_legend)
    draw_legend (&r, left, PAD);

  /* the series, clipped to the plot (with room for dots on its edges) */
  r.scale = MAX (options.scale, 1);
  r.n_columns = (guint) ceil (p->size.width * r.scale);
  g_autofree guint *indices = g_new (guint, 2 * (gsize) r.n_columns);
  g_autofree double *ranges = g_new (double, 2 * (gsize) r.n_columns);
  r.indices = indices;
  r.lo = ranges;
  r.hi = ranges + r.n_columns;
  if (!options.vector)
    {
      const double margin = 5.0;
      r.mask_top = p->origin.y - margin;
      r.mask = cairo_image_surface_create (CAIRO_FORMAT_A8, (int) r.n_columns,
                                           (int) ceil ((p->size.height + 2 * margin) * r.scale));
      cairo_surface_set_device_scale (r.mask, r.scale, r.scale);
    }

  cairo_save (cr);
  cairo_rectangle (cr, p->origin.x - 5, p->origin.y - 5, p->size.width + 10, p->size.height + 10);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* faint raw values under every solid line */
  for (guint i = 0; i < options.series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (options.series, i);
      GdkRGBA color;
      if (!draws_smoothed (&options, s) || !options.show_raw)
        continue;
      bs_chart_color_to_rgba (bs_chart_series_get_color (s), options.dark, &color);
      draw_curve (&r, s, FALSE, &color, options.dark ? 0.22 : 0.25, 1.0);
    }
  for (guint i = 0; i < options.series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (options.series, i);
      GdkRGBA color;
      if (bs_chart_series_get_style (s) != BS_CHART_STYLE_LINE)
        continue;
      bs_chart_color_to_rgba (bs_chart_series_get_color (s), options.dark, &color);
      draw_curve (&r, s, draws_smoothed (&options, s), &color, 1.0, 2.0);
    }
  for (guint i = 0; i < options.series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (options.series, i);
      GdkRGBA color;
      if (bs_chart_series_get_style (s) != BS_CHART_STYLE_POINTS)
        continue;
      bs_chart_color_to_rgba (bs_chart_series_get_color (s), options.dark, &color);
      draw_points (&r, s, &color);
    }
  cairo_restore (cr);
  cairo_restore (cr);
  g_clear_pointer (&r.mask, cairo_surface_destroy);
}

/* --- export --- */

typedef struct
{
  BsAtomicFile *file;
  GError *error;
} StreamClosure;

static cairo_status_t
write_to_atomic_file (void *data, const unsigned char *bytes, unsigned int length)
{
  StreamClosure *closure = data;

  if (closure->error != NULL)
    return CAIRO_STATUS_WRITE_ERROR;
  if (!bs_atomic_file_write (closure->file, bytes, length, &closure->error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
check_size (const char *path, int width, int height, GError **error)
{
  /* cairo's limit for image surfaces */
  if (width >= 1 && height >= 1 && width <= 32767 && height <= 32767)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               /* Translators: %d×%d is the image size in pixels, %s a file path */
               _("Cannot export a chart of %d×%d pixels to %s: each side must be 1 to 32767 pixels"),
               width, height, path);
  return FALSE;
}

/* The light look, whatever the app's: exports end up in documents. The
 * caller unrefs out->pango. */
static void
export_options (const BsChartRenderOptions *o, cairo_t *cr, BsChartRenderOptions *out)
{
  *out = *o;
  gdk_rgba_parse (&out->fg, "rgba(0,0,0,0.8)");
  gdk_rgba_parse (&out->bg, "#ffffff");
  out->dark = FALSE;
  out->scale = 1;

  PangoContext *context = pango_cairo_create_context (cr);
  if (o->pango != NULL)
    pango_context_set_font_description (context, pango_context_get_font_description (o->pango));
  else
    {
      g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans 10");
      pango_context_set_font_description (context, font);
    }
  out->pango = context;
}

static gboolean
finish_export (const char *path, cairo_status_t status, StreamClosure *closure, GError **error)
{
  if (closure->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&closure->error));
      return FALSE;
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   /* Translators: the first %s is a file path, the second cairo's reason */
                   _("Could not draw the chart into %s: %s"), path, cairo_status_to_string (status));
      return FALSE;
    }
  return bs_atomic_file_commit (closure->file, error);
}

gboolean
bs_chart_render_to_png (const BsChartRenderOptions *o, const char *path, int width, int height, GError **error)
{
  g_return_val_if_fail (o != NULL && path != NULL, FALSE);

  if (!check_size (path, width, height, error))
    return FALSE;
  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  BsChartRenderOptions options;
  export_options (o, cr, &options);
  bs_chart_render (&options, cr, width, height, NULL);
  g_object_unref (options.pango);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);

  StreamClosure closure = { .file = file };
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream (surface, write_to_atomic_file, &closure);
  cairo_surface_destroy (surface);
  return finish_export (path, status, &closure, error);
}

gboolean
bs_chart_render_to_svg (const BsChartRenderOptions *o, const char *path, int width, int height, GError **error)
{
  g_return_val_if_fail (o != NULL && path != NULL, FALSE);

  if (!check_size (path, width, height, error))
    return FALSE;
  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;

  StreamClosure closure = { .file = file };
  cairo_surface_t *surface = cairo_svg_surface_create_for_stream (write_to_atomic_file, &closure, width, height);
  cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
  cairo_t *cr = cairo_create (surface);
  BsChartRenderOptions options;
  export_options (o, cr, &options);
  options.vector = TRUE;
  bs_chart_render (&options, cr, width, height, NULL);
  g_object_unref (options.pango);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  /* the SVG is written out when the surface finishes */
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  return finish_export (path, status, &closure, error);
}

/* --- the widget --- */

/* The accessible label follows the data at most this often... */
#define A11Y_EVERY_N_APPENDS 100
/* ...or sooner when the last value moved by this part of the y range... */
#define A11Y_VISIBLE_CHANGE 0.01
/* ...and catches up this long after the last change. */
#define A11Y_FLUSH_MS 1000

struct _BsChart
{
  GtkWidget parent_instance;

  GPtrArray *series;
  char *title;
  char *x_label;
  double smoothing;
  gboolean show_raw;
  gboolean raw_only;
  gboolean log_y;

  /* the last frame without the hover read-out, and where it put things */
  GskRenderNode *cache;
  int cache_width;
  int cache_height;
  int cache_scale;
  GdkRGBA cache_fg;
  BsChartFrame frame;

  gboolean hovering;
  double hover_x;
  double hover_y;

  guint a11y_appends;
  double a11y_value;
  guint a11y_flush_id;
};

G_DEFINE_FINAL_TYPE (BsChart, bs_chart, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_TITLE,
  PROP_X_LABEL,
  PROP_SMOOTHING,
  PROP_SHOW_RAW,
  PROP_RAW_ONLY,
  PROP_LOG_Y,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
invalidate (BsChart *self)
{
  g_clear_pointer (&self->cache, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
is_dark (const GdkRGBA *fg)
{
  return 0.2126 * fg->red + 0.7152 * fg->green + 0.0722 * fg->blue > 0.5;
}

static void
fill_options (BsChart *self, const GdkRGBA *fg, BsChartRenderOptions *o)
{
  *o = (BsChartRenderOptions) {
    .series = self->series,
    .smoothing = self->smoothing,
    .show_raw = self->show_raw,
    .raw_only = self->raw_only,
    .log_y = self->log_y,
    .x_label = self->x_label,
    .fg = *fg,
    .dark = is_dark (fg),
    .pango = gtk_widget_get_pango_context (GTK_WIDGET (self)),
    .scale = gtk_widget_get_scale_factor (GTK_WIDGET (self)),
  };
}

/* The value a series shows at index k: what its solid line is drawn from. */
static double
shown_value (BsChart *self, BsChartSeries *s, guint k)
{
  gboolean smoothed = bs_chart_series_get_style (s) == BS_CHART_STYLE_LINE
                      && self->smoothing > 0.0
                      && !self->raw_only;
  return bs_chart_series_peek_y (s, smoothed)[k];
}

/* --- accessibility --- */

static void
update_accessible_label (BsChart *self)
{
  g_autoptr (GString) label = g_string_new (NULL);
  BsChartSeries *first = NULL;

  for (guint i = 0; i < self->series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (self->series, i);
      guint n = bs_chart_series_get_n_points (s);
      const char *name = bs_chart_series_get_name (s);

      if (n == 0)
        continue;
      if (first == NULL)
        first = s;
      if (name == NULL || *name == '\0')
        name = self->title != NULL ? self->title : _("Chart");

      double x;
      bs_chart_series_get_point (s, n - 1, &x, NULL);
      g_autofree char *count = g_strdup_printf ("%'u", n);
      g_autofree char *value = bs_chart_format_value (shown_value (self, s, n - 1));
      if (label->len > 0)
        g_string_append (label, "; ");
      /* Translators: a chart's curve, as in "Training loss, 1,234 steps, last 0.312" */
      g_string_append_printf (label, g_dngettext (GETTEXT_PACKAGE, "%s, %s step, last %s",
                                                  "%s, %s steps, last %s", n),
                              name, count, value);
    }

  if (label->len == 0)
    /* Translators: %s is the chart's title, as in "Training loss, no data yet" */
    g_string_printf (label, _("%s, no data yet"), self->title != NULL ? self->title : _("Chart"));
  else if (self->title != NULL && self->series->len > 1)
    {
      /* Translators: a chart's title, then its curves */
      g_autofree char *curves = g_string_free (g_steal_pointer (&label), FALSE);
      label = g_string_new (NULL);
      g_string_printf (label, _("%s: %s"), self->title, curves);
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, label->str, -1);

  self->a11y_appends = 0;
  self->a11y_value = NAN;
  if (first != NULL)
    self->a11y_value = shown_value (self, first, bs_chart_series_get_n_points (first) - 1);
}

static gboolean
a11y_flush_cb (gpointer data)
{
  BsChart *self = data;

  self->a11y_flush_id = 0;
  update_accessible_label (self);
  return G_SOURCE_REMOVE;
}

static void
a11y_data_changed (BsChart *self, BsChartSeries *series)
{
  self->a11y_appends++;

  gboolean due = self->a11y_appends >= A11Y_EVERY_N_APPENDS || isnan (self->a11y_value);
  guint n = bs_chart_series_get_n_points (series);
  double lo, hi;
  if (!due && n > 0 && series == g_ptr_array_index (self->series, 0)
      && bs_chart_series_get_y_range (series, FALSE, &lo, &hi, NULL))
    due = fabs (shown_value (self, series, n - 1) - self->a11y_value) > A11Y_VISIBLE_CHANGE * (hi - lo);

  if (due)
    {
      g_clear_handle_id (&self->a11y_flush_id, g_source_remove);
      update_accessible_label (self);
    }
  else if (self->a11y_flush_id == 0)
    self->a11y_flush_id = g_timeout_add (A11Y_FLUSH_MS, a11y_flush_cb, self);
}

/* --- series --- */

static void
series_changed_cb (BsChartSeries *series, BsChart *self)
{
  invalidate (self);
  a11y_data_changed (self, series);
}

void
bs_chart_add_series (BsChart *self, BsChartSeries *series)
{
  g_return_if_fail (BS_IS_CHART (self));
  g_return_if_fail (BS_IS_CHART_SERIES (series));

  g_ptr_array_add (self->series, g_object_ref (series));
  bs_chart_series_set_smoothing (series, self->smoothing);
  g_signal_connect_object (series, "changed", G_CALLBACK (series_changed_cb), self, G_CONNECT_DEFAULT);
  update_accessible_label (self);
  invalidate (self);
}

static void
disconnect_series (BsChart *self, BsChartSeries *series)
{
  g_signal_handlers_disconnect_by_func (series, series_changed_cb, self);
}

void
bs_chart_remove_series (BsChart *self, BsChartSeries *series)
{
  g_return_if_fail (BS_IS_CHART (self));
  g_return_if_fail (BS_IS_CHART_SERIES (series));

  guint index;
  if (!g_ptr_array_find (self->series, series, &index))
    return;
  disconnect_series (self, series);
  g_ptr_array_remove_index (self->series, index);
  update_accessible_label (self);
  invalidate (self);
}

void
bs_chart_remove_all (BsChart *self)
{
  g_return_if_fail (BS_IS_CHART (self));

  for (guint i = 0; i < self->series->len; i++)
    disconnect_series (self, g_ptr_array_index (self->series, i));
  g_ptr_array_set_size (self->series, 0);
  update_accessible_label (self);
  invalidate (self);
}

guint
bs_chart_get_n_series (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), 0);

  return self->series->len;
}

BsChartSeries *
bs_chart_get_series (BsChart *self, guint index)
{
  g_return_val_if_fail (BS_IS_CHART (self), NULL);
  g_return_val_if_fail (index < self->series->len, NULL);

  return g_ptr_array_index (self->series, index);
}

/* --- drawing --- */

static void
lookup_color (GtkStyleContext *context, const char *name, const char *fallback, GdkRGBA *rgba)
{
  if (!gtk_style_context_lookup_color (context, name, rgba))
    gdk_rgba_parse (rgba, fallback);
}

static void
rounded_rectangle (cairo_t *cr, double x, double y, double w, double h, double radius)
{
  cairo_new_path (cr);
  cairo_arc (cr, x + w - radius, y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, x + w - radius, y + h - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, x + radius, y + h - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, x + radius, y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* The crosshair, a dot on each curve and a read-out box near the pointer. */
static void
snapshot_hover (BsChart *self, GtkSnapshot *snapshot, const GdkRGBA *fg)
{
  const BsChartFrame *f = &self->frame;
  const graphene_rect_t *p = &f->plot;
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  gboolean dark = is_dark (fg);

  if (self->hover_x < p->origin.x - 8 || self->hover_x > p->origin.x + p->size.width + 8
      || self->hover_y < p->origin.y - 8 || self->hover_y > p->origin.y + p->size.height + 8)
    return;

  double x = f->x0 + (self->hover_x - p->origin.x) / p->size.width * (f->x1 - f->x0);

  /* The step under the pointer: the nearest point of any curve, lines
   * first, since points (validation) are sparse. */
  double step = NAN;
  for (int pass = 0; pass < 2 && isnan (step); pass++)
    for (guint i = 0; i < self->series->len; i++)
      {
        BsChartSeries *s = g_ptr_array_index (self->series, i);
        if ((bs_chart_series_get_style (s) == BS_CHART_STYLE_LINE) != (pass == 0))
          continue;
        guint k = bs_chart_series_find_nearest (s, x);
        double sx;
        if (k != G_MAXUINT && bs_chart_series_get_point (s, k, &sx, NULL)
            && (isnan (step) || fabs (sx - x) < fabs (step - x)))
          step = sx;
      }
  if (isnan (step))
    return;

  double cx = round (frame_x (f, step));
  GdkRGBA line = *fg;
  line.alpha *= 0.35;
  gtk_snapshot_append_color (snapshot, &line, &GRAPHENE_RECT_INIT (cx, p->origin.y, 1, p->size.height));

  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));
  GdkRGBA box_bg, box_fg, dot_ring;
  lookup_color (context, "popover_bg_color", dark ? "#383838" : "#ffffff", &box_bg);
  lookup_color (context, "popover_fg_color", dark ? "#ffffff" : "rgba(0,0,0,0.8)", &box_fg);
  lookup_color (context, "view_bg_color", dark ? "#1e1e1e" : "#ffffff", &dot_ring);

  /* the read-out's rows */
  PangoLayout *header = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  g_autofree char *step_text = format_step (step);
  /* Translators: the hover read-out's title, as in "Step 1,234" */
  g_autofree char *header_text = g_strdup_printf (_("Step %s"), step_text);
  g_autofree char *header_markup = g_markup_printf_escaped ("<b>%s</b>", header_text);
  pango_layout_set_markup (header, header_markup, -1);

  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GArray) colors = g_array_new (FALSE, FALSE, sizeof (GdkRGBA));
  int box_w, box_h, row_h = 0, name_w = 0, value_w = 0;
  pango_layout_get_pixel_size (header, &box_w, &box_h);

  double dots_top = G_MAXDOUBLE, dots_bottom = -G_MAXDOUBLE;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  for (guint i = 0; i < self->series->len; i++)
    {
      BsChartSeries *s = g_ptr_array_index (self->series, i);
      guint k = bs_chart_series_find_nearest (s, x);
      double sx;
      GdkRGBA color;

      if (k == G_MAXUINT)
        continue;
      bs_chart_series_get_point (s, k, &sx, NULL);
      double v = shown_value (self, s, k);
      bs_chart_color_to_rgba (bs_chart_series_get_color (s), dark, &color);

      if (isfinite (v))
        {
          double py = frame_y (f, v);
          if (py >= p->origin.y - 1 && py <= p->origin.y + p->size.height + 1)
            {
              dots_top = MIN (dots_top, py);
              dots_bottom = MAX (dots_bottom, py);
              cairo_arc (cr, frame_x (f, sx), py, 4.5, 0, 2 * G_PI);
              set_source (cr, &dot_ring, 1.0);
              cairo_fill_preserve (cr);
              cairo_new_path (cr);
              cairo_arc (cr, frame_x (f, sx), py, 3.0, 0, 2 * G_PI);
              set_source (cr, &color, 1.0);
              cairo_fill (cr);
            }
        }

      const char *name = bs_chart_series_get_name (s);
      PangoLayout *name_layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), name != NULL ? name : "");
      PangoLayout *value_layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
      g_autofree char *value_text = bs_chart_format_value (v);
      g_autofree char *markup = NULL;
      if (sx != step)
        {
          g_autofree char *at = format_step (sx);
          /* Translators: a value in the hover read-out that belongs to
           * another step than the one under the pointer */
          g_autofree char *where = g_strdup_printf (_("at %s"), at);
          markup = g_markup_printf_escaped ("<span alpha=\"55%%\">%s</span>  %s", where, value_text);
        }
      else
        markup = g_markup_escape_text (value_text, -1);
      pango_layout_set_markup (value_layout, markup, -1);
      pango_layout_set_alignment (value_layout, PANGO_ALIGN_RIGHT);

      int w, h;
      pango_layout_get_pixel_size (name_layout, &w, &h);
      name_w = MAX (name_w, w);
      row_h = MAX (row_h, h);
      pango_layout_get_pixel_size (value_layout, &w, &h);
      value_w = MAX (value_w, w);
      g_ptr_array_add (names, name_layout);
      g_ptr_array_add (values, value_layout);
      g_array_append_val (colors, color);
    }

  const double pad = 8.0, dot = 14.0, gap = 16.0, row_gap = 2.0;
  double content_w = MAX ((double) box_w, dot + name_w + gap + value_w);
  double bw = content_w + 2 * pad;
  double bh = box_h + 4.0 + names->len * (row_h + row_gap) - row_gap + 2 * pad;
  double bx = cx + 12.0;
  if (bx + bw > width - 2)
    bx = cx - 12.0 - bw;
  bx = MAX (bx, 2.0);
  /* at the top or the bottom of the plot, whichever hides fewer of the
   * hovered points */
  double by_top = p->origin.y + 4.0;
  double by_bottom = p->origin.y + p->size.height - bh - 4.0;
  double overlap_top = MAX (0.0, MIN (by_top + bh, dots_bottom + 6.0) - MAX (by_top, dots_top - 6.0));
  double overlap_bottom = MAX (0.0, MIN (by_bottom + bh, dots_bottom + 6.0) - MAX (by_bottom, dots_top - 6.0));
  double by = overlap_bottom < overlap_top ? by_bottom : by_top;
  by = CLAMP (by, 2.0, MAX (2.0, height - bh - 2.0));

  /* a soft shadow, the box, its border */
  const double radius = 8.0;
  for (int i = 3; i >= 1; i--)
    {
      rounded_rectangle (cr, bx - i + 1, by - i + 2, bw + 2 * i - 2, bh + 2 * i - 2, radius + i - 1);
      cairo_set_source_rgba (cr, 0, 0, 0, dark ? 0.12 : 0.04);
      cairo_fill (cr);
    }
  rounded_rectangle (cr, bx, by, bw, bh, radius);
  set_source (cr, &box_bg, 1.0);
  cairo_fill_preserve (cr);
  set_source (cr, fg, 0.15);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);

  set_source (cr, &box_fg, 1.0);
  cairo_move_to (cr, round (bx + pad), round (by + pad));
  pango_cairo_show_layout (cr, header);
  double row_y = by + pad + box_h + 4.0;
  for (guint i = 0; i < names->len; i++)
    {
      GdkRGBA *color = &g_array_index (colors, GdkRGBA, i);
      set_source (cr, color, 1.0);
      cairo_new_path (cr);
      cairo_arc (cr, bx + pad + 4.0, row_y + row_h / 2.0, 4.0, 0, 2 * G_PI);
      cairo_fill (cr);

      set_source (cr, &box_fg, 0.8);
      cairo_move_to (cr, round (bx + pad + dot), round (row_y));
      pango_cairo_show_layout (cr, g_ptr_array_index (names, i));

      int w, h;
      PangoLayout *value_layout = g_ptr_array_index (values, i);
      pango_layout_get_pixel_size (value_layout, &w, &h);
      set_source (cr, &box_fg, 1.0);
      cairo_move_to (cr, round (bx + bw - pad - w), round (row_y));
      pango_cairo_show_layout (cr, value_layout);
      row_y += row_h + row_gap;
    }
  cairo_destroy (cr);
  g_object_unref (header);
}

static void
bs_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  BsChart *self = BS_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  GdkRGBA fg;

  if (width <= 0 || height <= 0)
    return;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  if (self->cache == NULL || self->cache_width != width || self->cache_height != height
      || self->cache_scale != scale || !gdk_rgba_equal (&self->cache_fg, &fg))
    {
      BsChartRenderOptions options;
      GtkSnapshot *frame_snapshot = gtk_snapshot_new ();
      cairo_t *cr = gtk_snapshot_append_cairo (frame_snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

      fill_options (self, &fg, &options);
      bs_chart_render (&options, cr, width, height, &self->frame);
      cairo_destroy (cr);

      g_clear_pointer (&self->cache, gsk_render_node_unref);
      self->cache = gtk_snapshot_free_to_node (frame_snapshot);
      self->cache_width = width;
      self->cache_height = height;
      self->cache_scale = scale;
      self->cache_fg = fg;
    }
  if (self->cache != NULL)
    gtk_snapshot_append_node (snapshot, self->cache);

  if (self->hovering && self->frame.has_data)
    snapshot_hover (self, snapshot, &fg);
}

static void
bs_chart_measure (GtkWidget *widget,
                  GtkOrientation orientation,
                  int for_size,
                  int *minimum,
                  int *natural,
                  int *minimum_baseline,
                  int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 160;
      *natural = 480;
    }
  else
    {
      *minimum = 120;
      *natural = 240;
    }
}

static void
bs_chart_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (bs_chart_parent_class)->css_changed (widget, change);

  /* fonts and named colours may have changed with the theme */
  invalidate (BS_CHART (widget));
}

static void
motion_cb (GtkEventControllerMotion *controller, double x, double y, BsChart *self)
{
  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *controller, BsChart *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
bs_chart_set_hover (BsChart *self, double x, double y)
{
  g_return_if_fail (BS_IS_CHART (self));

  self->hovering = !isnan (x);
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* --- export from the widget --- */

gboolean
bs_chart_export_png (BsChart *self, const char *path, int width, int height, GError **error)
{
  g_return_val_if_fail (BS_IS_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  BsChartRenderOptions options;
  GdkRGBA fg = { 0, 0, 0, 0.8 };
  fill_options (self, &fg, &options);
  return bs_chart_render_to_png (&options, path, width, height, error);
}

gboolean
bs_chart_export_svg (BsChart *self, const char *path, int width, int height, GError **error)
{
  g_return_val_if_fail (BS_IS_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  BsChartRenderOptions options;
  GdkRGBA fg = { 0, 0, 0, 0.8 };
  fill_options (self, &fg, &options);
  return bs_chart_render_to_svg (&options, path, width, height, error);
}

/* --- properties --- */

const char *
bs_chart_get_title (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), NULL);

  return self->title;
}

void
bs_chart_set_title (BsChart *self, const char *title)
{
  g_return_if_fail (BS_IS_CHART (self));

  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  update_accessible_label (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
bs_chart_get_x_label (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), NULL);

  return self->x_label;
}

void
bs_chart_set_x_label (BsChart *self, const char *x_label)
{
  g_return_if_fail (BS_IS_CHART (self));

  if (g_strcmp0 (self->x_label, x_label) == 0)
    return;
  g_free (self->x_label);
  self->x_label = g_strdup (x_label);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_LABEL]);
}

double
bs_chart_get_smoothing (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), 0.0);

  return self->smoothing;
}

void
bs_chart_set_smoothing (BsChart *self, double smoothing)
{
  g_return_if_fail (BS_IS_CHART (self));

  smoothing = CLAMP (smoothing, 0.0, 0.99);
  if (self->smoothing == smoothing)
    return;
  self->smoothing = smoothing;
  /* each series re-smooths in O(n) and emits ::changed, which redraws */
  for (guint i = 0; i < self->series->len; i++)
    bs_chart_series_set_smoothing (g_ptr_array_index (self->series, i), smoothing);
  update_accessible_label (self);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTHING]);
}

gboolean
bs_chart_get_show_raw (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), FALSE);

  return self->show_raw;
}

void
bs_chart_set_show_raw (BsChart *self, gboolean show_raw)
{
  g_return_if_fail (BS_IS_CHART (self));

  show_raw = !!show_raw;
  if (self->show_raw == show_raw)
    return;
  self->show_raw = show_raw;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_RAW]);
}

gboolean
bs_chart_get_raw_only (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), FALSE);

  return self->raw_only;
}

void
bs_chart_set_raw_only (BsChart *self, gboolean raw_only)
{
  g_return_if_fail (BS_IS_CHART (self));

  raw_only = !!raw_only;
  if (self->raw_only == raw_only)
    return;
  self->raw_only = raw_only;
  update_accessible_label (self);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RAW_ONLY]);
}

gboolean
bs_chart_get_log_y (BsChart *self)
{
  g_return_val_if_fail (BS_IS_CHART (self), FALSE);

  return self->log_y;
}

void
bs_chart_set_log_y (BsChart *self, gboolean log_y)
{
  g_return_if_fail (BS_IS_CHART (self));

  log_y = !!log_y;
  if (self->log_y == log_y)
    return;
  self->log_y = log_y;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_Y]);
}

GtkWidget *
bs_chart_new (void)
{
  return g_object_new (BS_TYPE_CHART, NULL);
}

static void
bs_chart_dispose (GObject *object)
{
  BsChart *self = BS_CHART (object);

  g_clear_handle_id (&self->a11y_flush_id, g_source_remove);
  for (guint i = 0; self->series != NULL && i < self->series->len; i++)
    disconnect_series (self, g_ptr_array_index (self->series, i));
  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->cache, gsk_render_node_unref);

  G_OBJECT_CLASS (bs_chart_parent_class)->dispose (object);
}

static void
bs_chart_finalize (GObject *object)
{
  BsChart *self = BS_CHART (object);

  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->x_label, g_free);

  G_OBJECT_CLASS (bs_chart_parent_class)->finalize (object);
}

static void
bs_chart_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BsChart *self = BS_CHART (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_X_LABEL:
      g_value_set_string (value, self->x_label);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_SHOW_RAW:
      g_value_set_boolean (value, self->show_raw);
      break;
    case PROP_RAW_ONLY:
      g_value_set_boolean (value, self->raw_only);
      break;
    case PROP_LOG_Y:
      g_value_set_boolean (value, self->log_y);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_chart_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BsChart *self = BS_CHART (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      bs_chart_set_title (self, g_value_get_string (value));
      break;
    case PROP_X_LABEL:
      bs_chart_set_x_label (self, g_value_get_string (value));
      break;
    case PROP_SMOOTHING:
      bs_chart_set_smoothing (self, g_value_get_double (value));
      break;
    case PROP_SHOW_RAW:
      bs_chart_set_show_raw (self, g_value_get_boolean (value));
      break;
    case PROP_RAW_ONLY:
      bs_chart_set_raw_only (self, g_value_get_boolean (value));
      break;
    case PROP_LOG_Y:
      bs_chart_set_log_y (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_chart_class_init (BsChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_chart_dispose;
  object_class->finalize = bs_chart_finalize;
  object_class->get_property = bs_chart_get_property;
  object_class->set_property = bs_chart_set_property;

  widget_class->snapshot = bs_chart_snapshot;
  widget_class->measure = bs_chart_measure;
  widget_class->css_changed = bs_chart_css_changed;

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_X_LABEL] =
    g_param_spec_string ("x-label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SMOOTHING] =
    g_param_spec_double ("smoothing", NULL, NULL, 0.0, 0.99, 0.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_RAW] =
    g_param_spec_boolean ("show-raw", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RAW_ONLY] =
    g_param_spec_boolean ("raw-only", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOG_Y] =
    g_param_spec_boolean ("log-y", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "bs-chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bs_chart_init (BsChart *self)
{
  self->series = g_ptr_array_new_with_free_func (g_object_unref);
  self->show_raw = TRUE;
  self->a11y_value = NAN;

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  update_accessible_label (self);
}
