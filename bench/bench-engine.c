/* bench-engine: speed and memory of the engine on BERT-base and
 * DistilBERT-base shapes with random weights. One figure per run (so the
 * peak RSS is that figure's), printed as one JSON line:
 *
 *   bench-engine --model bert-base|distilbert-base --mode latency|throughput|train|sgemm
 *                [--batch B] [--seq S] [--seconds N]
 *
 * latency: inference of one batch (default 1 × 128), median ms;
 * throughput: inference sequences/s (default 32 × 128);
 * train: forward + backward + AdamW sequences/s (default 32 × 128);
 * sgemm: the same matrix products a training step makes, alone: the ceiling
 * the train figure is measured against (gflops, ceiling_seq_per_s);
 * vocab-loss: the cross-entropy and its gradient over the masked words of a
 * pretraining batch (15% of batch × seq rows of vocab_size logits) against
 * the decoder product that made those logits (loss_to_decoder: their ratio). */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bs-blas.h"
#include "bs-loss.h"
#include "bs-model.h"
#include "bs-optimizer.h"
#include "bs-parallel.h"
#include "bs-random.h"

static BsConfig *
config_for (const char *model)
{
  if (g_strcmp0 (model, "bert-base") == 0)
    return bs_config_new (BS_ARCH_BERT);
  if (g_strcmp0 (model, "distilbert-base") == 0)
    return bs_config_new (BS_ARCH_DISTILBERT);
  return NULL;
}

static double
peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Matrix-product FLOPs of one forward (the backward makes twice as many). */
static double
forward_gemm_flops (const BsConfig *c, int b, int t)
{
  double n = (double) b * t, h = c->hidden_size, inter = c->intermediate_size;
  double per_layer = 2 * n * (4 * h * h + 2 * h * inter) + 4.0 * b * t * t * h;
  return c->n_layers * per_layer + 2.0 * b * (h * h + h * c->n_labels);
}

/* The products of one training step, with the engine's shapes and
 * transposes, on scratch buffers. */
static void
gemm_replay (const BsConfig *c, int b, int t, float *x, float *y, float *w)
{
  int n = b * t, h = c->hidden_size, inter = c->intermediate_size, heads = c->n_heads, d = h / heads;
  struct { int in, out; } linears[] = { { h, 3 * h }, { h, h }, { h, inter }, { inter, h } };
  for (int l = 0; l < c->n_layers; l++)
    {
      for (gsize k = 0; k < G_N_ELEMENTS (linears); k++)
        {
          int in = linears[k].in, out = linears[k].out;
          /* forward, weight gradient, input gradient */
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, y, out, x, in, 1.0f, w, in);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, y, out, w, in, 0.0f, x, in);
        }
      for (int i = 0; i < b * heads; i++)
        {
          /* scores, context; and their four gradient products */
          float *q = x + (gsize) (i / heads) * t * 3 * h + (gsize) (i % heads) * d;
          float *p = y + (gsize) (i % 4) * t * t;
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, t, t, d, 1.0f, q, 3 * h, q + h, 3 * h, 0.0f, p, t);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, t, d, t, 1.0f, p, t, q + 2 * h, 3 * h, 0.0f, w, h);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, t, t, d, 1.0f, w, h, q + 2 * h, 3 * h, 0.0f, p, t);
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, t, d, t, 1.0f, p, t, w, h, 0.0f, q + 2 * h, 3 * h);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, t, d, t, 1.0f, p, t, q + h, 3 * h, 0.0f, q, 3 * h);
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, t, d, t, 1.0f, p, t, q, 3 * h, 0.0f, q + h, 3 * h);
        }
    }
}

/* Median seconds of func (data), run until seconds have passed (3 runs at
 * least), after one untimed run. */
static double
median_seconds (void (*func) (gpointer data), gpointer data, double seconds)
{
  func (data);
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 start = g_get_monotonic_time ();
  while (times->len < 3 || (g_get_monotonic_time () - start) / 1e6 < seconds)
    {
      gint64 t0 = g_get_monotonic_time ();
      func (data);
      double s = (g_get_monotonic_time () - t0) / 1e6;
      g_array_append_val (times, s);
    }
  g_array_sort (times, compare_doubles);
  return g_array_index (times, double, times->len / 2);
}

typedef struct
{
  int rows, hidden, vocab;
  float *states, *table, *logits, *dlogits;
  gint32 *labels;
} VocabLoss;

static void
decoder_product (gpointer data)
{
  VocabLoss *v = data;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, v->rows, v->vocab, v->hidden, 1.0f, v->states, v->hidden,
               v->table, v->hidden, 0.0f, v->logits, v->vocab);
}

static void
vocab_cross_entropy (gpointer data)
{
  VocabLoss *v = data;
  bs_cross_entropy (v->dlogits, v->logits, v->labels, v->rows, v->vocab);
}

static int
bench_vocab_loss (const char *model_name, const BsConfig *c, int batch, int seq, double seconds)
{
  VocabLoss v = { MAX (1, batch * seq * 15 / 100), c->hidden_size, c->vocab_size };
  BsRandom rng;
  bs_random_init (&rng, 4);
  v.states = g_new (float, (gsize) v.rows * v.hidden);
  v.table = g_new (float, (gsize) v.vocab * v.hidden);
  v.logits = g_new (float, (gsize) v.rows * v.vocab);
  v.dlogits = g_new (float, (gsize) v.rows * v.vocab);
  v.labels = g_new (gint32, v.rows);
  for (gsize i = 0; i < (gsize) v.rows * v.hidden; i++)
    v.states[i] = (float) bs_random_normal (&rng);
  for (gsize i = 0; i < (gsize) v.vocab * v.hidden; i++)
    v.table[i] = (float) (0.02 * bs_random_normal (&rng));
  for (int i = 0; i < v.rows; i++)
    v.labels[i] = (gint32) bs_random_below (&rng, v.vocab);
  double product = median_seconds (decoder_product, &v, seconds / 2);
  double loss = median_seconds (vocab_cross_entropy, &v, seconds / 2);
  printf ("{\"bench\":\"engine\",\"model\":\"%s\",\"mode\":\"vocab-loss\",\"batch\":%d,\"seq\":%d,\"rows\":%d,"
          "\"vocab\":%d,\"decoder_ms\":%.1f,\"loss_ms\":%.1f,\"loss_to_decoder\":%.2f,\"threads\":%d}\n",
          model_name, batch, seq, v.rows, v.vocab, product * 1e3, loss * 1e3, loss / product,
          bs_parallel_get_n_threads ());
  g_free (v.states), g_free (v.table), g_free (v.logits), g_free (v.dlogits), g_free (v.labels);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *model_name = g_strdup ("bert-base");
  g_autofree char *mode = g_strdup ("latency");
  int batch = 0, seq = 128;
  double seconds = 10.0;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &model_name, "bert-base or distilbert-base", "NAME" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "latency, throughput, train, sgemm or vocab-loss", "MODE" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Sequences per batch (default 1 for latency, else 32)", "B" },
    { "seq", 0, 0, G_OPTION_ARG_INT, &seq, "Tokens per sequence (default 128)", "S" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Time to measure for (default 10)", "N" },
    { NULL },
  };
  bs_blas_init ();
  g_autoptr (GOptionContext) context = g_option_context_new ("— engine speed and memory");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-engine: %s\n", error->message);
      return 2;
    }
  g_autoptr (BsConfig) config = config_for (model_name);
  if (config == NULL)
    {
      fprintf (stderr, "bench-engine: unknown model %s\n", model_name);
      return 2;
    }
  if (batch <= 0)
    batch = strcmp (mode, "latency") == 0 ? 1 : 32;
  int n_labels = config->n_labels;
  gboolean train = strcmp (mode, "train") == 0;
  double flops = forward_gemm_flops (config, batch, seq) * (train || strcmp (mode, "sgemm") == 0 ? 3 : 1);

  if (strcmp (mode, "vocab-loss") == 0)
    return bench_vocab_loss (model_name, config, batch, seq, seconds);
  if (strcmp (mode, "sgemm") == 0)
    {
      gsize big = (gsize) batch * seq * MAX (3 * config->hidden_size, config->intermediate_size);
      g_autofree float *x = g_new0 (float, big);
      g_autofree float *y = g_new0 (float, big);
      g_autofree float *w = g_new0 (float, MAX ((gsize) config->hidden_size * config->intermediate_size,
                                               (gsize) batch * seq * config->hidden_size));
      gemm_replay (config, batch, seq, x, y, w); /* warm-up */
      g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
      gint64 start = g_get_monotonic_time ();
      while (times->len < 3 || (g_get_monotonic_time () - start) / 1e6 < seconds)
        {
          gint64 t0 = g_get_monotonic_time ();
          gemm_replay (config, batch, seq, x, y, w);
          double s = (g_get_monotonic_time () - t0) / 1e6;
          g_array_append_val (times, s);
        }
      g_array_sort (times, compare_doubles);
      double best = g_array_index (times, double, 0);
      printf ("{\"bench\":\"engine\",\"model\":\"%s\",\"mode\":\"sgemm\",\"batch\":%d,\"seq\":%d,\"gflops\":%.1f,"
              "\"ceiling_seq_per_s\":%.3f,\"step_ms\":%.1f,\"runs\":%u,\"peak_rss_mb\":%.0f}\n",
              model_name, batch, seq, flops / best / 1e9, batch / best, best * 1e3, times->len, peak_rss_mb ());
      return 0;
    }

  g_autoptr (BsModel) model = bs_model_new (config, &error);
  if (model == NULL)
    {
      fprintf (stderr, "bench-engine: %s\n", error->message);
      return 1;
    }
  bs_model_init_weights (model, 1);
  BsRandom rng;
  bs_random_init (&rng, 2);
  gsize n = (gsize) batch * seq;
  g_autofree gint32 *ids = g_new (gint32, n);
  g_autofree gint32 *mask = g_new (gint32, n);
  g_autofree gint32 *labels = g_new (gint32, batch);
  for (gsize i = 0; i < n; i++)
    {
      ids[i] = 1000 + (gint32) bs_random_below (&rng, 20000);
      mask[i] = 1;
    }
  for (int i = 0; i < batch; i++)
    labels[i] = (gint32) bs_random_below (&rng, n_labels);
  BsBatch b = { batch, seq, ids, NULL, mask };
  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  g_autofree float *logits = g_new (float, (gsize) batch * n_labels);
  g_autofree float *dlogits = g_new (float, (gsize) batch * n_labels);
  g_autoptr (BsAdamW) opt = NULL;
  if (train)
    {
      bs_workspace_set_dropout (ws, TRUE, 3);
      opt = bs_adamw_new (model, &BS_ADAMW_DEFAULTS, &error);
      if (opt == NULL || !bs_model_enable_grads (model, &error))
        {
          fprintf (stderr, "bench-engine: %s\n", error->message);
          return 1;
        }
    }

  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 start = 0;
  for (int iter = 0;; iter++)
    {
      gint64 t0 = g_get_monotonic_time ();
      gboolean ok;
      if (train)
        {
          bs_model_zero_grads (model);
          ok = bs_model_forward (model, ws, &b, logits, &error);
          if (ok)
            {
              bs_cross_entropy (dlogits, logits, labels, batch, n_labels);
              bs_model_backward (model, ws, dlogits);
              bs_adamw_step (opt, model, 2e-5);
            }
        }
      else
        ok = bs_model_infer (model, ws, &b, logits, &error);
      if (!ok)
        {
          fprintf (stderr, "bench-engine: %s\n", error->message);
          return 1;
        }
      double s = (g_get_monotonic_time () - t0) / 1e6;
      if (iter == 0)
        {
          start = g_get_monotonic_time (); /* the first run allocates: not timed */
          continue;
        }
      g_array_append_val (times, s);
      if (times->len >= 3 && (g_get_monotonic_time () - start) / 1e6 >= seconds)
        break;
    }
  g_array_sort (times, compare_doubles);
  double median = g_array_index (times, double, times->len / 2);
  printf ("{\"bench\":\"engine\",\"model\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"seq\":%d,\"latency_ms\":%.1f,"
          "\"seq_per_s\":%.3f,\"gflops\":%.1f,\"runs\":%u,\"threads\":%d,\"peak_rss_mb\":%.0f}\n",
          model_name, mode, batch, seq, median * 1e3, batch / median, flops / median / 1e9, times->len,
          openblas_get_num_threads (), peak_rss_mb ());
  return 0;
}
