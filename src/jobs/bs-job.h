/* bs-job.h: what every long job shares: progress reports and errors.
 *
 * Jobs run synchronously on the calling thread (the CLI's main thread, or a
 * worker thread the GUI starts); progress callbacks are called on that
 * thread. A GCancellable stops a job within one batch. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BS_JOB_ERROR (bs_job_error_quark ())
GQuark bs_job_error_quark (void);

typedef enum
{
  BS_JOB_ERROR_INVALID,    /* bad parameters or input: the user can fix them */
  BS_JOB_ERROR_CHECKPOINT, /* the checkpoint to resume from is missing or does not match */
  BS_JOB_ERROR_FAILED,     /* something went wrong while running */
} BsJobError;

typedef struct
{
  const char *phase;  /* "train", "validation", "test", "checkpoint", "done" */
  int epoch;          /* from 1 */
  int n_epochs;
  gint64 step;        /* optimizer steps done */
  gint64 total_steps;
  gint64 done;        /* examples done in an evaluation phase */
  gint64 total;
  double loss, accuracy, lr, examples_per_s; /* NaN when not known */
  double elapsed_s;
  double eta_s;       /* NaN when not known */
  gint64 run_id;      /* the run in the store, once made */
} BsJobProgress;

typedef void (*BsJobProgressFunc) (const BsJobProgress *progress,
                                   gpointer user_data);

/* A duration such as an ETA as "m:ss" or "h:mm:ss"; NULL when it is not
 * known (NaN or negative). */
char *bs_job_format_duration (double seconds);

G_END_DECLS
