/* cli-tokenize.c: `bert-studio-cli tokenize`, WordPiece ids of JSON Lines
 * texts, so that any text can be checked against the reference tokenizer
 * from outside. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "bs-cli.h"
#include "bs-tokenizer.h"

/* json-glib cuts a string at an escaped U+0000.  The tokenizer drops U+0000
 * like any other control character, so \u0000 becomes \u0001 (also dropped,
 * same ids) before parsing.  Escaped backslashes are skipped pairwise so that
 * "\\u0000" (a backslash, then "u0000") stays as it is. */
static char *
escape_nul (const char *line, gsize len)
{
  char *out = g_malloc (len + 1);
  memcpy (out, line, len);
  out[len] = '\0';
  for (gsize i = 0; i + 1 < len; i++)
    if (out[i] == '\\')
      {
        if (out[i + 1] == 'u' && i + 5 < len && memcmp (out + i + 2, "0000", 4) == 0)
          out[i + 5] = '1';
        i++;
      }
  return out;
}

/* "bert-studio-cli tokenize: " and the message, a line on standard error. */
static void
print_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
print_error (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "bert-studio-cli tokenize: %s\n", message);
}

/* The "text" member of one JSON Lines object, or NULL with *error set. */
static char *
parse_line (JsonParser *parser, const char *line, gsize len, gsize *text_len, GError **error)
{
  g_autofree char *escaped = escape_nul (line, len);
  if (!json_parser_load_from_data (parser, escaped, (gssize) len, error))
    return NULL;

  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("expected a JSON object"));
      return NULL;
    }
  JsonNode *text = json_object_get_member (json_node_get_object (root), "text");
  if (text == NULL || !JSON_NODE_HOLDS_VALUE (text) || json_node_get_value_type (text) != G_TYPE_STRING)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           /* Translators: keep "text" as it is: it is the JSON member's name */
                           _("expected a string member \"text\""));
      return NULL;
    }
  const char *s = json_node_get_string (text);
  *text_len = strlen (s);
  return g_strdup (s);
}

int
bs_cli_tokenize (int argc, char **argv)
{
  g_autofree char *vocab = NULL;
  gboolean cased = FALSE;
  int max_length = 0;
  g_autoptr (GError) error = NULL;
  /* GOption translates the texts marked N_() here (domains set below). */
  const GOptionEntry entries[] = {
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab, N_("The vocabulary (vocab.txt: one token a line)"),
      /* Translators: in --help, stands for the file the user names */
      N_("FILE") },
    { "cased", 0, 0, G_OPTION_ARG_NONE, &cased, N_("Do not lower-case (and strip accents from) the text"), NULL },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &max_length,
      /* Translators: N stands for the number the user gives; keep [SEP] as it is */
      N_("Truncate to N ids, the last one [SEP] (N >= 2; default: no truncation)"),
      /* Translators: in --help, stands for the number the user gives */
      N_("N") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (N_("- WordPiece token ids of texts"));

  g_option_context_set_summary (context,
    /* Translators: keep "text", [CLS] and [SEP] as they are */
    N_("Reads JSON Lines from standard input, one object {\"text\": \"…\"} a line, and writes\n"
       "for each line one JSON array of token ids: [CLS] pieces… [SEP]."));
  g_option_context_set_description (context,
    /* Translators: keep --cased as it is */
    N_("Texts are lower-cased unless --cased.  A line that is not such an object stops\n"
       "the run: its number goes to standard error, nothing is written for it or after\n"
       "it (so output line N always answers input line N), and the exit status is 1."));
  /* the entries' domain, then that of the usage line, summary and description */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_set_prgname ("bert-studio-cli tokenize"); /* for --help's usage line */
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_error ("%s", error->message);
      return 2;
    }
  if (vocab == NULL || argc > 1 || max_length < 0 || max_length == 1)
    {
      print_error ("%s",
                   /* Translators: keep --vocab as it is; FILE as in --help */
                   vocab == NULL ? _("--vocab FILE is required")
                   : argc > 1 ? _("unexpected argument (texts are read from standard input)")
                   /* Translators: keep --max-length as it is */
                   : _("--max-length must be 0 (none) or at least 2"));
      return 2;
    }

  g_autoptr (BsTokenizer) tok = bs_tokenizer_new_from_file (vocab, !cased, &error);
  if (tok == NULL)
    {
      print_error ("%s", error->message);
      return 1;
    }

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (BsEncoding) enc = bs_encoding_new ();
  g_autoptr (GString) out = g_string_new (NULL);
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  gsize line_no = 0;
  int status = 0;

  while ((got = getline (&line, &cap, stdin)) >= 0)
    {
      gsize len = (gsize) got, text_len = 0;
      line_no++;
      while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;

      g_autofree char *text = parse_line (parser, line, len, &text_len, &error);
      if (text == NULL)
        {
          /* Translators: a line number of the input and what is wrong with that line */
          print_error (_("line %zu: %s"), line_no, error->message);
          status = 1;
          break;
        }
      bs_tokenizer_encode_into (tok, text, (gssize) text_len, (guint) max_length, 0, enc);
      g_string_truncate (out, 0);
      g_string_append_c (out, '[');
      for (gsize i = 0; i < enc->n_tokens; i++)
        g_string_append_printf (out, i > 0 ? ", %d" : "%d", enc->ids[i]);
      g_string_append (out, "]\n");
      if (fwrite (out->str, 1, out->len, stdout) != out->len)
        break;
    }
  free (line);
  if (ferror (stdin))
    {
      int saved_errno = errno;
      /* Translators: %s is the system's reason */
      print_error (_("reading standard input: %s"), g_strerror (saved_errno));
      status = 1;
    }
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      int saved_errno = errno;
      /* Translators: %s is the system's reason */
      print_error (_("writing standard output: %s"), g_strerror (saved_errno));
      status = 1;
    }
  return status;
}
