/* bs-safetensors.h: reading and writing the safetensors format.
 *
 * File layout: u64 little-endian header length N, N bytes of JSON
 * ({"__metadata__": {...}, name: {"dtype", "shape", "data_offsets"}}), then the
 * tensor bytes. Files are memory-mapped for reading and validated completely
 * before any tensor is handed out; writes are atomic. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BS_SAFETENSORS_ERROR (bs_safetensors_error_quark ())
GQuark bs_safetensors_error_quark (void);

typedef enum
{
  BS_SAFETENSORS_ERROR_IO,
  BS_SAFETENSORS_ERROR_TRUNCATED,
  BS_SAFETENSORS_ERROR_HEADER,
  BS_SAFETENSORS_ERROR_DTYPE,
  BS_SAFETENSORS_ERROR_SHAPE,
  BS_SAFETENSORS_ERROR_OFFSETS,
  BS_SAFETENSORS_ERROR_DUPLICATE,
} BsSafetensorsError;

typedef enum
{
  BS_DTYPE_BOOL,
  BS_DTYPE_U8,
  BS_DTYPE_I8,
  BS_DTYPE_F8_E5M2,
  BS_DTYPE_F8_E4M3,
  BS_DTYPE_I16,
  BS_DTYPE_U16,
  BS_DTYPE_F16,
  BS_DTYPE_BF16,
  BS_DTYPE_I32,
  BS_DTYPE_U32,
  BS_DTYPE_F32,
  BS_DTYPE_F64,
  BS_DTYPE_I64,
  BS_DTYPE_U64,
  BS_N_DTYPES
} BsDtype; /* in the order of the reference implementation's enum */

#define BS_SAFETENSORS_MAX_DIMS 8

typedef struct
{
  char *name;
  BsDtype dtype;
  int n_dims;
  gint64 shape[BS_SAFETENSORS_MAX_DIMS];
  gint64 n_elements;
  const guint8 *data; /* points into the mapped file */
  gsize n_bytes;
} BsTensorInfo;

typedef struct _BsSafetensors BsSafetensors;

const char *bs_dtype_name (BsDtype dtype);
gsize bs_dtype_size (BsDtype dtype);

BsSafetensors *bs_safetensors_open (const char *path,
                                    GError **error);
BsSafetensors *bs_safetensors_new_from_bytes (GBytes *bytes,
                                              const char *display_name,
                                              GError **error);
void bs_safetensors_free (BsSafetensors *st);

const char *bs_safetensors_get_path (const BsSafetensors *st);
guint bs_safetensors_get_n_tensors (const BsSafetensors *st);
const BsTensorInfo *bs_safetensors_get_tensor (const BsSafetensors *st,
                                               guint index);
const BsTensorInfo *bs_safetensors_lookup (const BsSafetensors *st,
                                           const char *name);
const char *bs_safetensors_get_metadata (const BsSafetensors *st,
                                         const char *key);

gboolean bs_safetensors_read_f32 (const BsSafetensors *st,
                                  const BsTensorInfo *info,
                                  float *dst,
                                  GError **error);
gboolean bs_safetensors_read_i64 (const BsSafetensors *st,
                                  const BsTensorInfo *info,
                                  gint64 *dst,
                                  GError **error);

char *bs_tensor_shape_to_string (int n_dims,
                                 const gint64 *shape);

/* IEEE half precision (F16) and bfloat16 (BF16) to and from single
 * precision. Narrowing rounds to nearest, ties to even, as torch's .half()
 * and .bfloat16() do: too large a value becomes infinity, too small a
 * (signed) zero or an F16 subnormal; a NaN stays a (quiet) NaN. */
float bs_f16_to_f32 (guint16 h);
guint16 bs_f32_to_f16 (float f);
float bs_bf16_to_f32 (guint16 h);
guint16 bs_f32_to_bf16 (float f);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsSafetensors, bs_safetensors_free)

/* Writing: tensors are referenced, not copied, until write. */
typedef struct _BsSafetensorsWriter BsSafetensorsWriter;

BsSafetensorsWriter *bs_safetensors_writer_new (void);
void bs_safetensors_writer_free (BsSafetensorsWriter *writer);
void bs_safetensors_writer_set_metadata (BsSafetensorsWriter *writer,
                                         const char *key,
                                         const char *value);
void bs_safetensors_writer_add (BsSafetensorsWriter *writer,
                                const char *name,
                                BsDtype dtype,
                                int n_dims,
                                const gint64 *shape,
                                const void *data);
gboolean bs_safetensors_writer_write (BsSafetensorsWriter *writer,
                                      const char *path,
                                      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsSafetensorsWriter, bs_safetensors_writer_free)

G_END_DECLS
