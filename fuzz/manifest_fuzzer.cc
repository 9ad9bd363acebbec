// Fuzzes the operator's manifest: ParseCsv on the raw bytes, then the whole
// PlanLot manifest path on a small real lot folder (two one-page images)
// whose manifest.csv is the input. Bad rows must become problems, never a
// crash; every document must reference pages that exist.
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/csv.h"
#include "acervo/pipeline/lot.h"

namespace {
namespace fs = std::filesystem;

const fs::path& LotDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("acervo-manifest-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    cv::Mat page(64, 48, CV_8UC1, cv::Scalar(255));
    cv::imwrite((d / "a.png").string(), page);
    cv::imwrite((d / "b.png").string(), page);
    std::atexit([] { std::error_code ec; fs::remove_all(LotDir(), ec); });
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)acervo::ParseCsv(text, "manifest.csv");
  const fs::path& dir = LotDir();
  {
    // A plain write: fsync per iteration would make fuzzing 100x slower.
    std::ofstream out(dir / "manifest.csv", std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) std::abort();
  }
  acervo::Result<acervo::LotPlan> plan = acervo::PlanLot(dir);
  if (!plan.ok()) return 0;  // an unparsable manifest refuses the lot: fine
  std::set<std::string> file_names;
  for (const acervo::DocumentPlan& d : plan->documents) {
    for (const acervo::PageRef& p : d.pages) {
      if (p.file < 0 || p.file >= static_cast<int>(plan->files.size())) std::abort();
      if (p.page_in_file < 1 || p.page_in_file > plan->files[p.file].pages) std::abort();
    }
    // Issue 12: every text is clean; a document that will be written has a
    // file name of its own (letter case aside) that stays in its folder.
    for (const std::string* t : {&d.id, &d.title, &d.type}) {
      if (!acervo::TextProblem(*t).empty()) std::abort();
    }
    for (const auto& [k, v] : d.fields) {
      if (!acervo::TextProblem(k).empty() || !acervo::TextProblem(v).empty()) std::abort();
    }
    if (!d.errors.empty()) continue;
    if (d.file_name.empty() || d.file_name.find('/') != std::string::npos || d.file_name[0] == '.') std::abort();
    std::string folded = d.file_name;
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!file_names.insert(folded).second) std::abort();
  }
  return 0;
}
