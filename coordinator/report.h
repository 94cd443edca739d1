/* report.h — the HTML report of a run directory (`gpsc report RUN_DIR`).
 *
 * A run directory (written by gpsc-solo and by the cluster's `gpsc run`)
 * holds:
 *   config.yaml             the resolved experiment (common/experiment.h)
 *   checkpoints/iter_NNNN.pb the state after NNNN completed iterations
 *                           (common/checkpoint.h)
 *   metrics.jsonl           one JSON object per iteration
 *                           (learner/algorithm.h: gpsc_alg_metrics_json, plus
 *                           the driver's timings in "ms")
 *   log.jsonl               merged log records (cluster runs; common/log.h)
 *   eval.json               results of `gpsc eval` (format below)
 * Every file is optional, but at least one of config.yaml, metrics.jsonl
 * and checkpoints/ must exist. Missing or unreadable parts leave their
 * figures out and add a warning to the report; nothing here aborts on a
 * bad line.
 *
 * What is read from metrics.jsonl (unknown fields are ignored, missing ones
 * leave gaps; a later line for the same iteration replaces an earlier one,
 * which is what a resumed run appends):
 *   iteration, sample_cost, successes, samples,
 *   conditions[]: condition, sample_cost, sample_cost_std, expected_cost,
 *     kl, kl_target, eta, step_mult, entropy, successes, final_distance,
 *     global_cost, global_cost_bound   (MDGPS: the global policy's expected
 *                                       cost and its bound, seed 000 C)
 *   ms: {phase: milliseconds, ...}     (every key is plotted; "sampling"
 *                                       and "iteration"/"total" also give
 *                                       the throughput)
 * From the checkpoints: the samples of the dynamics prior's buffer (their
 * TaskKey tells the iteration) of the first (iter_0001.pb) and the latest
 * checkpoint give the end-effector paths; from config.yaml the state layout
 * (ee_sites, ee_velocities, ee_relative_to_target: the ee block of x is
 * x[dX - P(1 + ee_velocities) ...]), the targets and the success metric.
 *
 * eval.json (written by `gpsc eval`; format "gpsc-eval/1"):
 *   {
 *     "format": "gpsc-eval/1",
 *     "checkpoint": "checkpoints/iter_0010.pb",  // what was evaluated
 *     "iteration": 10,                            // its iterations
 *     "metric": "final_ee_distance",              // the experiment's success metric
 *     "threshold": 0.02,
 *     "point": 0,                                 // ee point of the distances/paths
 *     "results": [
 *       { "condition": 4,          // global numbering: train 0..n_train-1, then test
 *         "split": "test",         // "train" | "test"
 *         "policy": "global",      // "global" (network) | "local" (LG controller)
 *         "noiseless": true,       // mean actions
 *         "rollouts": 5,
 *         "mean_cost": -301.2,     // mean over rollouts of sum_t l(x_t, u_t)
 *         "final_distance": 0.013, // mean |ee_point(T-1) - target| (m), or null
 *         "successes": 4,          // rollouts meeting the metric, or null
 *         "ee": [ [[x, y, z], ...], ... ]  // optional (rollouts x T x 3): the
 *                                          //   point's world position (m)
 *       }, ...
 *     ]
 *   }
 * Unknown fields are ignored; a result without "condition" is skipped.
 *
 * Output: one self-contained HTML file (inline CSS and SVG, no script, no
 * network) whose figures are <figure id="fig-NAME"> elements holding an
 * <svg id="NAME">; with a figures directory each figure is also written as
 * DIR/NAME.svg and the caption links to it. The output is a pure function
 * of the run directory's files (no time stamps), so reports diff cleanly.
 *
 * Library code: nothing here prints. */
#ifndef GPSC_REPORT_H
#define GPSC_REPORT_H

#include <stddef.h>
#include <stdio.h>

typedef struct gpsc_report gpsc_report_t;

/* Reads the run directory and builds every figure. Returns NULL with a
 * message in err when run_dir is missing, not a directory, or holds none
 * of config.yaml, metrics.jsonl and checkpoints/ (GPSC_ENOENT-like
 * failures), or when out of memory. Problems with single files become
 * warnings (gpsc_report_warning). */
gpsc_report_t *gpsc_report_new(const char *run_dir, char *err, size_t errsz);

/* Frees the report; accepts NULL; sets *p to NULL. */
void gpsc_report_destroy(gpsc_report_t **p);

/* Figures built (only those with data). */
int gpsc_report_n_figures(const gpsc_report_t *r);

/* Name (the SVG id and file stem, e.g. "cost"), series count and title
 * of figure i; NULL / -1 for a bad i. Strings are borrowed. */
const char *gpsc_report_figure_name(const gpsc_report_t *r, int i);
int gpsc_report_figure_series(const gpsc_report_t *r, int i);
const char *gpsc_report_figure_title(const gpsc_report_t *r, int i);

/* Index of the figure called name, or -1. */
int gpsc_report_find_figure(const gpsc_report_t *r, const char *name);

/* Warnings collected while reading (borrowed strings). */
int gpsc_report_n_warnings(const gpsc_report_t *r);
const char *gpsc_report_warning(const gpsc_report_t *r, int i);

/* Iterations found in metrics.jsonl and training conditions. */
int gpsc_report_iterations(const gpsc_report_t *r);
int gpsc_report_conditions(const gpsc_report_t *r);

/* Writes figure i as a standalone SVG element. Returns 0, GPSC_EINVAL (bad
 * i) or GPSC_EIO. */
int gpsc_report_write_svg(const gpsc_report_t *r, int i, FILE *f);

/* Writes the HTML page. figures_href (may be NULL) is the directory, as
 * seen from the HTML file, where NAME.svg files are; captions link there.
 * Returns 0 or GPSC_EIO. */
int gpsc_report_write_html(const gpsc_report_t *r, FILE *f, const char *figures_href);

/* Writes the HTML to html_path (NULL: RUN_DIR/report.html) atomically
 * (temporary file and rename) and, when figures_dir is not NULL, creates it
 * (one level) and writes NAME.svg for every figure there. Returns 0,
 * GPSC_EIO (err names the file and the system error) or GPSC_ENOMEM. */
int gpsc_report_write_files(const gpsc_report_t *r, const char *html_path, const char *figures_dir,
                            char *err, size_t errsz);

/* The HTML path gpsc_report_write_files used or would use (borrowed until
 * the next call; NULL html_path gives RUN_DIR/report.html). */
const char *gpsc_report_html_path(gpsc_report_t *r, const char *html_path);

#endif
