/* bs-parallel.c: workers wait on a condition; the caller takes part and
 * waits until every worker that joined has let go of the job. */
#include "bs-parallel.h"

typedef struct
{
  BsRangeFunc func;
  gpointer user_data;
  gsize n;
  gsize chunk;
  gint next_chunk; /* atomic */
  gint n_chunks;
  int helpers_wanted;
  int helpers; /* workers holding the job; under lock */
} Job;

static GMutex busy; /* held by the thread running a parallel loop */
static GMutex lock; /* protects the fields below and Job.helpers */
static GCond wake;
static GCond released;
static Job *current;
static guint64 generation;
static int n_workers;
static int n_threads_wanted;

static void
run_chunks (Job *job)
{
  for (;;)
    {
      gint c = g_atomic_int_add (&job->next_chunk, 1);
      if (c >= job->n_chunks)
        return;
      gsize begin = (gsize) c * job->chunk;
      gsize end = MIN (begin + job->chunk, job->n);
      job->func (begin, end, job->user_data);
    }
}

static gpointer
worker_main (gpointer data)
{
  guint64 seen = 0;
  g_mutex_lock (&lock);
  for (;;)
    {
      while (generation == seen)
        g_cond_wait (&wake, &lock);
      seen = generation;
      Job *job = current;
      if (job == NULL || job->helpers >= job->helpers_wanted)
        continue;
      job->helpers++;
      g_mutex_unlock (&lock);

      run_chunks (job);

      g_mutex_lock (&lock);
      if (--job->helpers == 0)
        g_cond_signal (&released);
    }
  return NULL;
}

int
bs_parallel_get_n_threads (void)
{
  int n = g_atomic_int_get (&n_threads_wanted);
  return n > 0 ? n : (int) g_get_num_processors ();
}

void
bs_parallel_set_n_threads (int n)
{
  g_atomic_int_set (&n_threads_wanted, MAX (n, 1));
}

void
bs_parallel_for (gsize n, gsize grain, BsRangeFunc func, gpointer user_data)
{
  if (n == 0)
    return;
  grain = MAX (grain, 1);
  int n_threads = bs_parallel_get_n_threads ();
  if (n_threads <= 1 || n < 2 * grain || !g_mutex_trylock (&busy))
    {
      func (0, n, user_data);
      return;
    }

  /* A few chunks per thread, so a thread slowed down by others catches up. */
  gsize chunk = MAX (grain, (n + 4 * (gsize) n_threads - 1) / (4 * (gsize) n_threads));
  Job job = { func, user_data, n, chunk, 0, (gint) ((n + chunk - 1) / chunk), n_threads - 1, 0 };

  g_mutex_lock (&lock);
  while (n_workers < n_threads - 1)
    {
      g_thread_unref (g_thread_new ("bs-parallel", worker_main, NULL));
      n_workers++;
    }
  current = &job;
  generation++;
  g_cond_broadcast (&wake);
  g_mutex_unlock (&lock);

  run_chunks (&job);

  g_mutex_lock (&lock);
  current = NULL;
  while (job.helpers > 0)
    g_cond_wait (&released, &lock);
  g_mutex_unlock (&lock);
  g_mutex_unlock (&busy);
}
