#include <random>

#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo::synth {

Result<cv::Mat> ScanLike(const cv::Mat& clean, const ScanLikeSpec& spec) {
  if (clean.empty() || clean.type() != CV_8UC1) return Status::InvalidArgument("ScanLike needs a CV_8UC1 image");
  if (spec.noise_sigma < 0 || spec.blur_sigma < 0 || spec.specks < 0) {
    return Status::InvalidArgument("degradation parameter out of range");
  }
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  cv::Mat scan = clean;
  if (spec.skew_deg != 0) {
    const cv::Point2f c(clean.cols / 2.0f, clean.rows / 2.0f);
    const cv::Mat rot = cv::getRotationMatrix2D(c, spec.skew_deg, 1.0);
    cv::warpAffine(clean, scan, rot, clean.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(255));
  }
  // Ink and paper levels of a real scan, the paper uneven in broad patches.
  cv::Mat work;
  scan.convertTo(work, CV_32F, 1.0 / 255.0);
  const double paper_level = 228 + 8 * unit(rng), ink_level = 30 + 15 * unit(rng);
  cv::Mat field(5, 4, CV_32F);
  std::normal_distribution<float> patch(0.0f, 5.0f);
  for (int r = 0; r < field.rows; ++r)
    for (int c = 0; c < field.cols; ++c) field.at<float>(r, c) = patch(rng);
  cv::Mat paper;
  cv::resize(field, paper, work.size(), 0, 0, cv::INTER_CUBIC);
  paper += paper_level;
  cv::Mat span = paper - ink_level;
  cv::multiply(work, span, work);
  work += ink_level;
  cv::RNG cv_rng(rng());
  if (spec.noise_sigma > 0) {
    cv::Mat noise(work.size(), CV_32F);
    cv_rng.fill(noise, cv::RNG::NORMAL, 0.0, spec.noise_sigma);
    work += noise;
  }
  if (spec.blur_sigma > 0) cv::GaussianBlur(work, work, cv::Size(0, 0), spec.blur_sigma);
  cv::Mat out;
  work.convertTo(out, CV_8U);
  for (int i = 0; i < spec.specks; ++i) {
    cv::Point center(static_cast<int>(unit(rng) * out.cols), static_cast<int>(unit(rng) * out.rows));
    cv::circle(out, center, 1 + static_cast<int>(2 * unit(rng)), cv::Scalar(20 + 70 * unit(rng)), cv::FILLED,
               cv::LINE_AA);
  }
  return out;
}

}  // namespace acervo::synth
