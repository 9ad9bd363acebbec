// Page: one scanned side of paper as it moves through the stage chain.
//
// A Page carries the working image (never the master: masters live on disk,
// written once, and are only ever read), what the stages learnt about it
// (orientation, skew, blankness, colour class, OCR words) and the history of
// the stages that ran on it (name, version, time), which the pipeline stores
// per page so that any output can be traced to the code that made it.
//
// Ownership: a Page owns its image (cv::Mat is reference-counted; stages that
// change pixels must write a new Mat rather than modify one they did not
// create). Not thread-safe: one worker owns a Page at a time.
#ifndef ACERVO_CORE_PAGE_H_
#define ACERVO_CORE_PAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace acervo {

// How a page's pixels are best stored (decided by colour detection).
enum class ColorClass { kBw, kGray, kColor };
std::string_view ColorClassName(ColorClass c);  // "bw", "gray", "color"

// One recognised word, in the coordinates of Page::image after all geometric
// stages ran (the image that goes into the PDF).
struct Word {
  std::string text;       // UTF-8
  cv::Rect box;           // pixels, top-left origin
  float confidence = 0;   // 0..100 as Tesseract reports it
  int line = 0;           // index of the text line within the page
  int baseline = -1;      // y of the line's baseline under this word, pixels;
                          // -1 when unknown (then the box bottom is used)
  // Indices, within the page, of the layout block (a column, a heading, a
  // table cell...) and of the paragraph the OCR engine put the word in, in
  // its reading order; -1 when unknown. The PDF text layer keeps each block
  // apart so that text extraction follows this order.
  int block = -1;
  int paragraph = -1;
};

// Where a page came from: enough to find the master again and to name the
// page in every message ("lot/0003.tif page 2").
struct PageOrigin {
  std::string source_path;   // path of the input file as given
  int page_in_file = 1;      // 1-based page index inside a multi-page file
  std::string master_path;   // write-once copy of the input file
  std::string master_sha256; // hex SHA-256 of the master file
  int sequence = 0;          // 1-based position in the lot
  // Which part of the master page this page is: all of it, or one half of a
  // two-page spread (stages/split). Its columns of the decoded master page
  // are [master_x, master_x + master_width); master_width 0 = not known.
  enum class Part { kWhole, kLeft, kRight };
  Part part = Part::kWhole;
  int master_x = 0;
  int master_width = 0;

  // "0003.tif page 2", and for a half of a spread "0003.tif page 2 (left
  // half)".
  std::string Describe() const;
};

// "whole", "left" or "right" (the store's and the journal's spelling).
const char* PartName(PageOrigin::Part part);

// Time and identity of one stage run on one page.
struct StageRecord {
  std::string name;
  int version = 0;
  double ms = 0;      // wall time
  double cpu_ms = 0;  // CPU time of the worker thread that ran it (less
                      // swayed than `ms` by other load on the machine)
};

// Encoded form of the final page image, ready to embed in a PDF.
struct EncodedImage {
  // kMixedRaster: a G4 text mask over a reduced JPEG background, packed in
  // `bytes` (stages/pdf image_encode.h, PackMixedRaster); width and height
  // are the mask's, components those of the background.
  enum class Codec { kNone, kJpeg, kCcittG4, kFlate, kMixedRaster };
  Codec codec = Codec::kNone;
  std::vector<uint8_t> bytes;
  int width = 0;
  int height = 0;
  int components = 1;   // 1 gray/bitonal, 3 RGB
  int bits_per_component = 8;
};

struct Page {
  PageOrigin origin;
  cv::Mat image;          // CV_8UC1 (gray) or CV_8UC3 (BGR)
  // When not empty, what OCR reads instead of `image`: the same page, same
  // size and geometry, before a change made only for the output's sake
  // (the clean stage's normalisation of evenly lit paper). Released by OCR;
  // dropped by the chain if a later stage changes the image's size.
  cv::Mat ocr_image;
  // When not empty (colour pages, stages/clean), the paper's own colour at
  // a reduced scale (BGR, 1/8 of the page): the clean stage whitened the
  // paper of `image` for OCR and the PDF's text masks, and the page as
  // scanned is `image` x paper_tone / 255 (paper_tone scaled up to the
  // page, bilinear). The image encoder gives the PDF those colours back
  // (stages/pdf). Turned with `image` by any stage that turns the page.
  cv::Mat paper_tone;
  double dpi_x = 300;
  double dpi_y = 300;
  bool dpi_from_file = false;  // false when the file had no usable resolution

  // Findings of the stages.
  int orientation_deg = 0;    // counter-clockwise rotation of the content as
                              // scanned, 0/90/180/270; corrected in image
  float orientation_confidence = 0;
  // Turns (0/90/180/270) still possible when the orientation stage left its
  // OCR vote to the OCR stage (stages/orientation: defer_ocr_vote), which
  // decides and clears them; empty when decided.
  std::vector<int> orientation_candidates;
  double skew_deg = 0;        // positive: content rotated counter-clockwise
                              // (lines rise to the right); corrected in image
  bool blank = false;
  double blank_score = 0;     // 0 (empty) .. 1 (clearly has content)
  ColorClass color_class = ColorClass::kGray;

  // OCR results.
  std::vector<Word> words;
  std::string text;           // plain text in reading order, lines by '\n'
  double mean_confidence = 0; // mean word confidence, 0..100

  EncodedImage encoded;       // set by the image-encoding stage
  std::vector<StageRecord> history;
  std::vector<std::string> flags;  // e.g. "blank", "low_confidence", "big_skew"

  bool HasFlag(std::string_view flag) const;
  void AddFlag(std::string flag);
};

}  // namespace acervo

#endif  // ACERVO_CORE_PAGE_H_
