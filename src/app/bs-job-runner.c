/* bs-job-runner.c */
#include "config.h"

#include "bs-job-runner.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bs-post.h"

struct _BsJobRunner
{
  GObject parent_instance;
  GThread *thread;
  GCancellable *cancellable;
  GMainContext *context;   /* where signals are emitted: the creator's */
  BsTrainParams params;
  char *db_path;           /* resuming */
  gint64 resume_run_id;
  gint64 run_id;
  gboolean running;
};

G_DEFINE_FINAL_TYPE (BsJobRunner, bs_job_runner, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_RUNNING,
  PROP_RUN_ID,
  N_PROPS
};

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* A progress report travelling to the main thread (queued there always:
 * the finished message joins this thread, which it may not do on it). */
typedef struct
{
  BsJobRunner *runner;
  BsJobProgress progress;
  char *phase;
} ProgressMessage;

static void
progress_message_free (gpointer data)
{
  ProgressMessage *m = data;
  g_object_unref (m->runner);
  g_free (m->phase);
  g_free (m);
}

static gboolean
deliver_progress (gpointer data)
{
  ProgressMessage *m = data;
  m->progress.phase = m->phase;
  if (m->progress.run_id > 0 && m->runner->run_id != m->progress.run_id)
    {
      m->runner->run_id = m->progress.run_id;
      g_object_notify_by_pspec (G_OBJECT (m->runner), properties[PROP_RUN_ID]);
    }
  g_signal_emit (m->runner, signals[SIGNAL_PROGRESS], 0, &m->progress);
  return G_SOURCE_REMOVE;
}

/* On the job's thread. */
static void
on_job_progress (const BsJobProgress *progress, gpointer user_data)
{
  BsJobRunner *self = user_data;
  ProgressMessage *m = g_new0 (ProgressMessage, 1);
  m->runner = g_object_ref (self);
  m->progress = *progress;
  m->phase = g_strdup (progress->phase);
  bs_post_to_context (self->context, G_PRIORITY_DEFAULT, deliver_progress, m, progress_message_free);
}

typedef struct
{
  BsJobRunner *runner;
  BsTrainResult result;
  GError *error;
} FinishedMessage;

static void
finished_message_free (gpointer data)
{
  FinishedMessage *m = data;
  g_object_unref (m->runner);
  g_clear_error (&m->error);
  g_free (m);
}

static gboolean
deliver_finished (gpointer data)
{
  FinishedMessage *m = data;
  BsJobRunner *self = m->runner;
  g_thread_join (g_steal_pointer (&self->thread));
  g_clear_object (&self->cancellable);
  self->running = FALSE;
  if (g_application_get_default () != NULL)
    g_application_release (g_application_get_default ());
  if (m->result.run_id > 0 && self->run_id != m->result.run_id)
    {
      self->run_id = m->result.run_id;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN_ID]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, &m->result, m->error);
  return G_SOURCE_REMOVE;
}

/* data: a reference to the runner, handed over to the finished message */
static gpointer
run_job (gpointer data)
{
  BsJobRunner *self = data;
  FinishedMessage *m = g_new0 (FinishedMessage, 1);
  m->runner = self;
  /* Below the window in the scheduler's eyes, so that the interface keeps
   * its share while training takes every core. The threads this one starts
   * (the element-wise pool, OpenBLAS's) inherit it; with nothing else to
   * run, the job loses no speed. */
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
  if (self->resume_run_id > 0)
    bs_train_resume (self->db_path, self->resume_run_id, on_job_progress, self, self->cancellable, &m->result,
                     &m->error);
  else
    bs_train_run (&self->params, on_job_progress, self, self->cancellable, &m->result, &m->error);
  bs_post_to_context (self->context, G_PRIORITY_DEFAULT, deliver_finished, m, finished_message_free);
  return NULL;
}

static gboolean
launch (BsJobRunner *self, GError **error)
{
  if (self->running)
    {
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID, _("A job is already running"));
      return FALSE;
    }
  self->cancellable = g_cancellable_new ();
  self->running = TRUE;
  /* the process outlives a closed window until the job has stopped and
   * written its checkpoint */
  if (g_application_get_default () != NULL)
    g_application_hold (g_application_get_default ());
  self->run_id = 0;
  self->thread = g_thread_new ("bs-train-job", run_job, g_object_ref (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN_ID]);
  return TRUE;
}

gboolean
bs_job_runner_start (BsJobRunner *self, const BsTrainParams *params, GError **error)
{
  g_return_val_if_fail (BS_IS_JOB_RUNNER (self), FALSE);
  if (!self->running)
    {
      bs_train_params_copy_into (&self->params, params);
      self->resume_run_id = 0;
    }
  return launch (self, error);
}

gboolean
bs_job_runner_resume (BsJobRunner *self, const char *db_path, gint64 run_id, GError **error)
{
  g_return_val_if_fail (BS_IS_JOB_RUNNER (self), FALSE);
  if (!self->running)
    {
      g_free (self->db_path);
      self->db_path = g_strdup (db_path);
      self->resume_run_id = run_id;
    }
  return launch (self, error);
}

void
bs_job_runner_cancel (BsJobRunner *self)
{
  g_return_if_fail (BS_IS_JOB_RUNNER (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
bs_job_runner_get_running (BsJobRunner *self)
{
  g_return_val_if_fail (BS_IS_JOB_RUNNER (self), FALSE);
  return self->running;
}

gint64
bs_job_runner_get_run_id (BsJobRunner *self)
{
  g_return_val_if_fail (BS_IS_JOB_RUNNER (self), 0);
  return self->run_id;
}

BsJobRunner *
bs_job_runner_new (void)
{
  return g_object_new (BS_TYPE_JOB_RUNNER, NULL);
}

static void
bs_job_runner_dispose (GObject *object)
{
  BsJobRunner *self = BS_JOB_RUNNER (object);
  /* the thread holds a reference until it reports back, so a running job
   * never reaches here */
  g_assert (self->thread == NULL);
  G_OBJECT_CLASS (bs_job_runner_parent_class)->dispose (object);
}

static void
bs_job_runner_finalize (GObject *object)
{
  BsJobRunner *self = BS_JOB_RUNNER (object);
  bs_train_params_clear (&self->params);
  g_free (self->db_path);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (bs_job_runner_parent_class)->finalize (object);
}

static void
bs_job_runner_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BsJobRunner *self = BS_JOB_RUNNER (object);
  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_RUN_ID:
      g_value_set_int64 (value, self->run_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_job_runner_class_init (BsJobRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = bs_job_runner_dispose;
  object_class->finalize = bs_job_runner_finalize;
  object_class->get_property = bs_job_runner_get_property;

  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUN_ID] = g_param_spec_int64 ("run-id", NULL, NULL, 0, G_MAXINT64, 0,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_POINTER);
}

static void
bs_job_runner_init (BsJobRunner *self)
{
  self->context = g_main_context_ref_thread_default ();
}
