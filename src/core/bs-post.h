/* bs-post.h: handing work from a worker thread to a main context. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Queues func (data) to run on context (NULL: the global default) at
 * priority, always there. g_main_context_invoke_full would instead run it
 * at once on the calling worker whenever no thread owns the context at that
 * moment (before a loop starts, or between two iterations of a test), where
 * a widget may not be touched and a thread may not join itself. */
void bs_post_to_context (GMainContext *context,
                         int priority,
                         GSourceFunc func,
                         gpointer data,
                         GDestroyNotify notify);

G_END_DECLS
