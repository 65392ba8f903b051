/* bs-model-card.h: model_card.json, what a model folder says about itself
 * in words a user reads: its name, what it does, what it learnt from, how
 * well it did, and how texts are to be cut for it.
 *
 *   {
 *     "name": "IMDB sentiment (small)",          required, a non-empty string
 *     "description": "Tells positive movie …",   optional strings …
 *     "trained_on": "IMDB: 25,000 reviews …",
 *     "license": "Apache-2.0",
 *     "max_length": 256,                          tokens a text is cut to, 2 to 512
 *     "truncation": "head+tail",                  "head" or "head+tail"
 *     "parameters": 4800000,
 *     "metrics": {"test_accuracy": 0.88,          0 to 1
 *                 "test_examples": 25000}
 *   }
 *
 * Unknown members are ignored, so that later cards still load; a member of
 * the wrong type or out of range is an error naming the file and the key.
 * The file is optional: a folder without one is an ordinary model. */
#pragma once

#include <glib.h>

#include "bs-classifier.h"

G_BEGIN_DECLS

#define BS_MODEL_CARD_FILE "model_card.json"

#define BS_MODEL_CARD_ERROR (bs_model_card_error_quark ())
GQuark bs_model_card_error_quark (void);

typedef enum
{
  BS_MODEL_CARD_ERROR_NOT_FOUND, /* the folder has no model_card.json */
  BS_MODEL_CARD_ERROR_IO,
  BS_MODEL_CARD_ERROR_PARSE,     /* not a JSON object */
  BS_MODEL_CARD_ERROR_INVALID,   /* a member is missing, of the wrong type or out of range */
} BsModelCardError;

typedef struct
{
  char *name;
  char *description;    /* NULL when the card does not say (as for each field below) */
  char *trained_on;
  char *license;
  guint max_length;     /* 0 */
  gboolean has_truncation;
  BsTruncation truncation;
  gint64 parameters;    /* 0 */
  double test_accuracy; /* NAN */
  gint64 test_examples; /* 0 */
} BsModelCard;

BsModelCard *bs_model_card_parse (const char *json,
                                  gssize length,
                                  const char *display_name,
                                  GError **error);
BsModelCard *bs_model_card_load (const char *path,
                                 GError **error);
/* dir/model_card.json; BS_MODEL_CARD_ERROR_NOT_FOUND when there is none. */
BsModelCard *bs_model_card_load_from_dir (const char *dir,
                                          GError **error);
void bs_model_card_free (BsModelCard *card);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsModelCard, bs_model_card_free)

G_END_DECLS
