/* bs-classify-page.h: the Classify page: a text, the predicted label and
 * each class's probability; whole files classified to CSV. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_CLASSIFY_PAGE (bs_classify_page_get_type ())
G_DECLARE_FINAL_TYPE (BsClassifyPage, bs_classify_page, BS, CLASSIFY_PAGE, GtkWidget)

GtkWidget *bs_classify_page_new (void);

G_END_DECLS
