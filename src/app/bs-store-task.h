/* bs-store-task.h: work on the database on a thread of its own, with the
 * results handed back to the main context.
 *
 * A task opens its own BsStore connection (a connection belongs to one
 * thread), runs func there, and then calls done on the context that started
 * it — only while the owner (a widget, held by a weak reference) is alive.
 * func may hand reports (progress, early results) to that context too.  The
 * application is held while a task runs, so that an import is not cut short
 * by a closed window. */
#pragma once

#include <gio/gio.h>

#include "bs-store.h"

G_BEGIN_DECLS

typedef struct _BsStoreTask BsStoreTask;

/* On the worker thread. */
typedef gboolean (*BsStoreTaskFunc) (BsStoreTask *task,
                                     BsStore *store,
                                     gpointer data,
                                     GCancellable *cancellable,
                                     GError **error);
/* On the starting context; error is NULL on success. */
typedef void (*BsStoreTaskDoneFunc) (GObject *owner,
                                     gpointer data,
                                     const GError *error);
typedef void (*BsStoreTaskReportFunc) (GObject *owner,
                                       gpointer report);

/* data is func's and done's; data_free frees it on the starting context
 * after done (whether done ran or not). */
void bs_store_task_run (GObject *owner,
                        const char *db_path,
                        BsStoreTaskFunc func,
                        BsStoreTaskDoneFunc done,
                        gpointer data,
                        GDestroyNotify data_free,
                        GCancellable *cancellable);

/* From func: calls report_func (owner, report) on the starting context, in
 * order, before done; report_free frees report there. */
void bs_store_task_report (BsStoreTask *task,
                           BsStoreTaskReportFunc report_func,
                           gpointer report,
                           GDestroyNotify report_free);

G_END_DECLS
