/* svg.h — a small SVG plotting module for reports: line, scatter and path
 * plots with axes, "nice" ticks, grid, title, axis labels, a legend, linear
 * or log axes and an equal-aspect mode for spatial plots (end-effector
 * paths in metres).
 *
 * A plot is built by adding series (copies of x/y arrays with a style) and
 * written as one standalone <svg> element that is valid XML, so the same
 * text can be inlined in an HTML page or saved as NAME.svg. Output is a
 * pure function of the plot: fixed number formats, no time, no random ids,
 * the "C" locale's decimal point (callers must not call setlocale).
 *
 * Structure of the output (the report's tests rely on it):
 *   <svg id="ID" class="gpsc-plot" data-series="S" ...>
 *     <title>TITLE</title> ... axes (class "axes") ...
 *     <g class="data" clip-path="url(#ID-clip)">
 *       <g class="series" data-series="NAME" data-index="i"> ... </g>   one per series
 *     </g>
 *     <g class="legend"> <g class="legend-item" ...> ... </g> ... </g>
 *   </svg>
 * Every element id starts with the plot's id, so several plots can be
 * inlined in one page.
 *
 * Data conventions: a NaN or infinite x or y lifts the pen (the series'
 * polyline is broken there), so one series can hold many paths separated
 * by NaN; on a log axis, non-positive values lift the pen the same way.
 * Ranges are computed from the drawable points only. */
#ifndef GPSC_SVG_H
#define GPSC_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum gpsc_svg_line {
    GPSC_SVG_LINE_SOLID = 0,
    GPSC_SVG_LINE_DASHED = 1,
    GPSC_SVG_LINE_DOTTED = 2,
    GPSC_SVG_LINE_NONE = 3 /* markers only (scatter) */
} gpsc_svg_line_t;

typedef enum gpsc_svg_marker {
    GPSC_SVG_MARK_NONE = 0,
    GPSC_SVG_MARK_CIRCLE = 1,
    GPSC_SVG_MARK_SQUARE = 2,
    GPSC_SVG_MARK_TRIANGLE = 3,
    GPSC_SVG_MARK_DIAMOND = 4,
    GPSC_SVG_MARK_CROSS = 5, /* x */
    GPSC_SVG_MARK_PLUS = 6,
    GPSC_SVG_MARK_RING = 7 /* hollow circle */
} gpsc_svg_marker_t;

/* Number of colours of the built-in palette (colour-blind-safe, after
 * Okabe & Ito / Tableau); colour indices wrap around. */
#define GPSC_SVG_PALETTE 10

/* How a series is drawn. Start from gpsc_svg_style() and change fields. */
typedef struct gpsc_svg_style {
    int color;              /* palette index (>= 0, wraps), or -1: use rgb */
    char rgb[8];            /* "#rrggbb" when color < 0 */
    gpsc_svg_line_t line;   /* line kind */
    gpsc_svg_marker_t mark; /* marker at every drawable point */
    double width;           /* stroke width (px) */
    double marker_size;     /* marker radius (px) */
    double alpha;           /* opacity in (0, 1] */
    bool legend;            /* has a legend entry */
    bool no_range;          /* does not widen the axis ranges: points outside the
                               other series' range are clipped (outlying
                               predictions); used only when some series widens */
} gpsc_svg_style_t;

/* A style with palette colour `color`, the given line and marker, width
 * 1.6 px, marker radius 3 px, opacity 1, in the legend, widening the
 * ranges. */
gpsc_svg_style_t gpsc_svg_style(int color, gpsc_svg_line_t line, gpsc_svg_marker_t mark);

/* The same with an explicit colour "#rrggbb" (a bad string gives gray). */
gpsc_svg_style_t gpsc_svg_style_rgb(const char *rgb, gpsc_svg_line_t line, gpsc_svg_marker_t mark);

/* "#rrggbb" of palette colour i (wraps; negative gives gray). Static. */
const char *gpsc_svg_palette(int i);

typedef struct gpsc_svg_plot gpsc_svg_plot_t;

/* A new empty plot of 560 x 340 px. id ([A-Za-z0-9_-], 1..63 characters)
 * names the <svg> element and prefixes its inner ids; title may be NULL.
 * Returns NULL for a bad id or out of memory. */
gpsc_svg_plot_t *gpsc_svg_plot_new(const char *id, const char *title);

/* Frees the plot; accepts NULL; sets *p to NULL. */
void gpsc_svg_plot_destroy(gpsc_svg_plot_t **p);

/* Axis labels (copied; NULL clears). Returns 0 or GPSC_ENOMEM. */
int gpsc_svg_plot_labels(gpsc_svg_plot_t *p, const char *xlabel, const char *ylabel);

/* Size of the whole figure in px (clamped to 200..4000 x 150..4000). */
void gpsc_svg_plot_size(gpsc_svg_plot_t *p, double width, double height);

/* Logarithmic x and/or y axis (base 10). A log axis with no positive
 * values falls back to linear. */
void gpsc_svg_plot_log(gpsc_svg_plot_t *p, bool log_x, bool log_y);

/* Integer ticks on x (iterations): tick spacing is a whole number >= 1. */
void gpsc_svg_plot_integer_x(gpsc_svg_plot_t *p, bool on);

/* Equal aspect: one data unit is the same number of pixels on both axes
 * (spatial plots; the smaller range is widened around its centre). Only
 * for linear axes; ignored when either axis is logarithmic. */
void gpsc_svg_plot_equal_aspect(gpsc_svg_plot_t *p, bool on);

/* Adds a series of n points (x, y copied). name (copied) is its legend
 * label and its data-series attribute; NULL or "" gives "series i". n may
 * be 0 (an empty series still has a legend entry). style NULL: palette
 * colour i, solid line, no marker. Returns 0, GPSC_EINVAL (NULL arrays
 * with n > 0) or GPSC_ENOMEM. */
int gpsc_svg_plot_add(gpsc_svg_plot_t *p, const char *name, const double *x, const double *y,
                      size_t n, const gpsc_svg_style_t *style);

/* Adds a horizontal reference line at y across the whole x range (a
 * threshold, a target) as a series. Returns 0, GPSC_EINVAL (y not
 * finite) or GPSC_ENOMEM. */
int gpsc_svg_plot_hline(gpsc_svg_plot_t *p, const char *name, double y,
                        const gpsc_svg_style_t *style);

/* Series added so far. */
size_t gpsc_svg_plot_n_series(const gpsc_svg_plot_t *p);

/* Drawable points over all series (finite, and positive on log axes). */
size_t gpsc_svg_plot_n_points(const gpsc_svg_plot_t *p);

/* The plot's id (borrowed). */
const char *gpsc_svg_plot_id(const gpsc_svg_plot_t *p);

/* Writes the plot as one <svg> element (no XML declaration, so it can be
 * inlined; a file holding only this element is a valid SVG document).
 * A plot without drawable points shows empty axes and "no data".
 * Returns 0 or GPSC_EIO when a write fails. */
int gpsc_svg_plot_write(const gpsc_svg_plot_t *p, FILE *f);

/* Writes s with XML/HTML escaping (& < > " '); control characters other
 * than tab and newline are dropped and invalid UTF-8 bytes become U+FFFD,
 * so the output is always well-formed. s NULL writes nothing. */
void gpsc_svg_escape(FILE *f, const char *s);

/* Nice tick positions for a linear axis covering [lo, hi] with about
 * `target` ticks (spacing 1, 2, 2.5 or 5 times a power of ten; with
 * integer_step a whole number >= 1): writes at most max ticks into out,
 * sets *step and returns the count (0 for a bad range). */
int gpsc_svg_ticks(double *out, int max, double *step, double lo, double hi, int target,
                   bool integer_step);

/* Formats a linear tick value v given the tick spacing step: the fewest
 * decimals that tell ticks apart, exponent notation for very large or
 * small magnitudes, never "-0". out holds at least 32 bytes. */
void gpsc_svg_format_tick(char *out, size_t outsz, double v, double step);

#endif
