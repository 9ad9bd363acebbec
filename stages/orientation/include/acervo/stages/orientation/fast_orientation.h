// Fast orientation detection: Acervo's own detector, ~100x cheaper than
// Tesseract's OSD, which decides alone when the evidence is clear and says
// "unsure" otherwise (the stage then asks OSD).
//
// Method, on the ink of the page reduced so that characters are ~9-15 px wide:
//  1. Axis (0/180 vs 90/270): every character-sized connected component votes
//     with the direction to its nearest character neighbour. Letters of a
//     word sit side by side (~0.7 character heights apart) while lines are
//     ~2 heights apart, so on horizontal text nearly all votes are horizontal.
//     Robust to skew up to ~25 degrees.
//  2. The page is turned so that lines are horizontal, deskewed (projection
//     profile of the deskew stage), and its components measured again.
//  3. Up vs down: in Latin script ascenders (b d f h k l t, capitals, digits)
//     are far more frequent than descenders (g j p q y). For each component
//     the baseline and x-line of its neighbours on the same line are the
//     medians of their bottoms and tops; single letters rising above the
//     x-line are ascenders, those sinking below the baseline descenders.
//     Upright text has ~2.5 times more ascenders; turned 180, the reverse.
// Light text on a dark background (slides) is inverted first.
//
// Thread-safety: DetectOrientationFast is reentrant; it allocates per call.
#ifndef ACERVO_STAGES_ORIENTATION_FAST_ORIENTATION_H_
#define ACERVO_STAGES_ORIENTATION_FAST_ORIENTATION_H_

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo {

struct FastOrientationOptions {
  // Votes needed at each step before the detector trusts itself.
  int min_axis_votes = 40;
  int min_updown_votes = 60;
  // Required margins: |h - v| / (h + v) for the axis and
  // |asc - desc| / (asc + desc) for up/down. (0, 1].
  double min_axis_margin = 0.35;
  // Letter statistics give ~2.5 ascenders per descender in Portuguese and
  // English running text (margin ~0.4); 0.3 over 60+ votes is several
  // standard deviations from a coin toss.
  double min_updown_margin = 0.3;
  // A weaker lean (both margins at least this, at least min_lean_votes
  // votes each) is not enough alone but confirms an unsure OSD answer that
  // agrees with it: two independent detectors rarely agree on a wrong turn.
  double min_lean_margin = 0.15;
  int min_lean_votes = 15;
};

struct FastOrientation {
  int orientation_deg = 0;  // 0/90/180/270 counter-clockwise; 0 when unsure
  bool confident = false;   // the answer may be used without OSD
  bool leans = false;       // best_guess_deg is a usable lean (see options)
  int best_guess_deg = 0;   // the detector's lean even when not confident
  int components = 0;       // character-like components analysed
  int horizontal_votes = 0;
  int vertical_votes = 0;
  int ascenders = 0;        // in the frame where lines are horizontal
  int descenders = 0;
  double skew_deg = 0;      // skew found on the way (lines made horizontal)
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateFastOrientationOptions(const FastOrientationOptions& options);

// Detects the orientation of `image` (8-bit gray, BGR or BGRA) scanned at
// `dpi` (a hint for the first reduction; the character size is measured).
// Success always yields an estimate (confident=false when the page has too
// little text or mixed evidence); InvalidArgument for an empty image, a bad
// type or bad options.
Result<FastOrientation> DetectOrientationFast(const cv::Mat& image,
                                              const FastOrientationOptions& options,
                                              double dpi = 300);

}  // namespace acervo

#endif  // ACERVO_STAGES_ORIENTATION_FAST_ORIENTATION_H_
