/* bs-train-page.h: the Train page: a base model, a dataset and the hyper-
 * parameters with plain-language explanations; live charts while the
 * fine-tuning job runs, and its evaluation. In its distill kind it is the
 * heart of the Distill page. */
#pragma once

#include <adwaita.h>

#include "bs-train-job.h"

G_BEGIN_DECLS

#define BS_TYPE_TRAIN_PAGE (bs_train_page_get_type ())
G_DECLARE_FINAL_TYPE (BsTrainPage, bs_train_page, BS, TRAIN_PAGE, GtkWidget)

GtkWidget *bs_train_page_new (BsTrainKind kind);
gboolean bs_train_page_get_running (BsTrainPage *self);
/* Stops the job after its batch; it keeps a checkpoint. */
void bs_train_page_cancel (BsTrainPage *self);

G_END_DECLS
