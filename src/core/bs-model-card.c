/* bs-model-card.c: model_card.json read and checked. */
#include "config.h"

#include "bs-model-card.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "bs-json.h"

G_DEFINE_QUARK (bs-model-card-error-quark, bs_model_card_error)

void
bs_model_card_free (BsModelCard *card)
{
  if (card == NULL)
    return;
  g_free (card->name);
  g_free (card->description);
  g_free (card->trained_on);
  g_free (card->license);
  g_free (card);
}

typedef struct
{
  const char *file;
  GError **error;
} Reader;

static gboolean
invalid (Reader *r, const char *key, const char *expected)
{
  g_set_error (r->error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_INVALID,
               /* Translators: a file path, a key of the file (keep it as it is), and what its value should be,
                  e.g. “an integer from 2 to 512” */
               _("%s: “%s” must be %s"), r->file, key, expected);
  return FALSE;
}

/* A member, or NULL when absent or null: every member but the name is optional. */
static JsonNode *
member (JsonObject *obj, const char *key)
{
  JsonNode *node = json_object_get_member (obj, key);
  return node == NULL || JSON_NODE_HOLDS_NULL (node) ? NULL : node;
}

static gboolean
read_string (Reader *r, JsonObject *obj, const char *key, char **out)
{
  JsonNode *node = member (obj, key);
  if (node == NULL)
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    return invalid (r, key, _("a string"));
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* An integer in [min, max]; 256.0 counts as 256. */
static gboolean
read_integer (Reader *r, JsonObject *obj, const char *key, gint64 min, gint64 max, const char *expected,
              gint64 *out)
{
  JsonNode *node = member (obj, key);
  if (node == NULL)
    return TRUE;
  GType type = json_node_get_value_type (node);
  gint64 value;
  if (type == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE && json_node_get_double (node) == nearbyint (json_node_get_double (node))
           && fabs (json_node_get_double (node)) < 0x1p62)
    value = (gint64) json_node_get_double (node);
  else
    return invalid (r, key, expected);
  if (value < min || value > max)
    return invalid (r, key, expected);
  *out = value;
  return TRUE;
}

static gboolean
read_fraction (Reader *r, JsonObject *obj, const char *key, double *out)
{
  JsonNode *node = member (obj, key);
  if (node == NULL)
    return TRUE;
  GType type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return invalid (r, key, _("a number from 0 to 1"));
  double value = type == G_TYPE_INT64 ? (double) json_node_get_int (node) : json_node_get_double (node);
  if (!(value >= 0 && value <= 1))
    return invalid (r, key, _("a number from 0 to 1"));
  *out = value;
  return TRUE;
}

BsModelCard *
bs_model_card_parse (const char *json, gssize length, const char *file, GError **error)
{
  const char *problem;
  gsize n = length < 0 ? strlen (json) : (gsize) length;
  if (!bs_json_check (json, n, &problem))
    {
      /* Translators: a file path and what is wrong with its JSON */
      g_set_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_PARSE, _("%s: not valid JSON: %s"), file, problem);
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, json, (gssize) n, &json_error))
    {
      /* Translators: a file path and what is wrong with its JSON */
      g_set_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_PARSE, _("%s: not valid JSON: %s"), file,
                   json_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      /* Translators: %s is a file path */
      g_set_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_PARSE, _("%s: not a JSON object"), file);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (root);
  Reader r = { file, error };
  g_autoptr (BsModelCard) card = g_new0 (BsModelCard, 1);
  card->test_accuracy = NAN;

  if (!read_string (&r, obj, "name", &card->name))
    return NULL;
  if (card->name == NULL || *g_strstrip (card->name) == '\0')
    {
      g_set_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_INVALID,
                   /* Translators: a file path; keep “name” as it is */
                   _("%s: “name” is missing: a model card needs the model’s name"), file);
      return NULL;
    }
  gint64 max_length = 0;
  char *truncation = NULL;
  gboolean ok = read_string (&r, obj, "description", &card->description)
                && read_string (&r, obj, "trained_on", &card->trained_on)
                && read_string (&r, obj, "license", &card->license)
                && read_integer (&r, obj, "max_length", 2, 512, _("an integer from 2 to 512"), &max_length)
                && read_integer (&r, obj, "parameters", 0, G_MAXINT64, _("a whole number, 0 or more"),
                                 &card->parameters)
                && read_string (&r, obj, "truncation", &truncation);
  g_autofree char *truncation_name = truncation;
  if (!ok)
    return NULL;
  card->max_length = (guint) max_length;
  if (truncation_name != NULL)
    {
      if (!bs_truncation_from_string (truncation_name, &card->truncation))
        {
          /* Translators: keep “head” and “head+tail” as they are */
          invalid (&r, "truncation", _("“head” or “head+tail”"));
          return NULL;
        }
      card->has_truncation = TRUE;
    }
  JsonNode *metrics = member (obj, "metrics");
  if (metrics != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (metrics))
        {
          invalid (&r, "metrics", _("a JSON object"));
          return NULL;
        }
      JsonObject *m = json_node_get_object (metrics);
      if (!read_fraction (&r, m, "test_accuracy", &card->test_accuracy)
          || !read_integer (&r, m, "test_examples", 0, G_MAXINT64, _("a whole number, 0 or more"),
                            &card->test_examples))
        return NULL;
    }
  return g_steal_pointer (&card);
}

BsModelCard *
bs_model_card_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr (GError) io_error = NULL;
  if (!g_file_get_contents (path, &contents, &length, &io_error))
    {
      gboolean missing = g_error_matches (io_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                         || g_error_matches (io_error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
      g_set_error_literal (error, BS_MODEL_CARD_ERROR,
                           missing ? BS_MODEL_CARD_ERROR_NOT_FOUND : BS_MODEL_CARD_ERROR_IO, io_error->message);
      return NULL;
    }
  return bs_model_card_parse (contents, (gssize) length, path, error);
}

BsModelCard *
bs_model_card_load_from_dir (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, BS_MODEL_CARD_FILE, NULL);
  return bs_model_card_load (path, error);
}
