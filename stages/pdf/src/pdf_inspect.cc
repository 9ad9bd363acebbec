#include "acervo/stages/pdf/pdf_inspect.h"

#include <podofo/podofo.h>

#include <sstream>
#include <system_error>

#include "signature_policy.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using PoDoFo::PdfName;
using PoDoFo::PdfObject;

std::string PodofoMessage(const PoDoFo::PdfError& e) {
  std::string msg = PoDoFo::PdfError::ErrorName(e.GetError()) != nullptr
                        ? PoDoFo::PdfError::ErrorName(e.GetError())
                        : "PdfError";
  for (const PoDoFo::PdfErrorInfo& info : e.GetCallstack()) {
    if (!info.GetInformation().empty()) {
      msg += ": " + info.GetInformation();
      break;
    }
  }
  return msg;
}

const PdfObject* Resolve(PoDoFo::PdfVecObjects& objs, const PdfObject* o) {
  if (o != nullptr && o->IsReference()) return objs.GetObject(o->GetReference());
  return o;
}

// Counts the leaf pages of the page tree below `node`. -1 when the tree is
// malformed (a missing node, a loop, or absurd depth).
int CountPages(PoDoFo::PdfVecObjects& objs, const PdfObject* node, int depth) {
  node = Resolve(objs, node);
  if (node == nullptr || !node->IsDictionary() || depth > 64) return -1;
  const PdfObject* type = node->GetDictionary().GetKey(PdfName("Type"));
  if (type != nullptr && type->IsName() && type->GetName() == PdfName("Page")) return 1;
  const PdfObject* kids = Resolve(objs, node->GetDictionary().GetKey(PdfName("Kids")));
  if (kids == nullptr || !kids->IsArray()) return -1;
  int total = 0;
  for (const PdfObject& kid : kids->GetArray()) {
    int n = CountPages(objs, &kid, depth + 1);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

// The text between <tag> and </tag> in the XMP packet ("" if absent). Our
// own packets use element form; attribute form is not ours.
std::string XmpElement(const std::string& xmp, const std::string& tag) {
  size_t open = xmp.find("<" + tag + ">");
  if (open == std::string::npos) return "";
  open += tag.size() + 2;
  size_t close = xmp.find("</" + tag + ">", open);
  return close == std::string::npos ? "" : xmp.substr(open, close - open);
}

// The /SubFilter of the first signature field's value ("" when none).
std::string SignatureSubFilter(PoDoFo::PdfVecObjects& objs, const PdfObject* root) {
  const PdfObject* form = Resolve(objs, root->GetDictionary().GetKey(PdfName("AcroForm")));
  if (form == nullptr || !form->IsDictionary()) return "";
  const PdfObject* fields = Resolve(objs, form->GetDictionary().GetKey(PdfName("Fields")));
  if (fields == nullptr || !fields->IsArray()) return "";
  for (const PdfObject& f : fields->GetArray()) {
    const PdfObject* field = Resolve(objs, &f);
    if (field == nullptr || !field->IsDictionary()) continue;
    const PdfObject* type = field->GetDictionary().GetKey(PdfName("FT"));
    if (type == nullptr || !type->IsName() || type->GetName() != PdfName("Sig")) continue;
    const PdfObject* value = Resolve(objs, field->GetDictionary().GetKey(PdfName("V")));
    if (value == nullptr || !value->IsDictionary()) continue;
    const PdfObject* sub = value->GetDictionary().GetKey(PdfName("SubFilter"));
    if (sub != nullptr && sub->IsName()) return sub->GetName().GetName();
  }
  return "";
}

// What `acervo verify` calls the signature: the ICP-Brasil policy's form
// when an ETSI signature declares one Acervo knows, else the kind of PAdES.
std::string FormLabel(const SignatureCheck& c) {
  const std::string stamped = c.timestamp_time.empty() ? "" : " with time-stamp";
  if (c.sub_filter == "ETSI.CAdES.detached") {
    if (const SignaturePolicy* p = FindSignaturePolicy(c.policy_oid)) {
      return std::string(p->label) + (p->needs_timestamp ? "" : stamped);
    }
    if (!c.policy_oid.empty()) return "ETSI.CAdES.detached, policy " + c.policy_oid + stamped;
    return "ETSI.CAdES.detached" + stamped;
  }
  if (c.sub_filter == "adbe.pkcs7.detached") return "PAdES-basic" + stamped;
  return c.sub_filter;
}

}  // namespace

Result<PdfFacts> InspectPdf(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("no such PDF: " + path.string());
  PdfFacts facts;
  try {
    PoDoFo::PdfVecObjects objs;
    objs.SetAutoDelete(true);  // the vector owns what the parser reads
    // PdfParser directly: PdfMemDocument would log the trailer to stderr.
    PoDoFo::PdfParser parser(&objs, path.c_str(), /*bLoadOnDemand=*/true);
    const PdfObject* trailer = parser.GetTrailer();
    if (trailer == nullptr || !trailer->IsDictionary()) return Status::Corrupt("no trailer in " + path.string());
    const PdfObject* root = Resolve(objs, trailer->GetDictionary().GetKey(PdfName("Root")));
    if (root == nullptr || !root->IsDictionary()) return Status::Corrupt("no catalog in " + path.string());
    facts.pages = CountPages(objs, root->GetDictionary().GetKey(PdfName("Pages")), 0);
    if (facts.pages < 0) return Status::Corrupt("malformed page tree in " + path.string());

    const PdfObject* info = Resolve(objs, trailer->GetDictionary().GetKey(PdfName("Info")));
    if (info != nullptr && info->IsDictionary()) {
      for (const auto& [key, value] : info->GetDictionary().GetKeys()) {
        const PdfObject* v = Resolve(objs, value);
        if (v != nullptr && v->IsString()) facts.info[key.GetName()] = v->GetString().GetStringUtf8();
      }
    }
    auto info_text = [&](const char* key) {
      auto it = facts.info.find(key);
      return it == facts.info.end() ? std::string() : it->second;
    };
    facts.document_id = info_text("AcervoDocumentId");
    facts.lot_id = info_text("AcervoLotId");
    std::istringstream hashes(info_text("AcervoMasterSha256"));
    for (std::string h; hashes >> h;) facts.master_sha256.push_back(h);

    facts.signature.sub_filter = SignatureSubFilter(objs, root);

    PdfObject* meta = const_cast<PdfObject*>(Resolve(objs, root->GetDictionary().GetKey(PdfName("Metadata"))));
    if (meta != nullptr && meta->HasStream()) {
      char* data = nullptr;
      PoDoFo::pdf_long len = 0;
      meta->GetStream()->GetFilteredCopy(&data, &len);
      facts.xmp.assign(data, static_cast<size_t>(len));
      PoDoFo::podofo_free(data);
      std::string part = XmpElement(facts.xmp, "pdfaid:part");
      std::string level = XmpElement(facts.xmp, "pdfaid:conformance");
      if (!part.empty()) {
        for (char& c : level) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        facts.pdfa_claim = part + level;
      }
    }
  } catch (const PoDoFo::PdfError& e) {
    return Status::Corrupt("cannot parse " + path.string() + ": " + PodofoMessage(e));
  }
  const std::string sub_filter = facts.signature.sub_filter;
  ACERVO_ASSIGN_OR_RETURN(facts.signature, VerifySignatureBytes(path));
  facts.signature.sub_filter = sub_filter;
  if (facts.signature.present) facts.signature.form = FormLabel(facts.signature);
  return facts;
}

}  // namespace acervo
