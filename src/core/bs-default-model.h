/* bs-default-model.h: the small model that ships with BERT Studio
 * (data/default-model in the source tree, DATADIR/bert-studio/default-model
 * once installed), used when the user has no model of their own. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Overrides the installed folder: the source tree's under `meson devenv`,
 * a test's own; set but empty, there is no default model. */
#define BS_DEFAULT_MODEL_ENV "BERT_STUDIO_DEFAULT_MODEL"

/* The default model's folder (absolute), or NULL with G_IO_ERROR_NOT_FOUND
 * saying why when there is none: the folder has no config.json. The model
 * itself may still fail to load; that is the loader's to say. */
char *bs_default_model_find (GError **error);
/* The same, without the reason. */
char *bs_default_model_dir (void);

G_END_DECLS
