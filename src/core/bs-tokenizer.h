/* bs-tokenizer.h: BERT's WordPiece tokenizer, id for id.
 *
 * Reproduces google-research/bert's tokenization.py (FullTokenizer) with the
 * Unicode 14.0 data of Python 3.11: text cleanup (U+0000, U+FFFD and
 * categories Cc/Cf dropped), whitespace split, CJK ideographs as words of
 * their own, optional lower-casing (full case mapping, final sigma) with NFD
 * and removal of non-spacing marks, punctuation split, then greedy
 * longest-match-first WordPiece with "##" continuations.  A word of more than
 * BS_TOKENIZER_MAX_WORD_CHARS characters, or one the vocabulary cannot cover,
 * becomes [UNK].  Invalid UTF-8 bytes are dropped, as the reference does when
 * it decodes with errors="ignore".
 *
 * Time is linear in the text's length.  A loaded BsTokenizer is immutable:
 * any number of threads may encode with it concurrently.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BS_TOKENIZER_ERROR (bs_tokenizer_error_quark ())
GQuark bs_tokenizer_error_quark (void);

typedef enum
{
  BS_TOKENIZER_ERROR_IO,            /* the file cannot be read */
  BS_TOKENIZER_ERROR_EMPTY,         /* the vocabulary has no line */
  BS_TOKENIZER_ERROR_INVALID_UTF8,  /* a vocabulary line is not UTF-8 (or holds a NUL) */
  BS_TOKENIZER_ERROR_MISSING_TOKEN, /* [UNK], [CLS] or [SEP] is not in the vocabulary */
  BS_TOKENIZER_ERROR_TOO_LARGE,     /* more lines or bytes than 32-bit ids and offsets allow */
  BS_TOKENIZER_ERROR_CONFIG,        /* tokenizer_config.json is malformed */
} BsTokenizerError;

/* Words (after normalization and punctuation split) longer than this many
 * characters become [UNK]: max_input_chars_per_word of google-research/bert
 * (Hugging Face's port uses 100; the goldens settle it at 200). */
#define BS_TOKENIZER_MAX_WORD_CHARS 200

typedef struct _BsTokenizer BsTokenizer;

/* Loads vocab_path: one token a line, id = 0-based line number.  As the
 * reference does, each line is stripped of surrounding whitespace and a later
 * duplicate takes the token's id (the earlier id then only maps back to its
 * string).  CRLF line ends and a missing final newline are fine. */
BsTokenizer *bs_tokenizer_new_from_file (const char *vocab_path,
                                         gboolean    lower_case,
                                         GError    **error);

/* Loads dir/vocab.txt.  lower_case comes from the boolean "do_lower_case" of
 * dir/tokenizer_config.json when that file has it; otherwise the tokenizer
 * lower-cases iff no vocabulary token (other than bracketed specials such as
 * [UNK]) has a character that lower-casing changes. */
BsTokenizer *bs_tokenizer_new_from_model_dir (const char *dir,
                                              GError    **error);

void bs_tokenizer_free (BsTokenizer *tokenizer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsTokenizer, bs_tokenizer_free)

gboolean    bs_tokenizer_get_lower_case (const BsTokenizer *tokenizer);
guint       bs_tokenizer_get_vocab_size (const BsTokenizer *tokenizer); /* lines of vocab.txt */
/* Special token ids; [PAD] and [MASK] are -1 when the vocabulary lacks them. */
int         bs_tokenizer_get_pad_id (const BsTokenizer *tokenizer);
int         bs_tokenizer_get_unk_id (const BsTokenizer *tokenizer);
int         bs_tokenizer_get_cls_id (const BsTokenizer *tokenizer);
int         bs_tokenizer_get_sep_id (const BsTokenizer *tokenizer);
int         bs_tokenizer_get_mask_id (const BsTokenizer *tokenizer);
/* The (stripped) line of id, or NULL when id is out of range. */
const char *bs_tokenizer_id_to_token (const BsTokenizer *tokenizer, int id);
/* The id of token (exact match), or -1. */
int         bs_tokenizer_token_to_id (const BsTokenizer *tokenizer, const char *token);

/* One encoded text.  For token i, [span_start[i], span_end[i]) are the bytes
 * of the original text it came from: a "##" piece has the span of its own
 * characters, a character that lower-casing or NFD expanded maps back to all
 * of its original bytes (so neighbouring pieces may share them), [UNK] for a
 * whole word spans the word.  [CLS] has the empty span [0, 0); [SEP] and
 * [PAD] have [n, n) with n the text's length in bytes.  Starts and ends are
 * non-decreasing along the sequence. */
typedef struct
{
  gint32 *ids;
  gint32 *attention_mask; /* 1 for tokens, 0 for padding */
  gsize  *span_start;
  gsize  *span_end;
  gsize   length;         /* tokens including [CLS], [SEP] and padding */
  gsize   n_tokens;       /* tokens excluding padding */
  /*< private >*/
  gsize    capacity;
  gpointer scratch;       /* the encoder's word buffers, kept for reuse */
} BsEncoding;

BsEncoding *bs_encoding_new (void);
void        bs_encoding_free (BsEncoding *encoding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsEncoding, bs_encoding_free)

/* Encodes text (len bytes, or NUL-terminated when len < 0) as
 * [CLS] pieces… [SEP].  max_length = 0 keeps every token; otherwise a longer
 * sequence keeps ids[0 : max_length - 1] and appends [SEP] (max_length must
 * be >= 2).  pad_to = 0 pads nothing; otherwise [PAD] (mask 0) is appended up
 * to pad_to tokens ([PAD] is id 0 when the vocabulary has none).  Returns a
 * new encoding. */
BsEncoding *bs_tokenizer_encode (const BsTokenizer *tokenizer,
                                 const char        *text,
                                 gssize             len,
                                 guint              max_length,
                                 guint              pad_to);

/* The same into an existing encoding, reusing its memory (no allocation once
 * it is large enough): for loops over many texts.  One encoding serves one
 * thread at a time. */
void bs_tokenizer_encode_into (const BsTokenizer *tokenizer,
                               const char        *text,
                               gssize             len,
                               guint              max_length,
                               guint              pad_to,
                               BsEncoding        *out);

/* The word pieces of text as vocabulary strings (e.g. "un", "##aff",
 * "[UNK]"), without [CLS]/[SEP]: a NULL-terminated array to g_strfreev. */
char **bs_tokenizer_tokenize (const BsTokenizer *tokenizer,
                              const char        *text,
                              gssize             len);

/* A batch as a row-major (batch_size, seq_len) matrix. */
typedef struct
{
  gsize   batch_size;
  gsize   seq_len;
  gint32 *ids;            /* batch_size * seq_len, [PAD]-padded */
  gint32 *attention_mask; /* batch_size * seq_len */
  gsize  *span_start;     /* batch_size * seq_len, as in BsEncoding */
  gsize  *span_end;
  gsize  *lengths;        /* batch_size: tokens of each row before padding */
} BsTokenBatch;

void bs_token_batch_free (BsTokenBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BsTokenBatch, bs_token_batch_free)

/* Encodes n_texts texts (lens may be NULL for NUL-terminated texts, or hold
 * -1 for some) with truncation to max_length (0 = none).  seq_len = 0 pads
 * every row to the longest; seq_len > 0 makes every row exactly seq_len
 * tokens, truncating longer ones as max_length would (seq_len must be >= 2).
 * Padding is [PAD] (or id 0) with mask 0 and the empty span of [SEP].
 * Rows are encoded on the calling thread. */
BsTokenBatch *bs_tokenizer_encode_batch (const BsTokenizer  *tokenizer,
                                    const char *const  *texts,
                                    const gssize       *lens,
                                    gsize               n_texts,
                                    guint               max_length,
                                    guint               seq_len);

G_END_DECLS
