/* mel-cli.h — the command groups of melodist-cli and their shared helpers.
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Each command group gets argv with argv[0] = its own name ("corpus",
 * "train", …) and returns the process exit status. */
typedef int (*MelCliCommand) (int argc, char **argv);

int mel_cli_engrave (int argc, char **argv);
int mel_cli_corpus (int argc, char **argv);  /* cli-corpus.c */
int mel_cli_train (int argc, char **argv);    /* cli-train.c */
int mel_cli_generate (int argc, char **argv); /* cli-train.c */
int mel_cli_eval (int argc, char **argv);     /* cli-train.c */
int mel_cli_render (int argc, char **argv);   /* cli-render.c */
int mel_cli_export (int argc, char **argv);   /* cli-render.c */
int mel_cli_vae (int argc, char **argv);      /* cli-vae.c */
int mel_cli_compare (int argc, char **argv);  /* cli-compare.c */

/* ---- helpers (cli-common.c) ---- */

/* TRUE when stderr is a terminal, so progress lines may use \r. */
gboolean mel_cli_is_interactive (void);

/* Prints a one-line progress report to stderr, overwriting the previous
 * one on a terminal and printing at most once per second otherwise.
 * @label is e.g. "loading"; @fraction 0…1; @detail may be NULL. */
void mel_cli_progress (const char *label, double fraction, const char *detail);
/* Ends a progress line (prints a newline on a terminal). */
void mel_cli_progress_done (void);

/* Prints "  " and @label padded with spaces to @width characters (not
 * bytes: translated labels have umlauts) and one more space, to stdout:
 * the left column of a report line. */
void mel_cli_print_label (const char *label, int width);

/* Prints "melodist-cli: <message>" to stderr and returns 1. */
int mel_cli_fail (const GError *error);
int mel_cli_failf (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Path of the corpus to use: @path when given, else NULL meaning "the
 * embedded default corpus". */

G_END_DECLS
