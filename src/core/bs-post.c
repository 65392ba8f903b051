/* bs-post.c */
#include "bs-post.h"

void
bs_post_to_context (GMainContext *context, int priority, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  g_autoptr (GSource) source = g_idle_source_new ();
  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[bs-post]");
  g_source_attach (source, context);
}
