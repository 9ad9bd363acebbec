// Redacted copies (redact.h), as named passes over one Redaction context:
// load the document, choose the words per page, burn and write the copy,
// record it.
#include "acervo/pipeline/redact.h"

#include "acervo/indexer/open_store.h"

#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <algorithm>
#include <chrono>
#include <set>

#include <opencv2/imgproc.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/personal_numbers.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/text_fold.h"
#include "acervo/stages/pdf/image_encode.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRedacted = "[tarjado]";

// What words are compared as: folded (case, accents), letters and digits only.
std::string Norm(std::string_view text) {
  std::string out;
  for (char c : FoldText(text)) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

struct Target {
  std::string reason;  // "field nome", "word Silva"
  std::string norm;
};

struct Redaction {
  Store& store;
  const RedactOptions& options;
  DocumentRecord doc;
  std::vector<Target> targets;
  RedactResult result;
};

// Pass 1: the document and what its named fields and words become.
Status Load(Redaction& r, const std::string& lot, const std::string& id) {
  const RedactOptions& o = r.options;
  if (!o.cpf && !o.cnpj && o.fields.empty() && o.words.empty()) {
    return Status::InvalidArgument("nothing to redact: give --cpf, --cnpj, --field or --words");
  }
  ACERVO_ASSIGN_OR_RETURN(std::optional<DocumentRecord> d, r.store.GetDocument(lot, id));
  if (!d) return Status::NotFound("no document " + lot + "/" + id + " in the store");
  r.doc = std::move(*d);
  // Stored paths are relative to the lot's output folder (schema v5).
  r.doc.pdf_path = StoredPaths::ForStore(o.store_spec, r.store, o.root).Resolve(lot, r.doc.pdf_path).string();
  std::error_code ec;
  if (o.out.empty()) return Status::InvalidArgument("no --out file");
  if (fs::equivalent(o.out, r.doc.pdf_path, ec) || fs::absolute(o.out) == fs::absolute(r.doc.pdf_path)) {
    return Status::InvalidArgument("--out is the original PDF " + r.doc.pdf_path + ": originals are never modified");
  }
  for (const std::string& name : o.fields) {
    auto f = std::find_if(r.doc.fields.begin(), r.doc.fields.end(), [&](const FieldRecord& x) { return x.name == name; });
    if (f == r.doc.fields.end()) return Status::InvalidArgument(lot + "/" + id + " has no field '" + name + "'");
    if (!Norm(f->value).empty()) r.targets.push_back({"field " + name, Norm(f->value)});
  }
  for (const std::string& w : o.words) {
    if (Norm(w).empty()) return Status::InvalidArgument("--words '" + w + "' has no letter or digit");
    r.targets.push_back({"word " + w, Norm(w)});
  }
  return Status::OK();
}

// Pass 2 (per page): which words to black out, and why.
std::vector<std::pair<size_t, std::string>> Choose(const Redaction& r, const std::vector<WordBox>& words) {
  std::vector<std::pair<size_t, std::string>> out;
  std::set<size_t> taken;
  auto take = [&](size_t i, const std::string& why) {
    if (taken.insert(i).second) out.emplace_back(i, why);
  };
  // CPF/CNPJ: found in the words joined by spaces (a number OCR split over
  // several words is one match), mapped back to the words it overlaps.
  if (r.options.cpf || r.options.cnpj) {
    std::string joined;
    std::vector<std::pair<size_t, size_t>> span;
    for (const WordBox& w : words) {
      if (!joined.empty()) joined += ' ';
      span.emplace_back(joined.size(), joined.size() + w.text.size());
      joined += w.text;
    }
    FindOptions f;
    f.ocr = true;
    f.cpf = r.options.cpf;
    f.cnpj = r.options.cnpj;
    for (const PersonalNumberMatch& m : FindPersonalNumbers(joined, f)) {
      const std::string why = m.kind == PersonalNumberKind::kCpf ? "cpf" : "cnpj";
      for (size_t i = 0; i < words.size(); ++i) {
        if (span[i].first < m.end && m.begin < span[i].second) take(i, why);
      }
    }
  }
  // Fields and words: runs of page words whose normalised texts put
  // together equal the target's (a name split or joined by OCR still matches).
  std::vector<std::string> norms;
  for (const WordBox& w : words) norms.push_back(Norm(w.text));
  for (const Target& t : r.targets) {
    for (size_t i = 0; i < words.size(); ++i) {
      if (norms[i].empty() || t.norm.compare(0, norms[i].size(), norms[i]) != 0) continue;
      std::string acc;
      for (size_t j = i; j < words.size() && acc.size() < t.norm.size(); ++j) {
        acc += norms[j];
        if (t.norm.compare(0, acc.size(), acc) != 0) break;
        if (acc == t.norm) {
          for (size_t k = i; k <= j; ++k) take(k, t.reason);
          break;
        }
      }
    }
  }
  return out;
}

// The page as the PDF shows it, `width` pixels wide (BGR), and its dpi.
Result<cv::Mat> RenderPage(poppler::document& pdf, int pdf_page, int width, int height, double* dpi) {
  std::unique_ptr<poppler::page> p(pdf.create_page(pdf_page - 1));
  if (!p) return Status::Corrupt("cannot read page " + std::to_string(pdf_page));
  const poppler::rectf box = p->page_rect(poppler::media_box);
  if (box.width() <= 0) return Status::Corrupt("page " + std::to_string(pdf_page) + " has no size");
  *dpi = width * 72.0 / box.width();
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_rgb24);
  poppler::image img = renderer.render_page(p.get(), *dpi, *dpi);
  if (!img.is_valid()) return Status::Corrupt("poppler could not render page " + std::to_string(pdf_page));
  cv::Mat rgb(img.height(), img.width(), CV_8UC3, const_cast<char*>(img.const_data()),
              static_cast<size_t>(img.bytes_per_row()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (bgr.cols != width || bgr.rows != height) cv::resize(bgr, bgr, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  return bgr;
}

Result<EncodedImage> Encode(const cv::Mat& bgr, const std::string& color_class) {
  if (color_class == "color") return EncodeJpeg(bgr, 85);
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  if (color_class == "bw") return EncodeCcittG4(gray);  // Binarize inside: the boxes stay pure black
  return EncodeJpeg(gray, 85);
}

std::string Summary(const RedactResult& r) {
  std::string s;
  for (const auto& [why, n] : r.counts) s += (s.empty() ? "" : ", ") + why + " x" + std::to_string(n);
  return s.empty() ? "nothing found" : s;
}

// Pass 3: every page burnt and written, with the text layer minus the
// chosen words.
Status Write(Redaction& r) {
  std::unique_ptr<poppler::document> pdf(poppler::document::load_from_file(r.doc.pdf_path));
  if (!pdf || pdf->is_locked()) return Status::Corrupt("cannot open " + r.doc.pdf_path + " as a PDF");
  struct Ready {
    EncodedImage image;
    double dpi;
    std::vector<Word> words;
  };
  std::vector<Ready> pages;
  for (const PageRecord& page : r.doc.pages) {
    if (!page.in_pdf) continue;
    ACERVO_ASSIGN_OR_RETURN(std::optional<PageWords> pw,
                            r.store.GetPageWords(r.doc.lot_id, r.doc.document_id, page.number));
    if (!pw || pw->image_width <= 0) {
      return Status::InvalidArgument(r.doc.lot_id + "/" + r.doc.document_id + " page " + std::to_string(page.number) +
                                     " has no OCR word boxes in the store (indexed before schema v6): run the lot "
                                     "again");
    }
    double dpi = 300;
    ACERVO_ASSIGN_OR_RETURN(cv::Mat image, RenderPage(*pdf, page.pdf_page, pw->image_width, pw->image_height, &dpi));
    std::vector<std::pair<size_t, std::string>> chosen = Choose(r, pw->words);
    std::set<size_t> gone;
    std::set<std::pair<std::string, int>> counted;  // one count per reason and line of words
    for (const auto& [i, why] : chosen) {
      const WordBox& w = pw->words[i];
      const int pad = std::max(2, w.h / 8);
      cv::Rect box = cv::Rect(w.x - pad, w.y - pad, w.w + 2 * pad, w.h + 2 * pad) & cv::Rect(0, 0, image.cols, image.rows);
      cv::rectangle(image, box, cv::Scalar(0, 0, 0), cv::FILLED);
      r.result.boxes.push_back({page.number, box.x, box.y, box.width, box.height, why});
      gone.insert(i);
    }
    // Occurrences, not words: consecutive words of one reason count once.
    for (size_t k = 0; k < chosen.size(); ++k) {
      if (k == 0 || chosen[k].second != chosen[k - 1].second || chosen[k].first != chosen[k - 1].first + 1) {
        ++r.result.counts[chosen[k].second];
      }
    }
    Ready ready;
    ACERVO_ASSIGN_OR_RETURN(ready.image, Encode(image, page.color_class));
    ready.dpi = dpi;
    for (size_t i = 0; i < pw->words.size(); ++i) {
      if (gone.count(i)) continue;
      const WordBox& w = pw->words[i];
      Word word;
      word.text = w.text;
      word.box = cv::Rect(w.x, w.y, w.w, w.h);
      ready.words.push_back(std::move(word));
    }
    pages.push_back(std::move(ready));
  }
  const std::string when = UtcNowIso8601();
  PdfDocumentInfo info;
  // Metadata text that holds something redacted is itself redacted.
  FindOptions numbers;
  numbers.cpf = r.options.cpf;
  numbers.cnpj = r.options.cnpj;
  numbers.ocr = true;
  auto holds_redacted = [&](const std::string& text) {
    if ((r.options.cpf || r.options.cnpj) && !FindPersonalNumbers(text, numbers).empty()) return true;
    return std::any_of(r.targets.begin(), r.targets.end(),
                       [&](const Target& t) { return Norm(text).find(t.norm) != std::string::npos; });
  };
  info.title = (holds_redacted(r.doc.title) ? r.doc.lot_id + "/" + r.doc.document_id : r.doc.title) + " (cópia tarjada)";
  info.document_id = r.doc.document_id;
  info.lot_id = r.doc.lot_id;
  info.document_type = r.doc.document_type;
  info.subject = "Cópia para divulgação com tarjas; o original não foi alterado";
  info.keywords = "cópia tarjada; " + Summary(r.result) + "; por " + r.options.actor + " em " + when;
  for (const FieldRecord& f : r.doc.fields) {
    const bool named = std::find(r.options.fields.begin(), r.options.fields.end(), f.name) != r.options.fields.end();
    info.fields.emplace_back(f.name, named || holds_redacted(f.value) ? kRedacted : f.value);
  }
  info.fields.emplace_back("redacao", Summary(r.result) + "; por " + r.options.actor + " em " + when);
  PdfOptions po;
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PdfWriter> writer, PdfWriter::Create(po));
  ACERVO_RETURN_IF_ERROR(writer->Begin(r.options.out, info));
  for (const Ready& p : pages) {
    PdfPageInput in;
    in.image = &p.image;
    in.dpi_x = in.dpi_y = p.dpi;
    in.words = p.words;
    Status s = writer->AddPage(in);
    if (!s.ok()) {
      writer->Abort();
      return s;
    }
  }
  ACERVO_ASSIGN_OR_RETURN(PdfResult done, writer->End());
  r.result.path = done.path;
  r.result.sha256 = done.sha256;
  r.result.pages = done.pages;
  return Status::OK();
}

// Pass 4: on record in the store's audit trail.
Status Record(Redaction& r) {
  return r.store.Access()
      .AppendAudit({{"", r.options.actor, "local", "redact", r.doc.lot_id + "/" + r.doc.document_id,
                     Summary(r.result) + " -> " + r.result.path.string() + " sha256 " + r.result.sha256}})
      .status();
}

}  // namespace

Result<RedactResult> RedactDocument(Store& store, const std::string& lot_id, const std::string& document_id,
                                    const RedactOptions& options) {
  Redaction r{store, options, {}, {}, {}};
  ACERVO_RETURN_IF_ERROR(Load(r, lot_id, document_id));
  ACERVO_RETURN_IF_ERROR(Write(r));
  ACERVO_RETURN_IF_ERROR(Record(r));
  return r.result;
}

}  // namespace acervo
