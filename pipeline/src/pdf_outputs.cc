#include "pdf_outputs.h"

#include <cstdio>
#include <cstdlib>

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

void SidecarSet::AddPage(const SidecarRequest& request, const Page& page, int pdf_page) {
  char base[32];
  std::snprintf(base, sizeof(base), "page-%04d", pdf_page);
  SidecarPage sp = SidecarPageFromPage(page, pdf_page);
  if (request.hocr) files_.emplace_back(std::string(base) + ".hocr", HocrPage(sp));
  if (request.alto) files_.emplace_back(std::string(base) + ".alto.xml", AltoPage(sp));
  if (request.text) {
    want_text_ = true;
    if (pages_ > 0) text_ += '\f';
    text_ += page.text;
    if (!page.text.empty() && page.text.back() != '\n') text_ += '\n';
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

}  // namespace acervo
