/* bs-checkpoint.h: models to and from Hugging Face folders (config.json +
 * model.safetensors), as the hub publishes them and as transformers loads
 * them. */
#pragma once

#include <glib.h>

#include "bs-model.h"
#include "bs-safetensors.h"

G_BEGIN_DECLS

#define BS_CHECKPOINT_ERROR (bs_checkpoint_error_quark ())
GQuark bs_checkpoint_error_quark (void);

typedef enum
{
  BS_CHECKPOINT_ERROR_NOT_FOUND,
  BS_CHECKPOINT_ERROR_UNSUPPORTED,
  BS_CHECKPOINT_ERROR_MISSING_TENSOR,
  BS_CHECKPOINT_ERROR_DUPLICATE_TENSOR,
  BS_CHECKPOINT_ERROR_SHAPE,
  BS_CHECKPOINT_ERROR_IO,
} BsCheckpointError;

typedef struct
{
  /* Class names for the head; NULL keeps config.json's. A checkpoint head
   * of another size is then replaced by a new one. */
  const char *const *labels;
  int n_labels;
  /* seed of a newly initialised head */
  guint64 head_seed;
  /* the head to load (BS_HEAD_CLASSIFIER, 0, by default) */
  BsHeadKind head;
} BsLoadOptions;

typedef struct
{
  gboolean head_initialised;  /* the checkpoint had no usable head (or pooler) */
  GPtrArray *ignored;         /* names of tensors the model does not use */
  gsize n_converted;          /* tensors converted from F16/BF16/F64 */
} BsLoadReport;

void bs_load_report_clear (BsLoadReport *report);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BsLoadReport, bs_load_report_clear)

BsModel *bs_model_load (const char *dir,
                        const BsLoadOptions *options,
                        BsLoadReport *report,
                        GError **error);
/* Writes config.json and model.safetensors (F32, modern names), each atomically. */
gboolean bs_model_save (const BsModel *model,
                        const char *dir,
                        GError **error);
/* The same with the weights in dtype: BS_DTYPE_F32, BS_DTYPE_F16 or
 * BS_DTYPE_BF16 (rounded to nearest, ties to even; half the size on disk). */
gboolean bs_model_save_with_dtype (const BsModel *model,
                                   const char *dir,
                                   BsDtype dtype,
                                   GError **error);

G_END_DECLS
