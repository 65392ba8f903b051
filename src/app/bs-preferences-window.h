/* bs-preferences-window.h: the preferences — the threads training may use,
 * and where the database is. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_PREFERENCES_WINDOW (bs_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (BsPreferencesWindow, bs_preferences_window, BS, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* database_path: shown, read-only; NULL if no database is open. */
BsPreferencesWindow *bs_preferences_window_new (GtkWindow *parent,
                                                const char *database_path);

G_END_DECLS
