/* bs-chart.h: a line chart of training metrics (loss, accuracy, learning
 * rate) against the step, live while a model trains or redrawn from the
 * database: smoothing, hover read-out, log scale, PNG/SVG export. */
#pragma once

#include <gtk/gtk.h>

#include "bs-chart-series.h"

G_BEGIN_DECLS

#define BS_TYPE_CHART (bs_chart_get_type ())
G_DECLARE_FINAL_TYPE (BsChart, bs_chart, BS, CHART, GtkWidget)

GtkWidget *bs_chart_new (void);

/* The chart redraws (at most once a frame) whenever a series changes. A
 * series belongs to one chart at a time (the chart sets its smoothing), and
 * like the widget is used from the main thread only: a training job's
 * metrics come over with g_main_context_invoke_full. */
void bs_chart_add_series (BsChart *self,
                          BsChartSeries *series);
void bs_chart_remove_series (BsChart *self,
                             BsChartSeries *series);
void bs_chart_remove_all (BsChart *self);
guint bs_chart_get_n_series (BsChart *self);
/* (transfer none) */
BsChartSeries *bs_chart_get_series (BsChart *self,
                                    guint index);

/* What the chart shows, for its accessible label ("Training loss, ..."). */
const char *bs_chart_get_title (BsChart *self);
void bs_chart_set_title (BsChart *self,
                         const char *title);
/* The x axis' caption; NULL for "step". */
const char *bs_chart_get_x_label (BsChart *self);
void bs_chart_set_x_label (BsChart *self,
                           const char *x_label);

/* TensorBoard's EMA weight for line series, 0 (off) .. 0.99. */
double bs_chart_get_smoothing (BsChart *self);
void bs_chart_set_smoothing (BsChart *self,
                             double smoothing);
/* While smoothing, draw the raw values faintly behind the smoothed line. */
gboolean bs_chart_get_show_raw (BsChart *self);
void bs_chart_set_show_raw (BsChart *self,
                            gboolean show_raw);
/* Draw the raw values only, keeping the smoothing weight for later. */
gboolean bs_chart_get_raw_only (BsChart *self);
void bs_chart_set_raw_only (BsChart *self,
                            gboolean raw_only);
/* A log10 y axis, for learning rates; values <= 0 sit on the bottom edge. */
gboolean bs_chart_get_log_y (BsChart *self);
void bs_chart_set_log_y (BsChart *self,
                         gboolean log_y);

/* Writes the chart at width x height pixels on a white background, through a
 * temporary file and a rename, so that the path never holds half a file. */
gboolean bs_chart_export_png (BsChart *self,
                              const char *path,
                              int width,
                              int height,
                              GError **error);
gboolean bs_chart_export_svg (BsChart *self,
                              const char *path,
                              int width,
                              int height,
                              GError **error);

G_END_DECLS
