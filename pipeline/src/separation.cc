#include "acervo/pipeline/separation.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <opencv2/imgproc.hpp>

#include "acervo/pipeline/page_loader.h"
#include "acervo/stages/barcode/barcode.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, size_t offset) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return Status::InvalidArgument("truncated %-escape at position " + std::to_string(offset + i + 1));
    }
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("bad %-escape at position " + std::to_string(offset + i + 1));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    // Keep what is safe in every barcode reader's output and in our syntax.
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Share of ink pixels after Otsu (on a 50-dpi copy), ignoring a margin where
// scanner shadows and punch holes live.
double InkShare(const cv::Mat& image, double dpi) {
  cv::Mat gray;
  if (image.type() == CV_8UC3) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  else gray = image;
  const double scale = std::min(1.0, 50.0 / dpi);
  cv::Mat small;
  cv::resize(gray, small, cv::Size(), scale, scale, cv::INTER_AREA);
  const int mx = small.cols / 12, my = small.rows / 12;
  cv::Mat inner = small(cv::Rect(mx, my, small.cols - 2 * mx, small.rows - 2 * my));
  // A fixed threshold, not Otsu: on an empty page Otsu splits paper noise.
  cv::Mat bin;
  cv::threshold(inner, bin, 128, 255, cv::THRESH_BINARY_INV);
  return static_cast<double>(cv::countNonZero(bin)) / static_cast<double>(bin.total());
}

std::string Where(const InputFile& f, int page) {
  return f.pages == 1 ? f.name : f.name + " page " + std::to_string(page);
}

}  // namespace

Result<SeparatorPayload> ParseSeparatorPayload(std::string_view text, std::string_view prefix) {
  if (prefix.empty() || text.substr(0, prefix.size()) != prefix ||
      (text.size() > prefix.size() && text[prefix.size()] != ';')) {
    return Status::NotFound("not a separator payload");
  }
  SeparatorPayload p;
  size_t pos = prefix.size();
  while (pos < text.size()) {
    ++pos;  // the ';'
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(pos, end - pos);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return Status::InvalidArgument("separator payload: expected key=value at position " +
                                       std::to_string(pos + 1));
      }
      ACERVO_ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq), pos));
      ACERVO_ASSIGN_OR_RETURN(std::string value, PercentDecode(pair.substr(eq + 1), pos + eq + 1));
      if (key == "type") p.type = value;
      else if (key == "id") p.id = value;
      else if (key == "title") p.title = value;
      else p.fields.emplace_back(key, value);
    }
    pos = end;
  }
  return p;
}

std::string FormatSeparatorPayload(std::string_view prefix, const SeparatorPayload& payload) {
  std::string s(prefix);
  auto add = [&](std::string_view k, std::string_view v) {
    if (v.empty()) return;
    s += ';';
    s += PercentEncode(k);
    s += '=';
    s += PercentEncode(v);
  };
  add("type", payload.type);
  add("id", payload.id);
  add("title", payload.title);
  for (const auto& [k, v] : payload.fields) add(k, v);
  return s;
}

Result<PageSignal> ClassifyPage(const cv::Mat& image, double dpi, const SeparationRule& rule) {
  PageSignal sig;
  if (image.empty()) return Status::InvalidArgument("empty image");
  switch (rule.kind) {
    case SeparationRule::Kind::kBarcode: {
      ACERVO_ASSIGN_OR_RETURN(std::vector<DecodedBarcode> codes, DecodeBarcodes(image));
      for (const DecodedBarcode& c : codes) {
        if (ParseSeparatorPayload(c.text, rule.prefix).status().code() == StatusCode::kNotFound) continue;
        sig.separator = true;
        sig.kind = "barcode " + c.format;
        sig.payload = c.text;
        break;
      }
      return sig;
    }
    case SeparationRule::Kind::kPatch: {
      std::optional<PatchCode> code = DetectPatchCode(image, dpi);
      if (!code) return sig;
      const std::string name(PatchCodeName(*code));
      const auto wanted = [&rule](std::string_view n) {
        return std::find(rule.patch_codes.begin(), rule.patch_codes.end(), n) != rule.patch_codes.end();
      };
      if (wanted(name)) {
        sig.separator = true;
        sig.kind = "patch " + name;
        return sig;
      }
      // A sheet fed upside down reads its bars in reverse: T reads as III and
      // VI as I. When the profile uses only one of such a pair, the reversed
      // reading can only be that code turned over, and operators do feed
      // sheets upside down; when it uses both, the reading is taken as is.
      const std::string twin(PatchCodeName(UpsideDownPatchCode(*code)));
      if (twin != name && wanted(twin)) {
        sig.separator = true;
        sig.kind = "patch " + twin + " (upside down)";
      }
      return sig;
    }
    case SeparationRule::Kind::kBlank:
      if (InkShare(image, dpi) <= rule.blank_max_ink) {
        sig.separator = true;
        sig.kind = "blank";
      }
      return sig;
    default:
      return sig;
  }
}

void SeparateDocuments(LotPlan* plan) {
  const SeparationRule& rule = plan->profile.separation;
  const bool decode = rule.kind == SeparationRule::Kind::kBarcode ||
                      rule.kind == SeparationRule::Kind::kPatch || rule.kind == SeparationRule::Kind::kBlank;
  plan->documents.clear();
  plan->separators.clear();
  std::set<std::string> ids;
  int counter = 0;
  DocumentPlan cur;
  bool open = false;
  SeparatorPayload pending;  // from the last separator, for the next document
  std::string pending_where;
  // Review notes (issue 14) for the next document begun, and whether any
  // separator sheet has been seen yet.
  std::vector<DocumentPlan::ReviewNote> pending_notes;
  bool seen_separator = false;

  auto close = [&]() {
    if (!open) return;
    open = false;
    if (cur.pages.empty()) return;
    if (cur.id.empty()) {
      char buf[32];
      do {
        std::snprintf(buf, sizeof(buf), "-%04d", ++counter);
      } while (ids.count(plan->lot_id + buf));
      cur.id = plan->lot_id + buf;
    }
    // Two separators with one id are two documents of the page stream
    // (a sheet used twice): the later one is numbered, and told.
    std::string base = cur.id;
    for (int n = 2; !ids.insert(cur.id).second; ++n) cur.id = base + "_" + std::to_string(n);
    if (cur.id != base) {
      plan->warnings.push_back({cur.origin, "document id '" + base + "' is already used by an earlier document; "
                                            "this one is '" + cur.id + "'"});
    }
    plan->documents.push_back(std::move(cur));
    cur = DocumentPlan{};
  };
  auto begin = [&](const std::string& default_id) {
    close();
    open = true;
    cur = DocumentPlan{};
    cur.id = !pending.id.empty() ? pending.id : default_id;
    cur.origin = !pending_where.empty() ? pending_where : std::string();
    cur.type = pending.type;
    cur.title = pending.title;
    for (const auto& [k, v] : pending.fields) {
      cur.fields.emplace_back(k, v);
      cur.field_sources[k] = pending_where;
    }
    pending = SeparatorPayload{};
    pending_where.clear();
    cur.review_notes = std::move(pending_notes);
    pending_notes.clear();
    if (decode && !seen_separator) {
      cur.review_notes.push_back({"no_separator", 0,
                                  "pages before the first separator sheet: no type or fields from a separator"});
    }
  };

  bool last_was_separator = false;
  int pages_in_doc = 0;
  for (size_t i = 0; i < plan->files.size(); ++i) {
    const InputFile& f = plan->files[i];
    if (!f.status.ok()) {
      plan->problems.push_back({f.name, f.status.message()});
      continue;
    }
    if (rule.kind == SeparationRule::Kind::kFile) {
      begin(fs::path(f.name).stem().string());
      pages_in_doc = 0;
    }
    for (int p = 1; p <= f.pages; ++p) {
      const PageRef ref{static_cast<int>(i), p};
      PageSignal sig;
      std::string unreadable;  // why the page could not be checked for a separator
      if (decode) {
        Result<Page> page = LoadPage(f.path, p, f.name);
        if (!page.ok()) {
          unreadable = "cannot be read to look for a separator (" + page.status().message() + ")";
          plan->warnings.push_back({Where(f, p), unreadable + "; kept as a document page"});
        } else {
          Result<PageSignal> s = ClassifyPage(page->image, page->dpi_x, rule);
          if (s.ok()) {
            sig = std::move(s).value();
          } else {
            unreadable = "separator check failed: " + s.status().message();
            plan->warnings.push_back({Where(f, p), unreadable});
          }
        }
      }
      if (sig.separator) {
        seen_separator = true;
        plan->separators.push_back({ref, sig.kind, sig.payload});
        // A run of blank sheets (front and back of one separator) counts once.
        const bool repeat = last_was_separator && rule.kind == SeparationRule::Kind::kBlank;
        last_was_separator = true;
        if (repeat) continue;
        close();
        if (!sig.payload.empty()) {
          Result<SeparatorPayload> payload = ParseSeparatorPayload(sig.payload, rule.prefix);
          if (payload.ok()) {
            pending = std::move(payload).value();
            pending_where = "separator " + Where(f, p);
          } else {
            plan->warnings.push_back({Where(f, p), "separator payload ignored: " + payload.status().message()});
            pending_notes.push_back({"separator_payload", 0,
                                     Where(f, p) + ": separator payload ignored: " + payload.status().message()});
          }
        }
        continue;
      }
      last_was_separator = false;
      if (!open || (rule.kind == SeparationRule::Kind::kFixed && pages_in_doc == rule.pages)) {
        begin("");
        pages_in_doc = 0;
      }
      cur.pages.push_back(ref);
      ++pages_in_doc;
      if (!unreadable.empty()) {
        cur.review_notes.push_back({"separator_unreadable", static_cast<int>(cur.pages.size()),
                                    Where(f, p) + ": " + unreadable});
      }
    }
  }
  close();
  if (!pending.id.empty() || !pending.type.empty() || !pending.fields.empty() || !pending_where.empty()) {
    plan->warnings.push_back({pending_where.empty() ? "lot" : pending_where,
                              "separator sheet at the end of the lot starts no document"});
    plan->unused_separator = pending_where.empty() ? "lot" : pending_where;
  }
}

}  // namespace acervo
