/* bs-runs-page.h: the Runs page: every past run from the store with its
 * charts, parameters and results; export, delete, resume. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_RUNS_PAGE (bs_runs_page_get_type ())
G_DECLARE_FINAL_TYPE (BsRunsPage, bs_runs_page, BS, RUNS_PAGE, GtkWidget)

GtkWidget *bs_runs_page_new (void);

G_END_DECLS
