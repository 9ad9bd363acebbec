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

}  // namespace

Command AddPreprocessCommand(CLI::App& root, const Context& ctx) {
  struct Args {
    std::vector<std::string> inputs;
    std::string out_dir;
    std::string profile;
    bool json = false;
    bool split = false;
  };
  auto a = std::make_shared<Args>();
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
  return {cmd, [a, &ctx]() -> int {
            LotProfile profile;
            if (!a->profile.empty()) {
              Result<LotProfile> p = LoadProfile(a->profile);
              if (!p.ok()) {
                std::fprintf(stderr, "acervo preprocess: %s\n", p.status().ToString().c_str());
                return ExitCodeFor(p.status());
              }
              profile = *p;
            }
            Result<StageChain> chain = BuildImageChain(profile);
            if (!chain.ok()) {
              std::fprintf(stderr, "acervo preprocess: %s\n", chain.status().ToString().c_str());
              return ExitCodeFor(chain.status());
            }
            // The border stage remembers its crop; the report maps it back
            // to input pixels.
            const BorderStage* border = nullptr;
            for (const ChainEntry& e : chain->entries) {
              if (const auto* b = dynamic_cast<const BorderStage*>(e.stage.get())) border = b;
            }
            // Outputs are <stem>-NNN.png: two inputs with one stem would
            // overwrite each other's pages, so they are refused up front
            // (an output that would replace an input is refused below).
            {
              std::map<std::string, std::string> by_stem;
              for (const std::string& input : a->inputs) {
                auto [at, first] = by_stem.emplace(fs::path(input).stem().string(), input);
                if (!first) {
                  std::fprintf(stderr, "acervo preprocess: %s and %s would both write %s-NNN.png; give inputs "
                                       "with different names\n",
                               TerminalText(at->second).c_str(), TerminalText(input).c_str(),
                               TerminalText(at->first).c_str());
                  return kExitUsage;
                }
              }
            }
            std::error_code ec;
            fs::create_directories(a->out_dir, ec);
            if (ec) {
              std::fprintf(stderr, "acervo preprocess: cannot create %s: %s\n", a->out_dir.c_str(),
                           ec.message().c_str());
              return kExitCannotRun;
            }
            json report = json::array();
            int failures = 0;
            // A page that fails is told on stderr (with --json as a JSON
            // object there), never in the stdout array of processed pages.
            auto fail = [&](const std::string& input, int page, const Status& s) {
              ++failures;
              if (a->json) {
                const json e = {{"input", input}, {"page", page}, {"error", s.ToString()}};
                std::fprintf(stderr, "%s\n", e.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
              } else {
                std::fprintf(stderr, "acervo preprocess: %s\n", TerminalText(s.ToString()).c_str());
              }
            };
            PageContext page_ctx;
            page_ctx.cancel = ctx.cancel;
            for (const std::string& input : a->inputs) {
              const std::string name = fs::path(input).filename().string();
              Result<std::vector<uint8_t>> bytes = ReadFile(input);
              Result<ImageFileInfo> info =
                  bytes.ok() ? ProbeImage(*bytes, name) : Result<ImageFileInfo>(bytes.status());
              if (!info.ok()) {
                fail(input, 0, info.status());
                continue;
              }
              for (int page_no = 1; page_no <= info->pages; ++page_no) {
                if (ctx.cancel != nullptr && ctx.cancel->load()) return kExitInterrupted;
                const auto start = std::chrono::steady_clock::now();
                Result<Page> loaded = LoadPage(input, page_no, name);
                if (!loaded.ok()) {
                  fail(input, page_no, loaded.status());
                  continue;
                }
                // Halves of a spread, or the page itself (the same decision
                // as `acervo run` with [image] split).
                std::vector<Page> parts;
                if (a->split || profile.split) {
                  Result<std::vector<Page>> split = SplitIfSpread(std::move(loaded).value());
                  if (!split.ok()) {
                    fail(input, page_no, split.status());
                    continue;
                  }
                  parts = std::move(split).value();
                } else {
                  parts.push_back(std::move(loaded).value());
                }
                for (size_t part = 0; part < parts.size(); ++part) {
                  Page page = std::move(parts[part]);
                  const int master_x = page.origin.master_x;
                  const cv::Size input_size = page.image.size();
                  cv::Mat processed;
                  StageObserver observer;
                  observer.before_release = [&processed](const Page& p) { processed = p.image; };
                  Result<Page> out = chain->Run(std::move(page), page_ctx, &observer);
                  if (!out.ok()) {
                    fail(input, page_no, out.status());
                    continue;
                  }
                  std::string stem = fs::path(input).stem().string();
                  char suffix[32];
                  std::snprintf(suffix, sizeof(suffix), "-%03d%s.png", page_no,
                                parts.size() == 1 ? "" : (part == 0 ? "-L" : "-R"));
                  const fs::path out_path = fs::path(a->out_dir) / (stem + suffix);
                  std::vector<uint8_t> png;
                  std::vector<int> params;
                  const bool bitonal = processed.channels() == 1 &&
                                       cv::countNonZero((processed != 0) & (processed != 255)) == 0;
                  if (bitonal) params = {cv::IMWRITE_PNG_BILEVEL, 1};
                  if (!cv::imencode(".png", processed, png, params)) {
                    fail(input, page_no, Status::IOError(out_path.string() + ": cannot encode PNG"));
                    continue;
                  }
                  // Originals are never modified: an output that is one of
                  // the inputs (same file) is refused.
                  std::error_code same_ec;
                  const bool is_input = std::any_of(a->inputs.begin(), a->inputs.end(), [&](const std::string& in) {
                    return fs::equivalent(out_path, in, same_ec);
                  });
                  if (is_input) {
                    fail(input, page_no, Status::InvalidArgument(out_path.string() + " is an input; not overwritten "
                                                                 "(write to another --out folder)"));
                    continue;
                  }
                  if (Status s = WriteFileAtomic(out_path, png); !s.ok()) {
                    fail(input, page_no, s);
                    continue;
                  }
                  const cv::Size upright = (out->orientation_deg == 90 || out->orientation_deg == 270)
                                               ? cv::Size(input_size.height, input_size.width)
                                               : input_size;
                  cv::Rect crop(0, 0, input_size.width, input_size.height);
                  if (border != nullptr) {
                    crop = CropInInput(border->last_crop(), upright, input_size, out->orientation_deg,
                                       out->skew_deg);
                  }
                  crop.x += master_x;  // in the spread's pixels
                  const double ms = std::chrono::duration<double, std::milli>(
                                        std::chrono::steady_clock::now() - start).count();
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
                  if (parts.size() > 1) j["half"] = part == 0 ? "left" : "right";
                  report.push_back(std::move(j));
                  if (!a->json) {
                    std::printf("%s page %d%s: %s  orientation %d, skew %.2f, %s%s\n", TerminalText(input).c_str(),
                                page_no, parts.size() == 1 ? "" : (part == 0 ? " left" : " right"),
                                TerminalText(out_path.string()).c_str(), out->orientation_deg, out->skew_deg,
                                std::string(ColorClassName(out->color_class)).c_str(),
                                out->blank ? ", blank" : "");
                  }
                }
              }
            }
            if (a->json) std::printf("%s\n", report.dump(2, ' ', false, json::error_handler_t::replace).c_str());
            return failures > 0 ? kExitPartial : kExitOk;
          }};
}

}  // namespace acervo::cli
