/* bs-tokenizer.c: BERT's WordPiece tokenizer (see bs-tokenizer.h).
 *
 * One pass over the bytes turns the text into words exactly as the
 * reference's BasicTokenizer would (each output byte remembering the original
 * bytes it came from), and each finished word goes straight through the
 * greedy WordPiece matcher.  ASCII takes a table-driven fast path; everything
 * else looks its properties up in bs-unicode-data (Unicode 14.0, generated
 * from the same Python the reference ran on).
 */
#include "config.h"

#include "bs-tokenizer.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "bs-unicode-data.h"

G_DEFINE_QUARK (bs-tokenizer-error-quark, bs_tokenizer_error)

/* ---------------------------------------------------------------------- */
/* Vocabulary: an open-addressing hash table over a pool of token strings. */

typedef struct
{
  guint32 tag;    /* high bits of the hash: most mismatches never touch the pool */
  gint32  id;     /* -1: empty slot */
  guint32 offset; /* into pool */
  guint32 len;
} VocabSlot;

struct _BsTokenizer
{
  gboolean   lower_case;
  guint      vocab_size;
  char      *pool;        /* every stripped line, NUL-terminated */
  guint32   *token_offset; /* vocab_size: into pool */
  guint32   *token_len;
  VocabSlot *slots;
  guint32    slot_mask;
  guint      max_len;      /* longest token, bytes */
  guint      max_cont_len; /* longest "##" token, bytes after the "##" */
  gint32     ascii_id[128]; /* id of each one-character ASCII token, or [UNK] */
  guint8     action[256];   /* ASCII fast path: what each byte does (A_*) */
  int        pad_id, unk_id, cls_id, sep_id, mask_id;
};

/* Byte actions of the ASCII fast path; A_OTHER: a non-ASCII byte. */
enum { A_WORD, A_SPACE, A_PUNCT, A_DROP, A_OTHER };

/* FNV-1a, byte by byte, so that the matcher can hash all prefixes of a word
 * in one pass; mix() spreads it over the slot index and tag. */
#define FNV_OFFSET G_GUINT64_CONSTANT (0xcbf29ce484222325)
#define FNV_PRIME  G_GUINT64_CONSTANT (0x100000001b3)

static inline guint64
fnv_step (guint64 h, guchar b)
{
  return (h ^ b) * FNV_PRIME;
}

static inline guint64
fnv_bytes (guint64 h, const guchar *s, gsize n)
{
  for (gsize i = 0; i < n; i++)
    h = fnv_step (h, s[i]);
  return h;
}

static inline guint64
mix (guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  return h;
}

/* FNV state after "##": continuation pieces hash as the literal "##piece". */
static inline guint64
cont_seed (void)
{
  return fnv_step (fnv_step (FNV_OFFSET, '#'), '#');
}

/* id of the token whose bytes are ("##" if cont) + s[0:n], hashed as h; or -1. */
static inline gint32
vocab_lookup (const BsTokenizer *tok, guint64 h, const guchar *s, gsize n, gboolean cont)
{
  guint64 m = mix (h);
  guint32 tag = (guint32) (m >> 32);
  gsize klen = n + (cont ? 2 : 0);

  for (guint32 i = (guint32) m & tok->slot_mask;; i = (i + 1) & tok->slot_mask)
    {
      const VocabSlot *slot = &tok->slots[i];
      if (slot->id < 0)
        return -1;
      if (slot->tag == tag && slot->len == klen)
        {
          const char *key = tok->pool + slot->offset;
          if (cont)
            {
              if (key[0] == '#' && key[1] == '#' && memcmp (key + 2, s, n) == 0)
                return slot->id;
            }
          else if (memcmp (key, s, n) == 0)
            return slot->id;
        }
    }
}

static void
vocab_insert (BsTokenizer *tok, guint32 offset, guint32 len, gint32 id)
{
  const guchar *key = (const guchar *) tok->pool + offset;
  guint64 m = mix (fnv_bytes (FNV_OFFSET, key, len));
  guint32 tag = (guint32) (m >> 32);

  for (guint32 i = (guint32) m & tok->slot_mask;; i = (i + 1) & tok->slot_mask)
    {
      VocabSlot *slot = &tok->slots[i];
      if (slot->id < 0)
        {
          *slot = (VocabSlot) { tag, id, offset, len };
          return;
        }
      if (slot->tag == tag && slot->len == len && memcmp (tok->pool + slot->offset, key, len) == 0)
        {
          /* load_vocab() fills a dict: a later duplicate takes the id. */
          slot->id = id;
          slot->offset = offset;
          return;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* UTF-8 */

/* Decodes one well-formed UTF-8 character at s[0:n] (n >= 1, s[0] >= 0x80)
 * into *cp and returns its length, or returns 0 when s[0] does not start
 * one: the caller then drops that single byte, which leaves the same text as
 * Python's decode ("utf-8", "ignore"). */
static inline guint
utf8_decode (const guchar *s, gsize n, gunichar *cp)
{
  guchar b0 = s[0];

  if (b0 >= 0xC2 && b0 <= 0xDF)
    {
      if (n >= 2 && (s[1] & 0xC0) == 0x80)
        {
          *cp = ((gunichar) (b0 & 0x1F) << 6) | (s[1] & 0x3F);
          return 2;
        }
      return 0;
    }
  if (b0 >= 0xE0 && b0 <= 0xEF)
    {
      guchar lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
      if (n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80)
        {
          *cp = ((gunichar) (b0 & 0x0F) << 12) | ((gunichar) (s[1] & 0x3F) << 6) | (s[2] & 0x3F);
          return 3;
        }
      return 0;
    }
  if (b0 >= 0xF0 && b0 <= 0xF4)
    {
      guchar lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
      if (n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80)
        {
          *cp = ((gunichar) (b0 & 0x07) << 18) | ((gunichar) (s[1] & 0x3F) << 12)
                | ((gunichar) (s[2] & 0x3F) << 6) | (s[3] & 0x3F);
          return 4;
        }
      return 0;
    }
  return 0;
}

static inline guint
utf8_encode (gunichar cp, guchar *out)
{
  if (cp < 0x80)
    {
      out[0] = (guchar) cp;
      return 1;
    }
  if (cp < 0x800)
    {
      out[0] = (guchar) (0xC0 | (cp >> 6));
      out[1] = (guchar) (0x80 | (cp & 0x3F));
      return 2;
    }
  if (cp < 0x10000)
    {
      out[0] = (guchar) (0xE0 | (cp >> 12));
      out[1] = (guchar) (0x80 | ((cp >> 6) & 0x3F));
      out[2] = (guchar) (0x80 | (cp & 0x3F));
      return 3;
    }
  out[0] = (guchar) (0xF0 | (cp >> 18));
  out[1] = (guchar) (0x80 | ((cp >> 12) & 0x3F));
  out[2] = (guchar) (0x80 | ((cp >> 6) & 0x3F));
  out[3] = (guchar) (0x80 | (cp & 0x3F));
  return 4;
}

/* Python's str.isspace(), which str.strip() uses on vocabulary lines. */
static gboolean
is_py_space (gunichar cp)
{
  return (bs_unicode_class (cp)->flags & BS_UC_PY_SPACE) != 0;
}

/* ---------------------------------------------------------------------- */
/* Loading */

static void
tokenizer_free_internal (BsTokenizer *tok)
{
  g_free (tok->pool);
  g_free (tok->token_offset);
  g_free (tok->token_len);
  g_free (tok->slots);
  g_free (tok);
}

void
bs_tokenizer_free (BsTokenizer *tokenizer)
{
  if (tokenizer != NULL)
    tokenizer_free_internal (tokenizer);
}

/* Strips str.isspace() characters from both ends of a valid UTF-8 line. */
static void
strip_py_space (const char *line, gsize len, gsize *start, gsize *end)
{
  gsize s = 0, e = len;

  while (s < e)
    {
      gunichar cp = 0;
      guint n = (guchar) line[s] < 0x80 ? 1 : utf8_decode ((const guchar *) line + s, e - s, &cp);
      if (n == 1)
        cp = (guchar) line[s];
      if (!is_py_space (cp))
        break;
      s += n;
    }
  while (e > s)
    {
      gsize b = e - 1;
      gunichar cp = 0;
      while (b > s && ((guchar) line[b] & 0xC0) == 0x80)
        b--;
      if ((guchar) line[b] < 0x80)
        cp = (guchar) line[b];
      else
        utf8_decode ((const guchar *) line + b, e - b, &cp);
      if (!is_py_space (cp))
        break;
      e = b;
    }
  *start = s;
  *end = e;
}

BsTokenizer *
bs_tokenizer_new_from_file (const char *vocab_path,
                            gboolean    lower_case,
                            GError    **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *display = NULL;
  gsize length = 0;
  g_autoptr (BsTokenizer) tok = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (vocab_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display = g_filename_display_name (vocab_path);
  if (!g_file_get_contents (vocab_path, &contents, &length, &local_error))
    {
      g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_IO,
                   /* Translators: a file path and the reason */
                   _("Cannot read vocabulary %s: %s"), display, local_error->message);
      g_error_free (local_error);
      return NULL;
    }

  /* Lines end at '\n' only (like the reference's reader); the final line
   * needs no newline, and a trailing newline does not start another line. */
  gsize n_lines = 0;
  for (gsize i = 0; i < length; i++)
    if (contents[i] == '\n')
      n_lines++;
  if (length > 0 && contents[length - 1] != '\n')
    n_lines++;
  if (n_lines == 0)
    {
      g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_EMPTY,
                   /* Translators: %s is a file path */
                   _("Vocabulary %s is empty"), display);
      return NULL;
    }
  if (n_lines > G_MAXINT32 || length + n_lines >= G_MAXUINT32)
    {
      g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_TOO_LARGE,
                   /* Translators: a file path, its number of lines and its size in bytes */
                   _("Vocabulary %s is too large (%zu lines, %zu bytes)"),
                   display, n_lines, length);
      return NULL;
    }

  tok = g_new0 (BsTokenizer, 1);
  tok->lower_case = lower_case;
  tok->vocab_size = (guint) n_lines;
  tok->pool = g_malloc (length + n_lines + 1);
  tok->token_offset = g_new (guint32, n_lines);
  tok->token_len = g_new (guint32, n_lines);

  gsize pool_len = 0, line_start = 0;
  for (gsize id = 0; id < n_lines; id++)
    {
      const char *nl = memchr (contents + line_start, '\n', length - line_start);
      gsize line_end = nl != NULL ? (gsize) (nl - contents) : length;
      const char *line = contents + line_start;
      gsize line_len = line_end - line_start, s, e;

      if (memchr (line, '\0', line_len) != NULL || !g_utf8_validate_len (line, line_len, NULL))
        {
          g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_INVALID_UTF8,
                       /* Translators: a file path and a line number */
                       _("Vocabulary %s, line %zu: not valid UTF-8 text"),
                       display, id + 1);
          return NULL;
        }
      strip_py_space (line, line_len, &s, &e);
      memcpy (tok->pool + pool_len, line + s, e - s);
      tok->token_offset[id] = (guint32) pool_len;
      tok->token_len[id] = (guint32) (e - s);
      pool_len += e - s;
      tok->pool[pool_len++] = '\0';
      line_start = line_end + 1;
    }

  /* Load factor <= 1/2 keeps probe chains short. */
  gsize n_slots = 16;
  while (n_slots < 2 * n_lines)
    n_slots *= 2;
  tok->slots = g_new (VocabSlot, n_slots);
  for (gsize i = 0; i < n_slots; i++)
    tok->slots[i].id = -1;
  tok->slot_mask = (guint32) (n_slots - 1);

  for (gsize id = 0; id < n_lines; id++)
    {
      guint32 off = tok->token_offset[id], len = tok->token_len[id];
      vocab_insert (tok, off, len, (gint32) id);
      tok->max_len = MAX (tok->max_len, len);
      if (len >= 2 && tok->pool[off] == '#' && tok->pool[off + 1] == '#')
        tok->max_cont_len = MAX (tok->max_cont_len, len - 2);
    }

  tok->pad_id = bs_tokenizer_token_to_id (tok, "[PAD]");
  tok->unk_id = bs_tokenizer_token_to_id (tok, "[UNK]");
  tok->cls_id = bs_tokenizer_token_to_id (tok, "[CLS]");
  tok->sep_id = bs_tokenizer_token_to_id (tok, "[SEP]");
  tok->mask_id = bs_tokenizer_token_to_id (tok, "[MASK]");
  {
    const char *missing = tok->unk_id < 0 ? "[UNK]" : tok->cls_id < 0 ? "[CLS]"
                          : tok->sep_id < 0 ? "[SEP]" : NULL;
    if (missing != NULL)
      {
        g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_MISSING_TOKEN,
                     /* Translators: a file path and a token such as [UNK] */
                     _("Vocabulary %s has no %s token"), display, missing);
        return NULL;
      }
  }

  for (guint c = 0; c < 128; c++)
    {
      guchar b = (guchar) c;
      gint32 id = vocab_lookup (tok, fnv_step (FNV_OFFSET, b), &b, 1, FALSE);
      tok->ascii_id[c] = id >= 0 ? id : tok->unk_id;
    }
  for (guint b = 0; b < 256; b++)
    {
      guint16 f = b < 0x80 ? bs_unicode_classes[bs_unicode_ascii_class[b]].flags : 0;
      tok->action[b] = b >= 0x80 ? A_OTHER : (f & BS_UC_DROP) ? A_DROP : (f & BS_UC_SPACE) ? A_SPACE
                       : (f & BS_UC_PUNCT) ? A_PUNCT : A_WORD;
    }

  return g_steal_pointer (&tok);
}

/* -- tokenizer_config.json: just enough JSON to find a top-level boolean. -- */

typedef struct
{
  const char *s;
  gsize       len, pos;
} JsonScan;

static void
json_ws (JsonScan *j)
{
  while (j->pos < j->len && strchr (" \t\r\n", j->s[j->pos]) != NULL && j->s[j->pos] != '\0')
    j->pos++;
}

/* Parses a string at pos (which is '"'); appends its decoded bytes to out
 * when out is not NULL.  FALSE when malformed. */
static gboolean
json_string (JsonScan *j, GString *out)
{
  if (j->pos >= j->len || j->s[j->pos] != '"')
    return FALSE;
  j->pos++;
  while (j->pos < j->len)
    {
      char c = j->s[j->pos++];
      if (c == '"')
        return TRUE;
      if ((guchar) c < 0x20)
        return FALSE;
      if (c != '\\')
        {
          if (out != NULL)
            g_string_append_c (out, c);
          continue;
        }
      if (j->pos >= j->len)
        return FALSE;
      c = j->s[j->pos++];
      switch (c)
        {
        case '"': case '\\': case '/':
          break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
          {
            gunichar u = 0;
            if (j->len - j->pos < 4)
              return FALSE;
            for (int k = 0; k < 4; k++)
              {
                int d = g_ascii_xdigit_value (j->s[j->pos++]);
                if (d < 0)
                  return FALSE;
                u = (u << 4) | (gunichar) d;
              }
            /* A surrogate (half) can never spell an ASCII key: keep a placeholder. */
            if (out != NULL)
              g_string_append_unichar (out, u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u);
            continue;
          }
        default:
          return FALSE;
        }
      if (out != NULL)
        g_string_append_c (out, c);
    }
  return FALSE;
}

/* Skips any JSON value; depth bounds the recursion. */
static gboolean
json_skip_value (JsonScan *j, int depth)
{
  if (depth > 64)
    return FALSE;
  json_ws (j);
  if (j->pos >= j->len)
    return FALSE;
  char c = j->s[j->pos];
  if (c == '"')
    return json_string (j, NULL);
  if (c == '{' || c == '[')
    {
      char close = c == '{' ? '}' : ']';
      j->pos++;
      json_ws (j);
      if (j->pos < j->len && j->s[j->pos] == close)
        {
          j->pos++;
          return TRUE;
        }
      for (;;)
        {
          if (c == '{')
            {
              json_ws (j);
              if (!json_string (j, NULL))
                return FALSE;
              json_ws (j);
              if (j->pos >= j->len || j->s[j->pos] != ':')
                return FALSE;
              j->pos++;
            }
          if (!json_skip_value (j, depth + 1))
            return FALSE;
          json_ws (j);
          if (j->pos >= j->len)
            return FALSE;
          if (j->s[j->pos] == close)
            {
              j->pos++;
              return TRUE;
            }
          if (j->s[j->pos] != ',')
            return FALSE;
          j->pos++;
        }
    }
  /* number, true, false, null: a run of their characters */
  gsize start = j->pos;
  while (j->pos < j->len && (g_ascii_isalnum (j->s[j->pos]) || strchr ("+-.", j->s[j->pos]) != NULL)
         && j->s[j->pos] != '\0')
    j->pos++;
  return j->pos > start;
}

static gsize
line_of (const char *s, gsize pos)
{
  gsize line = 1;
  for (gsize i = 0; i < pos; i++)
    if (s[i] == '\n')
      line++;
  return line;
}

/* 1 / 0 for a top-level "do_lower_case": true / false, -1 when absent. */
static int
config_do_lower_case (const char *contents, gsize len, const char *display, GError **error)
{
  JsonScan j = { contents, len, 0 };
  int result = -1;
  const char *problem = N_("expected a JSON object");

  json_ws (&j);
  if (j.pos >= j.len || j.s[j.pos] != '{')
    goto fail;
  j.pos++;
  json_ws (&j);
  if (j.pos < j.len && j.s[j.pos] == '}')
    return result;
  for (;;)
    {
      g_autoptr (GString) key = g_string_new (NULL);

      json_ws (&j);
      problem = N_("expected a key string");
      if (!json_string (&j, key))
        goto fail;
      json_ws (&j);
      problem = N_("expected ':'");
      if (j.pos >= j.len || j.s[j.pos] != ':')
        goto fail;
      j.pos++;
      json_ws (&j);
      if (strcmp (key->str, "do_lower_case") == 0 && key->len == strlen ("do_lower_case"))
        {
          /* Translators: keep "do_lower_case", true and false as they are */
          problem = N_("\"do_lower_case\" is not true or false");
          if (j.len - j.pos >= 4 && strncmp (j.s + j.pos, "true", 4) == 0)
            {
              result = 1; /* the last of duplicate keys wins, as in Python's json */
              j.pos += 4;
            }
          else if (j.len - j.pos >= 5 && strncmp (j.s + j.pos, "false", 5) == 0)
            {
              result = 0;
              j.pos += 5;
            }
          else
            goto fail;
        }
      else
        {
          problem = N_("malformed value");
          if (!json_skip_value (&j, 0))
            goto fail;
        }
      json_ws (&j);
      problem = N_("expected ',' or '}'");
      if (j.pos >= j.len)
        goto fail;
      if (j.s[j.pos] == '}')
        return result;
      if (j.s[j.pos] != ',')
        goto fail;
      j.pos++;
    }

fail:
  g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_CONFIG,
               /* Translators: a file path, a line number and what is wrong there */
               _("%s, line %zu: %s"), display,
               line_of (contents, MIN (j.pos, len)), _(problem));
  return -2;
}

BsTokenizer *
bs_tokenizer_new_from_model_dir (const char *dir,
                                 GError    **error)
{
  g_autofree char *vocab_path = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config = NULL;
  gsize config_len = 0;
  int lower = -1;
  g_autoptr (BsTokenizer) tok = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  vocab_path = g_build_filename (dir, "vocab.txt", NULL);
  config_path = g_build_filename (dir, "tokenizer_config.json", NULL);

  if (g_file_get_contents (config_path, &config, &config_len, &local_error))
    {
      g_autofree char *display = g_filename_display_name (config_path);
      lower = config_do_lower_case (config, config_len, display, error);
      if (lower == -2)
        return NULL;
    }
  else if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_autofree char *display = g_filename_display_name (config_path);
      g_set_error (error, BS_TOKENIZER_ERROR, BS_TOKENIZER_ERROR_IO,
                   /* Translators: a file path and the reason */
                   _("Cannot read %s: %s"), display, local_error->message);
      g_error_free (local_error);
      return NULL;
    }
  g_clear_error (&local_error);

  tok = bs_tokenizer_new_from_file (vocab_path, lower != 0, error);
  if (tok == NULL)
    return NULL;

  if (lower < 0)
    {
      /* No say from the config: a vocabulary with capitals is cased.
       * Bracketed specials ([UNK], [unused0]…) do not count. */
      gboolean has_upper = FALSE;
      for (guint id = 0; id < tok->vocab_size && !has_upper; id++)
        {
          const char *t = tok->pool + tok->token_offset[id];
          gsize n = tok->token_len[id];
          if (n >= 2 && t[0] == '[' && t[n - 1] == ']')
            continue;
          for (const char *p = t; *p != '\0'; p = g_utf8_next_char (p))
            if (bs_unicode_class (g_utf8_get_char (p))->flags & BS_UC_HAS_LOWER)
              {
                has_upper = TRUE;
                break;
              }
        }
      tok->lower_case = !has_upper;
    }

  return g_steal_pointer (&tok);
}

/* -- accessors -- */

gboolean
bs_tokenizer_get_lower_case (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, FALSE);
  return tokenizer->lower_case;
}

guint
bs_tokenizer_get_vocab_size (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, 0);
  return tokenizer->vocab_size;
}

int
bs_tokenizer_get_pad_id (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, -1);
  return tokenizer->pad_id;
}

int
bs_tokenizer_get_unk_id (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, -1);
  return tokenizer->unk_id;
}

int
bs_tokenizer_get_cls_id (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, -1);
  return tokenizer->cls_id;
}

int
bs_tokenizer_get_sep_id (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, -1);
  return tokenizer->sep_id;
}

int
bs_tokenizer_get_mask_id (const BsTokenizer *tokenizer)
{
  g_return_val_if_fail (tokenizer != NULL, -1);
  return tokenizer->mask_id;
}

const char *
bs_tokenizer_id_to_token (const BsTokenizer *tokenizer, int id)
{
  g_return_val_if_fail (tokenizer != NULL, NULL);
  if (id < 0 || (guint) id >= tokenizer->vocab_size)
    return NULL;
  return tokenizer->pool + tokenizer->token_offset[id];
}

int
bs_tokenizer_token_to_id (const BsTokenizer *tokenizer, const char *token)
{
  g_return_val_if_fail (tokenizer != NULL, -1);
  g_return_val_if_fail (token != NULL, -1);
  gsize n = strlen (token);
  return vocab_lookup (tokenizer, fnv_bytes (FNV_OFFSET, (const guchar *) token, n),
                       (const guchar *) token, n, FALSE);
}

/* ---------------------------------------------------------------------- */
/* Encoding */

BsEncoding *
bs_encoding_new (void)
{
  return g_new0 (BsEncoding, 1);
}

void
bs_encoding_free (BsEncoding *encoding)
{
  if (encoding == NULL)
    return;
  g_free (encoding->ids);
  g_free (encoding->attention_mask);
  g_free (encoding->span_start);
  g_free (encoding->span_end);
  g_free (encoding->scratch);
  g_free (encoding);
}

static void
encoding_reserve (BsEncoding *enc, gsize n)
{
  if (n <= enc->capacity)
    return;
  gsize cap = MAX (enc->capacity * 2, MAX (n, 64));
  enc->ids = g_renew (gint32, enc->ids, cap);
  enc->attention_mask = g_renew (gint32, enc->attention_mask, cap);
  enc->span_start = g_renew (gsize, enc->span_start, cap);
  enc->span_end = g_renew (gsize, enc->span_end, cap);
  enc->capacity = cap;
}

/* A produced character can take 4 bytes; longer words are [UNK] and are not stored. */
#define WORD_MAX_CHARS BS_TOKENIZER_MAX_WORD_CHARS
#define WORD_MAX_BYTES (WORD_MAX_CHARS * 4)

typedef struct
{
  guint8 ccc, n;
  guchar bytes[4];
  gsize  start, end;
} RunChar;

typedef struct
{
  const BsTokenizer *tok;
  BsEncoding        *out;
  gsize              limit; /* stop once out holds this many tokens */
  gboolean           done;

  /* The word being built: its bytes after normalization and, unless each
   * byte sits at word_start + index in the text ("identity"), the original
   * span of every byte. */
  guint    wlen;
  gsize    wchars;   /* may exceed WORD_MAX_CHARS (then only counted) */
  gboolean identity;
  gsize    word_start, word_end;
  guchar   wbuf[WORD_MAX_BYTES];
  gsize    wstart[WORD_MAX_BYTES], wend[WORD_MAX_BYTES];

  /* Marks with a nonzero combining class that survive Mn removal, waiting
   * for NFD's canonical reordering (a stable sort by class). */
  RunChar  run[WORD_MAX_CHARS + 1];
  guint    nrun;

  /* Final sigma: was the last non-case-ignorable character of the current
   * whitespace-delimited token cased? */
  gboolean prev_cased;
} Ctx;

static inline void
emit (Ctx *c, gint32 id, gsize start, gsize end)
{
  BsEncoding *o = c->out;
  if (G_UNLIKELY (c->done))
    return; /* truncated: later words are dropped, wherever they come from */
  if (G_UNLIKELY (o->n_tokens == o->capacity))
    encoding_reserve (o, o->n_tokens + 1);
  o->ids[o->n_tokens] = id;
  o->span_start[o->n_tokens] = start;
  o->span_end[o->n_tokens] = end;
  if (++o->n_tokens >= c->limit)
    c->done = TRUE;
}

/* Greedy longest-match-first WordPiece over the finished word. */
static void
wordpiece (Ctx *c)
{
  const BsTokenizer *tok = c->tok;
  struct { gint32 id; guint a, b; } pieces[WORD_MAX_CHARS];
  guint64 hs[WORD_MAX_BYTES + 1];
  guint np = 0, start = 0;
  const guint64 seed_cont = cont_seed ();

  while (start < c->wlen)
    {
      gboolean cont = start > 0;
      guint room = cont ? tok->max_cont_len : tok->max_len;
      guint end = c->wlen - start < room ? c->wlen : start + room;
      guint64 h = cont ? seed_cont : FNV_OFFSET;
      gint32 id = -1;
      guint e;

      /* No vocabulary token is longer than room: hash each prefix up to it once. */
      for (guint i = start; i < end; i++)
        hs[i - start + 1] = h = fnv_step (h, c->wbuf[i]);
      for (e = end; e > start; e--)
        {
          if (e < c->wlen && (c->wbuf[e] & 0xC0) == 0x80)
            continue; /* the reference splits between characters only */
          id = vocab_lookup (tok, hs[e - start], c->wbuf + start, e - start, cont);
          if (id >= 0)
            break;
        }
      if (id < 0)
        {
          emit (c, tok->unk_id, c->word_start, c->word_end);
          return;
        }
      pieces[np].id = id;
      pieces[np].a = start;
      pieces[np].b = e;
      np++;
      start = e;
    }

  for (guint i = 0; i < np && !c->done; i++)
    {
      guint a = pieces[i].a, b = pieces[i].b;
      if (c->identity)
        emit (c, pieces[i].id, c->word_start + a, c->word_start + b);
      else
        emit (c, pieces[i].id, c->wstart[a], c->wend[b - 1]);
    }
}

static void flush_run (Ctx *c);

static void
finish_word (Ctx *c)
{
  if (c->nrun > 0)
    flush_run (c);
  if (c->wchars == 0)
    return;
  if (c->wchars > WORD_MAX_CHARS)
    emit (c, c->tok->unk_id, c->word_start, c->word_end);
  else
    wordpiece (c);
  c->wchars = 0;
  c->wlen = 0;
}

/* Appends one produced character (bytes b[0:n]) from text[start:end). */
static inline void
word_push (Ctx *c, const guchar *b, guint n, gsize start, gsize end)
{
  if (c->wchars == 0)
    {
      c->word_start = start;
      c->word_end = end;
      c->identity = TRUE;
      c->wlen = 0;
    }
  c->word_end = MAX (c->word_end, end);
  if (++c->wchars > WORD_MAX_CHARS)
    return; /* [UNK] anyway: only its span matters */

  if (c->identity)
    {
      if (start == c->word_start + c->wlen && end - start == n)
        {
          memcpy (c->wbuf + c->wlen, b, n);
          c->wlen += n;
          return;
        }
      for (guint i = 0; i < c->wlen; i++)
        {
          c->wstart[i] = c->word_start + i;
          c->wend[i] = c->word_start + i + 1;
        }
      c->identity = FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      c->wbuf[c->wlen] = b[i];
      c->wstart[c->wlen] = start;
      c->wend[c->wlen] = end;
      c->wlen++;
    }
}

/* A punctuation character is a word of its own. */
static void
punct_word (Ctx *c, const guchar *b, guint n, gsize start, gsize end)
{
  const BsTokenizer *tok = c->tok;
  gint32 id;

  finish_word (c);
  if (c->done)
    return;
  if (n == 1)
    id = tok->ascii_id[b[0]];
  else
    {
      id = vocab_lookup (tok, fnv_bytes (FNV_OFFSET, b, n), b, n, FALSE);
      if (id < 0)
        id = tok->unk_id;
    }
  emit (c, id, start, end);
}

static void
flush_run (Ctx *c)
{
  guint n = c->nrun;
  gboolean moved = FALSE;

  c->nrun = 0;
  /* Insertion sort: stable, and n <= WORD_MAX_CHARS + 1. */
  for (guint i = 1; i < n; i++)
    {
      RunChar x = c->run[i];
      guint j = i;
      while (j > 0 && c->run[j - 1].ccc > x.ccc)
        {
          c->run[j] = c->run[j - 1];
          j--;
        }
      if (j != i)
        {
          c->run[j] = x;
          moved = TRUE;
        }
    }
  gsize lo = 0, hi = 0;
  if (moved)
    {
      /* Reordered marks share the run's whole span so spans stay monotone. */
      lo = c->run[0].start;
      hi = c->run[0].end;
      for (guint i = 1; i < n; i++)
        {
          lo = MIN (lo, c->run[i].start);
          hi = MAX (hi, c->run[i].end);
        }
    }
  for (guint i = 0; i < n; i++)
    {
      RunChar *r = &c->run[i];
      word_push (c, r->bytes, r->n, moved ? lo : r->start, moved ? hi : r->end);
    }
}

/* One character of NFD (lower (original)), which came from text[start:end). */
static void
produce_lower (Ctx *c, gunichar cp, const guchar *b, guint n, gsize start, gsize end)
{
  const BsUnicodeClass *k = cp < 0x80 ? &bs_unicode_classes[bs_unicode_ascii_class[cp]]
                                      : bs_unicode_class (cp);
  if (k->ccc != 0)
    {
      if (k->flags & BS_UC_MN)
        return;
      if (c->nrun == G_N_ELEMENTS (c->run))
        flush_run (c); /* the word is past WORD_MAX_CHARS: order no longer matters */
      RunChar *r = &c->run[c->nrun++];
      r->ccc = k->ccc;
      r->n = (guint8) n;
      memcpy (r->bytes, b, n);
      r->start = start;
      r->end = end;
      return;
    }
  if (c->nrun > 0)
    flush_run (c);
  if (k->flags & BS_UC_MN)
    return;
  if (k->flags & BS_UC_PUNCT)
    punct_word (c, b, n, start, end);
  else
    word_push (c, b, n, start, end);
}

/* Whether the character after a capital sigma at text[pos] that matters for
 * the final-sigma rule (skipping case-ignorables and what cleanup dropped,
 * within the whitespace-delimited token) is cased. */
static gboolean
next_is_cased (const guchar *t, gsize n, gsize pos)
{
  while (pos < n)
    {
      const BsUnicodeClass *k;
      gunichar cp;
      guint len;

      if (t[pos] < 0x80)
        {
          k = &bs_unicode_classes[bs_unicode_ascii_class[t[pos]]];
          len = 1;
        }
      else if ((len = utf8_decode (t + pos, n - pos, &cp)) == 0)
        {
          pos++;
          continue;
        }
      else
        k = bs_unicode_class (cp);
      pos += len;
      if (k->flags & BS_UC_DROP)
        continue;
      if (k->flags & (BS_UC_SPACE | BS_UC_CJK))
        return FALSE;
      if (k->flags & BS_UC_CASE_IGNORABLE)
        continue;
      return (k->flags & BS_UC_CASED) != 0;
    }
  return FALSE;
}

/* A non-ASCII character text[pos:pos+len] that is neither dropped nor
 * whitespace, in lower-casing mode. */
static void
lower_char (Ctx *c, const guchar *t, gsize n, gsize pos, guint len, gunichar cp,
            const BsUnicodeClass *k)
{
  gsize end = pos + len;

  if (cp == 0x3A3)
    {
      /* Python's final-sigma rule: ς after a cased letter unless one follows. */
      gboolean final = c->prev_cased && !next_is_cased (t, n, end);
      guchar b[2] = { 0xCF, final ? 0x82 : 0x83 };
      produce_lower (c, final ? 0x3C2 : 0x3C3, b, 2, pos, end);
    }
  else if (cp >= 0xAC00 && cp <= 0xD7A3)
    {
      /* Hangul syllable: NFD is algorithmic (L V [T] jamo). */
      guint s = cp - 0xAC00;
      gunichar jamo[3] = { 0x1100 + s / 588, 0x1161 + (s % 588) / 28, 0x11A7 + s % 28 };
      for (guint i = 0; i < (s % 28 ? 3u : 2u); i++)
        {
          guchar b[4];
          guint bn = utf8_encode (jamo[i], b);
          produce_lower (c, jamo[i], b, bn, pos, end);
        }
    }
  else
    {
      guint idx = bs_unicode_lower_index (cp);
      if (idx == 0)
        produce_lower (c, cp, t + pos, len, pos, end);
      else
        {
          const guchar *p = bs_unicode_lower_pool + bs_unicode_lower_offsets[idx - 1];
          const guchar *q = bs_unicode_lower_pool + bs_unicode_lower_offsets[idx];
          while (p < q)
            {
              gunichar x = 0;
              guint xn = *p < 0x80 ? 1 : utf8_decode (p, (gsize) (q - p), &x);
              if (xn == 1)
                x = *p;
              produce_lower (c, x, p, xn, pos, end);
              p += xn;
            }
        }
    }
  if (!(k->flags & BS_UC_CASE_IGNORABLE))
    c->prev_cased = (k->flags & BS_UC_CASED) != 0;
}

static void
tokenize_text (Ctx *c, const guchar *t, gsize n)
{
  const guint8 *act = c->tok->action;
  const gboolean lower = c->tok->lower_case;
  gsize pos = 0;

  c->prev_cased = FALSE;
  while (pos < n && !c->done)
    {
      guchar b = t[pos];

      if (b < 0x80)
        {
          /* ASCII has combining class 0 (a dropped control is not there at all). */
          if (G_UNLIKELY (c->nrun > 0) && act[b] != A_DROP)
            flush_run (c);
          switch (act[b])
            {
            case A_WORD:
              {
                /* A run of ASCII letters and digits: copied (lower-cased) at once. */
                gsize q = pos + 1;
                while (q < n && act[t[q]] == A_WORD)
                  q++;
                if (c->wchars == 0)
                  {
                    c->word_start = pos;
                    c->identity = TRUE;
                    c->wlen = 0;
                  }
                if (c->identity && pos == c->word_start + c->wlen)
                  {
                    gsize m = q - pos;
                    if (c->wchars + m <= WORD_MAX_CHARS)
                      {
                        guchar *w = c->wbuf + c->wlen;
                        if (lower)
                          for (gsize i = 0; i < m; i++)
                            w[i] = (guchar) g_ascii_tolower (t[pos + i]);
                        else
                          memcpy (w, t + pos, m);
                        c->wlen += (guint) m;
                      }
                    c->wchars += m;
                    c->word_end = q;
                  }
                else
                  for (gsize i = pos; i < q; i++)
                    {
                      guchar l = lower ? (guchar) g_ascii_tolower (t[i]) : t[i];
                      word_push (c, &l, 1, i, i + 1);
                    }
                /* Letters are cased, digits are not; neither is case-ignorable. */
                c->prev_cased = g_ascii_isalpha (t[q - 1]);
                pos = q;
                continue;
              }
            case A_SPACE:
              finish_word (c);
              c->prev_cased = FALSE;
              break;
            case A_PUNCT:
              punct_word (c, &b, 1, pos, pos + 1);
              if (!(bs_unicode_classes[bs_unicode_ascii_class[b]].flags & BS_UC_CASE_IGNORABLE))
                c->prev_cased = FALSE;
              break;
            default: /* A_DROP */
              break;
            }
          pos++;
          continue;
        }

      gunichar cp;
      guint len = utf8_decode (t + pos, n - pos, &cp);
      if (len == 0)
        {
          pos++; /* not UTF-8: dropped */
          continue;
        }
      const BsUnicodeClass *k = bs_unicode_class (cp);
      if (k->flags & BS_UC_DROP)
        ;
      else if (k->flags & BS_UC_SPACE)
        {
          finish_word (c);
          c->prev_cased = FALSE;
        }
      else if (k->flags & BS_UC_CJK)
        {
          /* The reference puts spaces around it: a token of its own. */
          finish_word (c);
          c->prev_cased = FALSE;
          if (lower)
            lower_char (c, t, n, pos, len, cp, k);
          else
            word_push (c, t + pos, len, pos, pos + len);
          finish_word (c);
          c->prev_cased = FALSE;
        }
      else if (lower)
        lower_char (c, t, n, pos, len, cp, k);
      else if (k->flags & BS_UC_PUNCT)
        punct_word (c, t + pos, len, pos, pos + len);
      else
        word_push (c, t + pos, len, pos, pos + len);
      pos += len;
    }
  if (!c->done)
    finish_word (c);
}

/* Encodes into out using c's word buffers (large, so allocated once per
 * encoding or batch rather than per text, and not on the stack). */
static void
encode_with (Ctx *c, const BsTokenizer *tokenizer, const char *text, gssize len,
             guint max_length, guint pad_to, BsEncoding *out)
{
  gsize n = len < 0 ? strlen (text) : (gsize) len;

  c->tok = tokenizer;
  c->out = out;
  c->limit = max_length > 0 ? max_length - 1 : G_MAXSIZE; /* room for [SEP] */
  c->done = FALSE;
  c->wlen = c->wchars = 0;
  c->nrun = 0;
  c->identity = TRUE;

  out->n_tokens = 0;
  encoding_reserve (out, MAX ((gsize) pad_to, 16));
  emit (c, tokenizer->cls_id, 0, 0);
  if (!c->done)
    tokenize_text (c, (const guchar *) text, n);

  encoding_reserve (out, out->n_tokens + 1);
  out->ids[out->n_tokens] = tokenizer->sep_id;
  out->span_start[out->n_tokens] = n;
  out->span_end[out->n_tokens] = n;
  out->n_tokens++;

  gsize total = MAX (out->n_tokens, (gsize) pad_to);
  encoding_reserve (out, total);
  for (gsize i = 0; i < total; i++)
    out->attention_mask[i] = i < out->n_tokens;
  for (gsize i = out->n_tokens; i < total; i++)
    {
      out->ids[i] = tokenizer->pad_id >= 0 ? tokenizer->pad_id : 0;
      out->span_start[i] = n;
      out->span_end[i] = n;
    }
  out->length = total;
}

void
bs_tokenizer_encode_into (const BsTokenizer *tokenizer,
                          const char        *text,
                          gssize             len,
                          guint              max_length,
                          guint              pad_to,
                          BsEncoding        *out)
{
  g_return_if_fail (tokenizer != NULL);
  g_return_if_fail (text != NULL || len == 0);
  g_return_if_fail (max_length != 1);
  g_return_if_fail (out != NULL);

  if (out->scratch == NULL)
    out->scratch = g_new (Ctx, 1);
  encode_with (out->scratch, tokenizer, text, len, max_length, pad_to, out);
}

BsEncoding *
bs_tokenizer_encode (const BsTokenizer *tokenizer,
                     const char        *text,
                     gssize             len,
                     guint              max_length,
                     guint              pad_to)
{
  g_return_val_if_fail (tokenizer != NULL, NULL);
  g_return_val_if_fail (max_length != 1, NULL);

  BsEncoding *enc = bs_encoding_new ();
  bs_tokenizer_encode_into (tokenizer, text, len, max_length, pad_to, enc);
  return enc;
}

char **
bs_tokenizer_tokenize (const BsTokenizer *tokenizer,
                       const char        *text,
                       gssize             len)
{
  g_return_val_if_fail (tokenizer != NULL, NULL);

  g_autoptr (BsEncoding) enc = bs_tokenizer_encode (tokenizer, text, len, 0, 0);
  char **pieces = g_new (char *, enc->n_tokens - 1);
  for (gsize i = 1; i + 1 < enc->n_tokens; i++)
    pieces[i - 1] = g_strdup (bs_tokenizer_id_to_token (tokenizer, enc->ids[i]));
  pieces[enc->n_tokens - 2] = NULL;
  return pieces;
}

void
bs_token_batch_free (BsTokenBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->ids);
  g_free (batch->attention_mask);
  g_free (batch->span_start);
  g_free (batch->span_end);
  g_free (batch->lengths);
  g_free (batch);
}

BsTokenBatch *
bs_tokenizer_encode_batch (const BsTokenizer  *tokenizer,
                           const char *const  *texts,
                           const gssize       *lens,
                           gsize               n_texts,
                           guint               max_length,
                           guint               seq_len)
{
  g_return_val_if_fail (tokenizer != NULL, NULL);
  g_return_val_if_fail (texts != NULL || n_texts == 0, NULL);
  g_return_val_if_fail (max_length != 1 && seq_len != 1, NULL);

  for (gsize i = 0; i < n_texts; i++)
    g_return_val_if_fail (texts[i] != NULL || (lens != NULL && lens[i] == 0), NULL);

  guint limit = max_length;
  if (seq_len > 0 && (limit == 0 || limit > seq_len))
    limit = seq_len;

  BsEncoding **rows = g_new0 (BsEncoding *, MAX (n_texts, 1));
  Ctx *scratch = g_new (Ctx, 1);
  gsize longest = 0;
  for (gsize i = 0; i < n_texts; i++)
    {
      rows[i] = bs_encoding_new ();
      encode_with (scratch, tokenizer, texts[i], lens != NULL ? lens[i] : -1, limit, 0, rows[i]);
      longest = MAX (longest, rows[i]->n_tokens);
    }
  g_free (scratch);

  BsTokenBatch *batch = g_new0 (BsTokenBatch, 1);
  gsize t = seq_len > 0 ? seq_len : longest;
  batch->batch_size = n_texts;
  batch->seq_len = t;
  batch->ids = g_new (gint32, MAX (n_texts * t, 1));
  batch->attention_mask = g_new (gint32, MAX (n_texts * t, 1));
  batch->span_start = g_new (gsize, MAX (n_texts * t, 1));
  batch->span_end = g_new (gsize, MAX (n_texts * t, 1));
  batch->lengths = g_new (gsize, MAX (n_texts, 1));
  gint32 pad = tokenizer->pad_id >= 0 ? tokenizer->pad_id : 0;

  for (gsize i = 0; i < n_texts; i++)
    {
      BsEncoding *e = rows[i];
      gsize m = e->n_tokens, end = m > 0 ? e->span_end[m - 1] : 0;
      for (gsize j = 0; j < t; j++)
        {
          gsize o = i * t + j;
          batch->ids[o] = j < m ? e->ids[j] : pad;
          batch->attention_mask[o] = j < m;
          batch->span_start[o] = j < m ? e->span_start[j] : end;
          batch->span_end[o] = j < m ? e->span_end[j] : end;
        }
      batch->lengths[i] = m;
      bs_encoding_free (e);
    }
  g_free (rows);
  return batch;
}
