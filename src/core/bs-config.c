/* bs-config.c: config.json in the Hugging Face spellings of BERT and DistilBERT. */
#include "config.h"

#include "bs-config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "bs-atomic-file.h"
#include "bs-json.h"

G_DEFINE_QUARK (bs-config-error-quark, bs_config_error)

/* Sizes beyond these are a broken file, not a model this machine could hold. */
#define MAX_VOCAB 10000000
#define MAX_HIDDEN 65536
#define MAX_LAYERS 1024
#define MAX_INTERMEDIATE 1048576
#define MAX_POSITIONS 1048576
#define MAX_TYPE_VOCAB 1024
#define MAX_LABELS 100000
#define MAX_PARAMETERS (G_GINT64_CONSTANT (4) << 30)

/* The members each architecture's file spells, managed by BsConfig; the
 * others are kept verbatim in extra_json. */
static const char *const bert_keys[] = {
  "model_type", "architectures", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
  "intermediate_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act",
  "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "pad_token_id",
  "initializer_range", "position_embedding_type", "id2label", "label2id", "num_labels", NULL,
};
static const char *const distilbert_keys[] = {
  "model_type", "architectures", "vocab_size", "dim", "n_layers", "n_heads", "hidden_dim",
  "max_position_embeddings", "activation", "dropout", "attention_dropout", "seq_classif_dropout",
  "pad_token_id", "initializer_range", "sinusoidal_pos_embds", "id2label", "label2id", "num_labels", NULL,
};

const char *
bs_arch_model_type (BsArch arch)
{
  return arch == BS_ARCH_BERT ? "bert" : "distilbert";
}

static char **
default_labels (int n)
{
  char **labels = g_new0 (char *, n + 1);
  for (int i = 0; i < n; i++)
    labels[i] = g_strdup_printf ("LABEL_%d", i);
  return labels;
}

BsConfig *
bs_config_new (BsArch arch)
{
  BsConfig *c = g_new0 (BsConfig, 1);
  c->arch = arch;
  c->vocab_size = 30522;
  c->hidden_size = 768;
  c->n_layers = arch == BS_ARCH_BERT ? 12 : 6;
  c->n_heads = 12;
  c->intermediate_size = 3072;
  c->max_position_embeddings = 512;
  c->type_vocab_size = arch == BS_ARCH_BERT ? 2 : 0;
  c->pad_token_id = 0;
  c->layer_norm_eps = 1e-12;
  c->hidden_dropout = 0.1;
  c->attention_dropout = 0.1;
  c->classifier_dropout = arch == BS_ARCH_BERT ? 0.1 : 0.2;
  c->initializer_range = 0.02;
  c->n_labels = 2;
  c->labels = default_labels (2);
  return c;
}

BsConfig *
bs_config_copy (const BsConfig *config)
{
  BsConfig *c = g_new (BsConfig, 1);
  *c = *config;
  c->labels = g_strdupv (config->labels);
  c->extra_json = g_strdup (config->extra_json);
  return c;
}

void
bs_config_free (BsConfig *config)
{
  if (config == NULL)
    return;
  g_strfreev (config->labels);
  g_free (config->extra_json);
  g_free (config);
}

void
bs_config_set_labels (BsConfig *config, const char *const *labels, int n_labels)
{
  g_strfreev (config->labels);
  config->labels = g_new0 (char *, n_labels + 1);
  for (int i = 0; i < n_labels; i++)
    config->labels[i] = g_strdup (labels[i]);
  config->n_labels = n_labels;
}

typedef struct
{
  const char *file;
  JsonObject *obj;
  GError **error;
} Reader;

static gboolean
fail (Reader *r, BsConfigError code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Reader *r, BsConfigError code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (r->error, BS_CONFIG_ERROR, code, "%s: %s", r->file, what);
  return FALSE;
}

/* An integer member; when absent, *out keeps its default unless required. */
static gboolean
read_int (Reader *r, const char *key, gboolean required, int *out)
{
  JsonNode *node = json_object_get_member (r->obj, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    /* Translators: %s is a config.json key; keep it as it is */
    return required ? fail (r, BS_CONFIG_ERROR_MISSING, _("“%s” is missing"), key) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    /* Translators: %s is a config.json key; keep it as it is */
    return fail (r, BS_CONFIG_ERROR_INVALID, _("“%s” must be an integer"), key);
  gint64 v = json_node_get_int (node);
  if (v < G_MININT || v > G_MAXINT)
    /* Translators: a config.json key (keep it as it is) and its value */
    return fail (r, BS_CONFIG_ERROR_INVALID, _("“%s” is %" PRId64 ", out of range"), key, v);
  *out = (int) v;
  return TRUE;
}

static gboolean
read_number (Reader *r, const char *key, double *out)
{
  JsonNode *node = json_object_get_member (r->obj, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || (json_node_get_value_type (node) != G_TYPE_INT64 && json_node_get_value_type (node) != G_TYPE_DOUBLE))
    /* Translators: %s is a config.json key; keep it as it is */
    return fail (r, BS_CONFIG_ERROR_INVALID, _("“%s” must be a number"), key);
  *out = json_node_get_double (node);
  return TRUE;
}

static gboolean
read_string (Reader *r, const char *key, const char **out)
{
  JsonNode *node = json_object_get_member (r->obj, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    /* Translators: %s is a config.json key; keep it as it is */
    return fail (r, BS_CONFIG_ERROR_INVALID, _("“%s” must be a string"), key);
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
read_labels (Reader *r, BsConfig *c)
{
  JsonNode *node = json_object_get_member (r->obj, "id2label");
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      int n = c->n_labels;
      if (!read_int (r, "num_labels", FALSE, &n))
        return FALSE;
      if (n < 1 || n > MAX_LABELS)
        /* Translators: “num_labels” is a config.json key; keep it as it is */
        return fail (r, BS_CONFIG_ERROR_INVALID, _("“num_labels” is %d (1 to %d expected)"), n, MAX_LABELS);
      g_strfreev (c->labels);
      c->labels = default_labels (n);
      c->n_labels = n;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    /* Translators: “id2label” is a config.json key; keep it as it is */
    return fail (r, BS_CONFIG_ERROR_INVALID, _("“id2label” must be an object mapping class ids to names"));
  JsonObject *map = json_node_get_object (node);
  guint n = json_object_get_size (map);
  if (n < 1 || n > MAX_LABELS)
    /* Translators: “id2label” is a config.json key; keep it as it is */
    return fail (r, BS_CONFIG_ERROR_INVALID, _("“id2label” has %u entries (1 to %d expected)"), n, MAX_LABELS);
  /* not a GStrv while filled: an error after "1" but before "0" would leave a
   * hole at which g_strfreev stops, leaking the names after it */
  g_autoptr (GPtrArray) labels = g_ptr_array_new_full (n + 1, g_free);
  g_ptr_array_set_size (labels, (gint) n);
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  json_object_iter_init (&iter, map);
  while (json_object_iter_next (&iter, &key, &value))
    {
      char *end = NULL;
      guint64 id = g_ascii_strtoull (key, &end, 10);
      if (end == key || *end != '\0' || id >= n)
        return fail (r, BS_CONFIG_ERROR_INVALID,
                     /* Translators: “id2label” is a config.json key; %s a key inside it */
                     _("“id2label” key “%s” is not a class id between 0 and %u"), key, n - 1);
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        /* Translators: “id2label” is a config.json key; %s a key inside it */
        return fail (r, BS_CONFIG_ERROR_INVALID, _("“id2label” entry “%s” is not a string"), key);
      if (g_ptr_array_index (labels, id) != NULL)
        /* Translators: “id2label” is a config.json key; %s a class id */
        return fail (r, BS_CONFIG_ERROR_INVALID, _("“id2label” names class %s twice"), key);
      g_ptr_array_index (labels, id) = g_strdup (json_node_get_string (value));
    }
  g_ptr_array_add (labels, NULL);
  g_strfreev (c->labels);
  c->labels = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  c->n_labels = (int) n;
  return TRUE;
}

static gboolean
read_activation (Reader *r, const char *key)
{
  const char *act = "gelu";
  if (!read_string (r, key, &act))
    return FALSE;
  if (strcmp (act, "gelu") != 0)
    /* Translators: a config.json key and its value; keep “gelu” as it is */
    return fail (r, BS_CONFIG_ERROR_UNSUPPORTED, _("“%s” is “%s”; only “gelu” (exact erf GELU) is supported"),
                 key, act);
  return TRUE;
}

static gboolean
read_bert (Reader *r, BsConfig *c)
{
  const char *pos_type = "absolute";
  gboolean ok = read_int (r, "vocab_size", TRUE, &c->vocab_size)
                && read_int (r, "hidden_size", TRUE, &c->hidden_size)
                && read_int (r, "num_hidden_layers", TRUE, &c->n_layers)
                && read_int (r, "num_attention_heads", TRUE, &c->n_heads)
                && read_int (r, "intermediate_size", TRUE, &c->intermediate_size)
                && read_int (r, "max_position_embeddings", TRUE, &c->max_position_embeddings)
                && read_int (r, "type_vocab_size", FALSE, &c->type_vocab_size)
                && read_int (r, "pad_token_id", FALSE, &c->pad_token_id)
                && read_number (r, "layer_norm_eps", &c->layer_norm_eps)
                && read_number (r, "hidden_dropout_prob", &c->hidden_dropout)
                && read_number (r, "attention_probs_dropout_prob", &c->attention_dropout)
                && read_number (r, "initializer_range", &c->initializer_range)
                && read_activation (r, "hidden_act")
                && read_string (r, "position_embedding_type", &pos_type);
  if (!ok)
    return FALSE;
  /* classifier_dropout: null means "as hidden_dropout_prob" */
  c->classifier_dropout = c->hidden_dropout;
  if (!read_number (r, "classifier_dropout", &c->classifier_dropout))
    return FALSE;
  if (strcmp (pos_type, "absolute") != 0)
    return fail (r, BS_CONFIG_ERROR_UNSUPPORTED,
                 /* Translators: a config.json key and its value; keep the key and “absolute” as they are */
                 _("“position_embedding_type” is “%s”; only “absolute” is supported"), pos_type);
  return TRUE;
}

static gboolean
read_distilbert (Reader *r, BsConfig *c)
{
  gboolean ok = read_int (r, "vocab_size", TRUE, &c->vocab_size)
                && read_int (r, "dim", TRUE, &c->hidden_size)
                && read_int (r, "n_layers", TRUE, &c->n_layers)
                && read_int (r, "n_heads", TRUE, &c->n_heads)
                && read_int (r, "hidden_dim", TRUE, &c->intermediate_size)
                && read_int (r, "max_position_embeddings", TRUE, &c->max_position_embeddings)
                && read_int (r, "pad_token_id", FALSE, &c->pad_token_id)
                && read_number (r, "dropout", &c->hidden_dropout)
                && read_number (r, "attention_dropout", &c->attention_dropout)
                && read_number (r, "seq_classif_dropout", &c->classifier_dropout)
                && read_number (r, "initializer_range", &c->initializer_range)
                && read_activation (r, "activation");
  if (!ok)
    return FALSE;
  JsonNode *sinusoidal = json_object_get_member (r->obj, "sinusoidal_pos_embds");
  if (sinusoidal != NULL && JSON_NODE_HOLDS_VALUE (sinusoidal)
      && json_node_get_value_type (sinusoidal) == G_TYPE_BOOLEAN && json_node_get_boolean (sinusoidal))
    return fail (r, BS_CONFIG_ERROR_UNSUPPORTED,
                 /* Translators: “sinusoidal_pos_embds” is a config.json key and true its value; keep both */
                 _("“sinusoidal_pos_embds” is true; only learned positions are supported"));
  /* transformers hard-codes DistilBERT's LayerNorm eps. */
  c->layer_norm_eps = 1e-12;
  c->type_vocab_size = 0;
  return TRUE;
}

/* Messages name the member as the file spells it (key) and what it means
 * (what, marked with N_()). */
static gboolean
check_range (const char *file, GError **error, const char *key, const char *what, gint64 value, gint64 min,
             gint64 max)
{
  if (value >= min && value <= max)
    return TRUE;
  /* Translators: a file path, a config.json key (keep it as it is), what the key means (such as
     “the hidden size”), its value, and the smallest and largest value allowed */
  g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_INVALID, _("%s: “%s” (%s) is %" PRId64
               " (%" PRId64 " to %" PRId64 " expected)"), file, key, _(what), value, min, max);
  return FALSE;
}

static gboolean
check_probability (const char *file, GError **error, const char *key, const char *what, double p)
{
  if (p >= 0.0 && p < 1.0)
    return TRUE;
  g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_INVALID,
               /* Translators: a file path, a config.json key (keep it as it is), what the key means
                  (such as “the hidden dropout”) and its value */
               _("%s: “%s” (%s) is %g (a dropout probability from 0 up to 1 expected)"), file, key, _(what), p);
  return FALSE;
}

gboolean
bs_config_validate (const BsConfig *c, const char *file, GError **error)
{
  gboolean bert = c->arch == BS_ARCH_BERT;
  const char *hidden_key = bert ? "hidden_size" : "dim", *heads_key = bert ? "num_attention_heads" : "n_heads";
  if (!check_range (file, error, "vocab_size", N_("the vocabulary size"), c->vocab_size, 1, MAX_VOCAB)
      || !check_range (file, error, hidden_key, N_("the hidden size"), c->hidden_size, 1, MAX_HIDDEN)
      || !check_range (file, error, bert ? "num_hidden_layers" : "n_layers", N_("the number of layers"), c->n_layers,
                       1, MAX_LAYERS)
      || !check_range (file, error, heads_key, N_("the number of attention heads"), c->n_heads, 1, c->hidden_size)
      || !check_range (file, error, bert ? "intermediate_size" : "hidden_dim", N_("the feed-forward size"),
                       c->intermediate_size, 1, MAX_INTERMEDIATE)
      || !check_range (file, error, "max_position_embeddings", N_("the number of positions"),
                       c->max_position_embeddings, 1, MAX_POSITIONS)
      || (bert && !check_range (file, error, "type_vocab_size", N_("the number of token types"), c->type_vocab_size,
                                1, MAX_TYPE_VOCAB))
      || !check_range (file, error, "pad_token_id", N_("the padding token id"), c->pad_token_id, 0,
                       c->vocab_size - 1)
      || !check_range (file, error, "num_labels", N_("the number of labels"), c->n_labels, 1, MAX_LABELS)
      || !check_probability (file, error, bert ? "hidden_dropout_prob" : "dropout", N_("the hidden dropout"),
                             c->hidden_dropout)
      || !check_probability (file, error, bert ? "attention_probs_dropout_prob" : "attention_dropout",
                             N_("the attention dropout"), c->attention_dropout)
      || !check_probability (file, error, bert ? "classifier_dropout" : "seq_classif_dropout",
                             N_("the classifier dropout"), c->classifier_dropout))
    return FALSE;
  if (c->hidden_size % c->n_heads != 0)
    {
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_INVALID,
                   /* Translators: a file path, then two config.json keys (keep them as they are), each
                      followed by its value */
                   _("%s: “%s” %d is not divisible by “%s” %d (the hidden size must split evenly into the attention "
                     "heads)"), file, hidden_key, c->hidden_size, heads_key, c->n_heads);
      return FALSE;
    }
  if (!(c->layer_norm_eps > 0.0 && c->layer_norm_eps < 1.0))
    {
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_INVALID,
                   /* Translators: a file path and a value; keep “layer_norm_eps” as it is */
                   _("%s: “layer_norm_eps” (the LayerNorm epsilon) is %g (a small positive number expected)"), file,
                   c->layer_norm_eps);
      return FALSE;
    }
  if (!(c->initializer_range >= 0.0 && c->initializer_range < 10.0))
    {
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_INVALID,
                   /* Translators: a file path and a value; keep “initializer_range” as it is */
                   _("%s: “initializer_range” is %g"), file, c->initializer_range);
      return FALSE;
    }
  /* Guard the allocation: a valid-looking file can still describe a
   * model no machine holds. */
  gint64 h = c->hidden_size;
  gint64 n_params = ((gint64) c->vocab_size + c->max_position_embeddings + c->type_vocab_size) * h
                    + (gint64) c->n_layers * (4 * h * h + 2 * h * c->intermediate_size)
                    + h * h + (gint64) c->n_labels * h; /* the head */
  if (n_params > MAX_PARAMETERS)
    {
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_INVALID,
                   /* Translators: a file path, a number of parameters and the most supported */
                   _("%s: the model would have %" PRId64 " parameters, more than the %" PRId64
                     " supported"), file, n_params, MAX_PARAMETERS);
      return FALSE;
    }
  return TRUE;
}

static void write_json (GString *out, JsonNode *node, int depth);

/* With write_json, not json_to_string: json-glib writes 1e308 as
 * "1e+308.0" and infinity as "inf.0", which no parser reads back, and
 * bs_config_to_json would then drop every member kept here. */
static char *
collect_extra (JsonObject *obj, const char *const *managed)
{
  g_autoptr (JsonObject) extra = json_object_new ();
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &key, &value))
    if (!g_strv_contains (managed, key))
      json_object_set_member (extra, key, json_node_copy (value));
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), extra);
  GString *out = g_string_new (NULL);
  write_json (out, node, 0);
  return g_string_free (out, FALSE);
}

BsConfig *
bs_config_parse (const char *json, gssize length, const char *file, GError **error)
{
  const char *problem;
  if (!bs_json_check (json, length < 0 ? strlen (json) : (gsize) length, &problem))
    {
      /* Translators: a file path and what is wrong with its JSON */
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_PARSE, _("%s: not valid JSON: %s"), file, problem);
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, json, length, &json_error))
    {
      /* Translators: a file path and what is wrong with its JSON */
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_PARSE, _("%s: not valid JSON: %s"), file,
                   json_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      /* Translators: %s is a file path */
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_PARSE, _("%s: not a JSON object"), file);
      return NULL;
    }
  Reader r = { file, json_node_get_object (root), error };
  const char *model_type = NULL;
  if (!read_string (&r, "model_type", &model_type))
    return NULL;
  if (model_type == NULL)
    {
      /* Translators: keep “model_type”, “bert” and “distilbert” as they are */
      fail (&r, BS_CONFIG_ERROR_MISSING, _("“model_type” is missing (“bert” or “distilbert” expected)"));
      return NULL;
    }
  BsArch arch;
  if (strcmp (model_type, "bert") == 0)
    arch = BS_ARCH_BERT;
  else if (strcmp (model_type, "distilbert") == 0)
    arch = BS_ARCH_DISTILBERT;
  else
    {
      /* Translators: %s is the file's model type; keep “model_type”, “bert” and “distilbert” as they are */
      fail (&r, BS_CONFIG_ERROR_UNSUPPORTED, _("“model_type” is “%s”; BERT Studio supports “bert” and “distilbert”"),
            model_type);
      return NULL;
    }
  g_autoptr (BsConfig) c = bs_config_new (arch);
  gboolean ok = arch == BS_ARCH_BERT ? read_bert (&r, c) : read_distilbert (&r, c);
  if (!ok || !read_labels (&r, c) || !bs_config_validate (c, file, error))
    return NULL;
  c->extra_json = collect_extra (r.obj, arch == BS_ARCH_BERT ? bert_keys : distilbert_keys);
  return g_steal_pointer (&c);
}

BsConfig *
bs_config_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr (GError) io_error = NULL;
  if (!g_file_get_contents (path, &contents, &length, &io_error))
    {
      g_set_error (error, BS_CONFIG_ERROR, BS_CONFIG_ERROR_IO, "%s", io_error->message);
      return NULL;
    }
  return bs_config_parse (contents, (gssize) length, path, error);
}

/* Pretty JSON with sorted keys, as transformers writes config.json; doubles
 * in their shortest exact form (0.1, 1e-12), not json-glib's 17 digits. */
static void
write_json (GString *out, JsonNode *node, int depth)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      g_autoptr (GList) keys = g_list_sort (json_object_get_members (obj), (GCompareFunc) strcmp);
      if (keys == NULL)
        {
          g_string_append (out, "{}");
          return;
        }
      g_string_append (out, "{\n");
      for (GList *l = keys; l != NULL; l = l->next)
        {
          g_string_append_printf (out, "%*s", 2 * (depth + 1), "");
          bs_json_append_string (out, l->data);
          g_string_append (out, ": ");
          write_json (out, json_object_get_member (obj, l->data), depth + 1);
          g_string_append (out, l->next ? ",\n" : "\n");
        }
      g_string_append_printf (out, "%*s}", 2 * depth, "");
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);
      if (n == 0)
        {
          g_string_append (out, "[]");
          return;
        }
      g_string_append (out, "[\n");
      for (guint i = 0; i < n; i++)
        {
          g_string_append_printf (out, "%*s", 2 * (depth + 1), "");
          write_json (out, json_array_get_element (array, i), depth + 1);
          g_string_append (out, i + 1 < n ? ",\n" : "\n");
        }
      g_string_append_printf (out, "%*s]", 2 * depth, "");
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    {
      double v = json_node_get_double (node);
      /* JSON has no infinity; 1e999 parses back to one (here and in Python) */
      if (!isfinite (v))
        {
          g_string_append (out, isnan (v) ? "null" : v > 0 ? "1e999" : "-1e999");
          return;
        }
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      for (int precision = 1; precision <= 17; precision++)
        {
          char format[8];
          g_snprintf (format, sizeof format, "%%.%dg", precision);
          g_ascii_formatd (buf, sizeof buf, format, v);
          /* as Python: 100.0 and 1e-12, not 1e+02 and 0.000000000001 */
          gboolean plain_range = fabs (v) >= 1e-4 && fabs (v) < 1e16;
          if (g_ascii_strtod (buf, NULL) == v && (!plain_range || strchr (buf, 'e') == NULL))
            break;
        }
      g_string_append (out, buf);
      /* keep it a float for Python: 1 -> 1.0 */
      if (strpbrk (buf, ".eEn") == NULL)
        g_string_append (out, ".0");
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    bs_json_append_string (out, json_node_get_string (node));
  else
    {
      g_autofree char *text = json_to_string (node, FALSE);
      g_string_append (out, text);
    }
}

char *
bs_config_to_json (const BsConfig *c)
{
  g_autoptr (JsonObject) o = NULL;
  if (c->extra_json != NULL)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      if (json_parser_load_from_data (parser, c->extra_json, -1, NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        o = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }
  if (o == NULL)
    o = json_object_new ();

  gboolean bert = c->arch == BS_ARCH_BERT;
  JsonArray *architectures = json_array_new ();
  json_array_add_string_element (architectures,
                                 c->masked_lm ? (bert ? "BertForMaskedLM" : "DistilBertForMaskedLM")
                                 : bert       ? "BertForSequenceClassification"
                                              : "DistilBertForSequenceClassification");
  json_object_set_array_member (o, "architectures", architectures);
  json_object_set_string_member (o, "model_type", bs_arch_model_type (c->arch));
  json_object_set_int_member (o, "vocab_size", c->vocab_size);
  json_object_set_int_member (o, "max_position_embeddings", c->max_position_embeddings);
  json_object_set_int_member (o, "pad_token_id", c->pad_token_id);
  json_object_set_double_member (o, "initializer_range", c->initializer_range);
  if (bert)
    {
      json_object_set_int_member (o, "hidden_size", c->hidden_size);
      json_object_set_int_member (o, "num_hidden_layers", c->n_layers);
      json_object_set_int_member (o, "num_attention_heads", c->n_heads);
      json_object_set_int_member (o, "intermediate_size", c->intermediate_size);
      json_object_set_int_member (o, "type_vocab_size", c->type_vocab_size);
      json_object_set_double_member (o, "layer_norm_eps", c->layer_norm_eps);
      json_object_set_string_member (o, "hidden_act", "gelu");
      json_object_set_double_member (o, "hidden_dropout_prob", c->hidden_dropout);
      json_object_set_double_member (o, "attention_probs_dropout_prob", c->attention_dropout);
      if (c->classifier_dropout == c->hidden_dropout)
        json_object_set_null_member (o, "classifier_dropout");
      else
        json_object_set_double_member (o, "classifier_dropout", c->classifier_dropout);
      json_object_set_string_member (o, "position_embedding_type", "absolute");
    }
  else
    {
      json_object_set_int_member (o, "dim", c->hidden_size);
      json_object_set_int_member (o, "n_layers", c->n_layers);
      json_object_set_int_member (o, "n_heads", c->n_heads);
      json_object_set_int_member (o, "hidden_dim", c->intermediate_size);
      json_object_set_string_member (o, "activation", "gelu");
      json_object_set_double_member (o, "dropout", c->hidden_dropout);
      json_object_set_double_member (o, "attention_dropout", c->attention_dropout);
      json_object_set_double_member (o, "seq_classif_dropout", c->classifier_dropout);
      json_object_set_boolean_member (o, "sinusoidal_pos_embds", FALSE);
    }
  JsonObject *id2label = json_object_new ();
  JsonObject *label2id = json_object_new ();
  for (int i = 0; i < c->n_labels; i++)
    {
      char key[16];
      g_snprintf (key, sizeof key, "%d", i);
      json_object_set_string_member (id2label, key, c->labels[i]);
      json_object_set_int_member (label2id, c->labels[i], i);
    }
  json_object_set_object_member (o, "id2label", id2label);
  json_object_set_object_member (o, "label2id", label2id);
  json_object_remove_member (o, "num_labels");

  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), o);
  write_json (out, root, 0);
  g_string_append_c (out, '\n');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
bs_config_save (const BsConfig *config, const char *path, GError **error)
{
  g_autofree char *text = bs_config_to_json (config);
  return bs_write_file_atomic (path, text, strlen (text), error);
}
