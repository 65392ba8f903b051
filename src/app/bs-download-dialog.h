/* bs-download-dialog.h: "Download a Model…": a repository of the Hugging
 * Face hub into the model registry, with progress and cancel. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BS_TYPE_DOWNLOAD_DIALOG (bs_download_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BsDownloadDialog, bs_download_dialog, BS, DOWNLOAD_DIALOG, AdwWindow)

/* Emits "downloaded" (const char *model_folder) when a model is in place. */
BsDownloadDialog *bs_download_dialog_new (GtkWindow *parent,
                                          const char *db_path);

G_END_DECLS
