// Page images from the PDF, rendered by poppler (Debian's libpoppler-cpp):
// what the browser shows is exactly the page the archive keeps, and the
// OCR boxes (page-image pixels) map onto it by proportion.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <filesystem>

#include "internal.h"

namespace acervo::web {

Result<std::shared_ptr<const std::string>> PageRenderer::Render(const std::string& pdf, int pdf_page, int width) {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(pdf, ec);
  if (ec) return Status::NotFound("no PDF at " + pdf);
  const std::string key = pdf + '\n' + std::to_string(pdf_page) + '\n' + std::to_string(width) + '\n' +
                          std::to_string(mtime.time_since_epoch().count());
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(pdf));
  if (!doc || doc->is_locked()) return Status::Corrupt("cannot open " + pdf + " as a PDF");
  if (pdf_page < 1 || pdf_page > doc->pages()) {
    return Status::NotFound(pdf + " has no page " + std::to_string(pdf_page));
  }
  std::unique_ptr<poppler::page> page(doc->create_page(pdf_page - 1));
  if (!page) return Status::Corrupt("cannot read page " + std::to_string(pdf_page) + " of " + pdf);
  const poppler::rectf box = page->page_rect(poppler::media_box);
  if (box.width() <= 0 || box.height() <= 0) return Status::Corrupt("page without size in " + pdf);
  const double dpi = width * 72.0 / box.width();
  poppler::page_renderer renderer;
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  renderer.set_image_format(poppler::image::format_rgb24);
  poppler::image img = renderer.render_page(page.get(), dpi, dpi);
  if (!img.is_valid()) return Status::Corrupt("poppler could not render page " + std::to_string(pdf_page) + " of " + pdf);
  cv::Mat rgb(img.height(), img.width(), CV_8UC3, const_cast<char*>(img.const_data()),
              static_cast<size_t>(img.bytes_per_row()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 80});
  auto bytes = std::make_shared<const std::string>(jpeg.begin(), jpeg.end());
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(key) == 0 && bytes->size() < cache_bytes_) {
    lru_.emplace_front(key, bytes);
    index_[key] = lru_.begin();
    used_ += bytes->size();
    while (used_ > cache_bytes_ && !lru_.empty()) {
      used_ -= lru_.back().second->size();
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }
  return std::shared_ptr<const std::string>(bytes);
}

}  // namespace acervo::web
