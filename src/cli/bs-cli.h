/* bs-cli.h: the subcommands of bert-studio-cli, one file each.
 *
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int bs_cli_tokenize (int argc, char **argv);
/* cli-data.c */
int bs_cli_import (int argc, char **argv);
int bs_cli_datasets (int argc, char **argv);
int bs_cli_stats (int argc, char **argv);
int bs_cli_export (int argc, char **argv);
int bs_cli_train (int argc, char **argv);
int bs_cli_distill (int argc, char **argv);
int bs_cli_pretrain (int argc, char **argv);
int bs_cli_resume (int argc, char **argv);
int bs_cli_eval (int argc, char **argv);
int bs_cli_predict (int argc, char **argv);
/* cli-serve.c */
int bs_cli_serve (int argc, char **argv);
int bs_cli_runs (int argc, char **argv);
int bs_cli_models (int argc, char **argv);
int bs_cli_convert (int argc, char **argv);
int bs_cli_init_model (int argc, char **argv);
/* cli-download.c */
int bs_cli_download (int argc, char **argv);

G_END_DECLS
