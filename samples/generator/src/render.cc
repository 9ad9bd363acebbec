// RenderPage: lay text out with cairo on an alpha surface, then degrade it.
//
// The clean page is drawn in the paper's own frame (upright, unskewed); the
// word boxes and the ground truth come from that drawing, so they are exact.
// The degradations then follow the order of PageSpec's fields. Things that
// belong to the sheet itself (the text seen through from the back, the punch
// holes) move with the sheet when it is skewed or turned; things that belong
// to the scanner (tint, noise, blur, specks, borders) are in the image frame.
#include <cairo-ft.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <strings.h>

#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo::synth {
namespace {

constexpr double kMmPerInch = 25.4;
constexpr double kPtPerInch = 72.0;

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;

int MmToPx(double mm, double dpi) {
  return static_cast<int>(std::lround(mm * dpi / kMmPerInch));
}

// Splits on ASCII whitespace; the rendered words are exactly these tokens.
std::vector<std::string> SplitWords(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

std::vector<std::string_view> SplitHardLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// Selects the block's face and checks that fontconfig gave us the family we
// asked for: its silent fallback to another font would change every metric.
Status SelectFont(cairo_t* cr, const std::string& family, bool bold, double size_px) {
  cairo_select_font_face(cr, family.c_str(), CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size_px);
  cairo_scaled_font_t* scaled = cairo_get_scaled_font(cr);
  if (cairo_scaled_font_status(scaled) != CAIRO_STATUS_SUCCESS) {
    return Status::Unavailable("font '" + family + "': " +
                               cairo_status_to_string(cairo_scaled_font_status(scaled)));
  }
  if (cairo_scaled_font_get_type(scaled) != CAIRO_FONT_TYPE_FT) return Status::OK();
  FT_Face face = cairo_ft_scaled_font_lock_face(scaled);
  if (face == nullptr) return Status::Unavailable("font '" + family + "' cannot be loaded");
  std::string got = face->family_name != nullptr ? face->family_name : "";
  cairo_ft_scaled_font_unlock_face(scaled);
  if (strcasecmp(got.c_str(), family.c_str()) != 0) {
    return Status::Unavailable("font '" + family + "' not installed (fontconfig offered '" +
                               got + "')");
  }
  return Status::OK();
}

// One laid-out line of a block: its words at x offsets from the left edge
// of the column (or text area) it is placed in, and its height.
struct LaidLine {
  const TextBlock* block = nullptr;
  std::vector<std::string> words;  // empty: vertical space only
  std::vector<double> x;           // left end of each word's advance
  double height = 0;               // line box height
  double baseline = 0;             // baseline below the line box's top
  double space_after = 0;          // after this line (a block's last line)
  std::vector<cv::Rect2d> cells;   // table rules, relative to the line box
};

std::vector<std::string> SplitCells(std::string_view row) {
  std::vector<std::string> cells;
  size_t start = 0;
  while (true) {
    size_t end = row.find('|', start);
    std::string_view cell = row.substr(start, end == std::string_view::npos ? std::string_view::npos
                                                                             : end - start);
    cells.emplace_back(cell);
    if (end == std::string_view::npos) return cells;
    start = end + 1;
  }
}

// Wraps one block into lines `width` pixels wide (greedy, by measured
// advance; tables by their widest cells). A word or table wider than the
// width is InvalidArgument, or ends the block silently when `truncate`.
Status WrapBlock(cairo_t* cr, const PageSpec& spec, const TextBlock& block, double width,
                 bool truncate, std::vector<LaidLine>* out) {
  const double px_per_pt = spec.dpi / kPtPerInch;
  if (!(block.font_size_pt >= 3 && block.font_size_pt <= 200)) {
    return Status::InvalidArgument("font size out of range: " + std::to_string(block.font_size_pt));
  }
  if (block.columns < 1 || block.columns > 6) {
    return Status::InvalidArgument("columns out of range 1..6: " + std::to_string(block.columns));
  }
  ACERVO_RETURN_IF_ERROR(SelectFont(cr, spec.font_family, block.bold, block.font_size_pt * px_per_pt));
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_text_extents_t te;
  cairo_text_extents(cr, " ", &te);
  const double space = te.x_advance;
  auto advance = [&](const std::string& word) {
    cairo_text_extents(cr, word.c_str(), &te);
    return te.x_advance;
  };
  const size_t first = out->size();

  if (block.table) {
    // Cell padding around the text, and the same between text and rules.
    const double pad = 0.4 * block.font_size_pt * px_per_pt;
    std::vector<std::vector<std::vector<std::string>>> rows;
    std::vector<double> col_w;
    for (std::string_view row : SplitHardLines(block.text)) {
      std::vector<std::vector<std::string>> cells;
      for (const std::string& cell : SplitCells(row)) cells.push_back(SplitWords(cell));
      for (size_t c = 0; c < cells.size(); ++c) {
        double w = 0;
        for (size_t k = 0; k < cells[c].size(); ++k) w += (k > 0 ? space : 0) + advance(cells[c][k]);
        if (col_w.size() <= c) col_w.push_back(0);
        col_w[c] = std::max(col_w[c], w + 2 * pad);
      }
      rows.push_back(std::move(cells));
    }
    double total = 0;
    for (double w : col_w) total += w;
    if (total > width) {
      if (truncate) return Status::OK();
      return Status::InvalidArgument("table is wider than the text width");
    }
    for (const auto& cells : rows) {
      LaidLine line;
      line.block = &block;
      line.height = fe.height + 2 * pad;
      line.baseline = pad + fe.ascent;
      double cx = 0;
      for (size_t c = 0; c < col_w.size(); ++c) {
        line.cells.emplace_back(cx, 0, col_w[c], line.height);
        double x = cx + pad;
        if (c < cells.size()) {
          for (const std::string& w : cells[c]) {
            line.words.push_back(w);
            line.x.push_back(x);
            x += advance(w) + space;
          }
        }
        cx += col_w[c];
      }
      out->push_back(std::move(line));
    }
  } else {
    for (std::string_view hard_line : SplitHardLines(block.text)) {
      std::vector<std::string> words = SplitWords(hard_line);
      if (words.empty()) {  // an empty line is vertical space only
        LaidLine gap;
        gap.block = &block;
        gap.height = fe.height;
        out->push_back(std::move(gap));
        continue;
      }
      std::vector<double> adv(words.size());
      for (size_t i = 0; i < words.size(); ++i) {
        adv[i] = advance(words[i]);
        if (adv[i] > width) {
          if (truncate) return Status::OK();
          return Status::InvalidArgument("word '" + words[i] + "' is wider than the line");
        }
      }
      size_t i = 0;
      while (i < words.size()) {
        size_t j = i;
        double line_width = adv[i];
        while (j + 1 < words.size() && line_width + space + adv[j + 1] <= width) {
          ++j;
          line_width += space + adv[j];
        }
        const bool last = j + 1 == words.size();
        double gap = space;
        if (block.justified && !last && j > i) gap += (width - line_width) / static_cast<double>(j - i);
        LaidLine line;
        line.block = &block;
        line.height = fe.height;
        line.baseline = fe.ascent;
        double x = block.centered ? (width - line_width) / 2 : 0;
        for (size_t k = i; k <= j; ++k) {
          line.words.push_back(words[k]);
          line.x.push_back(x);
          x += adv[k] + gap;
        }
        out->push_back(std::move(line));
        i = j + 1;
      }
    }
  }
  if (out->size() > first) out->back().space_after = block.space_after_pt * px_per_pt;
  return Status::OK();
}

// Lays out and draws `blocks` on `cr` (whose surface is the page): single
// blocks one below the other across the text width, runs of multi-column
// blocks as balanced columns. When `truncate` is set, text that does not fit
// is dropped silently (used for the back side); otherwise it is
// InvalidArgument. Words and ground-truth lines come in reading order.
Status DrawBlocks(cairo_t* cr, const PageSpec& spec, const std::vector<TextBlock>& blocks,
                  int width_px, int height_px, bool truncate, std::vector<WordBox>* words,
                  std::string* text) {
  const double px_per_pt = spec.dpi / kPtPerInch;
  const double margin = spec.margin_mm * spec.dpi / kMmPerInch;
  const double left = margin;
  const double avail = width_px - 2 * margin;
  const double bottom = height_px - margin;
  double y = margin;  // top of the next line box
  int line_index = 0;
  std::vector<std::string> gt_lines;

  struct Placed {
    const LaidLine* line;
    double x, y;  // top-left of the line box
  };
  std::vector<LaidLine> laid;
  std::vector<std::pair<size_t, size_t>> sections;  // [first block, end) per section
  for (size_t b = 0; b < blocks.size();) {
    size_t e = b + 1;
    if (blocks[b].columns > 1) {
      while (e < blocks.size() && blocks[e].columns == blocks[b].columns) ++e;
    }
    sections.emplace_back(b, e);
    b = e;
  }
  std::vector<Placed> placed;
  for (const auto& [b, e] : sections) {
    placed.clear();
    const int columns = std::max(1, blocks[b].columns);
    const double gap = columns > 1 ? spec.column_gap_mm * spec.dpi / kMmPerInch : 0;
    const double col_w = (avail - (columns - 1) * gap) / columns;
    if (col_w <= 0) return Status::InvalidArgument("columns leave no room for text");
    laid.clear();
    laid.reserve(256);
    for (size_t k = b; k < e; ++k) {
      ACERVO_RETURN_IF_ERROR(WrapBlock(cr, spec, blocks[k], col_w, truncate, &laid));
    }
    // Balanced columns: a column is full once it holds its share of the
    // section's height.
    double total = 0;
    for (const LaidLine& l : laid) total += l.height + l.space_after;
    const double share = total / columns;
    int col = 0;
    double h = 0, section_h = 0;
    for (const LaidLine& l : laid) {
      if (col + 1 < columns && h > 0 && h + l.height / 2 > share) {
        ++col;
        h = 0;
      }
      if (y + h + l.height > bottom) {
        if (truncate) break;
        return Status::InvalidArgument(
            "text does not fit on the page (at '" + (l.words.empty() ? std::string() : l.words[0]) + "')");
      }
      placed.push_back({&l, left + col * (col_w + gap), y + h});
      h += l.height + l.space_after;
      section_h = std::max(section_h, h);
    }
    // Draw this section now: `laid` is reused by the next one.
    for (const Placed& pl : placed) {
      const LaidLine& l = *pl.line;
      ACERVO_RETURN_IF_ERROR(
          SelectFont(cr, spec.font_family, l.block->bold, l.block->font_size_pt * px_per_pt));
      if (!l.cells.empty()) {
        cairo_set_line_width(cr, std::max(1.0, 0.6 * px_per_pt));
        for (const cv::Rect2d& c : l.cells) cairo_rectangle(cr, pl.x + c.x, pl.y + c.y, c.width, c.height);
        cairo_stroke(cr);
      }
      if (l.words.empty()) continue;
      const double baseline = pl.y + l.baseline;
      std::string gt_line;
      cairo_text_extents_t te;
      for (size_t k = 0; k < l.words.size(); ++k) {
        const double x = pl.x + l.x[k];
        cairo_move_to(cr, x, baseline);
        cairo_show_text(cr, l.words[k].c_str());
        if (words != nullptr) {
          cairo_text_extents(cr, l.words[k].c_str(), &te);
          int x0 = static_cast<int>(std::floor(x + te.x_bearing));
          int y0 = static_cast<int>(std::floor(baseline + te.y_bearing));
          int x1 = static_cast<int>(std::ceil(x + te.x_bearing + te.width));
          int y1 = static_cast<int>(std::ceil(baseline + te.y_bearing + te.height));
          words->push_back({l.words[k], cv::Rect(x0, y0, std::max(1, x1 - x0), std::max(1, y1 - y0)),
                            line_index});
        }
        if (!gt_line.empty()) gt_line += ' ';
        gt_line += l.words[k];
      }
      gt_lines.push_back(std::move(gt_line));
      ++line_index;
    }
    y += section_h;
    if (placed.size() < laid.size()) break;  // truncated
  }
  if (text != nullptr) {
    text->clear();
    for (size_t i = 0; i < gt_lines.size(); ++i) {
      if (i > 0) *text += '\n';
      *text += gt_lines[i];
    }
  }
  return Status::OK();
}

// Draws blocks onto a white CV_8UC1 page (255 paper, 0 ink).
Status RenderClean(const PageSpec& spec, const std::vector<TextBlock>& blocks, int width,
                   int height, bool truncate, cv::Mat* out, std::vector<WordBox>* words,
                   std::string* text) {
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_A8, width, height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return Status::InvalidArgument(std::string("cannot create a page surface: ") +
                                   cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  ContextPtr cr(cairo_create(surface.get()));
  cairo_set_source_rgba(cr.get(), 0, 0, 0, 1);
  // Grey antialiasing, as a scanner's optics would give, and no hinting of
  // outlines so that glyphs look like print rather than screen text.
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr.get(), options);
  cairo_font_options_destroy(options);

  ACERVO_RETURN_IF_ERROR(DrawBlocks(cr.get(), spec, blocks, width, height, truncate, words, text));
  cairo_surface_flush(surface.get());

  cv::Mat alpha(height, width, CV_8UC1, cairo_image_surface_get_data(surface.get()),
                static_cast<size_t>(cairo_image_surface_get_stride(surface.get())));
  cv::subtract(cv::Scalar(255), alpha, *out);  // copies out of the surface
  return Status::OK();
}

// Moves a paper-frame image into the scanner frame: skew about the centre,
// then a quarter-turn rotation. `fill` is what appears where no paper was.
cv::Mat ToScanFrame(const cv::Mat& paper, double skew_deg, int orientation_deg, double fill) {
  cv::Mat skewed;
  if (skew_deg != 0) {
    cv::Point2f center(static_cast<float>(paper.cols) / 2.0f, static_cast<float>(paper.rows) / 2.0f);
    // OpenCV's positive angle is counter-clockwise as displayed: our convention.
    cv::Mat m = cv::getRotationMatrix2D(center, skew_deg, 1.0);
    cv::warpAffine(paper, skewed, m, paper.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                   cv::Scalar(fill));
  } else {
    skewed = paper;
  }
  cv::Mat out;
  switch (orientation_deg) {
    case 90: cv::rotate(skewed, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    case 180: cv::rotate(skewed, out, cv::ROTATE_180); break;
    case 270: cv::rotate(skewed, out, cv::ROTATE_90_CLOCKWISE); break;
    default: out = skewed; break;
  }
  return out;
}

// Where a paper-frame point lands in the scanner frame (same maps as above).
cv::Point2d PointToScanFrame(cv::Point2d p, int width, int height, double skew_deg,
                             int orientation_deg) {
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(width / 2.0f, height / 2.0f), skew_deg, 1.0);
  double x = m.at<double>(0, 0) * p.x + m.at<double>(0, 1) * p.y + m.at<double>(0, 2);
  double y = m.at<double>(1, 0) * p.x + m.at<double>(1, 1) * p.y + m.at<double>(1, 2);
  switch (orientation_deg) {
    case 90: return {y, width - 1 - x};
    case 180: return {width - 1 - x, height - 1 - y};
    case 270: return {height - 1 - y, x};
    default: return {x, y};
  }
}

// Plausible administrative Portuguese for the back of a sheet.
std::vector<TextBlock> FillerBlocks(std::mt19937_64& rng) {
  static constexpr const char* kWords[] = {
      "a", "de", "do", "da", "que", "para", "com", "processo", "requerente", "município",
      "secretaria", "prazo", "dias", "conforme", "artigo", "lei", "documento", "parecer",
      "administração", "pública", "informação", "expediente", "autos", "protocolo",
      "cumprimento", "decisão", "servidor", "registro", "ofício", "encaminhamento", "termos",
      "presente", "solicitação", "análise", "órgão", "competente", "público", "interessado"};
  constexpr size_t kCount = sizeof(kWords) / sizeof(kWords[0]);
  std::uniform_int_distribution<size_t> pick(0, kCount - 1);
  std::uniform_int_distribution<int> words_in_paragraph(40, 90);
  std::vector<TextBlock> blocks;
  for (int p = 0; p < 12; ++p) {
    TextBlock block;
    int n = words_in_paragraph(rng);
    for (int i = 0; i < n; ++i) {
      if (i > 0) block.text += ' ';
      block.text += kWords[pick(rng)];
    }
    block.text += '.';
    blocks.push_back(std::move(block));
  }
  return blocks;
}

Status Validate(const PageSpec& spec) {
  if (!(spec.dpi >= 50 && spec.dpi <= 1200)) {
    return Status::InvalidArgument("dpi out of range 50..1200: " + std::to_string(spec.dpi));
  }
  if (!(spec.width_mm >= 20 && spec.width_mm <= 1000 && spec.height_mm >= 20 &&
        spec.height_mm <= 1000)) {
    return Status::InvalidArgument("page size out of range 20..1000 mm");
  }
  if (!(spec.margin_mm >= 0 && 2 * spec.margin_mm < std::min(spec.width_mm, spec.height_mm))) {
    return Status::InvalidArgument("margin leaves no room for text");
  }
  if (!(std::abs(spec.skew_deg) <= 45)) {
    return Status::InvalidArgument("skew out of range -45..45: " + std::to_string(spec.skew_deg));
  }
  if (spec.orientation_deg != 0 && spec.orientation_deg != 90 && spec.orientation_deg != 180 &&
      spec.orientation_deg != 270) {
    return Status::InvalidArgument("orientation must be 0, 90, 180 or 270, not " +
                                   std::to_string(spec.orientation_deg));
  }
  if (!(spec.noise_sigma >= 0 && spec.noise_sigma <= 100) ||
      !(spec.blur_sigma >= 0 && spec.blur_sigma <= 20) || spec.specks < 0 ||
      !(spec.bleed_through >= 0 && spec.bleed_through <= 1)) {
    return Status::InvalidArgument("degradation parameter out of range");
  }
  return Status::OK();
}

}  // namespace

Result<SynthPage> RenderPage(const PageSpec& spec) {
  ACERVO_RETURN_IF_ERROR(Validate(spec));
  const int width = MmToPx(spec.width_mm, spec.dpi);
  const int height = MmToPx(spec.height_mm, spec.dpi);
  // One generator drives every random choice, in a fixed order: same seed,
  // same pixels. Bulk noise uses cv::RNG seeded from it (a local object, not
  // OpenCV's global one) because drawing millions of normals is its job.
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double px_per_mm = spec.dpi / kMmPerInch;

  SynthPage page;
  page.spec = spec;
  cv::Mat clean;
  ACERVO_RETURN_IF_ERROR(
      RenderClean(spec, spec.blocks, width, height, false, &clean, &page.words, &page.text));

  // The back side, mirrored as seen through the paper, diffused by it.
  cv::Mat back;
  if (spec.bleed_through > 0) {
    std::vector<TextBlock> back_blocks =
        spec.back_blocks.empty() ? FillerBlocks(rng) : spec.back_blocks;
    ACERVO_RETURN_IF_ERROR(
        RenderClean(spec, back_blocks, width, height, true, &back, nullptr, nullptr));
    cv::flip(back, back, 1);
    cv::GaussianBlur(back, back, cv::Size(0, 0), 0.35 * px_per_mm);
  }

  // 1-2. Skew, then orientation.
  cv::Mat scan = ToScanFrame(clean, spec.skew_deg, spec.orientation_deg, 255);
  if (!back.empty()) back = ToScanFrame(back, spec.skew_deg, spec.orientation_deg, 255);
  const cv::Size size = scan.size();

  // 3. Paper tint: ink and paper levels of a real scan, the paper uneven in
  // broad, smooth patches (a coarse random field upsampled).
  cv::Mat work;
  scan.convertTo(work, CV_32F, 1.0 / 255.0);
  if (spec.paper_tint) {
    const double paper_level = 232 + 6 * unit(rng);
    const double ink_level = 28 + 14 * unit(rng);
    cv::Mat field(6, 5, CV_32F);
    std::normal_distribution<float> patch(0.0f, 4.0f);
    for (int r = 0; r < field.rows; ++r) {
      for (int c = 0; c < field.cols; ++c) field.at<float>(r, c) = patch(rng);
    }
    cv::Mat paper;
    cv::resize(field, paper, size, 0, 0, cv::INTER_CUBIC);
    paper += paper_level;
    // value = ink + (paper - ink) * clean
    cv::Mat span = paper - ink_level;
    cv::multiply(work, span, work);
    work += ink_level;
  } else {
    work *= 255.0;
  }

  // 4. Sensor noise.
  cv::RNG cv_rng(rng());
  if (spec.noise_sigma > 0) {
    cv::Mat noise(size, CV_32F);
    cv_rng.fill(noise, cv::RNG::NORMAL, 0.0, spec.noise_sigma);
    work += noise;
  }

  // 5. Optics.
  if (spec.blur_sigma > 0) cv::GaussianBlur(work, work, cv::Size(0, 0), spec.blur_sigma);
  cv::Mat image;
  work.convertTo(image, CV_8U);  // saturates to 0..255

  // 6. Dust specks: small, dark, soft-edged dots anywhere.
  for (int i = 0; i < spec.specks; ++i) {
    cv::Point center(static_cast<int>(unit(rng) * size.width),
                     static_cast<int>(unit(rng) * size.height));
    int radius = std::max(1, static_cast<int>(std::lround((0.05 + 0.15 * unit(rng)) * px_per_mm)));
    int level = 20 + static_cast<int>(70 * unit(rng));
    cv::circle(image, center, radius, cv::Scalar(level), cv::FILLED, cv::LINE_AA);
  }

  // 7. Punch holes: two 6 mm holes 80 mm apart, 12 mm from the sheet's left
  // edge; the scanner lid shows through them, dark.
  if (spec.punch_holes) {
    for (double dy : {-40.0, 40.0}) {
      cv::Point2d c = PointToScanFrame(
          {12 * px_per_mm, height / 2.0 + dy * px_per_mm}, width, height, spec.skew_deg,
          spec.orientation_deg);
      int level = 30 + static_cast<int>(20 * unit(rng));
      cv::circle(image, cv::Point(static_cast<int>(c.x), static_cast<int>(c.y)),
                 static_cast<int>(3 * px_per_mm), cv::Scalar(level), cv::FILLED, cv::LINE_AA);
    }
  }

  // 8. Scanner border: dark strips where the platen extends past the sheet.
  if (spec.dark_border) {
    auto strip = [&](double max_mm) {
      return static_cast<int>((1.0 + (max_mm - 1.0) * unit(rng)) * px_per_mm);
    };
    int top = strip(6), bottom_w = strip(3), left_w = strip(5), right_w = strip(2);
    int level = 15 + static_cast<int>(20 * unit(rng));
    cv::Scalar dark(level);
    cv::rectangle(image, cv::Rect(0, 0, size.width, top), dark, cv::FILLED);
    cv::rectangle(image, cv::Rect(0, size.height - bottom_w, size.width, bottom_w), dark,
                  cv::FILLED);
    cv::rectangle(image, cv::Rect(0, 0, left_w, size.height), dark, cv::FILLED);
    cv::rectangle(image, cv::Rect(size.width - right_w, 0, right_w, size.height), dark,
                  cv::FILLED);
  }

  // 9. Bleed-through: the back's ink darkens the paper by up to
  // bleed_through of its value (multiplicative, as light through paper is).
  if (!back.empty()) {
    cv::Mat factor;
    back.convertTo(factor, CV_32F, spec.bleed_through / 255.0, 1.0 - spec.bleed_through);
    cv::Mat f;
    image.convertTo(f, CV_32F);
    cv::multiply(f, factor, f);
    f.convertTo(image, CV_8U);
  }

  page.image = image;
  return page;
}

}  // namespace acervo::synth
