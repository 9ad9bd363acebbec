// GenerateLot: a lot spec (TOML, see samples/demo/README.md) -> a lot folder
// in the formats of docs/formats.md, with exact ground truth.
//
// A linear driver: read the spec, plan every page and file, render the pages
// (in parallel: each page has its own seed, so order does not matter), write
// the files (in parallel), then manifest.csv, profile.toml and ground-truth/.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <functional>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <toml++/toml.h>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "lot_internal.h"
#include "markup.h"

namespace acervo::synth {
namespace {

namespace fs = std::filesystem;

// splitmix64: spreads (lot seed, page number) into independent page seeds.
uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Result<std::string> ReadText(const fs::path& path) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path));
  return std::string(bytes.begin(), bytes.end());
}

struct FormatInfo {
  std::string_view name;
  FileFormat format;
  std::string_view extension;
  bool multi_page;
};
constexpr FormatInfo kFormats[] = {
    {"tiff", FileFormat::kTiffNone, ".tif", true},
    {"tiff-lzw", FileFormat::kTiffLzw, ".tif", true},
    {"tiff-g4", FileFormat::kTiffG4, ".tif", true},
    {"png", FileFormat::kPng, ".png", false},
    {"jpeg", FileFormat::kJpeg, ".jpg", false},
};

// Applies the degradation keys present in `t` onto `spec` (defaults first,
// then a page's own overrides).
Status ApplyDegradation(const toml::table& t, PageSpec* spec, const std::string& where) {
  static const std::set<std::string, std::less<>> kKnown = {
      "skew",        "orientation", "blank",        "seed",       "noise_sigma", "blur_sigma",
      "specks",      "paper_tint",  "punch_holes",  "dark_border", "bleed_through"};
  for (const auto& [key, node] : t) {
    if (!kKnown.count(key.str())) {
      return Status::InvalidArgument(where + ": unknown key '" + std::string(key.str()) + "'");
    }
  }
  auto number = [&](std::string_view key, double* out) -> Status {
    if (const toml::node* n = t.get(key)) {
      std::optional<double> v = n->value<double>();
      if (!v) return Status::InvalidArgument(where + ": '" + std::string(key) + "' must be a number");
      *out = *v;
    }
    return Status::OK();
  };
  auto flag = [&](std::string_view key, bool* out) -> Status {
    if (const toml::node* n = t.get(key)) {
      std::optional<bool> v = n->value<bool>();
      if (!v) return Status::InvalidArgument(where + ": '" + std::string(key) + "' must be true/false");
      *out = *v;
    }
    return Status::OK();
  };
  ACERVO_RETURN_IF_ERROR(number("skew", &spec->skew_deg));
  ACERVO_RETURN_IF_ERROR(number("noise_sigma", &spec->noise_sigma));
  ACERVO_RETURN_IF_ERROR(number("blur_sigma", &spec->blur_sigma));
  ACERVO_RETURN_IF_ERROR(number("bleed_through", &spec->bleed_through));
  ACERVO_RETURN_IF_ERROR(flag("paper_tint", &spec->paper_tint));
  ACERVO_RETURN_IF_ERROR(flag("punch_holes", &spec->punch_holes));
  ACERVO_RETURN_IF_ERROR(flag("dark_border", &spec->dark_border));
  double v = spec->orientation_deg;
  ACERVO_RETURN_IF_ERROR(number("orientation", &v));
  spec->orientation_deg = static_cast<int>(v);
  v = spec->specks;
  ACERVO_RETURN_IF_ERROR(number("specks", &v));
  spec->specks = static_cast<int>(v);
  return Status::OK();
}

// ---- output text formats ----------------------------------------------------

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04X", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

Result<std::string> TomlValue(const toml::node& node, const std::string& where) {
  if (const auto* s = node.as_string()) return TomlString(s->get());
  if (const auto* b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* f = node.as_floating_point()) return FormatNumber(f->get());
  if (const auto* a = node.as_array()) {
    std::string out = "[";
    for (size_t k = 0; k < a->size(); ++k) {
      ACERVO_ASSIGN_OR_RETURN(std::string item, TomlValue(*a->get(k), where));
      out += (k > 0 ? ", " : "") + item;
    }
    return out + "]";
  }
  return Status::InvalidArgument(where + ": only strings, numbers, booleans and arrays are "
                                 "copied to profile.toml");
}

// Key = value lines of a table, the usual keys first in the usual order.
Result<std::string> TomlTableBody(const toml::table& t, std::initializer_list<std::string_view> order,
                                  const std::string& where) {
  std::string out;
  std::set<std::string, std::less<>> done;
  auto emit = [&](std::string_view key, const toml::node& node) -> Status {
    ACERVO_ASSIGN_OR_RETURN(std::string value, TomlValue(node, where + "." + std::string(key)));
    out += std::string(key) + " = " + value + "\n";
    done.insert(std::string(key));
    return Status::OK();
  };
  for (std::string_view key : order) {
    if (const toml::node* n = t.get(key)) ACERVO_RETURN_IF_ERROR(emit(key, *n));
  }
  for (const auto& [key, node] : t) {
    if (!done.count(key.str())) ACERVO_RETURN_IF_ERROR(emit(key.str(), node));
  }
  return out;
}

// Makes `dir` ready: created if absent; if it holds a lot generated earlier
// (ground-truth/pages.tsv), that lot's files are removed so no stale page
// survives; any other non-empty folder is refused rather than mixed into.
Status PrepareOutDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(dir.string() + ": " + ec.message());
    return Status::OK();
  }
  if (!fs::is_directory(dir, ec)) return Status::InvalidArgument(dir.string() + " is not a folder");
  const bool generated = fs::exists(dir / "ground-truth" / "pages.tsv", ec);
  bool empty = true;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    (void)e;
    empty = false;
    break;
  }
  if (empty) return Status::OK();
  if (!generated) {
    return Status::InvalidArgument(dir.string() +
                                   " is not empty and is not a generated lot; refusing to write");
  }
  static const std::set<std::string> kOwned = {".tif", ".tiff", ".png", ".jpg", ".jpeg"};
  std::vector<fs::path> doomed;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() &&
        (kOwned.count(e.path().extension().string()) || name == "manifest.csv" ||
         name == "profile.toml" || name.rfind(kTempPrefix, 0) == 0)) {
      doomed.push_back(e.path());
    }
  }
  if (ec) return Status::IOError(dir.string() + ": " + ec.message());
  for (const fs::path& p : doomed) {
    fs::remove(p, ec);
    if (ec) return Status::IOError(p.string() + ": " + ec.message());
  }
  fs::remove_all(dir / "ground-truth", ec);
  if (ec) return Status::IOError((dir / "ground-truth").string() + ": " + ec.message());
  return Status::OK();
}

// Runs job(i) for i in [0, n) on a few threads; returns the first failure.
Status ParallelFor(size_t n, const std::function<Status(size_t)>& job) {
  const size_t threads =
      std::min<size_t>(n, std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4));
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Status> failure;
  auto worker = [&]() {
    for (size_t i = next++; i < n; i = next++) {
      Status s = job(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = s;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return failure ? *failure : Status::OK();
}

}  // namespace

std::string FormatNumber(double v) {
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, r.ptr);
  // TOML floats need a fraction or exponent; pages.tsv readers do not care.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

namespace {

// PlanLot's reading of one lot spec: each step reads one part of it into
// the plan, in order ([generator], the profile tables, each document).
struct SpecReader {
  std::string where;  // the spec's path, for messages
  fs::path base;      // text files are relative to the spec
  PageSpec defaults;
  uint64_t lot_seed = 1;
  double body_pt = 11;
  LotPlan plan;
  std::set<std::string> ids;
  std::set<std::string> file_names;
  int sequence = 0;  // pages of the lot so far

  // [generator]: seed, resolution, font, margins and the default degradation.
  Status ReadGenerator(const toml::table& root) {
    if (const toml::table* g = root["generator"].as_table()) {
      lot_seed = static_cast<uint64_t>((*g)["seed"].value_or<int64_t>(1));
      defaults.dpi = (*g)["dpi"].value_or(defaults.dpi);
      defaults.font_family = (*g)["font"].value_or(defaults.font_family);
      defaults.margin_mm = (*g)["margin_mm"].value_or(defaults.margin_mm);
      body_pt = (*g)["font_size_pt"].value_or(body_pt);
      if (const toml::table* d = (*g)["degradation"].as_table()) {
        ACERVO_RETURN_IF_ERROR(ApplyDegradation(*d, &defaults, where + ": [generator.degradation]"));
      }
    }
    plan.dpi = defaults.dpi;
    return Status::OK();
  }

  // The lot profile: [lot], [image], [ocr] and [[fields]] copied as they are.
  Status ReadProfile(const toml::table& root, const fs::path& spec_path) {
    for (std::string_view table : {"lot", "image", "ocr"}) {
      if (root.contains(table) && !root[table].is_table()) {
        return Status::InvalidArgument(where + ": [" + std::string(table) + "] must be a table");
      }
    }
    if (!root["lot"].is_table() || !root["lot"]["id"].is_string()) {
      return Status::InvalidArgument(where + ": [lot] id is required");
    }
    std::string profile =
        "# Lot profile written by acervo-synth from " + spec_path.filename().string() + ".\n\n[lot]\n";
    ACERVO_ASSIGN_OR_RETURN(
        std::string lot_body,
        TomlTableBody(*root["lot"].as_table(), {"id", "project", "box", "operator", "description"}, "[lot]"));
    profile += lot_body;
    if (const toml::table* t = root["image"].as_table()) {
      ACERVO_ASSIGN_OR_RETURN(std::string body,
                              TomlTableBody(*t, {"orientation", "deskew", "blank_detection"}, "[image]"));
      profile += "\n[image]\n" + body;
    }
    if (const toml::table* t = root["ocr"].as_table()) {
      ACERVO_ASSIGN_OR_RETURN(std::string body, TomlTableBody(*t, {"languages", "min_confidence"}, "[ocr]"));
      profile += "\n[ocr]\n" + body;
    }
    if (const toml::array* fields = root["fields"].as_array()) {
      for (const toml::node& f : *fields) {
        const toml::table* t = f.as_table();
        if (t == nullptr || !(*t)["name"].is_string()) {
          return Status::InvalidArgument(where + ": every [[fields]] needs a name");
        }
        plan.field_names.push_back((*t)["name"].value_or(std::string()));
        plan.required_fields.push_back((*t)["required"].value_or(false));
        ACERVO_ASSIGN_OR_RETURN(std::string body,
                                TomlTableBody(*t, {"name", "label", "type", "required"}, "[[fields]]"));
        profile += "\n[[fields]]\n" + body;
      }
    }
    plan.profile_toml = std::move(profile);
    return Status::OK();
  }

  // A document's index fields: only declared ones, required ones present.
  Status ReadFields(const toml::table& t, const std::string& dwhere, PlannedDocument& doc) {
    if (const toml::table* f = t["fields"].as_table()) {
      for (const auto& [key, node] : *f) {
        if (std::find(plan.field_names.begin(), plan.field_names.end(), key.str()) == plan.field_names.end()) {
          return Status::InvalidArgument(dwhere + ": field '" + std::string(key.str()) +
                                         "' is not declared in [[fields]]");
        }
        std::optional<std::string> v = node.value<std::string>();
        if (!v) return Status::InvalidArgument(dwhere + ": field values must be strings");
        doc.fields[std::string(key.str())] = *v;
      }
    }
    for (size_t k = 0; k < plan.field_names.size(); ++k) {
      if (plan.required_fields[k] && !doc.fields.count(plan.field_names[k])) {
        return Status::InvalidArgument(dwhere + ": required field '" + plan.field_names[k] + "' missing");
      }
    }
    return Status::OK();
  }

  // A document's pages: one markup page of its text per non-blank page; a
  // blank back side shows its own front through the paper.
  Result<std::vector<PlannedPage>> PlanPages(const toml::table& t, const std::string& dwhere,
                                             const PlannedDocument& doc) {
    const std::string text_rel = t["text"].value_or(std::string());
    std::vector<std::vector<TextBlock>> text_pages;
    if (!text_rel.empty()) {
      ACERVO_ASSIGN_OR_RETURN(std::string text, ReadText(base / text_rel));
      text_pages = ParsePages(text, body_pt);
    }
    const toml::array* pages = t["pages"].as_array();
    if (pages == nullptr || pages->empty()) return Status::InvalidArgument(dwhere + ": no pages");
    PageSpec doc_defaults = defaults;
    doc_defaults.font_family = t["font"].value_or(defaults.font_family);

    size_t next_text = 0;
    const std::vector<TextBlock>* last_front = nullptr;
    std::vector<PlannedPage> doc_pages;
    for (size_t p = 0; p < pages->size(); ++p) {
      const toml::table* pt = pages->get(p)->as_table();
      const std::string pwhere = dwhere + " page " + std::to_string(p + 1);
      if (pt == nullptr) return Status::InvalidArgument(pwhere + ": must be a table");
      PlannedPage page;
      page.spec = doc_defaults;
      ACERVO_RETURN_IF_ERROR(ApplyDegradation(*pt, &page.spec, pwhere));
      page.blank = (*pt)["blank"].value_or(false);
      ++sequence;
      page.sequence = sequence;
      page.spec.seed = (*pt)["seed"].is_integer()
                           ? static_cast<uint64_t>((*pt)["seed"].value_or<int64_t>(0))
                           : MixSeed(lot_seed * 1000003u + static_cast<uint64_t>(sequence));
      if (page.blank) {
        if (last_front != nullptr) page.spec.back_blocks = *last_front;
      } else {
        if (next_text >= text_pages.size()) {
          return Status::InvalidArgument(pwhere + ": the text has only " + std::to_string(text_pages.size()) +
                                         " page(s)");
        }
        page.spec.blocks = text_pages[next_text++];
        last_front = &text_pages[next_text - 1];
      }
      page.document_id = doc.id;
      page.page_in_document = static_cast<int>(p + 1);
      doc_pages.push_back(std::move(page));
    }
    if (next_text != text_pages.size()) {
      return Status::InvalidArgument(dwhere + ": the text has " + std::to_string(text_pages.size()) +
                                     " page(s) but only " + std::to_string(next_text) +
                                     " non-blank page(s) are listed");
    }
    return doc_pages;
  }

  // Files: a TIFF document is one multi-page file; otherwise one file a
  // page. Names are unique in the lot; the document lists its entries.
  Status PlanFiles(const FormatInfo& fmt, const std::string& stem, const std::string& dwhere,
                   std::vector<PlannedPage>& doc_pages, PlannedDocument& doc) {
    std::vector<std::string> entries;
    if (fmt.multi_page) {
      PlannedFile file{stem + std::string(fmt.extension), fmt.format, {}};
      for (size_t p = 0; p < doc_pages.size(); ++p) {
        doc_pages[p].file = file.name;
        doc_pages[p].page_in_file = static_cast<int>(p + 1);
        file.page_indices.push_back(plan.pages.size() + p);
        entries.push_back(doc_pages.size() > 1 ? file.name + "#" + std::to_string(p + 1) : file.name);
      }
      plan.files.push_back(std::move(file));
    } else {
      for (size_t p = 0; p < doc_pages.size(); ++p) {
        std::string name =
            stem + (doc_pages.size() > 1 ? "-p" + std::to_string(p + 1) : "") + std::string(fmt.extension);
        doc_pages[p].file = name;
        doc_pages[p].page_in_file = 1;
        plan.files.push_back({name, fmt.format, {plan.pages.size() + p}});
        entries.push_back(name);
      }
    }
    for (const PlannedPage& page : doc_pages) {
      if (page.page_in_file == 1 && !file_names.insert(page.file).second) {
        return Status::InvalidArgument(dwhere + ": file name '" + page.file + "' used twice");
      }
    }
    for (size_t k = 0; k < entries.size(); ++k) doc.files += (k > 0 ? ";" : "") + entries[k];
    return Status::OK();
  }

  // One [[documents]] table: id, type, title, format, fields, pages, files.
  Status ReadDocument(size_t d, const toml::node* node) {
    const toml::table* t = node->as_table();
    if (t == nullptr) return Status::InvalidArgument(where + ": [[documents]] must be tables");
    PlannedDocument doc;
    doc.id = (*t)["id"].value_or(std::string());
    doc.type = (*t)["type"].value_or(std::string());
    doc.title = (*t)["title"].value_or(std::string());
    const std::string dwhere = where + ": document " + std::to_string(d + 1) + " (" + doc.id + ")";
    if (doc.id.empty() || doc.type.empty() || doc.title.empty()) {
      return Status::InvalidArgument(dwhere + ": id, type and title are required");
    }
    if (!ids.insert(doc.id).second) return Status::InvalidArgument(dwhere + ": duplicate id");
    const std::string format_name = (*t)["format"].value_or(std::string("png"));
    const FormatInfo* fmt = nullptr;
    for (const FormatInfo& f : kFormats) {
      if (f.name == format_name) fmt = &f;
    }
    if (fmt == nullptr) {
      return Status::InvalidArgument(dwhere + ": unknown format '" + format_name +
                                     "' (tiff, tiff-lzw, tiff-g4, png, jpeg)");
    }
    ACERVO_RETURN_IF_ERROR(ReadFields(*t, dwhere, doc));
    ACERVO_ASSIGN_OR_RETURN(std::vector<PlannedPage> doc_pages, PlanPages(*t, dwhere, doc));
    ACERVO_RETURN_IF_ERROR(PlanFiles(*fmt, (*t)["file"].value_or(doc.id), dwhere, doc_pages, doc));
    for (PlannedPage& page : doc_pages) plan.pages.push_back(std::move(page));
    plan.documents.push_back(std::move(doc));
    return Status::OK();
  }
};

}  // namespace

Result<LotPlan> PlanLot(const fs::path& spec_path) {
  toml::table root;
  try {
    root = toml::parse_file(spec_path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << spec_path.string() << ":" << e.source().begin.line << ": " << e.description();
    return Status::InvalidArgument(msg.str());
  }
  SpecReader r;
  r.where = spec_path.string();
  r.base = spec_path.parent_path();
  ACERVO_RETURN_IF_ERROR(r.ReadGenerator(root));
  ACERVO_RETURN_IF_ERROR(r.ReadProfile(root, spec_path));
  const toml::array* docs = root["documents"].as_array();
  if (docs == nullptr || docs->empty()) return Status::InvalidArgument(r.where + ": no [[documents]]");
  for (size_t d = 0; d < docs->size(); ++d) ACERVO_RETURN_IF_ERROR(r.ReadDocument(d, docs->get(d)));
  return std::move(r.plan);
}

Status GenerateLot(const fs::path& spec_path, const fs::path& out_dir) {
  ACERVO_ASSIGN_OR_RETURN(LotPlan plan, PlanLot(spec_path));
  ACERVO_RETURN_IF_ERROR(PrepareOutDir(out_dir));

  // Render every page.
  std::vector<SynthPage> rendered(plan.pages.size());
  ACERVO_RETURN_IF_ERROR(ParallelFor(plan.pages.size(), [&](size_t i) -> Status {
    const PlannedPage& p = plan.pages[i];
    Result<SynthPage> page = RenderPage(p.spec);
    if (!page.ok()) {
      return page.status().WithContext(p.document_id + " page " +
                                       std::to_string(p.page_in_document));
    }
    rendered[i] = std::move(page).value();
    return Status::OK();
  }));

  // Write the image files.
  ACERVO_RETURN_IF_ERROR(ParallelFor(plan.files.size(), [&](size_t i) -> Status {
    const PlannedFile& f = plan.files[i];
    std::vector<cv::Mat> images;
    for (size_t index : f.page_indices) images.push_back(rendered[index].image);
    return WritePages(out_dir / f.name, images, plan.dpi, f.format);
  }));

  // Ground truth.
  const fs::path gt_dir = out_dir / "ground-truth";
  std::error_code ec;
  fs::create_directories(gt_dir, ec);
  if (ec) return Status::IOError(gt_dir.string() + ": " + ec.message());
  std::string tsv =
      "file\tpage\tdocument_id\tpage_in_document\tskew_deg\torientation_deg\tblank\tgt_file\n";
  for (size_t i = 0; i < plan.pages.size(); ++i) {
    const PlannedPage& p = plan.pages[i];
    char gt_name[32];
    std::snprintf(gt_name, sizeof(gt_name), "%04d.txt", p.sequence);
    ACERVO_RETURN_IF_ERROR(WriteFileAtomic(gt_dir / gt_name, rendered[i].text));
    tsv += p.file + "\t" + std::to_string(p.page_in_file) + "\t" + p.document_id + "\t" +
           std::to_string(p.page_in_document) + "\t" + FormatNumber(p.spec.skew_deg) + "\t" +
           std::to_string(p.spec.orientation_deg) + "\t" + (p.blank ? "true" : "false") + "\t" +
           gt_name + "\n";
  }
  ACERVO_RETURN_IF_ERROR(WriteFileAtomic(gt_dir / "pages.tsv", tsv));

  // profile.toml, then manifest.csv last: its presence marks a complete lot.
  ACERVO_RETURN_IF_ERROR(WriteFileAtomic(out_dir / "profile.toml", plan.profile_toml));
  // Appended field by field (not with operator+ chains, which GCC 12 warns
  // about spuriously under -Wrestrict).
  std::string csv;
  auto row = [&csv](const std::vector<std::string>& fields) {
    for (size_t k = 0; k < fields.size(); ++k) {
      if (k > 0) csv.push_back(',');
      csv.append(CsvField(fields[k]));
    }
    csv.push_back('\n');
  };
  std::vector<std::string> header = {"document_id", "document_type", "title", "files"};
  header.insert(header.end(), plan.field_names.begin(), plan.field_names.end());
  row(header);
  for (const PlannedDocument& d : plan.documents) {
    std::vector<std::string> fields = {d.id, d.type, d.title, d.files};
    for (const std::string& name : plan.field_names) {
      auto it = d.fields.find(name);
      fields.push_back(it == d.fields.end() ? std::string() : it->second);
    }
    row(fields);
  }
  return WriteFileAtomic(out_dir / "manifest.csv", csv);
}

}  // namespace acervo::synth
