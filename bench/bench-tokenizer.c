/* bench-tokenizer: WordPiece throughput over a gzip'd JSON Lines file of
 * {"text": …} objects (the IMDB test reviews, say), on 1 and 2 threads.
 *
 *   bench-tokenizer DATA.jsonl.gz [--vocab FILE] [--cased] [--repeat N]
 *
 * Prints one JSON line per thread count:
 *   {"bench":"tokenizer","threads":1,"mb_per_s":…,"tokens_per_s":…,"texts":…,"bytes":…}
 * The figure is the best of --repeat passes (default 3) after a warm-up. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bs-tokenizer.h"

typedef struct
{
  const BsTokenizer *tok;
  GPtrArray         *texts;
  guint              first, step; /* texts first, first + step, … */
  gsize              tokens;
} Job;

static gpointer
run_job (gpointer data)
{
  Job *job = data;
  g_autoptr (BsEncoding) enc = bs_encoding_new ();
  job->tokens = 0;
  for (guint i = job->first; i < job->texts->len; i += job->step)
    {
      GBytes *text = job->texts->pdata[i];
      gsize len;
      const char *s = g_bytes_get_data (text, &len);
      bs_tokenizer_encode_into (job->tok, s, (gssize) len, 0, 0, enc);
      job->tokens += enc->n_tokens;
    }
  return NULL;
}

/* Seconds for one pass over all texts on n_threads threads. */
static double
pass (const BsTokenizer *tok, GPtrArray *texts, guint n_threads, gsize *tokens)
{
  Job jobs[8];
  GThread *threads[8];
  gint64 t0 = g_get_monotonic_time ();

  for (guint t = 0; t < n_threads; t++)
    {
      jobs[t] = (Job) { tok, texts, t, n_threads, 0 };
      threads[t] = n_threads == 1 ? NULL : g_thread_new ("bench", run_job, &jobs[t]);
    }
  if (n_threads == 1)
    run_job (&jobs[0]);
  *tokens = 0;
  for (guint t = 0; t < n_threads; t++)
    {
      if (threads[t] != NULL)
        g_thread_join (threads[t]);
      *tokens += jobs[t].tokens;
    }
  return (double) (g_get_monotonic_time () - t0) / 1e6;
}

static GPtrArray *
read_texts (const char *path, gsize *total, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, error);
  if (raw == NULL)
    return NULL;
  g_autoptr (GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr (GInputStream) conv = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (gz));
  g_autoptr (GDataInputStream) data = g_data_input_stream_new (conv);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  char *line;
  gsize line_no = 0;

  *total = 0;
  while ((line = g_data_input_stream_read_line (data, NULL, NULL, error)) != NULL)
    {
      g_autofree char *owned = line;
      line_no++;
      if (!json_parser_load_from_data (parser, owned, -1, error))
        {
          g_prefix_error (error, "%s, line %" G_GSIZE_FORMAT ": ", path, line_no);
          return NULL;
        }
      JsonNode *root = json_parser_get_root (parser);
      const char *text = JSON_NODE_HOLDS_OBJECT (root)
                         ? json_object_get_string_member_with_default (json_node_get_object (root), "text", NULL)
                         : NULL;
      if (text == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s, line %" G_GSIZE_FORMAT ": no string \"text\"", path, line_no);
          return NULL;
        }
      gsize n = strlen (text);
      g_ptr_array_add (texts, g_bytes_new (text, n));
      *total += n;
    }
  if (*error != NULL)
    return NULL;
  return g_steal_pointer (&texts);
}

int
main (int argc, char **argv)
{
  g_autofree char *vocab = NULL;
  gboolean cased = FALSE;
  int repeat = 3;
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab, "vocab.txt (default: the tests' bert-base copy)", "FILE" },
    { "cased", 0, 0, G_OPTION_ARG_NONE, &cased, "Do not lower-case", NULL },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Timed passes per figure (best counts; default 3)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("DATA.jsonl.gz - WordPiece throughput");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || repeat < 1)
    {
      fprintf (stderr, "%s\n", error != NULL ? error->message : "usage: bench-tokenizer DATA.jsonl.gz [--vocab FILE] [--cased]");
      return 2;
    }
  if (vocab == NULL)
    vocab = g_build_filename (BS_TOKENIZER_FIXTURES, cased ? "bert-base-cased-vocab.txt"
                                                           : "bert-base-uncased-vocab.txt", NULL);

  g_autoptr (BsTokenizer) tok = bs_tokenizer_new_from_file (vocab, !cased, &error);
  if (tok == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  gsize bytes = 0;
  g_autoptr (GPtrArray) texts = read_texts (argv[1], &bytes, &error);
  if (texts == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }

  gsize tokens = 0;
  pass (tok, texts, 1, &tokens); /* warm-up: caches, page faults */
  static const guint thread_counts[] = { 1, 2 };
  for (guint k = 0; k < G_N_ELEMENTS (thread_counts); k++)
    {
      double best = G_MAXDOUBLE;
      for (int r = 0; r < repeat; r++)
        best = MIN (best, pass (tok, texts, thread_counts[k], &tokens));
      printf ("{\"bench\":\"tokenizer\",\"threads\":%u,\"mb_per_s\":%.3f,\"tokens_per_s\":%.0f,"
              "\"texts\":%u,\"bytes\":%" G_GSIZE_FORMAT ",\"tokens\":%" G_GSIZE_FORMAT ",\"seconds\":%.4f,"
              "\"lower_case\":%s}\n",
              thread_counts[k], (double) bytes / best / 1e6, (double) tokens / best, texts->len, bytes,
              tokens, best, cased ? "false" : "true");
      fflush (stdout);
    }
  return 0;
}
