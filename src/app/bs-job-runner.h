/* bs-job-runner.h: a training job on a thread of its own, reporting to the
 * main thread.
 *
 * The job (src/jobs) runs synchronously on a dedicated GThread: a run can
 * take hours, which GTask's small shared pool is not for. Its progress
 * reaches the main context through g_main_context_invoke_full and comes out
 * as signals there, so handlers may touch widgets; the job never does. */
#pragma once

#include <gio/gio.h>

#include "bs-job.h"
#include "bs-train-job.h"

G_BEGIN_DECLS

#define BS_TYPE_JOB_RUNNER (bs_job_runner_get_type ())
G_DECLARE_FINAL_TYPE (BsJobRunner, bs_job_runner, BS, JOB_RUNNER, GObject)

BsJobRunner *bs_job_runner_new (void);

/* Starts a training run (params are copied); FALSE if one is running. */
gboolean bs_job_runner_start (BsJobRunner *self,
                              const BsTrainParams *params,
                              GError **error);
/* Continues run_id of the store at db_path from its checkpoint. */
gboolean bs_job_runner_resume (BsJobRunner *self,
                               const char *db_path,
                               gint64 run_id,
                               GError **error);
/* Asks the job to stop after the current batch; it keeps a checkpoint. */
void bs_job_runner_cancel (BsJobRunner *self);
gboolean bs_job_runner_get_running (BsJobRunner *self);
/* The run's id once the job has created it, else 0. */
gint64 bs_job_runner_get_run_id (BsJobRunner *self);

/* Signals, on the main thread:
 *   progress (const BsJobProgress *progress)
 *   finished (const BsTrainResult *result, const GError *error)   error NULL on success */

G_END_DECLS
