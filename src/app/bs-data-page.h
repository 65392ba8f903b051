/* bs-data-page.h: the Data page: importing datasets, previewing their
 * examples and their class balance, and the list of datasets in the store. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_DATA_PAGE (bs_data_page_get_type ())
G_DECLARE_FINAL_TYPE (BsDataPage, bs_data_page, BS, DATA_PAGE, GtkWidget)

GtkWidget *bs_data_page_new (void);

G_END_DECLS
