// Light text on a dark ground (a dark header band, a reversed stamp, a
// negative scan), looked for on the page before it is read.
//
// Tesseract reads every text line whose mean LSTM output is low a second
// time inverted (tessedit_do_invert, on by default) and, when that is no
// better, a third time as it was: on a poor real scan that is many lines
// (form_01: 87 retries), paid again in each language tried. Only light text
// on a dark ground needs it, and after the pipeline's cleanup a page is dark
// ink on light paper except in such regions. So the OCR stage reads a page
// without the retry unless this test finds a region that may be one
// (docs/benchmarks.md, issue 16, session 8).
//
// Thread-safety: reentrant free function.
#ifndef ACERVO_STAGES_OCR_POLARITY_H_
#define ACERVO_STAGES_OCR_POLARITY_H_

#include <opencv2/core.hpp>

namespace acervo {

// Whether `img` (CV_8UC1 gray or CV_8UC3 BGR) has a region that may be light
// marks on a dark ground: an area at least ~2 mm across both ways (by `dpi`,
// the page's resolution, used only for sizes) that is mostly dark on the page
// reduced to ~75 dpi, and, its holes filled, holds marks lighter than its
// median that outweigh the darker ones and are mostly shaped like glyphs.
// Black text on a grey shading, a solid black box, a rule, a bold letter or
// a photograph (light patches of every size) are not. Generous where it
// can be: a miss costs accuracy on the region, a false alarm only the
// retry and a reload of the engine.
bool MayHoldLightOnDark(const cv::Mat& img, double dpi);

}  // namespace acervo

#endif  // ACERVO_STAGES_OCR_POLARITY_H_
