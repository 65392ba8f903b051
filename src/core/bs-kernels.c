/* bs-kernels.c: forward/backward pairs; matrix products go to OpenBLAS, the
 * element-wise rest is split over rows (or columns, for sums over rows). */
#include "bs-kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "bs-math.h"
#include "bs-parallel.h"

/* Rows per parallel chunk, and columns per chunk of a column-wise sum: big
 * enough that waking a thread pays. */
#define ROW_GRAIN 16
#define ELEMENT_GRAIN 16384
#define COLUMN_BLOCK 64

/* ---- column sums: out(C) += ones(N)^T x(N,C), a matrix-vector product ---- */

static GPrivate ones_key = G_PRIVATE_INIT (g_free);
static GPrivate n_ones_key;

static const float *
ones (gsize n)
{
  float *v = g_private_get (&ones_key);
  gsize have = GPOINTER_TO_SIZE (g_private_get (&n_ones_key));
  if (have < n)
    {
      v = g_new (float, n);
      for (gsize i = 0; i < n; i++)
        v[i] = 1.0f;
      g_private_replace (&ones_key, v);
      g_private_set (&n_ones_key, GSIZE_TO_POINTER (n));
    }
  return v;
}

static void
col_sum_add (float *out, const float *x, int n, int c)
{
  cblas_sgemv (CblasRowMajor, CblasTrans, n, c, 1.0f, x, c, ones ((gsize) n), 1, 1.0f, out, 1);
}

/* ---- linear ---- */

void
bs_linear_forward (float *out, const float *inp, const float *weight, const float *bias, int n, int in,
                   int out_dim)
{
  float beta = 0.0f;
  if (bias != NULL)
    {
      for (int r = 0; r < n; r++)
        memcpy (out + (gsize) r * out_dim, bias, sizeof (float) * out_dim);
      beta = 1.0f;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, out_dim, in, 1.0f, inp, in, weight, in, beta, out,
               out_dim);
}

void
bs_linear_backward (float *dinp, float dinp_beta, float *dweight, float *dbias, const float *dout,
                    const float *inp, const float *weight, int n, int in, int out_dim)
{
  if (dweight != NULL)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, out_dim, in, n, 1.0f, dout, out_dim, inp, in, 1.0f,
                 dweight, in);
  if (dbias != NULL)
    col_sum_add (dbias, dout, n, out_dim);
  if (dinp != NULL)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out_dim, 1.0f, dout, out_dim, weight, in,
                 dinp_beta, dinp, in);
}

/* ---- LayerNorm ---- */

typedef struct
{
  float *out, *mean, *rstd;
  const float *inp, *weight, *bias;
  int c;
  float eps;
} LayerNormForward;

BS_HOT static void
layernorm_forward_range (gsize begin, gsize end, gpointer data)
{
  const LayerNormForward *s = data;
  int c = s->c;
  for (gsize r = begin; r < end; r++)
    {
      const float *x = s->inp + r * c;
      float *y = s->out + r * c;
      /* two passes over the centred values (y may be x) */
      float m = bs_sum (x, c) / c;
      for (int i = 0; i < c; i++)
        y[i] = x[i] - m;
      float var = bs_dot (y, y, c) / c;
      float rs = (float) (1.0 / sqrt ((double) var + s->eps));
      for (int i = 0; i < c; i++)
        y[i] = y[i] * rs * s->weight[i] + s->bias[i];
      if (s->mean != NULL)
        {
          s->mean[r] = m;
          s->rstd[r] = rs;
        }
    }
}

void
bs_layernorm_forward (float *out, float *mean, float *rstd, const float *inp, const float *weight,
                      const float *bias, int n, int c, float eps)
{
  LayerNormForward s = { out, mean, rstd, inp, weight, bias, c, eps };
  bs_parallel_for ((gsize) n, ROW_GRAIN, layernorm_forward_range, &s);
}

typedef struct
{
  float *dinp, *dweight, *dbias;
  const float *dout, *inp, *weight, *mean, *rstd;
  int n, c;
} LayerNormBackward;

BS_HOT static void
layernorm_param_grad_range (gsize begin, gsize end, gpointer data)
{
  const LayerNormBackward *s = data;
  for (gsize c0 = begin * COLUMN_BLOCK; c0 < MIN (end * COLUMN_BLOCK, (gsize) s->c); c0 += COLUMN_BLOCK)
    {
      gsize c1 = MIN (c0 + COLUMN_BLOCK, (gsize) s->c);
      float dw[COLUMN_BLOCK] = { 0 }, db[COLUMN_BLOCK] = { 0 };
      for (int r = 0; r < s->n; r++)
        {
          const float *x = s->inp + (gsize) r * s->c;
          const float *dy = s->dout + (gsize) r * s->c;
          float m = s->mean[r], rs = s->rstd[r];
          for (gsize j = c0; j < c1; j++)
            {
              dw[j - c0] += dy[j] * ((x[j] - m) * rs);
              db[j - c0] += dy[j];
            }
        }
      for (gsize j = c0; j < c1; j++)
        {
          s->dweight[j] += dw[j - c0];
          s->dbias[j] += db[j - c0];
        }
    }
}

BS_HOT static void
layernorm_input_grad_range (gsize begin, gsize end, gpointer data)
{
  const LayerNormBackward *s = data;
  int c = s->c;
  for (gsize r = begin; r < end; r++)
    {
      const float *x = s->inp + r * c;
      const float *dy = s->dout + r * c;
      float *dx = s->dinp + r * c;
      float m = s->mean[r], rs = s->rstd[r];
      float acc_dn[8] = { 0 }, acc_dn_xhat[8] = { 0 };
      int i = 0;
      for (; i + 8 <= c; i += 8)
        for (int k = 0; k < 8; k++)
          {
            float dn = dy[i + k] * s->weight[i + k];
            acc_dn[k] += dn;
            acc_dn_xhat[k] += dn * ((x[i + k] - m) * rs);
          }
      for (; i < c; i++)
        {
          float dn = dy[i] * s->weight[i];
          acc_dn[i & 7] += dn;
          acc_dn_xhat[i & 7] += dn * ((x[i] - m) * rs);
        }
      float sum_dn = 0.0f, sum_dn_xhat = 0.0f;
      for (int k = 0; k < 8; k++)
        {
          sum_dn += acc_dn[k];
          sum_dn_xhat += acc_dn_xhat[k];
        }
      float mean_dn = sum_dn / c, mean_dn_xhat = sum_dn_xhat / c;
      for (i = 0; i < c; i++)
        {
          float xhat = (x[i] - m) * rs;
          dx[i] = (dy[i] * s->weight[i] - mean_dn - xhat * mean_dn_xhat) * rs;
        }
    }
}

void
bs_layernorm_backward (float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                       const float *weight, const float *mean, const float *rstd, int n, int c)
{
  LayerNormBackward s = { dinp, dweight, dbias, dout, inp, weight, mean, rstd, n, c };
  /* parameter gradients first: dinp may overwrite dout */
  bs_parallel_for (((gsize) c + COLUMN_BLOCK - 1) / COLUMN_BLOCK, 1, layernorm_param_grad_range, &s);
  bs_parallel_for ((gsize) n, ROW_GRAIN, layernorm_input_grad_range, &s);
}

/* ---- element-wise activations ---- */

typedef struct
{
  float *out;
  const float *a, *b;
} Elementwise;

BS_HOT static void
gelu_forward_range (gsize begin, gsize end, gpointer data)
{
  const Elementwise *s = data;
  for (gsize i = begin; i < end; i++)
    s->out[i] = s->a[i] * bs_normal_cdf (s->a[i]);
}

void
bs_gelu_forward (float *out, const float *inp, gsize n)
{
  Elementwise s = { out, inp, NULL };
  bs_parallel_for (n, ELEMENT_GRAIN, gelu_forward_range, &s);
}

typedef struct
{
  float *out, *grad;
  const float *inp;
} GeluWithGrad;

BS_HOT static void
gelu_with_grad_range (gsize begin, gsize end, gpointer data)
{
  const GeluWithGrad *s = data;
  for (gsize i = begin; i < end; i++)
    {
      float x = s->inp[i], cdf = bs_normal_cdf (x);
      s->out[i] = x * cdf;
      s->grad[i] = cdf + x * bs_normal_pdf (x);
    }
}

void
bs_gelu_forward_with_grad (float *out, float *grad, const float *inp, gsize n)
{
  GeluWithGrad s = { out, grad, inp };
  bs_parallel_for (n, ELEMENT_GRAIN, gelu_with_grad_range, &s);
}

BS_HOT static void
gelu_backward_range (gsize begin, gsize end, gpointer data)
{
  const Elementwise *s = data; /* a = dout, b = inp */
  for (gsize i = begin; i < end; i++)
    {
      float x = s->b[i];
      s->out[i] = s->a[i] * (bs_normal_cdf (x) + x * bs_normal_pdf (x));
    }
}

void
bs_gelu_backward (float *dinp, const float *dout, const float *inp, gsize n)
{
  Elementwise s = { dinp, dout, inp };
  bs_parallel_for (n, ELEMENT_GRAIN, gelu_backward_range, &s);
}

BS_HOT static void
mul_range (gsize begin, gsize end, gpointer data)
{
  const Elementwise *s = data;
  for (gsize i = begin; i < end; i++)
    s->out[i] *= s->a[i];
}

void
bs_mul_inplace (float *x, const float *y, gsize n)
{
  Elementwise s = { x, y, NULL };
  bs_parallel_for (n, ELEMENT_GRAIN, mul_range, &s);
}

void
bs_tanh_forward (float *out, const float *inp, gsize n)
{
  for (gsize i = 0; i < n; i++)
    out[i] = tanhf (inp[i]);
}

void
bs_tanh_backward (float *dinp, const float *dout, const float *out, gsize n)
{
  for (gsize i = 0; i < n; i++)
    dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
}

void
bs_relu_forward (float *out, const float *inp, gsize n)
{
  for (gsize i = 0; i < n; i++)
    out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void
bs_relu_backward (float *dinp, const float *dout, const float *out, gsize n)
{
  for (gsize i = 0; i < n; i++)
    dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

/* ---- dropout ---- */

/* A 32-bit integer hash (lowbias32) of the element index, keyed per site
 * and step by a 64-bit mix of (seed, stream): 32-bit multiplies vectorise. */
static inline guint32
dropout_key (BsDropoutStream stream)
{
  guint64 z = stream.seed ^ (stream.stream * 0xD1B54A32D192ED03ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (guint32) (z ^ (z >> 31));
}

static inline guint32
dropout_bits (guint32 key, guint32 index)
{
  guint32 x = index * 0x9E3779B9u + key;
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x >> 8; /* 24 bits */
}

typedef struct
{
  float *x;
  guint8 *mask;
  const float *dout;
  float p, scale;
  BsDropoutStream stream;
} Dropout;

BS_HOT static void
dropout_forward_range (gsize begin, gsize end, gpointer data)
{
  const Dropout *s = data;
  guint32 threshold = (guint32) (s->p * (float) (1 << 24));
  guint32 key = dropout_key (s->stream);
  for (gsize i = begin; i < end; i++)
    {
      guint8 keep = dropout_bits (key, (guint32) i) >= threshold;
      s->mask[i] = keep;
      s->x[i] *= (float) keep * s->scale;
    }
}

void
bs_dropout_forward (float *x, guint8 *mask, gsize n, float p, BsDropoutStream stream)
{
  Dropout s = { x, mask, NULL, p, 1.0f / (1.0f - p), stream };
  bs_parallel_for (n, ELEMENT_GRAIN, dropout_forward_range, &s);
}

BS_HOT static void
dropout_backward_range (gsize begin, gsize end, gpointer data)
{
  const Dropout *s = data;
  for (gsize i = begin; i < end; i++)
    s->x[i] = s->dout[i] * ((float) s->mask[i] * s->scale);
}

void
bs_dropout_backward (float *dx, const float *dout, const guint8 *mask, gsize n, float p)
{
  Dropout s = { dx, (guint8 *) mask, dout, p, 1.0f / (1.0f - p), { 0, 0 } };
  bs_parallel_for (n, ELEMENT_GRAIN, dropout_backward_range, &s);
}

/* ---- embeddings ---- */

void
bs_embeddings_forward (float *out, const gint32 *ids, const gint32 *types, const float *word, const float *pos,
                       const float *type, int b, int t, int c)
{
  for (int i = 0; i < b; i++)
    for (int j = 0; j < t; j++)
      {
        gsize n = (gsize) i * t + j;
        float *y = out + n * c;
        const float *w = word + (gsize) ids[n] * c;
        const float *p = pos + (gsize) j * c;
        if (type != NULL)
          {
            const float *ty = type + (gsize) (types != NULL ? types[n] : 0) * c;
            for (int k = 0; k < c; k++)
              y[k] = (w[k] + ty[k]) + p[k];
          }
        else
          for (int k = 0; k < c; k++)
            y[k] = w[k] + p[k];
      }
}

typedef struct
{
  float *dword, *dpos, *dtype;
  const float *dout;
  const gint32 *ids, *types;
  int pad_id, b, t, c;
} EmbeddingsBackward;

/* Split by columns: every thread owns whole columns of the tables, so the
 * scattered additions never race. */
static void
embeddings_backward_range (gsize begin, gsize end, gpointer data)
{
  const EmbeddingsBackward *s = data;
  gsize c0 = begin * COLUMN_BLOCK, c1 = MIN (end * COLUMN_BLOCK, (gsize) s->c);
  for (int i = 0; i < s->b; i++)
    for (int j = 0; j < s->t; j++)
      {
        gsize n = (gsize) i * s->t + j;
        const float *dy = s->dout + n * s->c;
        float *dw = s->ids[n] == s->pad_id ? NULL : s->dword + (gsize) s->ids[n] * s->c;
        float *dp = s->dpos + (gsize) j * s->c;
        float *dt = s->dtype != NULL ? s->dtype + (gsize) (s->types != NULL ? s->types[n] : 0) * s->c : NULL;
        for (gsize k = c0; k < c1; k++)
          {
            if (dw != NULL)
              dw[k] += dy[k];
            dp[k] += dy[k];
            if (dt != NULL)
              dt[k] += dy[k];
          }
      }
}

void
bs_embeddings_backward (float *dword, float *dpos, float *dtype, const float *dout, const gint32 *ids,
                        const gint32 *types, int pad_id, int b, int t, int c)
{
  EmbeddingsBackward s = { dword, dpos, dtype, dout, ids, types, pad_id, b, t, c };
  bs_parallel_for (((gsize) c + COLUMN_BLOCK - 1) / COLUMN_BLOCK, 1, embeddings_backward_range, &s);
}

/* ---- attention ---- */

typedef struct
{
  const BsAttentionShape *shape;
  float *probs;        /* (B,H,Tq,Tk) */
  float *aux;          /* (B,H,Tq,Tk): dropped probabilities / their gradient */
  const guint8 *mask_in;
  guint8 *mask_out;
} AttentionRows;

BS_HOT static void
softmax_rows_range (gsize begin, gsize end, gpointer data)
{
  const AttentionRows *s = data;
  const BsAttentionShape *sh = s->shape;
  int t = sh->tk;
  for (gsize r = begin; r < end; r++)
    {
      float *row = s->probs + r * t;
      const gint32 *keys = sh->mask != NULL ? sh->mask + (r / ((gsize) sh->h * sh->tq)) * t : NULL;
      float max = -INFINITY;
      for (int j = 0; j < t; j++)
        if ((keys == NULL || keys[j] != 0) && row[j] > max)
          max = row[j];
      if (max == -INFINITY)
        {
          /* no key attended: every score is the same huge negative number
           * in the reference, so the softmax is uniform */
          for (int j = 0; j < t; j++)
            row[j] = 1.0f / t;
        }
      else
        {
          if (keys == NULL)
            for (int j = 0; j < t; j++)
              row[j] = bs_expf (row[j] - max);
          else
            for (int j = 0; j < t; j++)
              {
                float e = bs_expf (row[j] - max);
                row[j] = keys[j] != 0 ? e : 0.0f;
              }
          float inv = 1.0f / bs_sum (row, t);
          for (int j = 0; j < t; j++)
            row[j] *= inv;
        }
    }
}

BS_HOT static void
drop_probs_range (gsize begin, gsize end, gpointer data)
{
  const AttentionRows *s = data;
  const BsAttentionShape *sh = s->shape;
  gsize t = (gsize) sh->tk;
  float scale = 1.0f / (1.0f - sh->dropout);
  guint32 threshold = (guint32) (sh->dropout * (float) (1 << 24));
  guint32 key = dropout_key (sh->stream);
  if (s->mask_out != NULL)
    for (gsize i = begin * t; i < end * t; i++)
      s->mask_out[i] = dropout_bits (key, (guint32) i) >= threshold;
  const guint8 *mask = s->mask_out != NULL ? s->mask_out : s->mask_in;
  for (gsize i = begin * t; i < end * t; i++)
    s->aux[i] = s->probs[i] * ((float) mask[i] * scale);
}

/* Row pointers of head k of sequence i. */
#define Q_AT(i, k) (q + (gsize) (i) * sh->tq * q_stride + (gsize) (k) * d)
#define KV_AT(i, k) (kv + (gsize) (i) * sh->tk * kv_stride + (gsize) (k) * d)
#define P_AT(buf, i, k) ((buf) + ((gsize) (i) * h + (k)) * pp)

void
bs_attention_forward (float *ctx, float *probs, guint8 *drop_mask, float *scratch, const float *q, int q_stride,
                      const float *kv, int kv_stride, const BsAttentionShape *sh)
{
  int b = sh->b, tq = sh->tq, tk = sh->tk, c = sh->c, h = sh->h, d = c / h;
  gsize pp = (gsize) tq * tk;
  float scale = 1.0f / sqrtf ((float) d);

  for (int i = 0; i < b; i++)
    for (int k = 0; k < h; k++)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, tq, tk, d, scale, Q_AT (i, k), q_stride, KV_AT (i, k),
                   kv_stride, 0.0f, P_AT (probs, i, k), tk);

  AttentionRows rows = { sh, probs, scratch, NULL, drop_mask };
  gsize n_rows = (gsize) b * h * tq;
  bs_parallel_for (n_rows, ROW_GRAIN, softmax_rows_range, &rows);

  const float *used = probs;
  if (sh->dropout > 0.0f)
    {
      bs_parallel_for (n_rows, ROW_GRAIN, drop_probs_range, &rows);
      used = scratch;
    }

  for (int i = 0; i < b; i++)
    for (int k = 0; k < h; k++)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, tq, d, tk, 1.0f, P_AT (used, i, k), tk,
                   KV_AT (i, k) + c, kv_stride, 0.0f, ctx + (gsize) i * tq * c + (gsize) k * d, c);
}

/* dS = P * (dP - sum_j P dP), with dP first taken back through dropout */
BS_HOT static void
softmax_backward_range (gsize begin, gsize end, gpointer data)
{
  const AttentionRows *s = data;
  const BsAttentionShape *sh = s->shape;
  int t = sh->tk;
  float scale = sh->dropout > 0.0f ? 1.0f / (1.0f - sh->dropout) : 1.0f;
  for (gsize r = begin; r < end; r++)
    {
      const float *p = s->probs + r * t;
      float *g = s->aux + r * t;
      if (sh->dropout > 0.0f)
        for (int j = 0; j < t; j++)
          g[j] *= (float) s->mask_in[r * t + j] * scale;
      float dot = bs_dot (p, g, t);
      for (int j = 0; j < t; j++)
        g[j] = p[j] * (g[j] - dot);
    }
}

void
bs_attention_backward (float *dq, float *dkv, float *scratch1, float *scratch2, const float *dctx, const float *q,
                       int q_stride, const float *kv, int kv_stride, const float *probs, const guint8 *drop_mask,
                       const BsAttentionShape *sh)
{
  int b = sh->b, tq = sh->tq, tk = sh->tk, c = sh->c, h = sh->h, d = c / h;
  gsize pp = (gsize) tq * tk, n_rows = (gsize) b * h * tq;
  float scale = 1.0f / sqrtf ((float) d);

  const float *used = probs;
  if (sh->dropout > 0.0f)
    {
      AttentionRows dropped = { sh, (float *) probs, scratch2, drop_mask, NULL };
      bs_parallel_for (n_rows, ROW_GRAIN, drop_probs_range, &dropped);
      used = scratch2;
    }

  for (int i = 0; i < b; i++)
    for (int k = 0; k < h; k++)
      {
        const float *dc = dctx + (gsize) i * tq * c + (gsize) k * d;
        /* dP = dctx V^T; dV = P^T dctx */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, tq, tk, d, 1.0f, dc, c, KV_AT (i, k) + c, kv_stride,
                     0.0f, P_AT (scratch1, i, k), tk);
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, tk, d, tq, 1.0f, P_AT (used, i, k), tk, dc, c, 0.0f,
                     dkv + (gsize) i * tk * kv_stride + (gsize) k * d + c, kv_stride);
      }

  AttentionRows rows = { sh, (float *) probs, scratch1, drop_mask, NULL };
  bs_parallel_for (n_rows, ROW_GRAIN, softmax_backward_range, &rows);

  for (int i = 0; i < b; i++)
    for (int k = 0; k < h; k++)
      {
        const float *ds = P_AT (scratch1, i, k);
        /* dQ = scale dS K; dK = scale dS^T Q */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, tq, d, tk, scale, ds, tk, KV_AT (i, k), kv_stride,
                     0.0f, dq + (gsize) i * tq * q_stride + (gsize) k * d, q_stride);
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, tk, d, tq, scale, ds, tk, Q_AT (i, k), q_stride, 0.0f,
                     dkv + (gsize) i * tk * kv_stride + (gsize) k * d, kv_stride);
      }
}

#undef Q_AT
#undef KV_AT
#undef P_AT

/* ---- helpers ---- */

typedef struct
{
  float *dst;
  const float *src;
} AddInplace;

BS_HOT static void
add_inplace_range (gsize begin, gsize end, gpointer data)
{
  const AddInplace *s = data;
  for (gsize i = begin; i < end; i++)
    s->dst[i] += s->src[i];
}

void
bs_add_inplace (float *dst, const float *src, gsize n)
{
  AddInplace s = { dst, src };
  bs_parallel_for (n, ELEMENT_GRAIN, add_inplace_range, &s);
}

void
bs_gather_first_token (float *out, const float *x, int b, int t, int c)
{
  for (int i = 0; i < b; i++)
    memcpy (out + (gsize) i * c, x + (gsize) i * t * c, sizeof (float) * c);
}
