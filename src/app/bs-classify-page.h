/* bs-classify-page.h: the Classify page: a text, the predicted label and
 * each class's probability; whole files classified to CSV; the selected
 * model served over HTTP. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_CLASSIFY_PAGE (bs_classify_page_get_type ())
G_DECLARE_FINAL_TYPE (BsClassifyPage, bs_classify_page, BS, CLASSIFY_PAGE, GtkWidget)

GtkWidget *bs_classify_page_new (void);

/* What the file choosers lead to, without them: classifies every text of
 * file (a .txt with one text a line, a .csv with a text, review or sentence
 * column, a .jsonl with a "text" field) with the selected model on a worker
 * thread, and writes the predictions of the last file classified to file as
 * CSV. Both return at once; the page shows the progress and the outcome. */
void bs_classify_page_classify_file (BsClassifyPage *self,
                                     GFile *file);
void bs_classify_page_save_predictions (BsClassifyPage *self,
                                        GFile *file);

G_END_DECLS
