/* bs-chart-series.h: one curve of a BsChart — (x = step, y = value) points
 * appended in step order, with their TensorBoard-style smoothing kept up to
 * date on every append. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Colours of the GNOME palette; the chart picks the shade that reads well on
 * the current (light or dark) background. */
typedef enum
{
  BS_CHART_COLOR_BLUE,
  BS_CHART_COLOR_GREEN,
  BS_CHART_COLOR_ORANGE,
  BS_CHART_COLOR_PURPLE,
  BS_CHART_COLOR_RED,
  BS_CHART_COLOR_YELLOW,
  BS_CHART_COLOR_BROWN,
} BsChartColor;

typedef enum
{
  BS_CHART_STYLE_LINE,
  /* a dot per point, e.g. validation values every few hundred steps */
  BS_CHART_STYLE_POINTS,
} BsChartStyle;

#define BS_TYPE_CHART_COLOR (bs_chart_color_get_type ())
#define BS_TYPE_CHART_STYLE (bs_chart_style_get_type ())
GType bs_chart_color_get_type (void) G_GNUC_CONST;
GType bs_chart_style_get_type (void) G_GNUC_CONST;

#define BS_TYPE_CHART_SERIES (bs_chart_series_get_type ())
G_DECLARE_FINAL_TYPE (BsChartSeries, bs_chart_series, BS, CHART_SERIES, GObject)

BsChartSeries *bs_chart_series_new (const char *name,
                                    BsChartColor color,
                                    BsChartStyle style);

const char *bs_chart_series_get_name (BsChartSeries *self);
void bs_chart_series_set_name (BsChartSeries *self,
                               const char *name);
BsChartColor bs_chart_series_get_color (BsChartSeries *self);
void bs_chart_series_set_color (BsChartSeries *self,
                                BsChartColor color);
BsChartStyle bs_chart_series_get_style (BsChartSeries *self);
void bs_chart_series_set_style (BsChartSeries *self,
                                BsChartStyle style);

/* Amortised O(1) when x is not below the last x; an earlier x is inserted in
 * order (O(n), for the rare resumed run that repeats steps). Non-finite y
 * values are kept but neither drawn nor smoothed. Emits ::changed. */
void bs_chart_series_append (BsChartSeries *self,
                             double x,
                             double y);
/* As append for each pair, with one ::changed at the end. */
void bs_chart_series_append_many (BsChartSeries *self,
                                  const double *xs,
                                  const double *ys,
                                  guint n_points);
void bs_chart_series_clear (BsChartSeries *self);

guint bs_chart_series_get_n_points (BsChartSeries *self);
/* FALSE when index is out of range. */
gboolean bs_chart_series_get_point (BsChartSeries *self,
                                    guint index,
                                    double *x,
                                    double *y);

/* The EMA weight, 0 (off) .. 0.99; the chart sets it on its series. */
double bs_chart_series_get_smoothing (BsChartSeries *self);
void bs_chart_series_set_smoothing (BsChartSeries *self,
                                    double smoothing);
/* The smoothed value of point index (its raw value when smoothing is 0). */
double bs_chart_series_get_smoothed (BsChartSeries *self,
                                     guint index);

/* The index of the point whose x is nearest to x (the earlier on a tie),
 * by binary search; G_MAXUINT when the series is empty. */
guint bs_chart_series_find_nearest (BsChartSeries *self,
                                    double x);

G_END_DECLS
