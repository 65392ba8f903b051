/* bs-test-util.h: helpers that the test programs share, GLib only, so that
 * the engine, store and server tests link them without GTK (the widget
 * tests' helpers are in bs-test-widget-util.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes path and, if it is a folder, everything in it; symbolic links are
 * removed, never followed.  Nothing happens if path does not exist. */
void bs_test_remove_tree (const char *path);

/* Asserts that haystack is not NULL and contains needle, logging both when
 * not. */
void bs_test_assert_contains (const char *haystack,
                              const char *needle);

G_END_DECLS
