/* bs-json-check.h: a pass over JSON text before json-glib parses it.
 *
 * json-glib (1.6) recurses once per nesting level, so a file of a million
 * '[' overflows the stack; it also ignores whatever follows a first complete
 * object or array ("{} {...}") and takes comments and single-quoted strings.
 * The files read here (safetensors headers, config.json) come from anywhere:
 * this refuses all four. Double-quoted strings are skipped, so brackets in
 * names do not count. Other syntax errors are left to json-glib. */
#pragma once

#include <glib.h>

/* Deeper than any safetensors header (3) or config.json (about 4) nests. */
#define BS_JSON_MAX_DEPTH 64

/* FALSE with *problem set (a static string) when the text is refused. */
static inline gboolean
bs_json_check (const char *text, gsize length, const char **problem)
{
  int depth = 0;
  gboolean ended = FALSE; /* the top-level object or array has closed */
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        continue;
      if (ended)
        {
          *problem = "more text follows the top-level value";
          return FALSE;
        }
      switch (c)
        {
        case '"':
          for (i++; i < length && text[i] != '"'; i++)
            if (text[i] == '\\')
              i++;
          break;
        case '[':
        case '{':
          if (++depth > BS_JSON_MAX_DEPTH)
            {
              *problem = "nested more than 64 levels deep";
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
          *problem = "comments and single-quoted strings are not JSON";
          return FALSE;
        default:
          break;
        }
    }
  return TRUE;
}
