#include "pdf_outputs.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "acervo/core/files.h"
#include "acervo/stages/pdf/sidecars.h"

namespace acervo {

namespace fs = std::filesystem;

Result<PdfOptions> PdfOptionsForLot(const LotProfile& profile, const fs::path& lot_dir) {
  PdfOptions o;
  if (profile.pdfa == "2b") {
    o.pdfa = PdfaPart::k2b;
  } else if (profile.pdfa != "1b") {
    return Status::InvalidArgument("profile: pdfa must be 1b or 2b, not '" + profile.pdfa + "'");
  }
  if (profile.signature) {
    const SignatureProfile& sp = *profile.signature;
    auto in_lot = [&](const std::string& p) { return fs::path(p).is_absolute() ? fs::path(p) : lot_dir / p; };
    // Secrets come from the environment of the run, never from the profile
    // that travels with the lot.
    auto secret = [](const std::string& var, const std::string& what) -> Result<std::string> {
      const char* value = std::getenv(var.c_str());
      if (value == nullptr) {
        return Status::Unavailable("profile [signature]: environment variable " + var + " (the password of " + what +
                                   ") is not set");
      }
      return std::string(value);
    };
    PdfSignatureOptions so;
    so.pkcs12_path = in_lot(sp.pkcs12);
    ACERVO_ASSIGN_OR_RETURN(so.password, secret(sp.password_env, so.pkcs12_path.string()));
    so.reason = sp.reason;
    so.location = sp.location;
    so.contact = sp.contact;
    so.form = sp.form == "pades-basic" ? SignatureForm::kPadesBasic : SignatureForm::kIcpBrasil;
    if (!sp.tsa_url.empty()) {
      TimestampAuthorityOptions tsa;
      tsa.url = sp.tsa_url;
      tsa.ca_file = in_lot(sp.tsa_ca);
      tsa.timeout_s = static_cast<int>(sp.tsa_timeout_s);
      if (!sp.tsa_user.empty()) {
        tsa.user = sp.tsa_user;
        ACERVO_ASSIGN_OR_RETURN(tsa.password, secret(sp.tsa_password_env, "the time-stamp authority user " + sp.tsa_user));
      }
      so.tsa = std::move(tsa);
    }
    o.signature = std::move(so);
  }
  return o;
}

namespace {

std::string PageBase(int pdf_page) {
  char base[32];
  std::snprintf(base, sizeof(base), "page-%04d", pdf_page);
  return base;
}

// One page's text appended to a text sidecar: pages apart by form feeds,
// each ending with a newline (as pdftotext writes them).
void AppendPageText(std::string* all, const std::string& text, bool first) {
  if (!first) *all += '\f';
  *all += text;
  if (!text.empty() && text.back() != '\n') *all += '\n';
}

}  // namespace

void SidecarSet::AddPage(const SidecarRequest& request, const Page& page, int pdf_page) {
  const std::string base = PageBase(pdf_page);
  SidecarPage sp = SidecarPageFromPage(page, pdf_page);
  if (request.hocr) files_.emplace_back(base + ".hocr", HocrPage(sp));
  if (request.alto) files_.emplace_back(base + ".alto.xml", AltoPage(sp));
  if (request.text) {
    want_text_ = true;
    AppendPageText(&text_, page.text, pages_ == 0);
  }
  ++pages_;
}

Status SidecarSet::Commit(const fs::path& lot_out, const std::string& file_name) {
  if (!files_.empty()) {
    // Never through a link out of the lot's output folder.
    ACERVO_ASSIGN_OR_RETURN(const fs::path dir, CreateDirectoriesBelow(lot_out, fs::path("sidecars") / file_name));
    std::error_code ec;
    for (const auto& [name, content] : files_) {
      ACERVO_RETURN_IF_ERROR(WriteFileAtomic(dir / name, content));
    }
    // An earlier version of the document may have had more PDF pages (say,
    // made with [image] split before it was turned off): its side outputs
    // beyond the current last page would describe pages that no longer exist.
    std::vector<fs::path> stale;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::directory_entry& e = *it;
      const std::string name = e.path().filename().string();
      int number = 0;
      if (std::sscanf(name.c_str(), "page-%d.", &number) == 1 && number > pages_) stale.push_back(e.path());
    }
    for (const fs::path& p : stale) {
      if (!fs::remove(p, ec) && ec) return Status::IOError("cannot remove " + p.string() + ": " + ec.message());
    }
  }
  if (want_text_) ACERVO_RETURN_IF_ERROR(WriteFileAtomic(lot_out / (file_name + ".txt"), text_));
  return Status::OK();
}

namespace {

// The page number inside one page's hOCR or ALTO (sidecars.cc writes it in
// these attributes only; word texts are escaped, so never match).
std::string Renumbered(std::string x, int from, int to) {
  const std::string f = std::to_string(from), t = std::to_string(to);
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"id=\"page_" + f + "\"", "id=\"page_" + t + "\""},
      {"ppageno " + std::to_string(from - 1) + ";", "ppageno " + std::to_string(to - 1) + ";"},
      {"id=\"line_" + f + "_", "id=\"line_" + t + "_"},
      {"id=\"word_" + f + "_", "id=\"word_" + t + "_"},
      {"ID=\"page_" + f + "\"", "ID=\"page_" + t + "\""},
      {"PHYSICAL_IMG_NR=\"" + f + "\"", "PHYSICAL_IMG_NR=\"" + t + "\""},
      {"ID=\"block_" + f + "_", "ID=\"block_" + t + "_"},
      {"ID=\"line_" + f + "_", "ID=\"line_" + t + "_"},
      {"ID=\"string_" + f + "_", "ID=\"string_" + t + "_"}};
  for (const auto& [a, b] : edits) {
    for (size_t at = x.find(a); at != std::string::npos; at = x.find(a, at + b.size())) x.replace(at, a.size(), b);
  }
  return x;
}

// Moves page `from`'s file with this suffix to page `to` (renumbered).
Status MoveSidecar(const fs::path& dir, const std::string& suffix, int from, int to) {
  const fs::path src = dir / (PageBase(from) + suffix);
  std::error_code ec;
  if (!fs::exists(src, ec)) return Status::OK();
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(src, Links::kRefuse));
  const std::string x(bytes.begin(), bytes.end());
  ACERVO_RETURN_IF_ERROR(WriteFileAtomic(dir / (PageBase(to) + suffix), Renumbered(x, from, to)));
  if (!fs::remove(src, ec) && ec) return Status::IOError("cannot remove " + src.string() + ": " + ec.message());
  return Status::OK();
}

bool HasFileEndingWith(const fs::path& dir, const std::string& suffix) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

// One kind of per-page side output (".hocr", ".alto.xml") after a page
// was replaced.
Status RewritePageFiles(const fs::path& dir, const std::string& suffix, const std::string* content,
                        const SidecarRewrite& w) {
  std::error_code ec;
  if (w.old_pdf_page > 0 && w.new_pdf_page == 0) {  // the page left the PDF: the later ones move up
    fs::remove(dir / (PageBase(w.old_pdf_page) + suffix), ec);
    for (int p = w.old_pdf_page + 1; p <= w.pdf_pages + 1; ++p) ACERVO_RETURN_IF_ERROR(MoveSidecar(dir, suffix, p, p - 1));
  } else if (w.old_pdf_page == 0 && w.new_pdf_page > 0) {  // the page joined it: they move down
    for (int p = w.pdf_pages - 1; p >= w.new_pdf_page; --p) ACERVO_RETURN_IF_ERROR(MoveSidecar(dir, suffix, p, p + 1));
  }
  if (content != nullptr) ACERVO_RETURN_IF_ERROR(WriteFileAtomic(dir / (PageBase(w.new_pdf_page) + suffix), *content));
  return Status::OK();
}

}  // namespace

Status RewriteSidecarsForPage(const fs::path& lot_out, const std::string& file_name, const SidecarRequest& want,
                              const Page* page, const SidecarRewrite& where, const std::vector<std::string>& pdf_texts) {
  const fs::path dir = lot_out / "sidecars" / file_name;
  const bool hocr = want.hocr || HasFileEndingWith(dir, ".hocr");
  const bool alto = want.alto || HasFileEndingWith(dir, ".alto.xml");
  if (hocr || alto) {
    ACERVO_ASSIGN_OR_RETURN(const fs::path made, CreateDirectoriesBelow(lot_out, fs::path("sidecars") / file_name));
    std::optional<SidecarPage> sp;
    if (page != nullptr) sp = SidecarPageFromPage(*page, where.new_pdf_page);
    const std::string h = sp ? HocrPage(*sp) : "", a = sp ? AltoPage(*sp) : "";
    if (hocr) ACERVO_RETURN_IF_ERROR(RewritePageFiles(made, ".hocr", sp ? &h : nullptr, where));
    if (alto) ACERVO_RETURN_IF_ERROR(RewritePageFiles(made, ".alto.xml", sp ? &a : nullptr, where));
  }
  const fs::path txt = lot_out / (file_name + ".txt");
  std::error_code ec;
  if (!want.text && !fs::exists(txt, ec)) return Status::OK();
  std::string all;
  for (size_t k = 0; k < pdf_texts.size(); ++k) AppendPageText(&all, pdf_texts[k], k == 0);
  return WriteFileAtomic(txt, all);
}

}  // namespace acervo
