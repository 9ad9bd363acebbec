// Page images for the browser: the run's preview (a reduced copy of the
// page image, written by `acervo run`), else the PDF page rendered by
// poppler (Debian's libpoppler-cpp) — what the browser shows is the page
// the archive keeps, and the OCR boxes (page-image pixels) map onto it by
// proportion.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "internal.h"

namespace acervo::web {
namespace {

namespace fs = std::filesystem;

// Width and height from a JPEG's SOF marker; false when not a JPEG.
bool JpegSize(const std::string& b, int* w, int* h) {
  if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0xFF || static_cast<unsigned char>(b[1]) != 0xD8) return false;
  size_t i = 2;
  while (i + 9 < b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return false;
    const unsigned char m = static_cast<unsigned char>(b[i + 1]);
    const size_t len = (static_cast<unsigned char>(b[i + 2]) << 8) | static_cast<unsigned char>(b[i + 3]);
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      *h = (static_cast<unsigned char>(b[i + 5]) << 8) | static_cast<unsigned char>(b[i + 6]);
      *w = (static_cast<unsigned char>(b[i + 7]) << 8) | static_cast<unsigned char>(b[i + 8]);
      return *w > 0 && *h > 0;
    }
    i += 2 + len;
  }
  return false;
}

std::shared_ptr<const std::string> Jpeg(const cv::Mat& image, int quality) {
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::make_shared<const std::string>(jpeg.begin(), jpeg.end());
}

}  // namespace

PageSource SourceOf(const DocumentRecord& d, const PageRecord& p) {
  PageSource s;
  s.pdf = d.pdf_path;
  s.pdf_page = p.pdf_page;
  s.image_width = p.image_width;
  s.image_height = p.image_height;
  if (!d.pdf_path.empty()) {
    // The runner's page stem: the master page, and the half of a spread.
    std::string stem = std::to_string(p.master_page > 0 ? p.master_page : p.number);
    if (p.part != "whole") stem += "-" + p.part;
    const fs::path pdf(d.pdf_path);
    s.preview = (pdf.parent_path() / "previews" / pdf.stem() / (stem + ".jpg")).string();
  }
  return s;
}

void PageRenderer::Keep(const std::string& key, const std::shared_ptr<const std::string>& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(key) != 0 || bytes->size() >= cache_bytes_) return;
  lru_.emplace_front(key, bytes);
  index_[key] = lru_.begin();
  used_ += bytes->size();
  while (used_ > cache_bytes_ && !lru_.empty()) {
    used_ -= lru_.back().second->size();
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

Result<std::shared_ptr<const std::string>> PageRenderer::Render(const PageSource& page, int width) {
  std::error_code ec;
  const auto pdf_time = fs::last_write_time(page.pdf, ec);
  if (ec) return Status::NotFound("no PDF at " + page.pdf);
  const auto preview_time = page.preview.empty() ? pdf_time : fs::last_write_time(page.preview, ec);
  const bool has_preview = !page.preview.empty() && !ec;
  const std::string key = page.pdf + '\n' + std::to_string(page.pdf_page) + '\n' + std::to_string(width) + '\n' +
                          std::to_string(pdf_time.time_since_epoch().count()) + '\n' +
                          std::to_string(has_preview ? preview_time.time_since_epoch().count() : 0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  if (has_preview) {
    std::ifstream in(page.preview, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto bytes = std::make_shared<const std::string>(ss.str());
    int w = 0, h = 0;
    // Only a preview of this page image (same proportions) will do: a
    // stale one from before a rerun is not shown.
    const bool fits = JpegSize(*bytes, &w, &h) &&
                      (page.image_width <= 0 || page.image_height <= 0 ||
                       std::abs(static_cast<double>(w) / h -
                                static_cast<double>(page.image_width) / page.image_height) < 0.01);
    if (fits) {
      std::shared_ptr<const std::string> out = bytes;
      if (width < w * 3 / 4) {
        // Thumbnails: decode at 1/2, 1/4 or 1/8 straight from the JPEG.
        const int flag = width * 8 <= w ? cv::IMREAD_REDUCED_COLOR_8
                         : width * 4 <= w ? cv::IMREAD_REDUCED_COLOR_4
                         : width * 2 <= w ? cv::IMREAD_REDUCED_COLOR_2
                                          : cv::IMREAD_COLOR;
        cv::Mat img = cv::imdecode(cv::Mat(1, static_cast<int>(bytes->size()), CV_8UC1,
                                           const_cast<char*>(bytes->data())),
                                   flag);
        if (img.empty()) return FromPdf(page, width);
        cv::Mat small;
        cv::resize(img, small, cv::Size(width, std::max(1, img.rows * width / img.cols)), 0, 0, cv::INTER_AREA);
        out = Jpeg(small, 75);
      }
      Keep(key, out);
      return out;
    }
  }
  Result<std::shared_ptr<const std::string>> rendered = FromPdf(page, width);
  if (rendered.ok()) Keep(key, *rendered);
  return rendered;
}

Result<std::shared_ptr<const std::string>> PageRenderer::FromPdf(const PageSource& page, int width) {
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(page.pdf));
  if (!doc || doc->is_locked()) return Status::Corrupt("cannot open " + page.pdf + " as a PDF");
  if (page.pdf_page < 1 || page.pdf_page > doc->pages()) {
    return Status::NotFound(page.pdf + " has no page " + std::to_string(page.pdf_page));
  }
  std::unique_ptr<poppler::page> p(doc->create_page(page.pdf_page - 1));
  if (!p) return Status::Corrupt("cannot read page " + std::to_string(page.pdf_page) + " of " + page.pdf);
  const poppler::rectf box = p->page_rect(poppler::media_box);
  if (box.width() <= 0 || box.height() <= 0) return Status::Corrupt("page without size in " + page.pdf);
  const double dpi = width * 72.0 / box.width();
  poppler::page_renderer renderer;
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  renderer.set_image_format(poppler::image::format_rgb24);
  poppler::image img = renderer.render_page(p.get(), dpi, dpi);
  if (!img.is_valid()) {
    return Status::Corrupt("poppler could not render page " + std::to_string(page.pdf_page) + " of " + page.pdf);
  }
  cv::Mat rgb(img.height(), img.width(), CV_8UC3, const_cast<char*>(img.const_data()),
              static_cast<size_t>(img.bytes_per_row()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return Jpeg(bgr, 80);
}

}  // namespace acervo::web
