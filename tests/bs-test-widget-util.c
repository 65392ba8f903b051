/* bs-test-widget-util.c: see bs-test-widget-util.h. */
#include "bs-test-widget-util.h"

static gboolean
set_true (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
bs_test_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_true, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

gboolean
bs_test_run_until (BsTestCheckFunc check,
                   gpointer data,
                   guint seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  /* in short runs, so that check is looked at again soon after whatever it
   * waits for has happened */
  while (!check (data) && g_get_monotonic_time () < end)
    bs_test_run_for (10);
  return check (data);
}

gboolean
bs_test_is_mapped (gpointer widget)
{
  return gtk_widget_get_mapped (widget);
}

gpointer
bs_test_template_child (gpointer widget,
                        GType type,
                        const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (child);
  return child;
}

gpointer
bs_test_child (gpointer widget,
               const char *name)
{
  GObject *child = NULL;

  /* templates are per class: a class without one has no children to give */
  for (GType type = G_OBJECT_TYPE (widget); child == NULL && g_type_is_a (type, GTK_TYPE_WIDGET);
       type = g_type_parent (type))
    child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);
  g_assert_nonnull (child);
  return child;
}

GtkLabel *
bs_test_find_label (GtkWidget *widget,
                    const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return GTK_LABEL (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *label = bs_test_find_label (child, text);
      if (label != NULL)
        return label;
    }
  return NULL;
}

void
bs_test_skip_without_display (void)
{
  g_test_skip ("no display: run under xvfb-run");
}
