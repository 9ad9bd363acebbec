// PdfSigner: a PDF signature (ICP-Brasil's ETSI.CAdES.detached form or
// PAdES-basic adbe.pkcs7.detached; cms_signature.h) over a PDF already
// written to disk with a placeholder signature dictionary.
//
// How it fits the streamed writer: Begin() writes a signature dictionary whose
// /ByteRange is the placeholder kByteRangePlaceholder (fixed width) and whose
// /Contents is ContentsBytes() zero bytes written as a hex string. After the
// file is closed, Sign() finds the last placeholder, fills /ByteRange with the
// real offsets (padded with spaces to the same width, so no offset moves),
// computes the detached CMS SignedData (SignDetached: SHA-256, signer
// certificate and the PKCS#12's chain, the form's attributes, the optional
// time-stamp) over the two byte ranges around the /Contents string, and
// writes its DER as hex into the placeholder.
//
// VerifySignatureBytes() recomputes the same ranges from a signed file and
// checks the CMS against them and reads its attributes (integrity only:
// whether the certificates are trusted is the reader's policy, not ours).
//
// Thread-safety: a PdfSigner is immutable after Load(); Sign() may be called
// from several threads on different files.
#ifndef ACERVO_STAGES_PDF_SIGNATURE_H_
#define ACERVO_STAGES_PDF_SIGNATURE_H_

#include <filesystem>
#include <memory>
#include <string>

#include "acervo/core/status.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {

class TimestampClient;

class PdfSigner {
 public:
  // Room for the DER of the CMS. Without a time-stamp: a 4096-bit RSA
  // signature with a chain of five certificates of 2 KB (ICP-Brasil's are
  // that size) fits in well under it. A time-stamp token adds the
  // authority's certificates (an ICP-Brasil ACT's chain is three or four),
  // so time-stamped signatures get twice the room.
  static constexpr size_t kContentsBytes = 16384;
  static constexpr size_t kTimestampedContentsBytes = 32768;
  static constexpr char kByteRangePlaceholder[] = "1111111111 2222222222 3333333333";

  // Reads the PKCS#12 file (and the time-stamp authority's CA file).
  // Unavailable when a file cannot be read; InvalidArgument when the PKCS#12
  // cannot be decrypted with the password or lacks a private key or
  // certificate, for a bad time-stamp authority URL, or when today is outside
  // the ICP-Brasil policy's signing period.
  static Result<std::unique_ptr<PdfSigner>> Load(const PdfSignatureOptions& options);
  ~PdfSigner();

  // The signer's name for /Name: the certificate subject's CN (or the whole
  // subject when it has none).
  const std::string& SignerName() const { return signer_name_; }
  const PdfSignatureOptions& options() const { return options_; }
  // The size of the /Contents placeholder for this signer's signatures.
  size_t ContentsBytes() const { return tsa_ ? kTimestampedContentsBytes : kContentsBytes; }
  // The dictionary's /SubFilter for the form: "ETSI.CAdES.detached" or
  // "adbe.pkcs7.detached".
  const char* SubFilter() const;

  // Signs `path` in place. Corrupt when the placeholder is missing or
  // malformed; Internal when OpenSSL fails or the CMS does not fit; IOError
  // when the file cannot be read or written; Unavailable or Corrupt (from
  // TimestampClient::Stamp, naming the authority) when a configured
  // time-stamp cannot be had: the file is then left without a valid
  // signature, for the writer to discard.
  Status Sign(const std::filesystem::path& path) const;

 private:
  struct Keys;
  PdfSigner(PdfSignatureOptions options, std::unique_ptr<Keys> keys, std::string name,
            std::unique_ptr<TimestampClient> tsa);

  PdfSignatureOptions options_;
  std::unique_ptr<Keys> keys_;
  std::unique_ptr<TimestampClient> tsa_;  // null: no time-stamp
  std::string signer_name_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_SIGNATURE_H_
