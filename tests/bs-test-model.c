/* bs-test-model.c: see bs-test-model.h. */
#include "bs-test-model.h"

#include "bs-model.h"
#include "bs-train-job.h"

void
bs_test_make_tiny_bert (const char *dir, int max_positions, const char *const *labels, int n_labels, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *vocab = g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", "bert-base-uncased-vocab.txt",
                                                  NULL);
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->vocab_size = 30522, config->hidden_size = 32, config->n_layers = 2, config->n_heads = 2;
  config->intermediate_size = 64, config->max_position_embeddings = max_positions;
  if (labels != NULL)
    bs_config_set_labels (config, labels, n_labels);
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  g_assert_no_error (error);
  bs_model_init_weights (model, seed);
  g_assert_true (bs_save_model_folder (model, vocab, TRUE, dir, &error));
  g_assert_no_error (error);
}
