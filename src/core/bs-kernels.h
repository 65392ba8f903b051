/* bs-kernels.h: the layers of a transformer as forward/backward pairs over
 * plain float arrays (row-major; shapes in comments, N = B*T rows).
 *
 * Conventions: a forward writes its output; a backward overwrites the input
 * gradient it returns and adds (+=) into parameter gradients, so gradients
 * accumulate over micro-batches until zeroed. Reductions over rows are split
 * by columns, so results do not depend on the number of threads. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- matrix products (OpenBLAS) ---- */

/* out(N,O) = inp(N,I) W(O,I)^T + b(O); b may be NULL */
void bs_linear_forward (float *out, const float *inp, const float *weight, const float *bias,
                        int n, int in, int out_dim);
/* dW(O,I) += dout^T inp; db(O) += colsum(dout);
 * dinp(N,I) = dinp_beta * dinp + dout W  (dinp may be NULL) */
void bs_linear_backward (float *dinp, float dinp_beta, float *dweight, float *dbias,
                         const float *dout, const float *inp, const float *weight,
                         int n, int in, int out_dim);

/* ---- normalisation and activations ---- */

/* out(N,C) = (inp - mean) * rstd * w + b; mean, rstd (N) kept for backward
 * when not NULL. out may alias inp. */
void bs_layernorm_forward (float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, int n, int c, float eps);
/* dinp(N,C) = d/dinp; dw, db += ; dinp may alias dout */
void bs_layernorm_backward (float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, int n, int c);

/* exact GELU: 0.5 x (1 + erf(x / sqrt 2)); out may alias inp */
void bs_gelu_forward (float *out, const float *inp, gsize n);
/* dinp = dout * gelu'(inp); dinp may alias dout */
void bs_gelu_backward (float *dinp, const float *dout, const float *inp, gsize n);
/* out = gelu(inp) and grad = gelu'(inp) in one pass */
void bs_gelu_forward_with_grad (float *out, float *grad, const float *inp, gsize n);

/* out = tanh(inp) / max(inp, 0), in place allowed; backward from the output */
void bs_tanh_forward (float *out, const float *inp, gsize n);
void bs_tanh_backward (float *dinp, const float *dout, const float *out, gsize n);
void bs_relu_forward (float *out, const float *inp, gsize n);
void bs_relu_backward (float *dinp, const float *dout, const float *out, gsize n);

/* ---- dropout ---- */

/* A counter-based generator: the mask of a site is a function of (seed,
 * stream, index), so it can be made in parallel and made again. */
typedef struct
{
  guint64 seed;
  guint64 stream;
} BsDropoutStream;

/* x *= keep / (1 - p) in place, mask (n) records keep (1) or drop (0) */
void bs_dropout_forward (float *x, guint8 *mask, gsize n, float p, BsDropoutStream stream);
/* dx = dout * mask / (1 - p); dx may alias dout */
void bs_dropout_backward (float *dx, const float *dout, const guint8 *mask, gsize n, float p);

/* ---- embeddings ---- */

/* out(N,C) = (word[ids] + type[types]) + pos[t]; type may be NULL (no token
 * types) and types NULL (all 0) */
void bs_embeddings_forward (float *out, const gint32 *ids, const gint32 *types,
                            const float *word, const float *pos, const float *type,
                            int b, int t, int c);
/* dword += at ids (never at row pad_id), dpos, dtype += */
void bs_embeddings_backward (float *dword, float *dpos, float *dtype, const float *dout,
                             const gint32 *ids, const gint32 *types, int pad_id,
                             int b, int t, int c);

/* ---- attention ---- */

typedef struct
{
  int b;                 /* sequences */
  int tq, tk;            /* queries and keys per sequence */
  int c, h;              /* hidden size, heads */
  const gint32 *mask;    /* (B,Tk): 0 = key not attended; NULL = all attended */
  float dropout;         /* on the probabilities; 0 = off */
  BsDropoutStream stream;
} BsAttentionShape;

/* Per head: ctx(B,Tq,C) = softmax(q k^T / sqrt(D) + mask) v, where q rows
 * (B*Tq, q_stride apart) hold the heads side by side, and kv rows (B*Tk,
 * kv_stride apart) hold k then v. probs(B,H,Tq,Tk) keeps the softmax,
 * drop_mask(B,H,Tq,Tk) the dropout; scratch(B,H,Tq,Tk) is needed only with
 * dropout. */
void bs_attention_forward (float *ctx, float *probs, guint8 *drop_mask, float *scratch,
                           const float *q, int q_stride, const float *kv, int kv_stride,
                           const BsAttentionShape *shape);
/* dq, dkv: laid out as q and kv (strides alike), overwritten;
 * scratch1, scratch2 (B,H,Tq,Tk) */
void bs_attention_backward (float *dq, float *dkv, float *scratch1, float *scratch2, const float *dctx,
                            const float *q, int q_stride, const float *kv, int kv_stride,
                            const float *probs, const guint8 *drop_mask, const BsAttentionShape *shape);

/* ---- small helpers ---- */

/* dst += src; x *= y */
void bs_add_inplace (float *dst, const float *src, gsize n);
void bs_mul_inplace (float *x, const float *y, gsize n);
/* out(B,C) = x[b, 0, :] for every b */
void bs_gather_first_token (float *out, const float *x, int b, int t, int c);

G_END_DECLS
