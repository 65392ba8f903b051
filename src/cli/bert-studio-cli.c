/* bert-studio-cli: BERT Studio's jobs, headless. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "bs-cli.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} BsCliCommand;

static const BsCliCommand commands[] = {
  { "tokenize", bs_cli_tokenize, "WordPiece token ids of JSON Lines texts read from standard input" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: bert-studio-cli COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'bert-studio-cli COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("bert-studio-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  fprintf (stderr, "bert-studio-cli: unknown command '%s'\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
