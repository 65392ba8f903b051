/* The vectorisable exp and normal CDF against double-precision libm. */
#include <glib.h>
#include <math.h>

#include "bs-math.h"

static void
test_exp (void)
{
  double worst = 0.0;
  for (double x = -87.0; x <= 88.0; x += 1e-3)
    {
      double want = exp ((float) x);
      double rel = fabs (bs_expf ((float) x) - want) / want;
      worst = MAX (worst, rel);
    }
  g_test_message ("bs_expf: worst relative error %.3g", worst);
  g_assert_cmpfloat (worst, <, 5e-7);
  /* far below the range it flushes towards 0, never NaN or negative */
  g_assert_cmpfloat (bs_expf (-1e30f), >=, 0.0f);
  g_assert_cmpfloat (bs_expf (-1e30f), <, 1e-37f);
  g_assert_cmpfloat (bs_expf (0.0f), ==, 1.0f);
}

static void
test_normal_cdf (void)
{
  double worst_abs = 0.0, worst_tail = 0.0;
  for (double x = -12.0; x <= 12.0; x += 1e-3)
    {
      double want = 0.5 * erfc (-(float) x / sqrt (2.0));
      double got = bs_normal_cdf ((float) x);
      worst_abs = MAX (worst_abs, fabs (got - want));
      /* the left tail keeps relative precision, where 1 + erf would not */
      if (x < 0.0 && want > 1e-30)
        worst_tail = MAX (worst_tail, fabs (got - want) / want);
    }
  g_test_message ("bs_normal_cdf: worst absolute error %.3g, left-tail relative %.3g", worst_abs, worst_tail);
  g_assert_cmpfloat (worst_abs, <, 3e-7);
  g_assert_cmpfloat (worst_tail, <, 2e-5);
  double pdf_worst = 0.0;
  for (double x = -12.0; x <= 12.0; x += 1e-3)
    {
      double want = exp (-0.5 * (float) x * (float) x) / sqrt (2.0 * G_PI);
      pdf_worst = MAX (pdf_worst, fabs (bs_normal_pdf ((float) x) - want));
    }
  g_assert_cmpfloat (pdf_worst, <, 1e-7);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/math/exp", test_exp);
  g_test_add_func ("/math/normal-cdf", test_normal_cdf);
  return g_test_run ();
}
