/* bs-data-page-private.h: what the Data page's dialogs call, and what it
 * shows, for the widget tests. */
#pragma once

#include "bs-data-page.h"
#include "bs-import-dialog.h"
#include "bs-token-histogram.h"

G_BEGIN_DECLS

/* Starts importing on a worker thread, as the import dialog's Import does;
 * FALSE (with a toast) when an import is running already. */
gboolean bs_data_page_import (BsDataPage *self,
                              const BsImportRequest *request);
gboolean bs_data_page_get_importing (BsDataPage *self);
/* What the message bar above the page says (an import's error), or NULL
 * when it is hidden. */
const char *bs_data_page_get_message (BsDataPage *self);

/* The datasets listed (BsDataset*), in the list's order, and the one shown. */
GPtrArray *bs_data_page_get_datasets (BsDataPage *self);
gint64 bs_data_page_get_selected (BsDataPage *self);
void bs_data_page_select (BsDataPage *self,
                          gint64 dataset_id);
/* TRUE while the shown dataset's examples, counts or token lengths are
 * being read. */
gboolean bs_data_page_get_loading (BsDataPage *self);

/* The preview's rows (BsExampleItem). */
GListModel *bs_data_page_get_examples (BsDataPage *self);
const char *bs_example_item_get_text (GObject *item);
const char *bs_example_item_get_label (GObject *item);
const char *bs_example_item_get_split (GObject *item);

/* The class balance as shown: one row a label, each with its count. */
GtkListBox *bs_data_page_get_balance_list (BsDataPage *self);
BsTokenHistogram *bs_data_page_get_histogram (BsDataPage *self);
/* The token-length area: "chart", or "status" with its text. */
const char *bs_data_page_get_tokens_state (BsDataPage *self,
                                           const char **status);

/* What the Export dialog and the Delete confirmation run. */
void bs_data_page_export (BsDataPage *self,
                          const char *path,
                          BsExportFormat format);
void bs_data_page_delete (BsDataPage *self,
                          gint64 dataset_id);

G_END_DECLS
