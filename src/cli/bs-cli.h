/* bs-cli.h: the subcommands of bert-studio-cli, one file each.
 *
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int bs_cli_tokenize (int argc, char **argv);

G_END_DECLS
