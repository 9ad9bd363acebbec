// Reading back what PdfWriter put into a PDF: page count, the custom Info
// keys that tie the file to its masters and its index row, the PDF/A claim of
// the XMP packet and the signature, for `acervo verify` and for tests.
//
// The reader is PoDoFo's parser (not our writer's bookkeeping), so a file
// changed on disk after it was written is read as it now is.
//
// Thread-safety: pure functions of the file.
#ifndef ACERVO_STAGES_PDF_PDF_INSPECT_H_
#define ACERVO_STAGES_PDF_PDF_INSPECT_H_

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

// What a signed file says about itself. Integrity only: whether the signer's
// or the time-stamp authority's certificate is trusted is the reader's policy.
struct SignatureCheck {
  bool present = false;         // a /ByteRange + /Contents signature exists
  bool covers_file = false;     // the ranges cover the whole file but /Contents
  bool digest_matches = false;  // the CMS verifies over those ranges
  // The CMS attributes hold what they claim: signing-certificate-v2 names the
  // signer's certificate, a known ICP-Brasil policy identifier carries the
  // published policy hash (and AD-RT has its time-stamp), a signature
  // time-stamp token is intact and its imprint is this signature's value.
  bool attributes_ok = false;
  std::string signer;           // subject CN of the signing certificate
  std::string problem;          // why not, when a check failed

  // The dictionary's /SubFilter (filled by InspectPdf, which reads the
  // dictionary; VerifySignatureBytes leaves it empty).
  std::string sub_filter;
  // "ICP-Brasil AD-RB", "ICP-Brasil AD-RT", "PAdES-basic", "PAdES-basic with
  // time-stamp", "ETSI.CAdES.detached" (no ICP-Brasil policy), ... (InspectPdf).
  std::string form;
  bool signing_certificate_v2 = false;  // present and matching the signer
  bool signing_time_attribute = false;  // a CMS signing-time attribute exists
  std::string policy_oid;   // id-aa-ets-sigPolicyId, "" when none
  std::string policy_name;  // "PA_PAdES_AD_RB_v1_3" for a policy Acervo knows
  // The signature time-stamp (id-aa-signatureTimeStampToken), when present:
  // its genTime as ISO 8601 UTC ("2026-03-01T12:00:00Z") and the subject CN of
  // the authority's certificate.
  std::string timestamp_time;
  std::string timestamp_authority;
};

struct PdfFacts {
  int pages = 0;
  std::string document_id;                 // Info AcervoDocumentId
  std::string lot_id;                      // Info AcervoLotId
  std::vector<std::string> master_sha256;  // Info AcervoMasterSha256, in page order
  // Every text entry of the Info dictionary, decoded to UTF-8.
  std::map<std::string, std::string> info;
  std::string pdfa_claim;  // "1b", "2b"... from the XMP pdfaid schema; "" if none
  std::string xmp;         // the catalog's XMP packet, "" if none
  SignatureCheck signature;
};

// Corrupt when PoDoFo cannot parse the file or its page tree; NotFound when
// the file does not exist; IOError when it cannot be read.
Result<PdfFacts> InspectPdf(const std::filesystem::path& path);

// Checks the last signature of `path` (see signature.h): ranges, CMS digest
// and signature, and the attributes (see SignatureCheck). IOError when the
// file cannot be read; a file without a signature gives present = false.
Result<SignatureCheck> VerifySignatureBytes(const std::filesystem::path& path);

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_PDF_INSPECT_H_
