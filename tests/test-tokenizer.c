/* test-tokenizer.c: the WordPiece tokenizer against the reference's goldens,
 * plus truncation, padding, spans, odd input, vocabulary errors, threads and
 * a 10 MB text.  Expected tokens outside the goldens were made with
 * bench/tokenizer_reference.py (the reference algorithm on Python 3.11). */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "bs-tokenizer.h"

typedef struct
{
  char   *text;
  gsize   len;
  char  **tokens;
  GArray *ids; /* gint32 */
} Golden;

static void
golden_free (gpointer p)
{
  Golden *g = p;
  g_free (g->text);
  g_strfreev (g->tokens);
  g_array_unref (g->ids);
  g_free (g);
}

static char *
fixture_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "tokenizer", name, NULL);
}

static BsTokenizer *
load_vocab (const char *which, gboolean lower)
{
  g_autofree char *name = g_strdup_printf ("bert-base-%s-vocab.txt", which);
  g_autofree char *path = fixture_path (name);
  g_autoptr (GError) error = NULL;
  BsTokenizer *tok = bs_tokenizer_new_from_file (path, lower, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tok);
  return tok;
}

/* json-glib cuts strings at an escaped U+0000: parse it as U+FDD0 (absent
 * from the goldens, checked) and turn that back into a NUL byte. */
static char *
decode_text (JsonObject *obj, const char *member, gsize *len)
{
  const char *s = json_object_get_string_member (obj, member);
  GString *out = g_string_new (NULL);
  for (const char *p = s; *p != '\0'; p++)
    {
      if (strncmp (p, "\xef\xb7\x90", 3) == 0)
        {
          g_string_append_c (out, '\0');
          p += 2;
        }
      else
        g_string_append_c (out, *p);
    }
  *len = out->len;
  return g_string_free (out, FALSE);
}

static GPtrArray *
load_goldens (const char *which)
{
  g_autofree char *name = g_strdup_printf ("%s.jsonl.gz", which);
  g_autofree char *path = fixture_path (name);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr (GInputStream) conv = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (gz));
  g_autoptr (GDataInputStream) data = g_data_input_stream_new (conv);
  GPtrArray *cases = g_ptr_array_new_with_free_func (golden_free);
  char *line;
  gsize line_len;

  while ((line = g_data_input_stream_read_line (data, &line_len, NULL, &error)) != NULL)
    {
      g_autofree char *owned = line;
      g_autoptr (JsonParser) parser = json_parser_new ();

      g_assert_null (strstr (owned, "\xef\xb7\x90"));
      g_assert_null (g_strstr_len (owned, -1, "\\ufdd0"));
      /* Every backslash-u0000 in the goldens is a real escape (no "\\\\u0000"). */
      g_autoptr (GString) fixed = g_string_new (owned);
      g_string_replace (fixed, "\\u0000", "\\ufdd0", 0);
      json_parser_load_from_data (parser, fixed->str, -1, &error);
      g_assert_no_error (error);

      JsonObject *obj = json_node_get_object (json_parser_get_root (parser));
      Golden *g = g_new0 (Golden, 1);
      g->text = decode_text (obj, "text", &g->len);
      JsonArray *toks = json_object_get_array_member (obj, "tokens");
      g->tokens = g_new0 (char *, json_array_get_length (toks) + 1);
      for (guint i = 0; i < json_array_get_length (toks); i++)
        g->tokens[i] = g_strdup (json_array_get_string_element (toks, i));
      JsonArray *ids = json_object_get_array_member (obj, "ids");
      g->ids = g_array_new (FALSE, FALSE, sizeof (gint32));
      for (guint i = 0; i < json_array_get_length (ids); i++)
        {
          gint32 id = (gint32) json_array_get_int_element (ids, i);
          g_array_append_val (g->ids, id);
        }
      g_ptr_array_add (cases, g);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (cases->len, ==, 416);
  return cases;
}

/* Spans are inside the text, non-decreasing, empty for specials, and the
 * sequence is [CLS] … [SEP] [PAD]…. */
static void
check_encoding_shape (const BsTokenizer *tok, const BsEncoding *enc, gsize text_len)
{
  g_assert_cmpuint (enc->n_tokens, >=, 2);
  g_assert_cmpuint (enc->length, >=, enc->n_tokens);
  g_assert_cmpint (enc->ids[0], ==, bs_tokenizer_get_cls_id (tok));
  g_assert_cmpint (enc->ids[enc->n_tokens - 1], ==, bs_tokenizer_get_sep_id (tok));
  g_assert_cmpuint (enc->span_start[0], ==, 0);
  g_assert_cmpuint (enc->span_end[0], ==, 0);
  for (gsize i = 0; i < enc->length; i++)
    {
      g_assert_cmpint (enc->ids[i], >=, 0);
      g_assert_cmpint (enc->ids[i], <, (gint) bs_tokenizer_get_vocab_size (tok));
      g_assert_cmpint (enc->attention_mask[i], ==, i < enc->n_tokens);
      g_assert_cmpuint (enc->span_start[i], <=, enc->span_end[i]);
      g_assert_cmpuint (enc->span_end[i], <=, text_len);
      if (i > 0)
        {
          g_assert_cmpuint (enc->span_start[i - 1], <=, enc->span_start[i]);
          g_assert_cmpuint (enc->span_end[i - 1], <=, enc->span_end[i]);
        }
      if (i > 0 && i + 1 < enc->n_tokens)
        g_assert_cmpuint (enc->span_start[i], <, enc->span_end[i]);
      if (i + 1 >= enc->n_tokens)
        {
          g_assert_cmpuint (enc->span_start[i], ==, text_len);
          g_assert_cmpuint (enc->span_end[i], ==, text_len);
        }
    }
}

static gboolean
is_ascii (const char *s, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] >= 0x80)
      return FALSE;
  return TRUE;
}

static void
check_goldens (const char *which, gboolean lower)
{
  g_autoptr (BsTokenizer) tok = load_vocab (which, lower);
  g_autoptr (GPtrArray) cases = load_goldens (which);
  guint ascii_checked = 0;

  for (guint c = 0; c < cases->len; c++)
    {
      Golden *g = cases->pdata[c];
      g_auto (GStrv) pieces = bs_tokenizer_tokenize (tok, g->text, (gssize) g->len);
      g_assert_cmpstrv (pieces, g->tokens);

      g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, g->text, (gssize) g->len, 0, 0);
      g_assert_cmpuint (enc->length, ==, g->ids->len);
      g_assert_cmpmem (enc->ids, enc->length * sizeof (gint32), g->ids->data, g->ids->len * sizeof (gint32));
      check_encoding_shape (tok, enc, g->len);

      /* Every span of an ASCII text is, lower-cased if need be, its piece. */
      if (is_ascii (g->text, g->len))
        {
          for (gsize i = 1; i + 1 < enc->n_tokens; i++)
            {
              const char *piece = g->tokens[i - 1];
              if (strcmp (piece, "[UNK]") == 0)
                continue;
              if (g_str_has_prefix (piece, "##"))
                piece += 2;
              g_autofree char *span = g_strndup (g->text + enc->span_start[i],
                                                 enc->span_end[i] - enc->span_start[i]);
              g_autofree char *want = lower ? g_ascii_strdown (span, -1) : g_strdup (span);
              g_assert_cmpstr (want, ==, piece);
            }
          ascii_checked++;
        }

      /* Truncation keeps ids[0 : L-1] and appends [SEP]. */
      static const guint lengths[] = { 2, 3, 5, 16, 128, 512 };
      for (guint k = 0; k < G_N_ELEMENTS (lengths); k++)
        {
          guint L = lengths[k];
          g_autoptr (BsEncoding) t = bs_tokenizer_encode (tok, g->text, (gssize) g->len, L, 0);
          if (g->ids->len <= L)
            {
              g_assert_cmpmem (t->ids, t->length * sizeof (gint32), g->ids->data, g->ids->len * sizeof (gint32));
              continue;
            }
          g_assert_cmpuint (t->length, ==, L);
          g_assert_cmpmem (t->ids, (L - 1) * sizeof (gint32), g->ids->data, (L - 1) * sizeof (gint32));
          g_assert_cmpint (t->ids[L - 1], ==, bs_tokenizer_get_sep_id (tok));
          g_assert_cmpmem (t->span_start, (L - 1) * sizeof (gsize), enc->span_start, (L - 1) * sizeof (gsize));
          check_encoding_shape (tok, t, g->len);
        }
    }
  g_assert_cmpuint (ascii_checked, >, 300);
}

static void
test_golden_uncased (void)
{
  check_goldens ("uncased", TRUE);
}

static void
test_golden_cased (void)
{
  check_goldens ("cased", FALSE);
}

/* Cases beyond the goldens; expected pieces from the reference (see top). */
typedef struct
{
  const char *text;
  const char *uncased; /* pieces joined by ' ' */
  const char *cased;
} Extra;

static const Extra extras[] = {
  { "\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\x9f\xce\x94\xce\x9f\xce\xa3. \xce\xa3\xce\x91 \xce\xa3 \xce\x91\xce\xa3'\xce\x91 \xce\x91\xce\xa3'",
    "\xce\xbf ##\xce\xb4 ##\xce\xbf\xcf\x82 \xce\xbf ##\xce\xb4 ##\xce\xbf\xcf\x82 . \xcf\x83 ##\xce\xb1 \xcf\x83 \xce\xb1 ##\xcf\x83 ' \xce\xb1 \xce\xb1 ##\xcf\x82 '",
    "\xce\x9f ##\xce\x94 ##\xce\x9f ##\xce\xa3 \xce\x9f ##\xce\x94 ##\xce\x9f ##\xce\xa3 . \xce\xa3 ##\xce\x91 \xce\xa3 \xce\x91 ##\xce\xa3 ' \xce\x91 \xce\x91 ##\xce\xa3 '" },
  { "\xc4\xb0stanbul D\xc4\xb0YARBAKIR",
    "istanbul di ##yar ##ba ##kir",
    "\xc4\xb0 ##stan ##bul D ##\xc4\xb0 ##Y ##AR ##BA ##K ##IR" },
  { "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xed\x85\x8d\xec\x8a\xa4\xed\x8a\xb8",
    "\xe1\x84\x92 ##\xe1\x85\xa1 ##\xe1\x86\xab ##\xe1\x84\x80 ##\xe1\x85\xae ##\xe1\x86\xa8 ##\xe1\x84\x8b ##\xe1\x85\xa5 \xe1\x84\x90 ##\xe1\x85\xa6 ##\xe1\x86\xa8 ##\xe1\x84\x89 ##\xe1\x85\xb3 ##\xe1\x84\x90 ##\xe1\x85\xb3",
    "[UNK] [UNK]" },
  { "soft\xc2\xadhyphen zero\xe2\x80\x8bwidth",
    "soft ##hy ##ph ##en zero ##wi ##dt ##h",
    "soft ##hy ##phe ##n zero ##wi ##dt ##h" },
  { "private\xee\x80\x80use",
    "[UNK]",
    "[UNK]" },
  { "line\xe2\x80\xa8sep para\xe2\x80\xa9sep",
    "line sep para sep",
    "line se ##p para se ##p" },
  { "\xef\xa4\x80 compat",
    "[UNK] com ##pa ##t",
    "[UNK] com ##pa ##t" },
  { "\xcd\xbe \xe2\x84\xaa\xc3\x85",
    "; ka",
    "[UNK] [UNK]" },
  { "\xef\xac\x81ne Stra\xc3\x9f" "e \xc7\x85",
    "\xef\xac\x81 ##ne st ##ra\xc3\x9f" "e [UNK]",
    "\xef\xac\x81 ##ne St ##ra ##\xc3\x9f" "e [UNK]" },
  { "e\xcc\x81\xcc\xa3 x\xf0\x9d\x85\xa5\xf0\x9d\x85\xad\xcc\x81",
    "e [UNK]",
    "[UNK] [UNK]" },
  { "tab\x09" "a\x0b" "b\x1c" "c\xc2\x85" "d",
    "tab abc ##d",
    "ta ##b a ##b ##c ##d" },
  { "\xe3\x80\x80 \xe2\x80\x83 x",
    "x",
    "x" },
  { "H\xc3\xa9llo,  \xc4\xb0x\x01y \xed\x95\x9c",
    "hello , ix ##y \xe1\x84\x92 ##\xe1\x85\xa1 ##\xe1\x86\xab",
    "H ##\xc3\xa9 ##llo , \xc4\xb0 ##xy \xed\x95\x9c" },
  { "\xe1\xbd\x88\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\x8e\xce\xa3 \xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3 \xce\xa3\xcc\x88 \xce\x91\xce\xa3\xcc\x88 \xce\x91\xce\xa3\xcc\x88\xce\x91 \xce\x91\xce\xa3\xc2\xad\xce\x91 \xce\x91\xce\xa3\xc2\xad",
    "\xce\xbf ##\xce\xb4 ##\xcf\x85 ##\xcf\x83 ##\xcf\x83 ##\xce\xb5 ##\xcf\x85 ##\xcf\x82 \xcf\x83 ##\xce\xb9 ##\xcf\x83 ##\xcf\x85 ##\xcf\x86 ##\xce\xbf\xcf\x82 \xcf\x83 \xce\xb1 ##\xcf\x82 \xce\xb1 ##\xcf\x83 ##\xce\xb1 \xce\xb1 ##\xcf\x83 ##\xce\xb1 \xce\xb1 ##\xcf\x82",
    "[UNK] [UNK] [UNK] [UNK] [UNK] \xce\x91 ##\xce\xa3 ##\xce\x91 \xce\x91 ##\xce\xa3" },
  { "\xe2\x80\x8f\xe2\x80\x8e\xef\xbb\xbf" "bom a\xf3\xa0\x80\x81" "b",
    "bo ##m ab",
    "b ##om a ##b" },
  { "x\xcd\x85y \xce\x91\xce\xa3\xcd\x85",
    "x ##y \xce\xb1 ##\xcf\x82",
    "[UNK] [UNK]" },
  { "\xe1\xba\x9e \xe2\x84\xab \xe2\x84\xa6 \xc7\x85",
    "\xc3\x9f a \xcf\x89 [UNK]",
    "[UNK] [UNK] [UNK] [UNK]" },
};

static void
check_extras (const char *which, gboolean lower)
{
  g_autoptr (BsTokenizer) tok = load_vocab (which, lower);
  for (guint i = 0; i < G_N_ELEMENTS (extras); i++)
    {
      g_auto (GStrv) pieces = bs_tokenizer_tokenize (tok, extras[i].text, -1);
      g_autofree char *joined = g_strjoinv (" ", pieces);
      g_assert_cmpstr (joined, ==, lower ? extras[i].uncased : extras[i].cased);
      g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, extras[i].text, -1, 0, 0);
      check_encoding_shape (tok, enc, strlen (extras[i].text));
    }
}

static void
test_extras_uncased (void)
{
  check_extras ("uncased", TRUE);
}

static void
test_extras_cased (void)
{
  check_extras ("cased", FALSE);
}

static void
test_empty (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  const char *texts[] = { "", "   \t\n ", "\x01\x02", "\xff\xfe", "\xcc\x81" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, texts[i], -1, 0, 0);
      g_assert_cmpuint (enc->length, ==, 2);
      check_encoding_shape (tok, enc, strlen (texts[i]));
    }
  g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, NULL, 0, 0, 0);
  g_assert_cmpuint (enc->length, ==, 2);
  g_auto (GStrv) none = bs_tokenizer_tokenize (tok, "", 0);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
}

static void
test_invalid_utf8 (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  /* Each bad text reads as its good twin once the invalid bytes are gone. */
  static const struct { const char *bad, *good; } cases[] = {
    { "un\xffwanted", "unwanted" },
    { "caf\xc3 running", "caf running" },          /* truncated sequence */
    { "caf\xe4\xbd" "e x", "cafe x" },               /* truncated 3-byte lead */
    { "a\xed\xa0\x80" "b", "ab" },                   /* UTF-16 surrogate */
    { "a\xc0\xaf" "b", "ab" },                       /* overlong '/' */
    { "a\xf4\x90\x80\x80" "b", "ab" },               /* beyond U+10FFFF */
    { "\x80\x80hello\xbf", "hello" },                /* stray continuation bytes */
    { "x\xf0\x9f\x98", "x" },                        /* cut at the end */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (GStrv) bad = bs_tokenizer_tokenize (tok, cases[i].bad, -1);
      g_auto (GStrv) good = bs_tokenizer_tokenize (tok, cases[i].good, -1);
      g_assert_cmpstrv (bad, good);
      g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, cases[i].bad, -1, 0, 0);
      check_encoding_shape (tok, enc, strlen (cases[i].bad));
    }

  /* An embedded NUL is dropped like a control character, not an end. */
  g_auto (GStrv) nul = bs_tokenizer_tokenize (tok, "un\0wanted x", 11);
  g_autofree char *joined = g_strjoinv (" ", nul);
  g_assert_cmpstr (joined, ==, "unwanted x");
}

static void
test_word_limit (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  g_autoptr (BsTokenizer) cased = load_vocab ("cased", FALSE);
  int unk = bs_tokenizer_get_unk_id (tok);

  for (guint n = 198; n <= 202; n++)
    {
      g_autofree char *word = g_strnfill (n, 'a');
      g_autofree char *text = g_strdup_printf ("x %s y", word);
      g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tok, text, -1, 0, 0);
      check_encoding_shape (tok, enc, strlen (text));
      if (n <= BS_TOKENIZER_MAX_WORD_CHARS)
        g_assert_cmpuint (enc->n_tokens, >, 5);
      else
        {
          /* [CLS] x [UNK] y [SEP], the [UNK] spanning the whole word */
          g_assert_cmpuint (enc->n_tokens, ==, 5);
          g_assert_cmpint (enc->ids[2], ==, unk);
          g_assert_cmpuint (enc->span_start[2], ==, 2);
          g_assert_cmpuint (enc->span_end[2], ==, 2 + n);
        }
    }

  /* Characters are counted after lower-casing and NFD: 150 × "é" is 150
   * characters cased, 300 (then 150 once accents go) uncased; "İ" lower-cases
   * to two characters, one of them a mark that goes too. */
  GString *acc = g_string_new (NULL);
  for (int i = 0; i < 201; i++)
    g_string_append (acc, "e\xcc\x81"); /* e + combining acute: 2 chars cased */
  g_autoptr (BsEncoding) a = bs_tokenizer_encode (tok, acc->str, -1, 0, 0);
  g_assert_cmpint (a->ids[1], ==, unk); /* 201 × "e" after the marks go */
  g_autoptr (BsEncoding) b = bs_tokenizer_encode (cased, acc->str, -1, 0, 0);
  g_assert_cmpuint (b->n_tokens, ==, 3);
  g_assert_cmpint (b->ids[1], ==, bs_tokenizer_get_unk_id (cased));
  g_string_truncate (acc, 0);
  for (int i = 0; i < 150; i++)
    g_string_append (acc, "e\xcc\x81");
  g_autoptr (BsEncoding) c = bs_tokenizer_encode (tok, acc->str, -1, 0, 0);
  g_assert_cmpint (c->ids[1], !=, unk); /* 150 chars uncased */
  g_autoptr (BsEncoding) d = bs_tokenizer_encode (cased, acc->str, -1, 0, 0);
  g_assert_cmpint (d->ids[1], ==, bs_tokenizer_get_unk_id (cased)); /* 300 chars cased */
  g_string_free (acc, TRUE);

  /* Punctuation splits words before the limit applies. */
  g_autofree char *half = g_strnfill (150, 'b');
  g_autofree char *two = g_strdup_printf ("%s,%s", half, half);
  g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, two, -1, 0, 0);
  for (gsize i = 0; i < e->n_tokens; i++)
    g_assert_cmpint (e->ids[i], !=, unk);
}

static void
test_truncation_padding (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  const char *text = "The quick brown fox jumps over the lazy dog.";
  g_autoptr (BsEncoding) full = bs_tokenizer_encode (tok, text, -1, 0, 0);
  gsize n = strlen (text);
  int pad = bs_tokenizer_get_pad_id (tok), sep = bs_tokenizer_get_sep_id (tok);

  g_assert_cmpuint (full->n_tokens, ==, 12);
  for (guint L = 2; L < 16; L++)
    for (guint P = 0; P < 20; P += 5)
      {
        g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, text, -1, L, P);
        gsize kept = MIN (L, full->n_tokens);
        g_assert_cmpuint (e->n_tokens, ==, kept);
        g_assert_cmpuint (e->length, ==, MAX (kept, P));
        g_assert_cmpmem (e->ids, (kept - 1) * sizeof (gint32), full->ids, (kept - 1) * sizeof (gint32));
        g_assert_cmpint (e->ids[kept - 1], ==, sep);
        for (gsize i = kept; i < e->length; i++)
          {
            g_assert_cmpint (e->ids[i], ==, pad);
            g_assert_cmpint (e->attention_mask[i], ==, 0);
          }
        check_encoding_shape (tok, e, n);
      }

  /* encode_into reuses one encoding across texts of any size. */
  g_autoptr (BsEncoding) reuse = bs_encoding_new ();
  g_autofree char *big = g_strnfill (5000, 'x');
  for (char *p = big + 3; p < big + 5000; p += 4)
    *p = ' ';
  bs_tokenizer_encode_into (tok, big, -1, 0, 0, reuse);
  g_autoptr (BsEncoding) fresh = bs_tokenizer_encode (tok, big, -1, 0, 0);
  g_assert_cmpuint (reuse->n_tokens, ==, 2502); /* 1250 × xx ##x */
  g_assert_cmpmem (reuse->ids, reuse->length * sizeof (gint32), fresh->ids, fresh->length * sizeof (gint32));
  bs_tokenizer_encode_into (tok, text, -1, 0, 16, reuse);
  g_assert_cmpuint (reuse->n_tokens, ==, 12);
  g_assert_cmpuint (reuse->length, ==, 16);
  g_assert_cmpmem (reuse->ids, 12 * sizeof (gint32), full->ids, 12 * sizeof (gint32));
}

static void
test_batch (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  const char *texts[] = { "hello world", "", "a much longer sentence, with punctuation!", "x" };
  const gsize B = G_N_ELEMENTS (texts);
  int pad = bs_tokenizer_get_pad_id (tok);

  /* Padding to the longest row. */
  g_autoptr (BsTokenBatch) batch = bs_tokenizer_encode_batch (tok, texts, NULL, B, 0, 0);
  g_assert_cmpuint (batch->batch_size, ==, B);
  gsize longest = 0;
  for (gsize i = 0; i < B; i++)
    {
      g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, texts[i], -1, 0, 0);
      longest = MAX (longest, e->n_tokens);
      g_assert_cmpuint (batch->lengths[i], ==, e->n_tokens);
      g_assert_cmpmem (batch->ids + i * batch->seq_len, e->n_tokens * sizeof (gint32),
                       e->ids, e->n_tokens * sizeof (gint32));
      g_assert_cmpmem (batch->span_end + i * batch->seq_len, e->n_tokens * sizeof (gsize),
                       e->span_end, e->n_tokens * sizeof (gsize));
      for (gsize j = 0; j < batch->seq_len; j++)
        {
          g_assert_cmpint (batch->attention_mask[i * batch->seq_len + j], ==, j < e->n_tokens);
          if (j >= e->n_tokens)
            g_assert_cmpint (batch->ids[i * batch->seq_len + j], ==, pad);
        }
    }
  g_assert_cmpuint (batch->seq_len, ==, longest);

  /* A fixed length truncates and pads; lens may be given. */
  gssize lens[] = { 5, -1, -1, 1 };
  g_autoptr (BsTokenBatch) fixed = bs_tokenizer_encode_batch (tok, texts, lens, B, 0, 4);
  g_assert_cmpuint (fixed->seq_len, ==, 4);
  g_autoptr (BsEncoding) hello = bs_tokenizer_encode (tok, "hello", -1, 0, 0);
  g_assert_cmpmem (fixed->ids, 3 * sizeof (gint32), hello->ids, 3 * sizeof (gint32));
  g_assert_cmpint (fixed->ids[3], ==, pad);
  g_assert_cmpuint (fixed->lengths[2], ==, 4);
  g_assert_cmpint (fixed->ids[2 * 4 + 3], ==, bs_tokenizer_get_sep_id (tok));

  /* max_length below the fixed length. */
  g_autoptr (BsTokenBatch) both = bs_tokenizer_encode_batch (tok, texts, NULL, B, 3, 6);
  for (gsize i = 0; i < B; i++)
    g_assert_cmpuint (both->lengths[i], <=, 3);

  g_autoptr (BsTokenBatch) empty = bs_tokenizer_encode_batch (tok, NULL, NULL, 0, 0, 0);
  g_assert_cmpuint (empty->batch_size, ==, 0);
}

static void
test_spans (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  /* "Héllo" -> hello (é is 2 bytes); "unwanted" -> un ##want ##ed would be
   * the vocabulary's call, so check bytes, not pieces. */
  const char *text = "Héllo,  İx\x01y 한";
  g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, text, -1, 0, 0);
  g_auto (GStrv) pieces = bs_tokenizer_tokenize (tok, text, -1);
  g_autofree char *joined = g_strjoinv (" ", pieces);
  g_assert_cmpstr (joined, ==, "hello , ix ##y ᄒ ##ᅡ ##ᆫ");
  static const gsize want[][2] = {
    { 0, 0 }, { 0, 6 }, { 6, 7 }, { 9, 12 }, { 13, 14 }, { 15, 18 }, { 15, 18 }, { 15, 18 },
    { 18, 18 },
  };
  g_assert_cmpuint (e->length, ==, G_N_ELEMENTS (want));
  for (gsize i = 0; i < e->length; i++)
    {
      g_assert_cmpuint (e->span_start[i], ==, want[i][0]);
      g_assert_cmpuint (e->span_end[i], ==, want[i][1]);
    }
}

static void
write_file (const char *path, const char *contents, gssize len)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
}

static const char *base_vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n";

static void
test_vocab_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bs-tokenizer-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "vocab.txt", NULL);

  struct { const char *contents; gssize len; int code; const char *in_message; } bad[] = {
    { "", 0, BS_TOKENIZER_ERROR_EMPTY, "empty" },
    { "[UNK]\n[CLS]\nbad\xff\n[SEP]\n", -1, BS_TOKENIZER_ERROR_INVALID_UTF8, "line 3" },
    { "[UNK]\n[CLS]\nn\0ul\n[SEP]\n", 19, BS_TOKENIZER_ERROR_INVALID_UTF8, "line 3" },
    { "[PAD]\n[CLS]\n[SEP]\n", -1, BS_TOKENIZER_ERROR_MISSING_TOKEN, "[UNK]" },
    { "[UNK]\n[SEP]\n", -1, BS_TOKENIZER_ERROR_MISSING_TOKEN, "[CLS]" },
    { "[UNK]\n[CLS]\n", -1, BS_TOKENIZER_ERROR_MISSING_TOKEN, "[SEP]" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      write_file (path, bad[i].contents, bad[i].len);
      BsTokenizer *tok = bs_tokenizer_new_from_file (path, TRUE, &error);
      g_assert_null (tok);
      g_assert_error (error, BS_TOKENIZER_ERROR, bad[i].code);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, bad[i].in_message));
      g_clear_error (&error);
    }

  g_autofree char *missing = g_build_filename (dir, "nope.txt", NULL);
  g_assert_null (bs_tokenizer_new_from_file (missing, TRUE, &error));
  g_assert_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "nope.txt"));
  g_clear_error (&error);

  /* CRLF, surrounding whitespace, no final newline, an empty line, and a
   * duplicate (the later line's id wins, as in the reference's dict). */
  write_file (path, "[PAD]\r\n [UNK]\t\r\n[CLS]\r\n\r\n[SEP]\r\nhello\r\n##s\r\nhello", -1);
  g_autoptr (BsTokenizer) tok = bs_tokenizer_new_from_file (path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_tokenizer_get_vocab_size (tok), ==, 8);
  g_assert_cmpint (bs_tokenizer_get_unk_id (tok), ==, 1);
  g_assert_cmpint (bs_tokenizer_get_sep_id (tok), ==, 4);
  g_assert_cmpint (bs_tokenizer_get_mask_id (tok), ==, -1);
  g_assert_cmpint (bs_tokenizer_token_to_id (tok, "hello"), ==, 7);
  g_assert_cmpstr (bs_tokenizer_id_to_token (tok, 5), ==, "hello");
  g_assert_cmpstr (bs_tokenizer_id_to_token (tok, 3), ==, "");
  g_assert_null (bs_tokenizer_id_to_token (tok, 8));
  g_assert_null (bs_tokenizer_id_to_token (tok, -1));
  g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, "Hellos hello? xyz", -1, 0, 0);
  const gint32 want[] = { 2, 7, 6, 7, 1, 1, 4 };
  g_assert_cmpmem (e->ids, e->length * sizeof (gint32), want, sizeof want);

  g_unlink (path);
  g_rmdir (dir);
}

/* NFD's canonical reordering of marks that survive accent stripping
 * (U+1D16D has class 226, U+1D165 class 216: NFD swaps them). */
static void
test_reorder (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bs-tokenizer-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "vocab.txt", NULL);
  const char *text = "x\xf0\x9d\x85\xad\xf0\x9d\x85\xa5"; /* x U+1D16D U+1D165 */

  g_autofree char *whole = g_strconcat (base_vocab, "x\xf0\x9d\x85\xa5\xf0\x9d\x85\xad\n", NULL);
  write_file (path, whole, -1);
  g_autoptr (BsTokenizer) lower = bs_tokenizer_new_from_file (path, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (BsEncoding) a = bs_tokenizer_encode (lower, text, -1, 0, 0);
  g_assert_cmpuint (a->n_tokens, ==, 3);
  g_assert_cmpint (a->ids[1], ==, 7);
  g_assert_cmpuint (a->span_start[1], ==, 0);
  g_assert_cmpuint (a->span_end[1], ==, 9);
  g_autoptr (BsTokenizer) cased = bs_tokenizer_new_from_file (path, FALSE, &error);
  g_assert_no_error (error);
  g_autoptr (BsEncoding) b = bs_tokenizer_encode (cased, text, -1, 0, 0);
  g_assert_cmpint (b->ids[1], ==, 1); /* no NFD: [UNK] */

  /* Split between the swapped marks: both pieces span both marks. */
  g_autofree char *pieces = g_strconcat (base_vocab, "x\n##\xf0\x9d\x85\xa5\n##\xf0\x9d\x85\xad\n", NULL);
  write_file (path, pieces, -1);
  g_autoptr (BsTokenizer) split = bs_tokenizer_new_from_file (path, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (BsEncoding) c = bs_tokenizer_encode (split, text, -1, 0, 0);
  const gint32 ids[] = { 2, 7, 8, 9, 3 };
  g_assert_cmpmem (c->ids, c->length * sizeof (gint32), ids, sizeof ids);
  check_encoding_shape (split, c, strlen (text));
  g_assert_cmpuint (c->span_start[2], ==, 1);
  g_assert_cmpuint (c->span_end[2], ==, 9);
  g_assert_cmpuint (c->span_start[3], ==, 1);
  g_assert_cmpuint (c->span_end[3], ==, 9);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_model_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bs-tokenizer-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *vocab = g_build_filename (dir, "vocab.txt", NULL);
  g_autofree char *config = g_build_filename (dir, "tokenizer_config.json", NULL);

  /* No config: lower-case iff no token has capitals (specials aside). */
  write_file (vocab, base_vocab, -1);
  g_autoptr (BsTokenizer) a = bs_tokenizer_new_from_model_dir (dir, &error);
  g_assert_no_error (error);
  g_assert_true (bs_tokenizer_get_lower_case (a));
  g_autofree char *capital = g_strconcat (base_vocab, "Hello\n", NULL);
  write_file (vocab, capital, -1);
  g_autoptr (BsTokenizer) b = bs_tokenizer_new_from_model_dir (dir, &error);
  g_assert_no_error (error);
  g_assert_false (bs_tokenizer_get_lower_case (b));

  /* The config decides when it says. */
  struct { const char *json; int lower; } good[] = {
    { "{\"do_lower_case\": true}", 1 },
    { "{\n  \"model_max_length\": 512,\n  \"x\": {\"do_lower_case\": false, \"l\": [1, \"}\", null]},\n"
      "  \"do_lower_case\" : false\n}\n", 0 },
    { "{\"tokenizer_class\": \"BertTokenizer\", \"note\": \"\\\"do_lower_case\\\": true\"}", 0 /* absent: vocab has capitals */ },
    { "{}", 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      write_file (config, good[i].json, -1);
      g_autoptr (BsTokenizer) t = bs_tokenizer_new_from_model_dir (dir, &error);
      g_assert_no_error (error);
      g_assert_cmpint (bs_tokenizer_get_lower_case (t), ==, good[i].lower);
    }

  const char *bad[] = { "[true]", "{\"do_lower_case\": 1}", "{\"a\": 1,\n\n\"b\" 2}", "{\"do_lower_case\": true", "" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      write_file (config, bad[i], -1);
      g_assert_null (bs_tokenizer_new_from_model_dir (dir, &error));
      g_assert_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, "tokenizer_config.json, line "));
      if (i == 2)
        g_assert_nonnull (strstr (error->message, "line 3"));
      g_clear_error (&error);
    }

  g_unlink (config);
  g_unlink (vocab);
  g_assert_null (bs_tokenizer_new_from_model_dir (dir, &error));
  g_assert_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_IO);
  g_clear_error (&error);
  g_rmdir (dir);
}

typedef struct
{
  const BsTokenizer *tok;
  GPtrArray         *cases;
  GPtrArray         *results; /* BsEncoding per case */
} ThreadJob;

static gpointer
encode_all (gpointer data)
{
  ThreadJob *job = data;
  for (int round = 0; round < 3; round++)
    for (guint i = 0; i < job->cases->len; i++)
      {
        Golden *g = job->cases->pdata[i];
        BsEncoding *e = bs_tokenizer_encode (job->tok, g->text, (gssize) g->len, round == 1 ? 64 : 0, 0);
        if (round == 2)
          g_ptr_array_add (job->results, e);
        else
          bs_encoding_free (e);
      }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  g_autoptr (GPtrArray) cases = load_goldens ("uncased");
  ThreadJob jobs[4];
  GThread *threads[4];

  for (int t = 0; t < 4; t++)
    {
      jobs[t] = (ThreadJob) { tok, cases, g_ptr_array_new_with_free_func ((GDestroyNotify) bs_encoding_free) };
      threads[t] = g_thread_new ("encode", encode_all, &jobs[t]);
    }
  for (int t = 0; t < 4; t++)
    g_thread_join (threads[t]);
  for (guint i = 0; i < cases->len; i++)
    {
      Golden *g = cases->pdata[i];
      g_autoptr (BsEncoding) serial = bs_tokenizer_encode (tok, g->text, (gssize) g->len, 0, 0);
      for (int t = 0; t < 4; t++)
        {
          BsEncoding *e = jobs[t].results->pdata[i];
          g_assert_cmpmem (e->ids, e->length * sizeof (gint32), serial->ids, serial->length * sizeof (gint32));
          g_assert_cmpmem (e->span_start, e->length * sizeof (gsize), serial->span_start, serial->length * sizeof (gsize));
          g_assert_cmpmem (e->span_end, e->length * sizeof (gsize), serial->span_end, serial->length * sizeof (gsize));
        }
    }
  for (int t = 0; t < 4; t++)
    g_ptr_array_unref (jobs[t].results);
}

/* 10 MB texts, normal and hostile: no crash, sane output (linear time is
 * what keeps this test quick; it is not timed). */
static void
test_big (void)
{
  g_autoptr (BsTokenizer) tok = load_vocab ("uncased", TRUE);
  g_autoptr (BsTokenizer) cased = load_vocab ("cased", FALSE);
  g_autoptr (GPtrArray) cases = load_goldens ("uncased");
  const gsize target = 10 * 1024 * 1024;
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; s->len < target; i = (i + 1) % cases->len)
    {
      Golden *g = cases->pdata[i];
      g_string_append_len (s, g->text, (gssize) g->len);
      g_string_append_c (s, ' ');
    }
  g_autoptr (BsEncoding) e = bs_tokenizer_encode (tok, s->str, (gssize) s->len, 0, 0);
  g_assert_cmpuint (e->n_tokens, >, 1000000);
  check_encoding_shape (tok, e, s->len);

  /* One huge word; marks to reorder; sigma with endless case-ignorables. */
  static const struct { const char *unit; gsize tokens; } units[] = {
    { "a", 3 }, { "\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", 3 }, { "\xea\xb0\x80", 3 }, { "\xcc\x81", 3 },
    { "\xce\xa3\xc2\xad", 3 }, { "\xce\xa3'", 0 }, { "\xff", 3 },
  };
  for (guint u = 0; u < G_N_ELEMENTS (units); u++)
    {
      g_string_truncate (s, 0);
      g_string_append (s, "A");
      while (s->len < target)
        g_string_append (s, units[u].unit);
      g_autoptr (BsEncoding) h = bs_tokenizer_encode (tok, s->str, (gssize) s->len, 0, 0);
      check_encoding_shape (tok, h, s->len);
      if (units[u].tokens != 0)
        g_assert_cmpuint (h->n_tokens, ==, units[u].tokens);
      g_autoptr (BsEncoding) hc = bs_tokenizer_encode (cased, s->str, (gssize) s->len, 0, 0);
      check_encoding_shape (cased, hc, s->len);
    }
}

/* The CLI against the goldens (BS_CLI is the binary, from meson). */
static char *
run_cli (const char *const *argv, const char *input, int *status, char **err)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv (argv,
    G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  char *out = NULL;
  g_subprocess_communicate_utf8 (proc, input, NULL, &out, err, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_exit_status (proc);
  return out;
}

static void
check_cli (const char *which, gboolean lower)
{
  const char *cli = g_getenv ("BS_CLI");
  if (cli == NULL || !g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("BS_CLI does not name the built bert-studio-cli");
      return;
    }
  g_autofree char *vocab_name = g_strdup_printf ("bert-base-%s-vocab.txt", which);
  g_autofree char *vocab = fixture_path (vocab_name);
  g_autofree char *gz_name = g_strdup_printf ("%s.jsonl.gz", which);
  g_autofree char *gz = fixture_path (gz_name);

  /* The golden lines themselves are the input (their "text" is what counts). */
  g_autoptr (GFile) file = g_file_new_for_path (gz);
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GZlibDecompressor) dec = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr (GInputStream) conv = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (dec));
  g_autoptr (GDataInputStream) data = g_data_input_stream_new (conv);
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (GString) expected = g_string_new (NULL);
  g_autoptr (GString) expected_trunc = g_string_new (NULL);
  char *line;
  while ((line = g_data_input_stream_read_line (data, NULL, NULL, &error)) != NULL)
    {
      g_autofree char *owned = line;
      g_string_append_printf (input, "%s\n", owned);
      g_autoptr (JsonParser) parser = json_parser_new ();
      json_parser_load_from_data (parser, owned, -1, &error);
      g_assert_no_error (error);
      JsonArray *ids = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "ids");
      guint n = json_array_get_length (ids), kept = MIN (n, 8);
      g_string_append_c (expected, '[');
      g_string_append_c (expected_trunc, '[');
      for (guint i = 0; i < n; i++)
        g_string_append_printf (expected, i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                                json_array_get_int_element (ids, i));
      for (guint i = 0; i < kept; i++)
        g_string_append_printf (expected_trunc, i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                                i + 1 == kept ? 102 : json_array_get_int_element (ids, i));
      g_string_append (expected, "]\n");
      g_string_append (expected_trunc, "]\n");
    }
  g_assert_no_error (error);

  int status;
  g_autofree char *err = NULL;
  const char *argv[] = { cli, "tokenize", "--vocab", vocab, lower ? NULL : "--cased", NULL };
  g_autofree char *out = run_cli (argv, input->str, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, expected->str);

  g_clear_pointer (&err, g_free);
  const char *argv8[] = { cli, "tokenize", "--max-length", "8", "--vocab", vocab, lower ? NULL : "--cased", NULL };
  g_autofree char *out8 = run_cli (argv8, input->str, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out8, ==, expected_trunc->str);

  /* A bad line stops the run with its number; earlier lines are answered. */
  g_clear_pointer (&err, g_free);
  g_autofree char *bad_out = run_cli (argv, "{\"text\": \"hello\"}\n{\"text\": \"a\"}\n{\"text\": 3}\n{\"text\": \"b\"}\n",
                                      &status, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "line 3"));
  g_auto (GStrv) lines = g_strsplit (bad_out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3); /* two answers and the empty tail */

  g_clear_pointer (&err, g_free);
  const char *noargs[] = { cli, "tokenize", NULL };
  g_autofree char *none = run_cli (noargs, "", &status, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_cmpstr (none, ==, "");
  g_assert_nonnull (strstr (err, "--vocab"));
}

static void
test_cli_uncased (void)
{
  check_cli ("uncased", TRUE);
}

static void
test_cli_cased (void)
{
  check_cli ("cased", FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tokenizer/golden/uncased", test_golden_uncased);
  g_test_add_func ("/tokenizer/golden/cased", test_golden_cased);
  g_test_add_func ("/tokenizer/extras/uncased", test_extras_uncased);
  g_test_add_func ("/tokenizer/extras/cased", test_extras_cased);
  g_test_add_func ("/tokenizer/empty", test_empty);
  g_test_add_func ("/tokenizer/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/tokenizer/word-limit", test_word_limit);
  g_test_add_func ("/tokenizer/truncation-padding", test_truncation_padding);
  g_test_add_func ("/tokenizer/batch", test_batch);
  g_test_add_func ("/tokenizer/spans", test_spans);
  g_test_add_func ("/tokenizer/vocab-errors", test_vocab_errors);
  g_test_add_func ("/tokenizer/reorder", test_reorder);
  g_test_add_func ("/tokenizer/model-dir", test_model_dir);
  g_test_add_func ("/tokenizer/threads", test_threads);
  g_test_add_func ("/tokenizer/big", test_big);
  g_test_add_func ("/tokenizer/cli/uncased", test_cli_uncased);
  g_test_add_func ("/tokenizer/cli/cased", test_cli_cased);

  return g_test_run ();
}
