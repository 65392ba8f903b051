/* The model card (model_card.json) and the default model, in the engine and
 * the CLI: the card's format and every way it can be wrong; a classifier
 * reading texts as its card says unless the caller chooses; where the
 * default model is found (BERT_STUDIO_DEFAULT_MODEL); `bert-studio-cli
 * convert` writing an F16 copy of a folder with its vocabulary and card;
 * `bert-studio-cli predict` without --model using the default model, or
 * saying there is none; `init-model --embedding-scale` (BS_CLI).
 *
 * The folders are tiny random models made here: the real default model
 * (data/default-model) is not needed. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-classifier.h"
#include "bs-default-model.h"
#include "bs-model-card.h"
#include "bs-safetensors.h"
#include "bs-test-util.h"

static char *tmp_root;

static const char *const full_card =
  "{\"name\": \"IMDB sentiment (tiny)\", \"description\": \"Tells good reviews from bad ones.\", "
  "\"trained_on\": \"IMDB, 25,000 reviews\", \"max_length\": 16, \"truncation\": \"head+tail\", "
  "\"metrics\": {\"test_accuracy\": 0.88, \"test_examples\": 25000, \"f1\": 0.9}, \"parameters\": 4800000, "
  "\"license\": \"Apache-2.0\", \"a_later_field\": [1, 2]}";

/* ---- helpers ---- */

static void
write_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

/* A random 2-layer BERT reading 64 tokens, with the bert-base-uncased
 * vocabulary and, when card is not NULL, that model_card.json. */
static char *
make_model (const char *name, const char *card)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->vocab_size = 30522, config->hidden_size = 32, config->n_layers = 2, config->n_heads = 2;
  config->intermediate_size = 64, config->max_position_embeddings = 64;
  const char *const labels[] = { "neg", "pos" };
  bs_config_set_labels (config, labels, 2);
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  g_assert_no_error (error);
  bs_model_init_weights (model, 11);
  char *dir = g_build_filename (tmp_root, name, NULL);
  g_assert_true (bs_model_save (model, dir, &error));
  g_assert_no_error (error);
  g_autofree char *vocab_path = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer",
                                                       "bert-base-uncased-vocab.txt", NULL);
  g_autofree char *vocab = NULL;
  g_assert_true (g_file_get_contents (vocab_path, &vocab, NULL, &error));
  write_file (dir, "vocab.txt", vocab);
  write_file (dir, "tokenizer_config.json", "{\"do_lower_case\": true}\n");
  if (card != NULL)
    write_file (dir, BS_MODEL_CARD_FILE, card);
  return dir;
}

/* A text longer than 64 tokens whose head and tail differ. */
static char *
long_text (void)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (int i = 0; i < 40; i++)
    g_string_append (s, i < 20 ? "a great film " : "boring and slow ");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
predict (BsClassifier *c, const char *text, float *out)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_classifier_predict (c, &text, 1, out, &error));
  g_assert_no_error (error);
}

/* ---- the card ---- */

static void
test_card_full (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModelCard) card = bs_model_card_parse (full_card, -1, "card.json", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (card->name, ==, "IMDB sentiment (tiny)");
  g_assert_cmpstr (card->description, ==, "Tells good reviews from bad ones.");
  g_assert_cmpstr (card->trained_on, ==, "IMDB, 25,000 reviews");
  g_assert_cmpstr (card->license, ==, "Apache-2.0");
  g_assert_cmpuint (card->max_length, ==, 16);
  g_assert_true (card->has_truncation);
  g_assert_cmpint (card->truncation, ==, BS_TRUNCATE_HEAD_TAIL);
  g_assert_cmpint (card->parameters, ==, 4800000);
  g_assert_cmpfloat (card->test_accuracy, ==, 0.88);
  g_assert_cmpint (card->test_examples, ==, 25000);
}

/* Only the name is needed; null is as absent; 256.0 is an integer. */
static void
test_card_minimal (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModelCard) card = bs_model_card_parse ("{\"name\": \" Tiny \"}", -1, "card.json", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (card->name, ==, "Tiny");
  g_assert_null (card->description);
  g_assert_null (card->trained_on);
  g_assert_null (card->license);
  g_assert_cmpuint (card->max_length, ==, 0);
  g_assert_false (card->has_truncation);
  g_assert_true (isnan (card->test_accuracy));
  g_assert_cmpint (card->test_examples, ==, 0);

  g_autoptr (BsModelCard) nulls = bs_model_card_parse (
    "{\"name\": \"n\", \"description\": null, \"metrics\": null, \"max_length\": 256.0, \"truncation\": \"head\"}", -1,
    "card.json", &error);
  g_assert_no_error (error);
  g_assert_null (nulls->description);
  g_assert_cmpuint (nulls->max_length, ==, 256);
  g_assert_true (nulls->has_truncation);
  g_assert_cmpint (nulls->truncation, ==, BS_TRUNCATE_HEAD);
}

typedef struct
{
  const char *json;
  int code;
  const char *needle; /* in the message, with the file's name */
} BadCard;

static const BadCard bad_cards[] = {
  { "{}", BS_MODEL_CARD_ERROR_INVALID, "“name” is missing" },
  { "{\"name\": \"  \"}", BS_MODEL_CARD_ERROR_INVALID, "“name” is missing" },
  { "{\"name\": 3}", BS_MODEL_CARD_ERROR_INVALID, "“name” must be a string" },
  { "{\"name\": \"n\", \"description\": [\"a\"]}", BS_MODEL_CARD_ERROR_INVALID, "“description” must be a string" },
  { "{\"name\": \"n\", \"max_length\": 1}", BS_MODEL_CARD_ERROR_INVALID,
    "“max_length” must be an integer from 2 to 512" },
  { "{\"name\": \"n\", \"max_length\": 513}", BS_MODEL_CARD_ERROR_INVALID, "“max_length”" },
  { "{\"name\": \"n\", \"max_length\": \"256\"}", BS_MODEL_CARD_ERROR_INVALID, "“max_length”" },
  { "{\"name\": \"n\", \"max_length\": 128.5}", BS_MODEL_CARD_ERROR_INVALID, "“max_length”" },
  { "{\"name\": \"n\", \"truncation\": \"tail\"}", BS_MODEL_CARD_ERROR_INVALID,
    "“truncation” must be “head” or “head+tail”" },
  { "{\"name\": \"n\", \"parameters\": -1}", BS_MODEL_CARD_ERROR_INVALID, "“parameters”" },
  { "{\"name\": \"n\", \"metrics\": [0.9]}", BS_MODEL_CARD_ERROR_INVALID, "“metrics” must be a JSON object" },
  { "{\"name\": \"n\", \"metrics\": {\"test_accuracy\": 88}}", BS_MODEL_CARD_ERROR_INVALID,
    "“test_accuracy” must be a number from 0 to 1" },
  { "{\"name\": \"n\", \"metrics\": {\"test_accuracy\": \"0.8\"}}", BS_MODEL_CARD_ERROR_INVALID,
    "“test_accuracy”" },
  { "{\"name\": \"n\", \"metrics\": {\"test_examples\": 0.5}}", BS_MODEL_CARD_ERROR_INVALID, "“test_examples”" },
  { "[\"name\"]", BS_MODEL_CARD_ERROR_PARSE, "not a JSON object" },
  { "{\"name\": \"n\",}", BS_MODEL_CARD_ERROR_PARSE, "not valid JSON" },
  { "{\"name\": \"n\"} {}", BS_MODEL_CARD_ERROR_PARSE, "not valid JSON" },
  { "{\"name\": \"\xff\"}", BS_MODEL_CARD_ERROR_PARSE, "not valid JSON" },
  { "", BS_MODEL_CARD_ERROR_PARSE, "" },
};

static void
test_card_bad (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cards); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BsModelCard) card = bs_model_card_parse (bad_cards[i].json, -1, "dir/model_card.json", &error);
      g_test_message ("case %zu", i);
      g_assert_null (card);
      g_assert_error (error, BS_MODEL_CARD_ERROR, bad_cards[i].code);
      bs_test_assert_contains (error->message, "dir/model_card.json");
      bs_test_assert_contains (error->message, bad_cards[i].needle);
    }
}

static void
test_card_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp_root, "cards", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_null (bs_model_card_load_from_dir (dir, &error));
  g_assert_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* a file where the folder should be is no card either */
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  write_file (dir, "file", "x");
  g_assert_null (bs_model_card_load_from_dir (file, &error));
  g_assert_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  write_file (dir, BS_MODEL_CARD_FILE, full_card);
  g_autoptr (BsModelCard) card = bs_model_card_load_from_dir (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (card->name, ==, "IMDB sentiment (tiny)");
  bs_test_remove_tree (dir);
}

/* ---- the classifier ---- */

static void
test_classifier_card (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *plain_dir = make_model ("plain", NULL);
  g_autofree char *carded_dir = make_model ("carded", full_card);

  /* no card: the model's length, the head */
  g_autoptr (BsClassifier) plain = bs_classifier_load (plain_dir, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (plain), ==, 64);
  g_assert_cmpint (bs_classifier_get_truncation (plain), ==, BS_TRUNCATE_HEAD);

  /* the card's 16 tokens, head and tail */
  g_autoptr (BsClassifier) carded = bs_classifier_load (carded_dir, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (carded), ==, 16);
  g_assert_cmpint (bs_classifier_get_truncation (carded), ==, BS_TRUNCATE_HEAD_TAIL);
  g_autofree char *text = long_text ();
  float a[2], b[2];
  predict (carded, text, a);
  g_autoptr (BsClassifier) by_hand = bs_classifier_load (plain_dir, 16, &error);
  g_assert_no_error (error);
  bs_classifier_set_truncation (by_hand, BS_TRUNCATE_HEAD_TAIL);
  predict (by_hand, text, b); /* the same weights: the same seed */
  g_assert_cmpmem (a, sizeof a, b, sizeof b);

  /* the caller's choices win */
  g_autoptr (BsClassifier) chosen = bs_classifier_load (carded_dir, 24, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (chosen), ==, 24);
  g_assert_cmpint (bs_classifier_get_truncation (chosen), ==, BS_TRUNCATE_HEAD_TAIL);
  bs_classifier_set_truncation (chosen, BS_TRUNCATE_HEAD);
  g_assert_cmpint (bs_classifier_get_truncation (chosen), ==, BS_TRUNCATE_HEAD);

  /* a card longer than the model reads: the model's */
  g_autofree char *long_dir = make_model ("long-card", "{\"name\": \"long\", \"max_length\": 512}");
  g_autoptr (BsClassifier) capped = bs_classifier_load (long_dir, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (capped), ==, 64);

  /* a broken card: said, with where */
  g_autofree char *broken_dir = make_model ("broken-card", "{\"name\": \"b\", \"truncation\": \"middle\"}");
  g_autoptr (BsClassifier) none = bs_classifier_load (broken_dir, 0, &error);
  g_assert_null (none);
  g_assert_error (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_INVALID);
  bs_test_assert_contains (error->message, broken_dir);
  bs_test_assert_contains (error->message, "truncation");
}

/* ---- where the default model is ---- */

static void
test_default_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_model ("default-here", full_card);

  g_setenv (BS_DEFAULT_MODEL_ENV, dir, TRUE);
  g_autofree char *found = bs_default_model_find (&error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, dir);

  /* relative, with a trailing slash: made absolute */
  g_autofree char *cwd = g_get_current_dir ();
  g_assert_cmpint (g_chdir (tmp_root), ==, 0);
  g_setenv (BS_DEFAULT_MODEL_ENV, "default-here/", TRUE);
  g_autofree char *relative = bs_default_model_dir ();
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_cmpstr (relative, ==, dir);

  /* a folder without config.json */
  g_autofree char *empty = g_build_filename (tmp_root, "empty", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_setenv (BS_DEFAULT_MODEL_ENV, empty, TRUE);
  g_assert_null (bs_default_model_find (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  bs_test_assert_contains (error->message, empty);
  bs_test_assert_contains (error->message, "config.json");
  bs_test_assert_contains (error->message, BS_DEFAULT_MODEL_ENV);
  g_clear_error (&error);
  g_assert_null (bs_default_model_dir ());

  /* set but empty: none */
  g_setenv (BS_DEFAULT_MODEL_ENV, "", TRUE);
  g_assert_null (bs_default_model_find (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  bs_test_assert_contains (error->message, BS_DEFAULT_MODEL_ENV);
}

/* ---- the CLI ---- */

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs the CLI with default_model as BERT_STUDIO_DEFAULT_MODEL (NULL:
 * unset). FALSE when BS_CLI is not set. */
static gboolean
run_cli (Run *r, const char *default_model, const char *const *args)
{
  const char *cli = g_getenv ("BS_CLI");
  if (cli == NULL)
    {
      g_test_skip ("BS_CLI is not set");
      return FALSE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  if (default_model != NULL)
    g_subprocess_launcher_setenv (launcher, BS_DEFAULT_MODEL_ENV, default_model, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, BS_DEFAULT_MODEL_ENV);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) cli);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GSubprocess) p = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, &r->out, &r->err, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (p));
  r->status = g_subprocess_get_exit_status (p);
  g_test_message ("%s: %d\n%s%s", (char *) args[0], r->status, r->out, r->err);
  return TRUE;
}

static void
assert_same_file (const char *a_dir, const char *b_dir, const char *name)
{
  g_autofree char *a = g_build_filename (a_dir, name, NULL);
  g_autofree char *b = g_build_filename (b_dir, name, NULL);
  g_autofree char *x = NULL, *y = NULL;
  gsize nx, ny;
  g_assert_true (g_file_get_contents (a, &x, &nx, NULL));
  g_assert_true (g_file_get_contents (b, &y, &ny, NULL));
  g_assert_cmpmem (x, nx, y, ny);
}

static void
test_cli_convert (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *in = make_model ("to-convert", full_card);
  g_autofree char *out = g_build_filename (tmp_root, "converted", "f16", NULL);
  g_auto (Run) r = { 0 };
  if (!run_cli (&r, NULL, (const char *const[]) { "convert", in, out, NULL }))
    return;
  g_assert_cmpint (r.status, ==, 0);
  bs_test_assert_contains (r.out, "in F16");

  /* the weights in F16, the rest as it was */
  g_autofree char *weights = g_build_filename (out, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (weights, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    g_assert_cmpint (bs_safetensors_get_tensor (st, i)->dtype, ==, BS_DTYPE_F16);
  assert_same_file (in, out, "vocab.txt");
  assert_same_file (in, out, "tokenizer_config.json");
  assert_same_file (in, out, BS_MODEL_CARD_FILE);

  /* loaded: the F32 weights rounded to F16 */
  g_autoptr (BsModel) a = bs_model_load (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (BsModel) b = bs_model_load (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_model_get_n_weights (a), ==, bs_model_get_n_weights (b));
  const float *wa = bs_model_peek_weights (a), *wb = bs_model_peek_weights (b);
  for (gsize i = 0; i < bs_model_get_n_weights (a); i++)
    g_assert_cmpfloat (wb[i], ==, bs_f16_to_f32 (bs_f32_to_f16 (wa[i])));
  /* and it classifies as its card says, nearly as the original */
  g_autoptr (BsClassifier) ca = bs_classifier_load (in, 0, &error);
  g_assert_no_error (error);
  g_autoptr (BsClassifier) cb = bs_classifier_load (out, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (cb), ==, 16);
  float pa[2], pb[2];
  predict (ca, "a wonderful film", pa);
  predict (cb, "a wonderful film", pb);
  g_assert_cmpfloat_with_epsilon (pa[0], pb[0], 1e-2);

  /* BF16, and back to F32 in place */
  g_autofree char *bf16 = g_build_filename (tmp_root, "converted", "bf16", NULL);
  g_auto (Run) r2 = { 0 };
  run_cli (&r2, NULL, (const char *const[]) { "convert", "--dtype", "bf16", in, bf16, NULL });
  g_assert_cmpint (r2.status, ==, 0);
  bs_test_assert_contains (r2.out, "in BF16");
  g_auto (Run) r3 = { 0 };
  run_cli (&r3, NULL, (const char *const[]) { "convert", "--dtype", "f32", bf16, bf16, NULL });
  g_assert_cmpint (r3.status, ==, 0);
  g_autoptr (BsModel) c = bs_model_load (bf16, NULL, NULL, &error);
  g_assert_no_error (error);
  const float *wc = bs_model_peek_weights (c);
  for (gsize i = 0; i < bs_model_get_n_weights (a); i++)
    g_assert_cmpfloat (wc[i], ==, bs_bf16_to_f32 (bs_f32_to_bf16 (wa[i])));
  assert_same_file (in, bf16, BS_MODEL_CARD_FILE);

  /* bad input: exit status 2, nothing written */
  g_autofree char *nowhere = g_build_filename (tmp_root, "converted", "nowhere", NULL);
  g_auto (Run) r4 = { 0 };
  run_cli (&r4, NULL, (const char *const[]) { "convert", "--dtype", "f8", in, nowhere, NULL });
  g_assert_cmpint (r4.status, ==, 2);
  bs_test_assert_contains (r4.err, "f8");
  g_auto (Run) r5 = { 0 };
  run_cli (&r5, NULL, (const char *const[]) { "convert", in, NULL });
  g_assert_cmpint (r5.status, ==, 2);
  g_autofree char *broken = make_model ("broken-to-convert", "{\"name\": 1}");
  g_auto (Run) r6 = { 0 };
  run_cli (&r6, NULL, (const char *const[]) { "convert", broken, nowhere, NULL });
  g_assert_cmpint (r6.status, ==, 2);
  bs_test_assert_contains (r6.err, "“name”");
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
}

static void
test_cli_predict_default (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_model ("default-for-cli", full_card);
  g_autoptr (BsClassifier) reference = bs_classifier_load (dir, 0, &error);
  g_assert_no_error (error);
  g_autofree char *text = long_text ();

  g_auto (Run) r = { 0 };
  if (!run_cli (&r, dir, (const char *const[]) { "predict", "--json", text, NULL }))
    return;
  g_assert_cmpint (r.status, ==, 0);
  bs_test_assert_contains (r.err, "default model, IMDB sentiment (tiny)");
  g_autoptr (JsonNode) node = json_from_string (r.out, &error);
  g_assert_no_error (error);
  JsonObject *probs = json_object_get_object_member (json_node_get_object (node), "probabilities");
  float expected[2];
  predict (reference, text, expected);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (probs, "neg"), expected[0], 1e-6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (probs, "pos"), expected[1], 1e-6);

  /* an explicit --model wins, and says nothing of the default */
  g_autofree char *other = make_model ("other-for-cli", NULL);
  g_auto (Run) r2 = { 0 };
  run_cli (&r2, dir, (const char *const[]) { "predict", "--model", other, "fine", NULL });
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_null (strstr (r2.err, "default model"));

  /* none: said, with what to do */
  g_autofree char *empty = g_build_filename (tmp_root, "no-default", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_auto (Run) r3 = { 0 };
  run_cli (&r3, empty, (const char *const[]) { "predict", "fine", NULL });
  g_assert_cmpint (r3.status, ==, 2);
  bs_test_assert_contains (r3.err, empty);
  bs_test_assert_contains (r3.err, "--model");

  /* broken: the loader's message */
  g_autofree char *broken = make_model ("broken-default", full_card);
  write_file (broken, "config.json", "{\"model_type\": \"bert\", ");
  g_auto (Run) r4 = { 0 };
  run_cli (&r4, broken, (const char *const[]) { "predict", "fine", NULL });
  g_assert_cmpint (r4.status, ==, 2);
  bs_test_assert_contains (r4.err, "config.json: not valid JSON");
  write_file (empty, "config.json", "{}");
  g_auto (Run) r5 = { 0 };
  run_cli (&r5, empty, (const char *const[]) { "predict", "fine", NULL });
  g_assert_cmpint (r5.status, ==, 2);
  bs_test_assert_contains (r5.err, "has no model.safetensors");
}

/* init-model --embedding-scale: the same random model with its word table,
 * and only it, multiplied (the padding row stays zero); a scale that is
 * not a positive number is refused. */
static void
test_cli_init_model_scale (void)
{
  g_autofree char *vocab = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", "bert-base-uncased-vocab.txt",
                                                  NULL);
  g_autofree char *plain = g_build_filename (tmp_root, "init-plain", NULL);
  g_autofree char *scaled = g_build_filename (tmp_root, "init-scaled", NULL);
  const char *const size[] = { "--hidden", "32", "--layers", "1", "--intermediate", "64", "--max-position", "32" };
  g_auto (Run) r = { 0 }, r2 = { 0 }, r3 = { 0 };
  if (!run_cli (&r, NULL, (const char *const[]) { "init-model", "--vocab", vocab, "--output", plain, size[0], size[1],
                                                  size[2], size[3], size[4], size[5], size[6], size[7], NULL }))
    return;
  g_assert_cmpint (r.status, ==, 0);
  run_cli (&r2, NULL, (const char *const[]) { "init-model", "--vocab", vocab, "--output", scaled, size[0], size[1], size[2],
                                              size[3], size[4], size[5], size[6], size[7], "--embedding-scale", "10",
                                              NULL });
  g_assert_cmpint (r2.status, ==, 0);

  g_autoptr (GError) error = NULL;
  g_autoptr (BsModel) a = bs_model_load (plain, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (BsModel) b = bs_model_load (scaled, NULL, NULL, &error);
  g_assert_no_error (error);
  const BsParam *word = bs_model_find_param (a, "bert.embeddings.word_embeddings.weight");
  g_assert_nonnull (word);
  const float *wa = bs_model_peek_weights (a), *wb = bs_model_peek_weights (b);
  g_assert_cmpuint (bs_model_get_n_weights (a), ==, bs_model_get_n_weights (b));
  double sum_sq = 0;
  for (gsize i = 0; i < bs_model_get_n_weights (a); i++)
    {
      gboolean in_word = i >= word->offset && i < word->offset + word->n_elements;
      g_assert_cmpfloat (wb[i], ==, in_word ? wa[i] * 10.0f : wa[i]);
      if (in_word)
        sum_sq += (double) wb[i] * wb[i];
    }
  for (gint64 k = 0; k < word->shape[1]; k++) /* [PAD] is id 0 */
    g_assert_cmpfloat (wb[word->offset + k], ==, 0);
  double std = sqrt (sum_sq / (double) word->n_elements);
  g_assert_cmpfloat_with_epsilon (std, 0.2, 0.002);

  g_autofree char *bad = g_build_filename (tmp_root, "init-bad", NULL);
  run_cli (&r3, NULL, (const char *const[]) { "init-model", "--vocab", vocab, "--output", bad, "--embedding-scale", "0",
                                              NULL });
  g_assert_cmpint (r3.status, ==, 2);
  bs_test_assert_contains (r3.err, "--embedding-scale 0 is out of range");
  const char *const bad_scales[] = { "-1", "nan", "1e6" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad_scales); i++)
    {
      g_auto (Run) r4 = { 0 };
      run_cli (&r4, NULL, (const char *const[]) { "init-model", "--vocab", vocab, "--output", bad, "--embedding-scale",
                                                  bad_scales[i], NULL });
      g_assert_cmpint (r4.status, ==, 2);
      bs_test_assert_contains (r4.err, "is out of range");
    }
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
}

/* The model that ships (data/default-model): what the issue asked of it,
 * from its own files. Its card's accuracy is the F16 weights' on the
 * 25,000 IMDB test reviews, measured by its recipe; here it must classify
 * plain reviews right, reading them as its card says. */
static void
test_shipped_model (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "..", "data", "default-model", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModelCard) card = bs_model_card_load_from_dir (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (card->test_accuracy, >=, 0.875); /* BERT-base's 87.5% with the reference recipe */
  g_assert_cmpint (card->test_examples, ==, 25000);
  g_assert_cmpuint (card->max_length, ==, 512);
  g_assert_cmpint (card->truncation, ==, BS_TRUNCATE_HEAD_TAIL);

  /* at least 10x smaller than BERT-base's 110M parameters; under 25 MB in F16 */
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (weights, &error);
  g_assert_no_error (error);
  gint64 n_params = 0;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (st, i);
      g_assert_cmpint (t->dtype, ==, BS_DTYPE_F16);
      n_params += t->n_elements;
    }
  g_assert_cmpint (n_params, ==, card->parameters);
  g_assert_cmpint (n_params, <=, 11000000);
  GStatBuf sb;
  g_assert_cmpint (g_stat (weights, &sb), ==, 0);
  g_assert_cmpint (sb.st_size, <, 25 * 1000 * 1000);

  g_autoptr (BsClassifier) classifier = bs_classifier_load (dir, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_classifier_get_max_length (classifier), ==, 512);
  g_assert_cmpstr (bs_classifier_get_label (classifier, 0), ==, "negative");
  g_assert_cmpstr (bs_classifier_get_label (classifier, 1), ==, "positive");
  const char *const texts[] = {
    "One of the best films I have seen in years. The acting is superb, the story moving, and I loved every minute.",
    "A complete waste of time. The plot makes no sense, the acting is terrible and I was bored from start to end.",
  };
  float probs[4];
  g_assert_true (bs_classifier_predict (classifier, texts, 2, probs, &error));
  g_assert_no_error (error);
  g_test_message ("P(pos) %.3f for the praise, %.3f for the pan", probs[1], probs[3]);
  g_assert_cmpfloat (probs[1], >, 0.9);
  g_assert_cmpfloat (probs[3], <, 0.1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmp_root = g_dir_make_tmp ("bs-model-card-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/model-card/full", test_card_full);
  g_test_add_func ("/model-card/minimal", test_card_minimal);
  g_test_add_func ("/model-card/bad", test_card_bad);
  g_test_add_func ("/model-card/files", test_card_files);
  g_test_add_func ("/model-card/classifier", test_classifier_card);
  g_test_add_func ("/default-model/dir", test_default_dir);
  g_test_add_func ("/default-model/cli-convert", test_cli_convert);
  g_test_add_func ("/default-model/cli-predict", test_cli_predict_default);
  g_test_add_func ("/default-model/shipped", test_shipped_model);
  g_test_add_func ("/cli/init-model-embedding-scale", test_cli_init_model_scale);
  int status = g_test_run ();
  bs_test_remove_tree (tmp_root);
  g_free (tmp_root);
  return status;
}
