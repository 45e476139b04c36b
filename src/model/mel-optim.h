/* mel-optim.h — Adam / AdamW over a model's flat parameter buffer, gradient
 * clipping and the learning-rate schedule.
 *
 * The optimizer keeps the two moment buffers m and v with the same length
 * and layout as the parameters (one flat loop per step, no per-tensor
 * bookkeeping).  Every operation is a fixed sequential loop, so a step is
 * bit-for-bit deterministic for the same inputs.
 *
 * The schedule is a pure function of the optimizer step counter.  Anything
 * a user thinks of in epochs (warm-up, decay period) is converted to
 * optimizer steps once, with the number of batches per epoch; the research
 * scripts advanced an "epoch" schedule once per batch instead, which made
 * the decay run batches-per-epoch times too fast.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MEL_OPTIM_ADAM,  /* weight decay (if any) is L2 added to the gradient */
  MEL_OPTIM_ADAMW, /* weight decay decoupled from the gradient (Loshchilov & Hutter) */
} MelOptimKind;

/* "adam", "adamw" */
const char *mel_optim_kind_to_string (MelOptimKind kind);
gboolean mel_optim_kind_from_string (const char *text, MelOptimKind *kind);

typedef struct
{
  MelOptimKind kind;  /* default MEL_OPTIM_ADAM */
  float beta1;        /* default 0.9 */
  float beta2;        /* default 0.999 */
  float epsilon;      /* default 1e-8 */
  float weight_decay; /* default 0 (Adam); 0.01 is usual for AdamW */
  float clip_norm;    /* global L2 gradient-norm limit; 0 = no clipping; default 1.0 */
} MelOptimConfig;

/* Fills @config with the defaults listed above for @kind. */
void mel_optim_config_init (MelOptimConfig *config, MelOptimKind kind);

typedef enum
{
  MEL_LR_CONSTANT, /* peak rate after warm-up */
  MEL_LR_COSINE,   /* half cosine from peak to min_ratio·peak over decay_steps */
  MEL_LR_STEP,     /* multiplied by gamma every step_size steps after warm-up */
} MelLrDecay;

/* "constant", "cosine", "step" */
const char *mel_lr_decay_to_string (MelLrDecay decay);
gboolean mel_lr_decay_from_string (const char *text, MelLrDecay *decay);

/* The learning rate as a function of the optimizer step (0-based: the rate
 * used by the first update is the value at step 0).  All lengths are in
 * optimizer steps. */
typedef struct
{
  MelLrDecay decay;
  float peak;            /* learning rate after warm-up */
  guint64 warmup_steps;  /* linear ramp from peak/warmup_steps to peak */
  guint64 decay_steps;   /* COSINE: steps after warm-up to reach the minimum */
  float min_ratio;       /* COSINE: final rate = min_ratio · peak */
  guint64 step_size;     /* STEP: period in steps (0 behaves as CONSTANT) */
  float gamma;           /* STEP: factor per period */
} MelLrSchedule;

/* A constant schedule at @peak without warm-up. */
void mel_lr_schedule_init (MelLrSchedule *schedule, float peak);

/* Rate for the update with 0-based index @step. */
float mel_lr_schedule_get (const MelLrSchedule *schedule, guint64 step);

/* Global L2 norm of @grads (accumulated in double, in index order). */
double mel_grad_norm (const float *grads, gsize n);

/* Scales @grads so that their global norm is at most @max_norm (no-op for
 * @max_norm <= 0 or a smaller norm).  Returns the norm before clipping;
 * a non-finite norm is returned unchanged and nothing is scaled. */
double mel_clip_grad_norm (float *grads, gsize n, float max_norm);

typedef struct _MelOptimizer MelOptimizer;

/* A new optimizer for @n_params parameters, with zeroed moments and step 0.
 * Free with mel_optimizer_free(). */
MelOptimizer *mel_optimizer_new (const MelOptimConfig *config, gsize n_params);
void mel_optimizer_free (MelOptimizer *optim);

const MelOptimConfig *mel_optimizer_get_config (const MelOptimizer *optim);
gsize mel_optimizer_get_n_params (const MelOptimizer *optim);
/* Number of updates applied so far (Adam's t). */
guint64 mel_optimizer_get_step (const MelOptimizer *optim);

/* The moment buffers (n_params floats each), owned by the optimizer; they
 * may be written to restore a saved state, together with
 * mel_optimizer_set_step(). */
float *mel_optimizer_get_m (MelOptimizer *optim);
float *mel_optimizer_get_v (MelOptimizer *optim);
void mel_optimizer_set_step (MelOptimizer *optim, guint64 step);

/* One update of @params from @grads (both n_params floats) at rate @lr:
 * clips @grads in place to the configured norm, then applies Adam or
 * AdamW with bias correction.  When the gradient norm is NaN or infinite
 * nothing is changed and FALSE is returned; otherwise TRUE.  @grad_norm,
 * when not NULL, receives the norm before clipping. */
gboolean mel_optimizer_step (MelOptimizer *optim, float *params, float *grads, float lr,
                             double *grad_norm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelOptimizer, mel_optimizer_free)

G_END_DECLS
