/* bs-store-task.c: work on the database on a thread of its own. */
#include "config.h"

#include "bs-store-task.h"

#include "bs-post.h"

#include <glib/gi18n-lib.h>

struct _BsStoreTask
{
  GWeakRef owner;
  char *db_path;
  BsStoreTaskFunc func;
  BsStoreTaskDoneFunc done;
  gpointer data;
  GDestroyNotify data_free;
  GCancellable *cancellable;
  GMainContext *context;
  GThread *thread;
  GError *error;
  gboolean held; /* the application */
};


/* Runs on the starting context (reports and the end hold a reference each,
 * so the last release is there too). */
static void
task_clear (gpointer data)
{
  BsStoreTask *task = data;

  if (task->data_free != NULL && task->data != NULL)
    task->data_free (task->data);
  g_weak_ref_clear (&task->owner);
  g_free (task->db_path);
  g_clear_object (&task->cancellable);
  g_main_context_unref (task->context);
  g_clear_error (&task->error);
  if (task->held && g_application_get_default () != NULL)
    g_application_release (g_application_get_default ());
}

static void
task_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, task_clear);
}

static gboolean
deliver_done (gpointer data)
{
  BsStoreTask *task = data;
  g_autoptr (GObject) owner = g_weak_ref_get (&task->owner);

  /* the thread has nothing left to do but return */
  g_thread_join (g_steal_pointer (&task->thread));
  if (owner != NULL && task->done != NULL)
    task->done (owner, task->data, task->error);
  return G_SOURCE_REMOVE;
}

static gpointer
task_thread (gpointer data)
{
  BsStoreTask *task = data;
  g_autoptr (BsStore) store = bs_store_open (task->db_path, &task->error);

  if (store != NULL && !g_cancellable_set_error_if_cancelled (task->cancellable, &task->error))
    {
      if (!task->func (task, store, task->data, task->cancellable, &task->error) && task->error == NULL)
        g_set_error_literal (&task->error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The operation failed"));
    }
  g_clear_pointer (&store, bs_store_free);
  /* the thread's reference goes with the message */
  bs_post_to_context (task->context, G_PRIORITY_DEFAULT, deliver_done, task, task_release);
  return NULL;
}

void
bs_store_task_run (GObject *owner,
                   const char *db_path,
                   BsStoreTaskFunc func,
                   BsStoreTaskDoneFunc done,
                   gpointer data,
                   GDestroyNotify data_free,
                   GCancellable *cancellable)
{
  BsStoreTask *task;

  g_return_if_fail (G_IS_OBJECT (owner));
  g_return_if_fail (func != NULL);

  task = g_atomic_rc_box_new0 (BsStoreTask);
  g_weak_ref_init (&task->owner, owner);
  task->db_path = g_strdup (db_path);
  task->func = func;
  task->done = done;
  task->data = data;
  task->data_free = data_free;
  task->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  task->context = g_main_context_ref_thread_default ();
  if (g_application_get_default () != NULL)
    {
      g_application_hold (g_application_get_default ());
      task->held = TRUE;
    }
  task->thread = g_thread_new ("bs-store-task", task_thread, task);
}

typedef struct
{
  BsStoreTask *task;
  BsStoreTaskReportFunc func;
  gpointer report;
  GDestroyNotify report_free;
} Report;

static void
report_free (gpointer data)
{
  Report *r = data;

  if (r->report_free != NULL && r->report != NULL)
    r->report_free (r->report);
  task_release (r->task);
  g_free (r);
}

static gboolean
deliver_report (gpointer data)
{
  Report *r = data;
  g_autoptr (GObject) owner = g_weak_ref_get (&r->task->owner);

  if (owner != NULL)
    r->func (owner, r->report);
  return G_SOURCE_REMOVE;
}

void
bs_store_task_report (BsStoreTask *task,
                      BsStoreTaskReportFunc report_func,
                      gpointer report,
                      GDestroyNotify report_free_func)
{
  Report *r = g_new0 (Report, 1);

  r->task = g_atomic_rc_box_acquire (task);
  r->func = report_func;
  r->report = report;
  r->report_free = report_free_func;
  bs_post_to_context (task->context, G_PRIORITY_DEFAULT, deliver_report, r, report_free);
}
