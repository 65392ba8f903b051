/* bs-test-widget-util.h: helpers that the widget tests share: running the
 * main context for a while or until something holds, and finding widgets. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A condition that bs_test_run_until waits for. */
typedef gboolean (*BsTestCheckFunc) (gpointer data);

/* Runs the default main context for ms milliseconds. */
void bs_test_run_for (guint ms);

/* Runs the default main context until check (data) holds, for at most
 * seconds, and returns whether it holds. */
gboolean bs_test_run_until (BsTestCheckFunc check,
                            gpointer data,
                            guint seconds);

/* A BsTestCheckFunc: whether the widget data is mapped. */
gboolean bs_test_is_mapped (gpointer widget);

/* The child called name in the template of the class type (widget's class
 * or one of its parents); asserts that there is one. */
gpointer bs_test_template_child (gpointer widget,
                                 GType type,
                                 const char *name);

/* The same from whichever template has it, widget's own class's first and
 * then its parents', for the tests that have one kind of page only. */
gpointer bs_test_child (gpointer widget,
                        const char *name);

/* The first label at or under widget whose text is text, or NULL. */
GtkLabel *bs_test_find_label (GtkWidget *widget,
                              const char *text);

/* A test case for when there is no display to run the others on. */
void bs_test_skip_without_display (void);

G_END_DECLS
