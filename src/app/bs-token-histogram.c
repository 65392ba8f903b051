/* bs-token-histogram.c: the token-length histogram of the Data page.
 *
 * The bars are rebinned from the lengths themselves rather than taken from
 * BsTokenStats.bins: the view spans a little past max_length or the 99th
 * percentile, whichever is longer, so that a long tail (IMDB's longest
 * review is ten times its median) does not squeeze the texts that matter
 * into two bars.  Bar widths are powers of two, so 64, 128, 256 and 512 fall
 * on bar edges. */
#include "config.h"

#include "bs-token-histogram.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <pango/pangocairo.h>

#define MAX_BARS 48
#define PAD_TOP 22.0    /* room for the max_length label */
#define PAD_BOTTOM 22.0 /* room for the tick labels */
#define PAD_SIDE 6.0

struct _BsTokenHistogram
{
  GtkWidget parent_instance;

  BsTokenStats *stats;
  int max_length;

  gint64 *bars;
  guint n_bars;
  int bar_width;
  gint64 max_bar;
};

G_DEFINE_FINAL_TYPE (BsTokenHistogram, bs_token_histogram, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_MAX_LENGTH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GtkWidget *
bs_token_histogram_new (void)
{
  return g_object_new (BS_TYPE_TOKEN_HISTOGRAM, NULL);
}

static void
rebin (BsTokenHistogram *self)
{
  double span;

  g_clear_pointer (&self->bars, g_free);
  self->n_bars = 0;
  self->max_bar = 0;
  if (self->stats == NULL || self->stats->n_texts == 0)
    return;

  span = MAX (MAX (bs_token_stats_percentile (self->stats, 99), self->max_length) * 1.15, 16.0);
  self->bar_width = 1;
  while (ceil (span / self->bar_width) > MAX_BARS)
    self->bar_width *= 2;
  self->n_bars = (guint) ceil (span / self->bar_width);
  self->bars = g_new0 (gint64, self->n_bars);
  for (gsize i = 0; i < self->stats->n_texts; i++)
    {
      guint bar = (guint) MAX (self->stats->lengths[i], 0) / (guint) self->bar_width;
      self->bars[MIN (bar, self->n_bars - 1)]++;
    }
  for (guint i = 0; i < self->n_bars; i++)
    self->max_bar = MAX (self->max_bar, self->bars[i]);
}

void
bs_token_histogram_set_stats (BsTokenHistogram *self,
                              BsTokenStats *stats)
{
  g_return_if_fail (BS_IS_TOKEN_HISTOGRAM (self));

  if (self->stats != stats)
    g_clear_pointer (&self->stats, bs_token_stats_free);
  self->stats = stats;
  rebin (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const BsTokenStats *
bs_token_histogram_get_stats (BsTokenHistogram *self)
{
  g_return_val_if_fail (BS_IS_TOKEN_HISTOGRAM (self), NULL);
  return self->stats;
}

void
bs_token_histogram_set_max_length (BsTokenHistogram *self,
                                   int max_length)
{
  g_return_if_fail (BS_IS_TOKEN_HISTOGRAM (self));

  max_length = MAX (max_length, 1);
  if (self->max_length == max_length)
    return;
  self->max_length = max_length;
  rebin (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_LENGTH]);
}

int
bs_token_histogram_get_max_length (BsTokenHistogram *self)
{
  g_return_val_if_fail (BS_IS_TOKEN_HISTOGRAM (self), 0);
  return self->max_length;
}

const gint64 *
bs_token_histogram_get_bars (BsTokenHistogram *self,
                             guint *n_bars,
                             int *bar_width)
{
  g_return_val_if_fail (BS_IS_TOKEN_HISTOGRAM (self), NULL);

  if (n_bars != NULL)
    *n_bars = self->n_bars;
  if (bar_width != NULL)
    *bar_width = self->bar_width;
  return self->bars;
}

/* ---- drawing ---- */

static void
lookup_color (GtkWidget *widget,
              const char *name,
              const char *fallback,
              GdkRGBA *rgba)
{
  GtkStyleContext *context = gtk_widget_get_style_context (widget);

  if (!gtk_style_context_lookup_color (context, name, rgba))
    gdk_rgba_parse (rgba, fallback);
}

static void
draw_bars (BsTokenHistogram *self,
           cairo_t *cr,
           double x0,
           double y0,
           double w,
           double h)
{
  double bar_px = w / self->n_bars;
  double gap = bar_px > 5 ? 1.0 : 0.0;

  for (guint i = 0; i < self->n_bars; i++)
    {
      double bh;

      if (self->bars[i] == 0)
        continue;
      /* at least a pixel, so that a lone long text shows */
      bh = MAX (1.0, h * (double) self->bars[i] / (double) self->max_bar);
      cairo_rectangle (cr, x0 + i * bar_px + gap / 2, y0 + h - bh, bar_px - gap, bh);
    }
  cairo_fill (cr);
}

/* Tick steps in tokens: powers of two, as the bars. */
static int
tick_step (double tokens_per_px,
           double min_px)
{
  int step = 8;

  while (step * 1.0 / tokens_per_px < min_px)
    step *= 2;
  return step;
}

static void
show_text (cairo_t *cr,
           PangoLayout *layout,
           const char *text,
           double x,
           double y,
           double xalign,
           double left,
           double right)
{
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  x = CLAMP (x - xalign * tw, left, right - tw);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

static void
bs_token_histogram_snapshot (GtkWidget *widget,
                             GtkSnapshot *snapshot)
{
  BsTokenHistogram *self = BS_TOKEN_HISTOGRAM (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  double x0 = PAD_SIDE, y0 = PAD_TOP, w = width - 2 * PAD_SIDE, h = height - PAD_TOP - PAD_BOTTOM;
  double tokens = (double) self->n_bars * self->bar_width;
  double line_x;
  GdkRGBA fg, accent, accent_bg;
  g_autoptr (PangoLayout) layout = NULL;
  PangoAttrList *attrs;
  cairo_t *cr;
  char label[32];
  int step;

  if (self->n_bars == 0 || w < 20 || h < 10)
    return;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  lookup_color (widget, "accent_color", "#1c71d8", &accent);
  lookup_color (widget, "accent_bg_color", "#3584e4", &accent_bg);

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  line_x = x0 + w * MIN (self->max_length / tokens, 1.0);

  /* the texts kept whole in the accent colour, the ones cut faded */
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, line_x, height);
  cairo_clip (cr);
  gdk_cairo_set_source_rgba (cr, &accent_bg);
  draw_bars (self, cr, x0, y0, w, h);
  cairo_restore (cr);
  cairo_save (cr);
  cairo_rectangle (cr, line_x, 0, width - line_x, height);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.3);
  draw_bars (self, cr, x0, y0, w, h);
  cairo_restore (cr);

  /* the axis and its ticks */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.35);
  cairo_rectangle (cr, x0, y0 + h, w, 1);
  cairo_fill (cr);

  layout = gtk_widget_create_pango_layout (widget, NULL);
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_scale_new (0.83));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);

  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
  step = tick_step (tokens / w, 56);
  for (int t = 0; t <= (int) tokens; t += step)
    {
      double x = x0 + w * t / tokens;
      cairo_rectangle (cr, x - 0.5, y0 + h, 1, 4);
      cairo_fill (cr);
      g_snprintf (label, sizeof label, "%d", t);
      show_text (cr, layout, label, x, y0 + h + 5, 0.5, 0, width);
    }

  /* max_length */
  gdk_cairo_set_source_rgba (cr, &accent);
  cairo_rectangle (cr, line_x - 1, y0 - 4, 2, h + 4);
  cairo_fill (cr);
  pango_layout_set_attributes (layout, NULL);
  {
    PangoAttrList *bold = pango_attr_list_new ();
    pango_attr_list_insert (bold, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
    pango_attr_list_insert (bold, pango_attr_scale_new (0.83));
    pango_layout_set_attributes (layout, bold);
    pango_attr_list_unref (bold);
  }
  g_snprintf (label, sizeof label, "%d", self->max_length);
  show_text (cr, layout, label, line_x, 2, 0.5, 0, width);

  cairo_destroy (cr);
}

static gboolean
on_query_tooltip (GtkWidget *widget,
                  int x,
                  int y,
                  gboolean keyboard_mode,
                  GtkTooltip *tooltip,
                  gpointer user_data)
{
  BsTokenHistogram *self = BS_TOKEN_HISTOGRAM (widget);
  double w = gtk_widget_get_width (widget) - 2 * PAD_SIDE;
  g_autofree char *text = NULL;
  g_autofree char *count = NULL;
  int bar, from, to;

  if (self->n_bars == 0 || keyboard_mode || w <= 0)
    return FALSE;
  bar = (int) floor ((x - PAD_SIDE) / w * self->n_bars);
  if (bar < 0 || bar >= (int) self->n_bars)
    return FALSE;
  from = bar * self->bar_width;
  to = from + self->bar_width - 1;
  count = g_strdup_printf ("%'" G_GINT64_FORMAT, self->bars[bar]);
  if (bar == (int) self->n_bars - 1)
    /* Translators: the number of texts at least that many tokens long, e.g. 1,204 texts of 512 tokens or more */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s text of %d tokens or more",
                                         "%s texts of %d tokens or more", (gulong) self->bars[bar]),
                            count, from);
  else
    /* Translators: how many texts have between that many tokens, e.g. 1,204 texts of 128–143 tokens */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s text of %d–%d tokens", "%s texts of %d–%d tokens",
                                         (gulong) self->bars[bar]),
                            count, from, to);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
bs_token_histogram_measure (GtkWidget *widget,
                            GtkOrientation orientation,
                            int for_size,
                            int *minimum,
                            int *natural,
                            int *minimum_baseline,
                            int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = 120, *natural = 480;
  else
    *minimum = 120, *natural = 180;
}

static void
bs_token_histogram_get_property (GObject *object,
                                 guint prop_id,
                                 GValue *value,
                                 GParamSpec *pspec)
{
  BsTokenHistogram *self = BS_TOKEN_HISTOGRAM (object);

  switch (prop_id)
    {
    case PROP_MAX_LENGTH:
      g_value_set_int (value, self->max_length);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_token_histogram_set_property (GObject *object,
                                 guint prop_id,
                                 const GValue *value,
                                 GParamSpec *pspec)
{
  BsTokenHistogram *self = BS_TOKEN_HISTOGRAM (object);

  switch (prop_id)
    {
    case PROP_MAX_LENGTH:
      bs_token_histogram_set_max_length (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_token_histogram_finalize (GObject *object)
{
  BsTokenHistogram *self = BS_TOKEN_HISTOGRAM (object);

  g_clear_pointer (&self->stats, bs_token_stats_free);
  g_clear_pointer (&self->bars, g_free);
  G_OBJECT_CLASS (bs_token_histogram_parent_class)->finalize (object);
}

static void
bs_token_histogram_class_init (BsTokenHistogramClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = bs_token_histogram_finalize;
  object_class->get_property = bs_token_histogram_get_property;
  object_class->set_property = bs_token_histogram_set_property;
  widget_class->snapshot = bs_token_histogram_snapshot;
  widget_class->measure = bs_token_histogram_measure;

  properties[PROP_MAX_LENGTH] =
    g_param_spec_int ("max-length", NULL, NULL, 1, G_MAXINT, 128,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "token-histogram");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
bs_token_histogram_init (BsTokenHistogram *self)
{
  self->max_length = 128;
  self->bar_width = 1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Token lengths"), -1);
}
