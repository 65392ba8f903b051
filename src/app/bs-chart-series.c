/* bs-chart-series.c: the points of one curve, their smoothing and a min/max
 * pyramid, so that a frame of a 100k-point curve costs O(width log n). */
#include "config.h"

#include "bs-chart-private.h"
#include "bs-chart-series.h"

#include <math.h>

G_DEFINE_ENUM_TYPE (BsChartColor, bs_chart_color,
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_BLUE, "blue"),
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_GREEN, "green"),
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_ORANGE, "orange"),
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_PURPLE, "purple"),
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_RED, "red"),
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_YELLOW, "yellow"),
  G_DEFINE_ENUM_VALUE (BS_CHART_COLOR_BROWN, "brown"))

G_DEFINE_ENUM_TYPE (BsChartStyle, bs_chart_style,
  G_DEFINE_ENUM_VALUE (BS_CHART_STYLE_LINE, "line"),
  G_DEFINE_ENUM_VALUE (BS_CHART_STYLE_POINTS, "points"))

/* Each pyramid level holds, per block of FANOUT entries of the level below,
 * the index (into the values) of that block's smallest and largest value.
 * Memory is 2/7 of the values' count in indices; a range query touches at
 * most 2 * FANOUT entries per level. */
#define FANOUT 8

typedef struct
{
  GArray *values;     /* double */
  GPtrArray *argmin;  /* level l + 1 at l: GArray of guint */
  GPtrArray *argmax;
  double min;
  double max;
  double min_positive;
  gboolean has_finite;
} BsSignal;

struct _BsChartSeries
{
  GObject parent_instance;

  char *name;
  BsChartColor color;
  BsChartStyle style;

  GArray *xs;         /* double, ascending */
  BsSignal raw;
  BsSignal smoothed;  /* maintained only while smoothing > 0 */

  double smoothing;
  /* The EMA's running state, see ema_next () */
  double ema_last;
  double ema_weight_pow;
};

G_DEFINE_FINAL_TYPE (BsChartSeries, bs_chart_series, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_COLOR,
  PROP_STYLE,
  PROP_SMOOTHING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- signals: values with their stats and pyramid --- */

static void
signal_init (BsSignal *s)
{
  s->values = g_array_new (FALSE, FALSE, sizeof (double));
  s->argmin = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  s->argmax = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  s->min = G_MAXDOUBLE;
  s->max = -G_MAXDOUBLE;
  s->min_positive = G_MAXDOUBLE;
  s->has_finite = FALSE;
}

static void
signal_destroy (BsSignal *s)
{
  g_clear_pointer (&s->values, g_array_unref);
  g_clear_pointer (&s->argmin, g_ptr_array_unref);
  g_clear_pointer (&s->argmax, g_ptr_array_unref);
}

static void
signal_reset (BsSignal *s)
{
  signal_destroy (s);
  signal_init (s);
}

/* Non-finite values lose to any finite one; ties go to the earlier index,
 * so that the answer does not depend on the order of the scan. */
static inline guint
pick_min (const double *v, guint a, guint b)
{
  if (!isfinite (v[b]))
    return a;
  if (!isfinite (v[a]))
    return b;
  return (v[b] < v[a] || (v[b] == v[a] && b < a)) ? b : a;
}

static inline guint
pick_max (const double *v, guint a, guint b)
{
  if (!isfinite (v[b]))
    return a;
  if (!isfinite (v[a]))
    return b;
  return (v[b] > v[a] || (v[b] == v[a] && b < a)) ? b : a;
}

/* Entry e of a level, as an index into the values (level 0 is the values). */
static inline guint
level_entry (GArray *level, guint e)
{
  return level != NULL ? g_array_index (level, guint, e) : e;
}

static void
signal_push (BsSignal *s, double v)
{
  g_array_append_val (s->values, v);
  if (isfinite (v))
    {
      s->has_finite = TRUE;
      s->min = MIN (s->min, v);
      s->max = MAX (s->max, v);
      if (v > 0)
        s->min_positive = MIN (s->min_positive, v);
    }

  /* A completed block at one level adds an entry to the next, which may
   * complete a block there: amortised O(1) per value. */
  const double *values = (const double *) (void *) s->values->data;
  guint n = s->values->len;
  for (guint level = 0; n % FANOUT == 0; level++)
    {
      GArray *lmin = level > 0 ? g_ptr_array_index (s->argmin, level - 1) : NULL;
      GArray *lmax = level > 0 ? g_ptr_array_index (s->argmax, level - 1) : NULL;
      if (level >= s->argmin->len)
        {
          g_ptr_array_add (s->argmin, g_array_new (FALSE, FALSE, sizeof (guint)));
          g_ptr_array_add (s->argmax, g_array_new (FALSE, FALSE, sizeof (guint)));
        }
      guint bmin = level_entry (lmin, n - FANOUT);
      guint bmax = level_entry (lmax, n - FANOUT);
      for (guint e = n - FANOUT + 1; e < n; e++)
        {
          bmin = pick_min (values, bmin, level_entry (lmin, e));
          bmax = pick_max (values, bmax, level_entry (lmax, e));
        }
      GArray *up_min = g_ptr_array_index (s->argmin, level);
      GArray *up_max = g_ptr_array_index (s->argmax, level);
      g_array_append_val (up_min, bmin);
      g_array_append_val (up_max, bmax);
      n = up_min->len;
    }
}

/* After an insertion in the middle: O(n). */
static void
signal_rebuild (BsSignal *s)
{
  g_autoptr (GArray) old = g_steal_pointer (&s->values);
  g_clear_pointer (&s->argmin, g_ptr_array_unref);
  g_clear_pointer (&s->argmax, g_ptr_array_unref);
  signal_init (s);
  for (guint i = 0; i < old->len; i++)
    signal_push (s, g_array_index (old, double, i));
}

static gboolean
signal_extremes (const BsSignal *s, guint begin, guint end, guint *argmin, guint *argmax)
{
  const double *v = (const double *) (void *) s->values->data;
  guint bmin = G_MAXUINT;
  guint bmax = G_MAXUINT;
  guint lo = begin;
  guint hi = MIN (end, s->values->len);

  /* Partial blocks at both ends at this level, whole blocks from the level
   * above. */
  for (guint level = 0; lo < hi; level++)
    {
      GArray *lmin = level > 0 ? g_ptr_array_index (s->argmin, level - 1) : NULL;
      GArray *lmax = level > 0 ? g_ptr_array_index (s->argmax, level - 1) : NULL;
      guint lo_up = (lo + FANOUT - 1) / FANOUT;
      guint hi_up = hi / FANOUT;
      gboolean last = level >= s->argmin->len || lo_up >= hi_up;
      guint head_end = last ? hi : lo_up * FANOUT;
      guint tail_begin = last ? hi : hi_up * FANOUT;

      for (guint e = lo; e < head_end; e++)
        {
          guint cmin = level_entry (lmin, e), cmax = level_entry (lmax, e);
          bmin = bmin == G_MAXUINT ? cmin : pick_min (v, bmin, cmin);
          bmax = bmax == G_MAXUINT ? cmax : pick_max (v, bmax, cmax);
        }
      for (guint e = tail_begin; e < hi; e++)
        {
          guint cmin = level_entry (lmin, e), cmax = level_entry (lmax, e);
          bmin = bmin == G_MAXUINT ? cmin : pick_min (v, bmin, cmin);
          bmax = bmax == G_MAXUINT ? cmax : pick_max (v, bmax, cmax);
        }
      if (last)
        break;
      lo = lo_up;
      hi = hi_up;
    }

  if (bmin == G_MAXUINT || !isfinite (v[bmin]))
    return FALSE;
  *argmin = bmin;
  *argmax = bmax;
  return TRUE;
}

/* --- smoothing --- */

/* TensorBoard's scalar smoothing (vz_line_chart2/line-chart.ts,
 * resmoothDataset), with w the weight and `last` starting at 0:
 *
 *   last_i     = last_{i-1} * w + (1 - w) * y_i
 *   smoothed_i = last_i / (1 - w^k)      k = finite values so far, incl. y_i
 *
 * The division debiases the average from its 0 start: for a constant c,
 * last_i = c * (1 - w^k) and smoothed_i = c. A non-finite y is shown as is
 * and neither moves `last` nor counts in k. (TensorBoard also shows an
 * all-constant series unsmoothed, which the debiasing already gives up to
 * rounding.) w^k is kept as a running product, so each append is O(1). */
static double
ema_next (BsChartSeries *self, double y)
{
  double w = self->smoothing;

  if (!isfinite (y))
    return y;
  self->ema_last = self->ema_last * w + (1.0 - w) * y;
  self->ema_weight_pow *= w;
  return self->ema_last / (1.0 - self->ema_weight_pow);
}

static void
resmooth (BsChartSeries *self)
{
  signal_reset (&self->smoothed);
  self->ema_last = 0.0;
  self->ema_weight_pow = 1.0;
  if (self->smoothing <= 0.0)
    return;
  for (guint i = 0; i < self->raw.values->len; i++)
    signal_push (&self->smoothed, ema_next (self, g_array_index (self->raw.values, double, i)));
}

/* --- points --- */

static guint
upper_bound (BsChartSeries *self, double x)
{
  const double *xs = (const double *) (void *) self->xs->data;
  guint lo = 0, hi = self->xs->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (xs[mid] <= x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

guint
bs_chart_series_lower_bound (BsChartSeries *self, double x)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), 0);

  const double *xs = (const double *) (void *) self->xs->data;
  guint lo = 0, hi = self->xs->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (xs[mid] < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
append_one (BsChartSeries *self, double x, double y)
{
  guint n = self->xs->len;

  if (n == 0 || x >= g_array_index (self->xs, double, n - 1))
    {
      g_array_append_val (self->xs, x);
      signal_push (&self->raw, y);
      if (self->smoothing > 0.0)
        signal_push (&self->smoothed, ema_next (self, y));
      return;
    }

  /* Out of order (a resumed run repeating steps): insert after equal x's so
   * that the order of arrival is kept among them, then rebuild. */
  guint at = upper_bound (self, x);
  g_array_insert_val (self->xs, at, x);
  g_array_insert_val (self->raw.values, at, y);
  signal_rebuild (&self->raw);
  resmooth (self);
}

void
bs_chart_series_append (BsChartSeries *self, double x, double y)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));
  g_return_if_fail (isfinite (x));

  append_one (self, x, y);
  g_signal_emit (self, signals[CHANGED], 0);
}

void
bs_chart_series_append_many (BsChartSeries *self, const double *xs, const double *ys, guint n_points)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));
  g_return_if_fail (n_points == 0 || (xs != NULL && ys != NULL));

  if (n_points == 0)
    return;
  for (guint i = 0; i < n_points; i++)
    {
      if (G_UNLIKELY (!isfinite (xs[i])))
        {
          g_critical ("%s: point %u has a non-finite x", G_STRFUNC, i);
          continue;
        }
      append_one (self, xs[i], ys[i]);
    }
  g_signal_emit (self, signals[CHANGED], 0);
}

void
bs_chart_series_clear (BsChartSeries *self)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));

  if (self->xs->len == 0)
    return;
  g_array_set_size (self->xs, 0);
  signal_reset (&self->raw);
  resmooth (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

guint
bs_chart_series_get_n_points (BsChartSeries *self)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), 0);

  return self->xs->len;
}

gboolean
bs_chart_series_get_point (BsChartSeries *self, guint index, double *x, double *y)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), FALSE);

  if (index >= self->xs->len)
    return FALSE;
  if (x != NULL)
    *x = g_array_index (self->xs, double, index);
  if (y != NULL)
    *y = g_array_index (self->raw.values, double, index);
  return TRUE;
}

double
bs_chart_series_get_smoothed (BsChartSeries *self, guint index)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), NAN);
  g_return_val_if_fail (index < self->xs->len, NAN);

  return bs_chart_series_peek_y (self, TRUE)[index];
}

guint
bs_chart_series_find_nearest (BsChartSeries *self, double x)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), G_MAXUINT);

  guint n = self->xs->len;
  if (n == 0)
    return G_MAXUINT;

  guint at = bs_chart_series_lower_bound (self, x);
  if (at == n)
    return bs_chart_series_lower_bound (self, g_array_index (self->xs, double, n - 1));
  if (at == 0)
    return 0;

  double before = g_array_index (self->xs, double, at - 1);
  double after = g_array_index (self->xs, double, at);
  if (x - before <= after - x)
    return bs_chart_series_lower_bound (self, before);
  return at;
}

const double *
bs_chart_series_peek_x (BsChartSeries *self)
{
  return (const double *) (void *) self->xs->data;
}

const double *
bs_chart_series_peek_y (BsChartSeries *self, gboolean smoothed)
{
  const BsSignal *s = smoothed && self->smoothing > 0.0 ? &self->smoothed : &self->raw;
  return (const double *) (void *) s->values->data;
}

gboolean
bs_chart_series_range_extremes (BsChartSeries *self,
                                gboolean smoothed,
                                guint begin,
                                guint end,
                                guint *argmin,
                                guint *argmax)
{
  const BsSignal *s = smoothed && self->smoothing > 0.0 ? &self->smoothed : &self->raw;
  return signal_extremes (s, begin, end, argmin, argmax);
}

gboolean
bs_chart_series_get_y_range (BsChartSeries *self,
                             gboolean smoothed,
                             double *min,
                             double *max,
                             double *min_positive)
{
  const BsSignal *s = smoothed && self->smoothing > 0.0 ? &self->smoothed : &self->raw;

  if (!s->has_finite)
    return FALSE;
  *min = s->min;
  *max = s->max;
  if (min_positive != NULL)
    *min_positive = s->min_positive;
  return TRUE;
}

/* --- properties --- */

const char *
bs_chart_series_get_name (BsChartSeries *self)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), NULL);

  return self->name;
}

void
bs_chart_series_set_name (BsChartSeries *self, const char *name)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));

  if (g_strcmp0 (self->name, name) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
      g_signal_emit (self, signals[CHANGED], 0);
    }
}

BsChartColor
bs_chart_series_get_color (BsChartSeries *self)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), BS_CHART_COLOR_BLUE);

  return self->color;
}

void
bs_chart_series_set_color (BsChartSeries *self, BsChartColor color)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));
  g_return_if_fail (color <= BS_CHART_COLOR_BROWN);

  if (self->color != color)
    {
      self->color = color;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLOR]);
      g_signal_emit (self, signals[CHANGED], 0);
    }
}

BsChartStyle
bs_chart_series_get_style (BsChartSeries *self)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), BS_CHART_STYLE_LINE);

  return self->style;
}

void
bs_chart_series_set_style (BsChartSeries *self, BsChartStyle style)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));
  g_return_if_fail (style <= BS_CHART_STYLE_POINTS);

  if (self->style != style)
    {
      self->style = style;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STYLE]);
      g_signal_emit (self, signals[CHANGED], 0);
    }
}

double
bs_chart_series_get_smoothing (BsChartSeries *self)
{
  g_return_val_if_fail (BS_IS_CHART_SERIES (self), 0.0);

  return self->smoothing;
}

void
bs_chart_series_set_smoothing (BsChartSeries *self, double smoothing)
{
  g_return_if_fail (BS_IS_CHART_SERIES (self));

  smoothing = CLAMP (smoothing, 0.0, 0.99);
  if (self->smoothing != smoothing)
    {
      self->smoothing = smoothing;
      resmooth (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTHING]);
      g_signal_emit (self, signals[CHANGED], 0);
    }
}

BsChartSeries *
bs_chart_series_new (const char *name, BsChartColor color, BsChartStyle style)
{
  return g_object_new (BS_TYPE_CHART_SERIES,
                       "name", name,
                       "color", color,
                       "style", style,
                       NULL);
}

static void
bs_chart_series_finalize (GObject *object)
{
  BsChartSeries *self = BS_CHART_SERIES (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->xs, g_array_unref);
  signal_destroy (&self->raw);
  signal_destroy (&self->smoothed);

  G_OBJECT_CLASS (bs_chart_series_parent_class)->finalize (object);
}

static void
bs_chart_series_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BsChartSeries *self = BS_CHART_SERIES (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_COLOR:
      g_value_set_enum (value, self->color);
      break;
    case PROP_STYLE:
      g_value_set_enum (value, self->style);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_chart_series_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BsChartSeries *self = BS_CHART_SERIES (object);

  switch (prop_id)
    {
    case PROP_NAME:
      bs_chart_series_set_name (self, g_value_get_string (value));
      break;
    case PROP_COLOR:
      bs_chart_series_set_color (self, g_value_get_enum (value));
      break;
    case PROP_STYLE:
      bs_chart_series_set_style (self, g_value_get_enum (value));
      break;
    case PROP_SMOOTHING:
      bs_chart_series_set_smoothing (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_chart_series_class_init (BsChartSeriesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bs_chart_series_finalize;
  object_class->get_property = bs_chart_series_get_property;
  object_class->set_property = bs_chart_series_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COLOR] =
    g_param_spec_enum ("color", NULL, NULL, BS_TYPE_CHART_COLOR, BS_CHART_COLOR_BLUE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STYLE] =
    g_param_spec_enum ("style", NULL, NULL, BS_TYPE_CHART_STYLE, BS_CHART_STYLE_LINE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SMOOTHING] =
    g_param_spec_double ("smoothing", NULL, NULL, 0.0, 0.99, 0.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Points were added or removed, or the look changed: redraw. */
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
bs_chart_series_init (BsChartSeries *self)
{
  self->xs = g_array_new (FALSE, FALSE, sizeof (double));
  signal_init (&self->raw);
  signal_init (&self->smoothed);
  self->ema_weight_pow = 1.0;
}
