// Synthetic scans with exact ground truth.
//
// The generator renders Portuguese (any UTF-8) text onto an A4 page at a given
// resolution with a real font (cairo + fontconfig, Debian fonts), then makes it
// look scanned in known, reproducible ways: skew by an exact angle, rotation by
// 0/90/180/270, paper tint, noise, blur, specks, scanner borders, punch holes,
// bleed-through. Because every degradation is known, tests can assert what the
// stages must find (the angle, the orientation, blankness) and what OCR must
// read (the exact text).
//
// Conventions (shared with the stages):
//  - skew_deg > 0 means the content is rotated counter-clockwise as displayed
//    (text lines rise to the right); the correction rotates by -skew_deg.
//  - orientation_deg in {0, 90, 180, 270} is how far the content is rotated
//    counter-clockwise as displayed from upright.
//
// Thread-safety: all functions are reentrant; same spec + seed = same pixels.
#ifndef ACERVO_SYNTH_SYNTH_H_
#define ACERVO_SYNTH_SYNTH_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo::synth {

struct TextBlock {
  std::string text;          // UTF-8; '\n' forces a line break, words wrap
  double font_size_pt = 11;
  bool bold = false;
  bool centered = false;
  double space_after_pt = 6;
  // Every wrapped line but a paragraph's last is stretched to the full width
  // (the gaps between words grow), as in books and newspapers.
  bool justified = false;
  // Consecutive blocks with the same columns > 1 form one section laid out
  // in that many balanced columns (PageSpec::column_gap_mm apart), read
  // column by column: the ground truth lists the first column's lines, then
  // the second's.
  int columns = 1;
  // A ruled table: each line of `text` is a row, its cells separated by
  // '|'; every column is as wide as its widest cell (cells do not wrap).
  // The ground truth reads it row by row, cells left to right.
  bool table = false;
};

struct PageSpec {
  double dpi = 300;
  double width_mm = 210;     // A4
  double height_mm = 297;
  double margin_mm = 25;
  double column_gap_mm = 8;  // between the columns of a multi-column section
  std::string font_family = "DejaVu Serif";
  std::vector<TextBlock> blocks;  // empty => a blank page

  // Degradations, applied in this order after rendering.
  double skew_deg = 0;
  int orientation_deg = 0;
  bool paper_tint = true;       // slightly yellowed, uneven background
  double noise_sigma = 6;       // gaussian noise on 0..255 gray
  double blur_sigma = 0.6;      // optics
  int specks = 30;              // dust specks (small dark dots)
  bool punch_holes = false;     // two dark holes in the left margin
  bool dark_border = false;     // black scanner border strips
  double bleed_through = 0;     // 0..1 contrast of mirrored text from the back
  uint64_t seed = 1;

  // What is printed on the back of the sheet, seen mirrored through the paper
  // when bleed_through > 0. Empty => filler text chosen by the seed.
  std::vector<TextBlock> back_blocks;
};

struct WordBox {
  std::string text;
  cv::Rect box;   // in the clean, upright, unskewed page (before degradation)
  int line = 0;
};

struct SynthPage {
  cv::Mat image;            // CV_8UC1, degraded
  std::string text;         // exact ground truth: lines joined by '\n'
  std::vector<WordBox> words;
  PageSpec spec;
};

// Renders and degrades one page. InvalidArgument for an unusable spec (dpi or
// size out of range, text that does not fit on the page), Unavailable when the
// font cannot be found.
Result<SynthPage> RenderPage(const PageSpec& spec);

// Makes an existing clean page image (e.g. a separator sheet rendered from
// its PDF) look scanned: skew (degrees, counter-clockwise), uneven yellowed
// paper, gaussian noise, blur and dust specks, deterministic for a seed.
// `clean` is CV_8UC1; the result is CV_8UC1 of the same size.
struct ScanLikeSpec {
  double skew_deg = 0.8;
  double noise_sigma = 8;
  double blur_sigma = 0.8;
  int specks = 40;
  uint64_t seed = 1;
};
Result<cv::Mat> ScanLike(const cv::Mat& clean, const ScanLikeSpec& spec);

// Image formats the lot generator writes (all carry the page's dpi).
enum class FileFormat { kTiffNone, kTiffLzw, kTiffG4, kPng, kJpeg };

// Writes one or more pages into one file (several pages only for TIFF).
// G4 binarises with a fixed threshold. `dpi` is the resolution written into
// the file; 0 writes none (a file whose resolution a reader must guess).
// IOError names the path.
Status WritePages(const std::filesystem::path& path, const std::vector<cv::Mat>& pages,
                  double dpi, FileFormat format);

// Character error rate between OCR output and ground truth: Levenshtein
// distance over Unicode code points of the whitespace-normalised texts
// (every run of whitespace -> one space, trimmed), divided by the length of
// the normalised truth. 0 when both are empty; 1 when truth is empty but the
// hypothesis is not.
double CharacterErrorRate(std::string_view hypothesis, std::string_view truth);

// Generates the demo lot described by the spec file `spec_path` (see
// samples/demo/README.md) into `out_dir`: page images, manifest.csv,
// profile.toml and ground-truth/ (one .txt per page plus pages.tsv).
Status GenerateLot(const std::filesystem::path& spec_path, const std::filesystem::path& out_dir);

// OCR-like misreadings with exact ground truth (issue 15): `Misread` copies
// a true text and changes some of its words the way OCR misreads them,
// recording each change, so that search can be measured on text whose
// truth is known (and pages rendered from the misread text make OCR output
// with known misreadings). Kinds, each with its share of the misread words:
//  - "confusable": characters OCR confuses (o/0, l/1/I, i/l, S/5, B/8,
//    m/rn, d/cl, e/c, u/v, n/ri, a/o);
//  - "substitution" / "deletion" / "insertion": one other character edit;
//  - "two_edits": a confusable plus another edit;
//  - "split": a space inside the word;
//  - "merged": the space to the next word lost;
//  - "hyphenated": broken across a line end with "-\n";
//  - "dropped": not read at all;
//  - "identifier": a digit of a number read as a letter or another digit.
// Words of fewer than 4 letters are never changed. Deterministic for a seed.
struct MisreadSpec {
  double word_rate = 0.1;        // share of words (>= 4 letters) misread
  double identifier_rate = 0.5;  // share of numbers of >= 9 digits (with separators) misread
  uint64_t seed = 1;
};
struct Misreading {
  std::string truth;  // the word as written (UTF-8)
  std::string read;   // what the misread text holds instead ("" when dropped)
  std::string kind;
};
struct MisreadText {
  std::string text;
  std::vector<Misreading> misreadings;
};
MisreadText Misread(std::string_view truth, const MisreadSpec& spec);

}  // namespace acervo::synth

#endif  // ACERVO_SYNTH_SYNTH_H_
