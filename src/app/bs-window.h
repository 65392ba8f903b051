/* bs-window.h: the main window — a view switcher over the Data, Train,
 * Distill, Classify and Runs pages, the primary menu, and toasts. */
#pragma once

#include <adwaita.h>

#include "bs-application.h"

G_BEGIN_DECLS

#define BS_TYPE_WINDOW (bs_window_get_type ())
G_DECLARE_FINAL_TYPE (BsWindow, bs_window, BS, WINDOW, AdwApplicationWindow)

BsWindow *bs_window_new (BsApplication *application);

/* Shows a short message over the pages (a result, an error). */
void bs_window_add_toast (BsWindow *self,
                          const char *message);

G_END_DECLS
