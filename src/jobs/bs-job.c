/* bs-job.c */
#include "bs-job.h"

#include <math.h>

G_DEFINE_QUARK (bs-job-error-quark, bs_job_error)

char *
bs_job_format_duration (double seconds)
{
  if (!isfinite (seconds) || seconds < 0)
    return NULL;
  int s = (int) seconds;
  if (s >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return g_strdup_printf ("%d:%02d", s / 60, s % 60);
}
