/* bs-distill-page.h: the Distill page: a teacher, a student and the
 * distillation settings; live charts, then teacher and student compared. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_DISTILL_PAGE (bs_distill_page_get_type ())
G_DECLARE_FINAL_TYPE (BsDistillPage, bs_distill_page, BS, DISTILL_PAGE, GtkWidget)

GtkWidget *bs_distill_page_new (void);
gboolean bs_distill_page_get_running (BsDistillPage *self);
void bs_distill_page_cancel (BsDistillPage *self);

G_END_DECLS
