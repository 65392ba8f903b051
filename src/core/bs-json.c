/* bs-json.c: a pre-parse check and a string escaper for JSON. */
#include "config.h"

#include "bs-json.h"

#include <glib/gi18n-lib.h>

/* The four hex digits of a \\u escape at text[at]. */
static gboolean
read_hex4 (const char *text, gsize length, gsize at, gunichar *value)
{
  if (at + 4 > length)
    return FALSE;
  *value = 0;
  for (gsize k = at; k < at + 4; k++)
    {
      int digit = g_ascii_xdigit_value (text[k]);
      if (digit < 0)
        return FALSE;
      *value = *value * 16 + (gunichar) digit;
    }
  return TRUE;
}

/* The escape whose backslash is at text[*i]; on success *i is its last byte.
 * json-glib reads other escapes its own way (\\666 as an octal byte) and
 * lone surrogates as invalid UTF-8, which would not survive being written
 * back. */
static gboolean
check_escape (const char *text, gsize length, gsize *i, const char **problem)
{
  gsize at = *i + 1;
  if (at >= length)
    return TRUE; /* an unterminated string: json-glib says so */
  switch (text[at])
    {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
      *i = at;
      return TRUE;
    case 'u':
      {
        gunichar unit, low;
        if (!read_hex4 (text, length, at + 1, &unit))
          break;
        *i = at + 4;
        if (unit >= 0xdc00 && unit <= 0xdfff)
          break;
        if (unit < 0xd800 || unit > 0xdbff)
          return TRUE;
        /* a high surrogate: its low half must follow */
        if (at + 6 < length && text[at + 5] == '\\' && text[at + 6] == 'u'
            && read_hex4 (text, length, at + 7, &low) && low >= 0xdc00 && low <= 0xdfff)
          {
            *i = at + 10;
            return TRUE;
          }
        break;
      }
    default:
      *problem = _("a string has an escape JSON does not have");
      return FALSE;
    }
  *problem = _("a \\u escape in a string is not a character");
  return FALSE;
}

gboolean
bs_json_check (const char *text, gsize length, const char **problem)
{
  if (!g_utf8_validate_len (text, length, NULL))
    {
      *problem = _("not valid UTF-8");
      return FALSE;
    }
  int depth = 0;
  gboolean ended = FALSE; /* the top-level object or array has closed */
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        continue;
      if (ended)
        {
          *problem = _("more text follows the top-level value");
          return FALSE;
        }
      switch (c)
        {
        case '"':
          for (i++; i < length && text[i] != '"'; i++)
            if (text[i] == '\\' && !check_escape (text, length, &i, problem))
              return FALSE;
          break;
        case '[':
        case '{':
          if (++depth > BS_JSON_MAX_DEPTH)
            {
              *problem = _("nested more than 64 levels deep");
              return FALSE;
            }
          break;
        case ']':
        case '}':
          if (--depth <= 0)
            ended = TRUE;
          break;
        case '/':
        case '\'':
          *problem = _("comments and single-quoted strings are not JSON");
          return FALSE;
        default:
          break;
        }
    }
  return TRUE;
}

void
bs_json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    switch (*p)
      {
      case '"': g_string_append (out, "\\\""); break;
      case '\\': g_string_append (out, "\\\\"); break;
      case '\b': g_string_append (out, "\\b"); break;
      case '\f': g_string_append (out, "\\f"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\r': g_string_append (out, "\\r"); break;
      case '\t': g_string_append (out, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (char) *p);
      }
  g_string_append_c (out, '"');
}

