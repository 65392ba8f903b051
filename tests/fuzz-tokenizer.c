/* fuzz-tokenizer: libFuzzer target.  Arbitrary bytes must never crash the
 * tokenizer, every id must be within the vocabulary, and spans must be inside
 * the text and in order; truncation and padding must agree with the full
 * encoding.  The first input byte picks the cased or uncased vocabulary
 * (the fixtures' copies; BS_FUZZ_FIXTURES in the environment overrides the
 * folder compiled in). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bs-tokenizer.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static BsTokenizer *
load (const char *name, gboolean lower)
{
  const char *dir = g_getenv ("BS_FUZZ_FIXTURES");
  g_autofree char *path = g_build_filename (dir != NULL ? dir : BS_FUZZ_FIXTURES, name, NULL);
  g_autoptr (GError) error = NULL;
  BsTokenizer *tok = bs_tokenizer_new_from_file (path, lower, &error);
  if (tok == NULL)
    g_error ("%s", error->message);
  return tok;
}

static void
check (const BsTokenizer *tok, const BsEncoding *e, gsize n)
{
  guint vocab = bs_tokenizer_get_vocab_size (tok);
  if (e->n_tokens < 2 || e->ids[0] != bs_tokenizer_get_cls_id (tok)
      || e->ids[e->n_tokens - 1] != bs_tokenizer_get_sep_id (tok))
    abort ();
  for (gsize i = 0; i < e->length; i++)
    {
      if (e->ids[i] < 0 || (guint) e->ids[i] >= vocab)
        abort ();
      if (e->span_start[i] > e->span_end[i] || e->span_end[i] > n)
        abort ();
      if (i > 0 && (e->span_start[i] < e->span_start[i - 1] || e->span_end[i] < e->span_end[i - 1]))
        abort ();
      if (i > 0 && i + 1 < e->n_tokens && e->span_start[i] == e->span_end[i])
        abort (); /* a piece comes from at least one byte */
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Loaded once; the tokenizer is immutable, so reuse across inputs is fine. */
  static BsTokenizer *uncased, *cased;
  if (uncased == NULL)
    {
      uncased = load ("bert-base-uncased-vocab.txt", TRUE);
      cased = load ("bert-base-cased-vocab.txt", FALSE);
    }
  if (size == 0)
    return 0;

  const BsTokenizer *tok = (data[0] & 1) ? cased : uncased;
  const char *text = (const char *) data + 1;
  gsize n = size - 1;

  g_autoptr (BsEncoding) full = bs_tokenizer_encode (tok, text, (gssize) n, 0, 0);
  check (tok, full, n);

  guint L = 2 + data[0] % 13;
  g_autoptr (BsEncoding) cut = bs_tokenizer_encode (tok, text, (gssize) n, L, L + 3);
  check (tok, cut, n);
  gsize kept = MIN ((gsize) L, full->n_tokens);
  if (cut->n_tokens != kept || cut->length != L + 3
      || memcmp (cut->ids, full->ids, (kept - 1) * sizeof (gint32)) != 0
      || memcmp (cut->span_start, full->span_start, (kept - 1) * sizeof (gsize)) != 0)
    abort ();

  g_auto (GStrv) pieces = bs_tokenizer_tokenize (tok, text, (gssize) n);
  if (g_strv_length (pieces) != full->n_tokens - 2)
    abort ();
  return 0;
}
