/* bs-math.h: exp and the normal CDF in straight-line float code, so loops
 * calling them vectorise (libm's expf and erff are calls the compiler cannot
 * vectorise). Accuracy is float's: a few ulp.
 *
 * BS_HOT marks a function to be compiled twice, for AVX2+FMA and for the
 * baseline x86-64, with the right one picked when the program loads. */
#pragma once

#include <glib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define BS_HOT __attribute__ ((target_clones ("avx2", "default")))
#else
#define BS_HOT
#endif

/* e^x: x = k ln2 + r with |r| <= ln2/2 (ln2 split in two for precision),
 * e^r by its Taylor series to r^7 (error < 2e-8), 2^k by the exponent bits. */
static inline float
bs_expf (float x)
{
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  /* round to nearest by the 1.5 * 2^23 trick: no call to rintf */
  float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  gint32 bits = ((gint32) k + 127) << 23;
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  return p * scale;
}

/* Phi(x) = 0.5 erfc(-x / sqrt 2), the standard normal CDF, from the
 * Chebyshev fit of erfc in Numerical Recipes (relative error < 1.2e-7 for
 * all z >= 0): erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2). Working
 * with erfc keeps the left tail accurate where 1 + erf would cancel. */
static inline float
bs_normal_cdf (float x)
{
  float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float tail = 0.5f * t * bs_expf (p - z * z); /* Phi(-|x|) */
  return x < 0.0f ? tail : 1.0f - tail;
}

/* the standard normal density */
static inline float
bs_normal_pdf (float x)
{
  return 0.39894228040143268f * bs_expf (-0.5f * x * x);
}

/* Sums in eight interleaved partial sums: the compiler keeps them in one
 * vector register (a plain running sum must stay in order, so it would not
 * vectorise), and the result is the same on every machine. */
static inline float
bs_sum (const float *x, int n)
{
  float acc[8] = { 0 };
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++)
      acc[k] += x[j + k];
  for (; j < n; j++)
    acc[j & 7] += x[j];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static inline float
bs_dot (const float *x, const float *y, int n)
{
  float acc[8] = { 0 };
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++)
      acc[k] += x[j + k] * y[j + k];
  for (; j < n; j++)
    acc[j & 7] += x[j] * y[j];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}
