// `acervo verify`: re-checks an output folder against its store, so that an
// archive can show years later that nothing changed since the run.
//
// For every lot in the store and every document row of it:
//   - the PDF exists and its SHA-256 is the row's pdf_sha256;
//   - the PDF parses, has the row's page count (= its in-PDF pages), and the
//     document id, lot id and master hashes embedded in it (Info keys
//     AcervoDocumentId, AcervoLotId, AcervoMasterSha256) are the row's;
//   - a signed PDF's signature still matches its bytes, and its CMS
//     attributes hold what they claim (signing-certificate-v2, the
//     ICP-Brasil policy hash, the time-stamp token over the signature);
//   - every master exists and hashes to the row's master_sha256;
//   - the row itself is coherent (in-PDF pages numbered 1..n in order).
// A withdrawn document (review_store.h) has no row: its PDF and masters
// are checked against the hashes its withdrawal recorded. A replaced page
// (page_replace.h) keeps its old master: every old and new master of
// page_replacements is re-hashed too.
// And for every lot folder: each PDF in it belongs to a row or a withdrawal (a PDF without
// one is reported, as is a lot folder the store does not know).
// Every mismatch is collected, never just the first.
//
// Thread-safety: a plain function; it opens its own store connection.
#ifndef ACERVO_PIPELINE_VERIFY_H_
#define ACERVO_PIPELINE_VERIFY_H_

#include <filesystem>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

struct VerifyOptions {
  std::filesystem::path out_dir;     // the --out folder of `acervo run`
  std::filesystem::path store_path;  // empty: OUT_DIR/acervo.db
};

struct VerifyIssue {
  std::string where;    // a file path, or "lot L document D"
  std::string message;  // what does not match, with both values
};

// One signed PDF: what kind of signature it carries (docs/pdf.md).
struct VerifiedSignature {
  std::string pdf;
  std::string form;       // "ICP-Brasil AD-RT", "PAdES-basic", ...
  std::string policy;     // "PA_PAdES_AD_RT_v1_3" or the declared OID; "" none
  std::string signer;     // subject CN of the signing certificate
  std::string timestamp;  // the time-stamp's genTime (ISO 8601 UTC); "" none
  std::string timestamp_authority;
  bool valid = false;     // digest and attributes verify
};

struct VerifyReport {
  int lots = 0;
  int documents = 0;
  int pdfs = 0;     // PDFs checked
  int masters = 0;  // distinct master files re-hashed
  int withdrawn = 0;  // withdrawn documents whose PDF and masters were checked
  int replaced = 0;   // page replacements whose old and new masters were checked (issue 14)
  std::vector<VerifyIssue> mismatches;
  std::vector<VerifiedSignature> signatures;  // every signed PDF, in row order
  bool ok() const { return mismatches.empty(); }
  std::string ToJson() const;
};

// The report (check ok()) when the check could run. NotFound when the store
// does not exist (verify never creates one); Corrupt/IOError/Unavailable
// when it cannot be read.
Result<VerifyReport> VerifyOutput(const VerifyOptions& options);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_VERIFY_H_
