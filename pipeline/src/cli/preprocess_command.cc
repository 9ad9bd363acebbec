// acervo preprocess: the image stages of a lot profile (orientation, colour,
// deskew, border, clean, blank, binarize) on loose image files, writing the
// processed pages as PNG and, with --json, what each stage found.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/page_loader.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/scanner/image_file.h"
#include "acervo/stages/border/border.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// Maps a rectangle of the upright, deskewed page (size `upright`) back to the
// pixels of the input page (size `input`): undo the deskew rotation, then the
// quarter turn, and take the bounding box (exact when the skew is 0).
cv::Rect CropInInput(const cv::Rect& crop, cv::Size upright, cv::Size input, int orientation_deg,
                     double skew_deg) {
  const cv::Point2f center(0.5f * (upright.width - 1), 0.5f * (upright.height - 1));
  // The deskew stage turned the page by -skew; turning by +skew undoes it.
  const cv::Mat m = cv::getRotationMatrix2D(center, skew_deg, 1.0);
  float x_min = 1e9f, y_min = 1e9f, x_max = -1e9f, y_max = -1e9f;
  for (cv::Point2f p : {cv::Point2f(crop.x, crop.y), cv::Point2f(crop.x + crop.width, crop.y),
                        cv::Point2f(crop.x, crop.y + crop.height),
                        cv::Point2f(crop.x + crop.width, crop.y + crop.height)}) {
    const float x1 = static_cast<float>(m.at<double>(0, 0) * p.x + m.at<double>(0, 1) * p.y + m.at<double>(0, 2));
    const float y1 = static_cast<float>(m.at<double>(1, 0) * p.x + m.at<double>(1, 1) * p.y + m.at<double>(1, 2));
    // The orientation stage turned the input clockwise by orientation_deg.
    float x0 = x1, y0 = y1;
    switch (orientation_deg) {
      case 90: x0 = y1; y0 = input.height - x1; break;
      case 180: x0 = input.width - x1; y0 = input.height - y1; break;
      case 270: x0 = input.width - y1; y0 = x1; break;
      default: break;
    }
    x_min = std::min(x_min, x0);
    y_min = std::min(y_min, y0);
    x_max = std::max(x_max, x0);
    y_max = std::max(y_max, y0);
  }
  cv::Rect r(cv::Point(static_cast<int>(std::floor(x_min)), static_cast<int>(std::floor(y_min))),
             cv::Point(static_cast<int>(std::ceil(x_max)), static_cast<int>(std::ceil(y_max))));
  return r & cv::Rect(0, 0, input.width, input.height);
}

struct PreprocessArgs {
  std::vector<std::string> inputs;
  std::string out_dir;
  std::string profile;
  bool json = false;
  bool split = false;
};

// One `acervo preprocess` invocation: the stage chain of the profile, run on
// every page (or half of a spread) of every input; each result written as
// <stem>-NNN[-L|-R].png and reported. The command is a driver over these
// steps.
class Preprocess {
 public:
  Preprocess(const PreprocessArgs& a, const Context& ctx) : a_(a), ctx_(ctx) { page_ctx_.cancel = ctx.cancel; }

  int Run() {
    if (std::optional<int> bad = Setup()) return *bad;
    for (const std::string& input : a_.inputs) {
      if (!ProcessInput(input)) return kExitInterrupted;
    }
    if (a_.json) std::printf("%s\n", report_.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return failures_ > 0 ? kExitPartial : kExitOk;
  }

 private:
  // The profile and its chain, inputs whose outputs would collide, and the
  // output folder. An exit code when the command cannot start.
  std::optional<int> Setup() {
    if (!a_.profile.empty()) {
      Result<LotProfile> p = LoadProfile(a_.profile);
      if (!p.ok()) {
        std::fprintf(stderr, "acervo preprocess: %s\n", p.status().ToString().c_str());
        return ExitCodeFor(p.status());
      }
      profile_ = *p;
    }
    Result<StageChain> chain = BuildImageChain(profile_);
    if (!chain.ok()) {
      std::fprintf(stderr, "acervo preprocess: %s\n", chain.status().ToString().c_str());
      return ExitCodeFor(chain.status());
    }
    chain_ = std::move(chain).value();
    // The border stage remembers its crop; the report maps it back to input
    // pixels.
    for (const ChainEntry& e : chain_.entries) {
      if (const auto* b = dynamic_cast<const BorderStage*>(e.stage.get())) border_ = b;
    }
    // Outputs are <stem>-NNN.png: two inputs with one stem would overwrite
    // each other's pages, so they are refused up front (an output that
    // would replace an input is refused in WritePart).
    std::map<std::string, std::string> by_stem;
    for (const std::string& input : a_.inputs) {
      auto [at, first] = by_stem.emplace(fs::path(input).stem().string(), input);
      if (!first) {
        std::fprintf(stderr,
                     "acervo preprocess: %s and %s would both write %s-NNN.png; give inputs with different names\n",
                     TerminalText(at->second).c_str(), TerminalText(input).c_str(), TerminalText(at->first).c_str());
        return kExitUsage;
      }
    }
    std::error_code ec;
    fs::create_directories(a_.out_dir, ec);
    if (ec) {
      std::fprintf(stderr, "acervo preprocess: cannot create %s: %s\n", a_.out_dir.c_str(), ec.message().c_str());
      return kExitCannotRun;
    }
    return std::nullopt;
  }

  bool Cancelled() const { return ctx_.cancel != nullptr && ctx_.cancel->load(); }

  // A page that fails is told on stderr (with --json as a JSON object
  // there), never in the stdout array of processed pages.
  void Fail(const std::string& input, int page, const Status& s) {
    ++failures_;
    if (a_.json) {
      const json e = {{"input", input}, {"page", page}, {"error", s.ToString()}};
      std::fprintf(stderr, "%s\n", e.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      std::fprintf(stderr, "acervo preprocess: %s\n", TerminalText(s.ToString()).c_str());
    }
  }

  // Every page of one input file. False when cancelled.
  bool ProcessInput(const std::string& input) {
    const std::string name = fs::path(input).filename().string();
    Result<std::vector<uint8_t>> bytes = ReadFile(input);
    Result<ImageFileInfo> info = bytes.ok() ? ProbeImage(*bytes, name) : Result<ImageFileInfo>(bytes.status());
    if (!info.ok()) {
      Fail(input, 0, info.status());
      return true;
    }
    for (int page_no = 1; page_no <= info->pages; ++page_no) {
      if (Cancelled()) return false;
      ProcessPage(input, name, page_no);
    }
    return true;
  }

  // One page: loaded, split into the halves of a spread (the same decision
  // as `acervo run` with [image] split) or kept whole, each part cleaned
  // and written.
  void ProcessPage(const std::string& input, const std::string& name, int page_no) {
    const auto start = std::chrono::steady_clock::now();
    Result<Page> loaded = LoadPage(input, page_no, name);
    if (!loaded.ok()) {
      Fail(input, page_no, loaded.status());
      return;
    }
    std::vector<Page> parts;
    if (a_.split || profile_.split) {
      Result<std::vector<Page>> split = SplitIfSpread(std::move(loaded).value());
      if (!split.ok()) {
        Fail(input, page_no, split.status());
        return;
      }
      parts = std::move(split).value();
    } else {
      parts.push_back(std::move(loaded).value());
    }
    for (size_t part = 0; part < parts.size(); ++part) {
      const char* half = parts.size() == 1 ? "" : (part == 0 ? "left" : "right");
      ProcessPart(input, page_no, half, std::move(parts[part]), start);
    }
  }

  void ProcessPart(const std::string& input, int page_no, const std::string& half, Page page,
                   std::chrono::steady_clock::time_point start) {
    const int master_x = page.origin.master_x;
    const cv::Size input_size = page.image.size();
    cv::Mat processed;
    StageObserver observer;
    observer.before_release = [&processed](const Page& p) { processed = p.image; };
    Result<Page> out = chain_.Run(std::move(page), page_ctx_, &observer);
    if (!out.ok()) {
      Fail(input, page_no, out.status());
      return;
    }
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), "-%03d%s.png", page_no,
                  half.empty() ? "" : (half == "left" ? "-L" : "-R"));
    const fs::path out_path = fs::path(a_.out_dir) / (fs::path(input).stem().string() + suffix);
    const bool bitonal =
        processed.channels() == 1 && cv::countNonZero((processed != 0) & (processed != 255)) == 0;
    if (Status s = WritePart(out_path, processed, bitonal); !s.ok()) {
      Fail(input, page_no, s);
      return;
    }
    const cv::Size upright = (out->orientation_deg == 90 || out->orientation_deg == 270)
                                 ? cv::Size(input_size.height, input_size.width)
                                 : input_size;
    cv::Rect crop(0, 0, input_size.width, input_size.height);
    if (border_ != nullptr) {
      crop = CropInInput(border_->last_crop(), upright, input_size, out->orientation_deg, out->skew_deg);
    }
    crop.x += master_x;  // in the spread's pixels
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    json j = {{"input", input},
              {"page", page_no},
              {"orientation_deg", out->orientation_deg},
              {"skew_deg", std::round(out->skew_deg * 1000) / 1000},
              {"blank", out->blank},
              {"blank_score", std::round(out->blank_score * 1000) / 1000},
              {"color_class", std::string(ColorClassName(out->color_class))},
              {"crop", {{"x", crop.x}, {"y", crop.y}, {"w", crop.width}, {"h", crop.height}}},
              {"ms", std::round(ms * 10) / 10},
              {"output", out_path.string()},
              {"width", processed.cols},
              {"height", processed.rows},
              {"bitonal", bitonal},
              {"flags", out->flags}};
    if (!half.empty()) j["half"] = half;
    report_.push_back(std::move(j));
    if (!a_.json) {
      std::printf("%s page %d%s: %s  orientation %d, skew %.2f, %s%s\n", TerminalText(input).c_str(), page_no,
                  half.empty() ? "" : (" " + half).c_str(), TerminalText(out_path.string()).c_str(),
                  out->orientation_deg, out->skew_deg, std::string(ColorClassName(out->color_class)).c_str(),
                  out->blank ? ", blank" : "");
    }
  }

  // The cleaned page as PNG (1-bit when it is black and white), written
  // whole or not at all. Originals are never modified: an output that is
  // one of the inputs (same file) is refused.
  Status WritePart(const fs::path& out_path, const cv::Mat& processed, bool bitonal) {
    std::vector<uint8_t> png;
    std::vector<int> params;
    if (bitonal) params = {cv::IMWRITE_PNG_BILEVEL, 1};
    if (!cv::imencode(".png", processed, png, params)) {
      return Status::IOError(out_path.string() + ": cannot encode PNG");
    }
    std::error_code same_ec;
    const bool is_input = std::any_of(a_.inputs.begin(), a_.inputs.end(), [&](const std::string& in) {
      return fs::equivalent(out_path, in, same_ec);
    });
    if (is_input) {
      return Status::InvalidArgument(out_path.string() + " is an input; not overwritten (write to another --out folder)");
    }
    return WriteFileAtomic(out_path, png);
  }

  const PreprocessArgs& a_;
  const Context& ctx_;
  LotProfile profile_;
  StageChain chain_;
  const BorderStage* border_ = nullptr;
  PageContext page_ctx_;
  json report_ = json::array();
  int failures_ = 0;
};

}  // namespace

Command AddPreprocessCommand(CLI::App& root, const Context& ctx) {
  auto a = std::make_shared<PreprocessArgs>();
  CLI::App* cmd = root.add_subcommand(
      "preprocess", "Clean page images: orientation, deskew, borders, noise, binarisation, blank and colour");
  cmd->add_option("IMAGE", a->inputs, "Page images (TIFF incl. multi-page, PNG, JPEG)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out_dir, "Folder for the processed pages (PNG)")->required();
  cmd->add_option("--profile", a->profile, "Lot profile whose [image] section to use (default: all stages on)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--split", a->split,
                "Split two-page spreads into two pages first (also on with the profile's [image] split)");
  cmd->add_flag("--json", a->json, "Print one JSON object per page (a JSON array) on stdout");
  return {cmd, [a, &ctx]() -> int { return Preprocess(*a, ctx).Run(); }};
}

}  // namespace acervo::cli
