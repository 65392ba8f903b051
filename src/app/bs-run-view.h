/* bs-run-view.h: a training run as a person watches it: progress, live
 * charts of loss, accuracy and learning rate (with validation points), and
 * at the end the evaluation. Fed live from a job's progress reports, or
 * drawn from the store for a past run. Shared by Train, Distill and Runs. */
#pragma once

#include <adwaita.h>

#include "bs-job.h"
#include "bs-store.h"
#include "bs-train-job.h"

G_BEGIN_DECLS

#define BS_TYPE_RUN_VIEW (bs_run_view_get_type ())
G_DECLARE_FINAL_TYPE (BsRunView, bs_run_view, BS, RUN_VIEW, GtkWidget)

GtkWidget *bs_run_view_new (void);

/* Empties the charts and the evaluation. */
void bs_run_view_clear (BsRunView *self);
/* A progress report of the job being watched. */
void bs_run_view_add_progress (BsRunView *self,
                               const BsJobProgress *progress);
/* Draws run_id from the store alone: its metrics and its evaluation. */
gboolean bs_run_view_load_run (BsRunView *self,
                               BsStore *store,
                               gint64 run_id,
                               GError **error);
/* Shows the run's evaluation on the test split (else validation). */
gboolean bs_run_view_load_evaluation (BsRunView *self,
                                      BsStore *store,
                                      gint64 run_id,
                                      GError **error);
/* After a distillation: teacher and student side by side (accuracy,
 * parameters, size on disk, latency, speed-up). */
void bs_run_view_show_comparison (BsRunView *self,
                                  const BsModelInfo *teacher,
                                  const BsModelInfo *student,
                                  const BsTrainResult *result);
/* A line above the charts: what the run is doing or how it ended. */
void bs_run_view_set_status (BsRunView *self,
                             const char *status);
/* Exports the loss chart as PNG or SVG (by the extension). */
gboolean bs_run_view_export_chart (BsRunView *self,
                                   const char *path,
                                   GError **error);

G_END_DECLS
