/* libFuzzer target for the parsers of files that come from anywhere: the
 * safetensors reader and config.json.
 *
 * The first byte selects the parser (even: safetensors, odd: config.json);
 * the rest is the file. Besides "no crash, no leak, no UB" it checks what a
 * successful parse promises:
 *   safetensors: every tensor lies inside the file and its byte size is its
 *     shape times its dtype; every float or integer tensor reads; other
 *     dtypes are refused with an error.
 *   config.json: the result validates, and writing it then parsing that
 *     again gives the same fields and the same text.
 * Seeds: tests/fuzz-corpus/parsers (files prefixed with the selector). */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs-config.h"
#include "bs-safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Aborts with a message: the fuzzer reports it as a crash with the input. */
#define CHECK(cond, ...)                                                                                              \
  G_STMT_START                                                                                                        \
  {                                                                                                                   \
    if (!(cond))                                                                                                      \
      {                                                                                                               \
        fprintf (stderr, "fuzz-parsers: %s: ", #cond);                                                                \
        fprintf (stderr, __VA_ARGS__);                                                                                \
        fputc ('\n', stderr);                                                                                         \
        abort ();                                                                                                     \
      }                                                                                                               \
  }                                                                                                                   \
  G_STMT_END

static void
fuzz_safetensors (const guint8 *data, gsize size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  gsize length;
  const guint8 *base = g_bytes_get_data (bytes, &length);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (bytes, "fuzz.safetensors", &error);
  if (st == NULL)
    {
      CHECK (error != NULL && error->domain == BS_SAFETENSORS_ERROR, "a failure without a safetensors error");
      CHECK (strstr (error->message, "fuzz.safetensors") != NULL, "the message lacks the file: %s", error->message);
      return;
    }
  CHECK (error == NULL, "success with an error set");
  bs_safetensors_get_metadata (st, "format");

  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (st, i);
      CHECK (bs_safetensors_lookup (st, t->name) == t, "“%s” does not look up to itself", t->name);
      CHECK (t->n_dims >= 0 && t->n_dims <= BS_SAFETENSORS_MAX_DIMS, "“%s”: %d dims", t->name, t->n_dims);
      gint64 n = 1;
      for (int d = 0; d < t->n_dims; d++)
        {
          CHECK (t->shape[d] >= 0, "“%s”: negative dimension", t->name);
          n *= t->shape[d]; /* cannot overflow: the bytes fit in the file */
        }
      CHECK (n == t->n_elements, "“%s”: %" G_GINT64_FORMAT " elements for its shape", t->name, t->n_elements);
      CHECK (t->n_bytes == (gsize) n * bs_dtype_size (t->dtype), "“%s”: byte size", t->name);
      CHECK (t->data >= base && t->data <= base + length && t->n_bytes <= (gsize) (base + length - t->data),
             "“%s” lies outside the file", t->name);

      gsize n_alloc = MAX ((gsize) n, 1);
      switch (t->dtype)
        {
        case BS_DTYPE_F32:
        case BS_DTYPE_F16:
        case BS_DTYPE_BF16:
        case BS_DTYPE_F64:
          {
            g_autofree float *f = g_new (float, n_alloc);
            CHECK (bs_safetensors_read_f32 (st, t, f, &error), "“%s” does not read as F32", t->name);
            CHECK (!bs_safetensors_read_i64 (st, t, (gint64 *) f, &error), "a float read as integers");
            g_clear_error (&error);
            break;
          }
        case BS_DTYPE_I64:
        case BS_DTYPE_I32:
          {
            g_autofree gint64 *v = g_new (gint64, n_alloc);
            CHECK (bs_safetensors_read_i64 (st, t, v, &error), "“%s” does not read as I64", t->name);
            CHECK (!bs_safetensors_read_f32 (st, t, (float *) v, &error), "an integer read as F32");
            g_clear_error (&error);
            break;
          }
        default:
          {
            g_autofree gint64 *v = g_new (gint64, n_alloc);
            CHECK (!bs_safetensors_read_f32 (st, t, (float *) v, &error), "%s read as F32",
                   bs_dtype_name (t->dtype));
            CHECK (error != NULL && error->code == BS_SAFETENSORS_ERROR_DTYPE, "no DTYPE error");
            g_clear_error (&error);
            CHECK (!bs_safetensors_read_i64 (st, t, v, &error), "%s read as I64", bs_dtype_name (t->dtype));
            g_clear_error (&error);
            break;
          }
        }
    }
}

static gboolean
extras_equal (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  g_autoptr (JsonNode) na = json_from_string (a, NULL);
  g_autoptr (JsonNode) nb = json_from_string (b, NULL);
  return na != NULL && nb != NULL && json_node_equal (na, nb);
}

static void
fuzz_config (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsConfig) c = bs_config_parse ((const char *) data, (gssize) size, "config.json", &error);
  if (c == NULL)
    {
      CHECK (error != NULL && error->domain == BS_CONFIG_ERROR, "a failure without a config error");
      CHECK (strstr (error->message, "config.json") != NULL, "the message lacks the file: %s", error->message);
      return;
    }
  CHECK (bs_config_validate (c, "config.json", NULL), "a parsed config does not validate");
  CHECK ((int) g_strv_length (c->labels) == c->n_labels, "%d labels, %u names", c->n_labels,
         g_strv_length (c->labels));

  g_autofree char *json = bs_config_to_json (c);
  g_autoptr (BsConfig) back = bs_config_parse (json, -1, "written config.json", &error);
  CHECK (back != NULL, "the written config does not parse: %s\n%s", error->message, json);
  CHECK (back->arch == c->arch && back->vocab_size == c->vocab_size && back->hidden_size == c->hidden_size
         && back->n_layers == c->n_layers && back->n_heads == c->n_heads
         && back->intermediate_size == c->intermediate_size
         && back->max_position_embeddings == c->max_position_embeddings
         && back->type_vocab_size == c->type_vocab_size && back->pad_token_id == c->pad_token_id,
         "sizes differ after writing:\n%s", json);
  CHECK (back->layer_norm_eps == c->layer_norm_eps && back->hidden_dropout == c->hidden_dropout
         && back->attention_dropout == c->attention_dropout && back->classifier_dropout == c->classifier_dropout
         && back->initializer_range == c->initializer_range,
         "numbers differ after writing:\n%s", json);
  CHECK (back->n_labels == c->n_labels
         && g_strv_equal ((const char *const *) back->labels, (const char *const *) c->labels),
         "labels differ after writing:\n%s", json);
  CHECK (extras_equal (back->extra_json, c->extra_json), "other members differ after writing:\n%s\n%s",
         c->extra_json, back->extra_json);
  g_autofree char *again = bs_config_to_json (back);
  CHECK (strcmp (again, json) == 0, "writing is not stable:\n%s\n%s", json, again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] % 2 == 0)
    fuzz_safetensors (data + 1, size - 1);
  else
    fuzz_config (data + 1, size - 1);
  return 0;
}
