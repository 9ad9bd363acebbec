#include "acervo/stages/color/color.h"

#include <algorithm>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

// Divides one 8-bit channel by its local paper brightness (a max filter over
// ~1.5 cm at 1/8 scale, then smoothed), so paper becomes 255 whatever its
// tint or lighting and ink keeps its contrast.
cv::Mat NormaliseToPaper(const cv::Mat& channel) {
  cv::Mat small, bg;
  cv::resize(channel, small,
             cv::Size(std::max(1, channel.cols / 8), std::max(1, channel.rows / 8)), 0, 0,
             cv::INTER_AREA);
  cv::dilate(small, small, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
  cv::blur(small, small, cv::Size(5, 5));
  cv::resize(small, bg, channel.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat out;
  cv::divide(channel, cv::max(bg, 1), out, 255.0, CV_8U);
  return out;
}

}  // namespace

Status ValidateColorOptions(const ColorOptions& o) {
  if (!(o.work_dpi >= 50 && o.work_dpi <= 300))
    return Status::InvalidArgument("color: work_dpi must be in [50, 300], got " +
                                   std::to_string(o.work_dpi));
  if (!(o.min_chroma >= 5 && o.min_chroma <= 255))
    return Status::InvalidArgument("color: min_chroma must be in [5, 255], got " +
                                   std::to_string(o.min_chroma));
  if (!(o.min_color_area_mm2 > 0 && o.min_color_area_mm2 <= 10000))
    return Status::InvalidArgument("color: min_color_area_mm2 must be in (0, 10000], got " +
                                   std::to_string(o.min_color_area_mm2));
  if (!(o.min_gray_fraction > 0 && o.min_gray_fraction <= 1))
    return Status::InvalidArgument("color: min_gray_fraction must be in (0, 1], got " +
                                   std::to_string(o.min_gray_fraction));
  return Status::OK();
}

Result<ColorEstimate> ClassifyColor(const cv::Mat& image, const ColorOptions& options,
                                    double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateColorOptions(options));
  if (image.empty()) return Status::InvalidArgument("color: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("color: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;

  const double scale = std::min(1.0, options.work_dpi / dpi);
  cv::Mat small = image;
  if (scale < 0.999) cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
  const double px_per_mm = dpi * scale / 25.4;
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
  ColorEstimate est;

  cv::Mat gray;
  if (small.channels() == 1) {
    gray = small;
  } else {
    std::vector<cv::Mat> ch;
    cv::split(small, ch);
    ch.resize(3);  // drop alpha
    // A 3x3 mean after normalising: misregistration fringes come in
    // opposite pairs (red on one side of a stroke, cyan on the other) that
    // the mean cancels; a genuinely coloured stroke keeps its hue.
    for (cv::Mat& c : ch) {
      c = NormaliseToPaper(c);
      cv::blur(c, c, cv::Size(3, 3));
    }
    cv::Mat hi = cv::max(cv::max(ch[0], ch[1]), ch[2]);
    cv::Mat lo = cv::min(cv::min(ch[0], ch[1]), ch[2]);
    cv::Mat coloured = (hi - lo) > options.min_chroma;
    // Fringes around black text are 1-2 reduced pixels wide: erosion
    // removes them, a stamp stroke or a coloured area survives.
    cv::erode(coloured, coloured, kernel);
    est.color_area_mm2 = cv::countNonZero(coloured) / (px_per_mm * px_per_mm);
    if (est.color_area_mm2 >= options.min_color_area_mm2) {
      est.color_class = ColorClass::kColor;
      return est;
    }
    cv::cvtColor(small, gray, small.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }

  cv::Mat norm = NormaliseToPaper(gray);
  // Mid-tones: 25%..75% darker than the paper.
  cv::Mat mid = (norm > 64) & (norm < 191);
  cv::erode(mid, mid, kernel, cv::Point(-1, -1), 2);
  est.gray_fraction = cv::countNonZero(mid) / static_cast<double>(mid.total());
  est.color_class = est.gray_fraction >= options.min_gray_fraction ? ColorClass::kGray
                                                                   : ColorClass::kBw;
  return est;
}

Result<std::unique_ptr<PageStage>> ColorStage::Create(const ColorOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateColorOptions(options));
  return std::unique_ptr<PageStage>(new ColorStage(options));
}

Result<Page> ColorStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("color: cancelled");
  ACERVO_ASSIGN_OR_RETURN(ColorEstimate est, ClassifyColor(page.image, options_, page.dpi_x));
  page.color_class = est.color_class;
  if (est.color_class != ColorClass::kColor && page.image.channels() != 1) {
    cv::Mat gray;
    cv::cvtColor(page.image, gray,
                 page.image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    page.image = gray;
  }
  return page;
}

}  // namespace acervo
