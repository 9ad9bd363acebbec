// PdfSigner: a PAdES-basic signature (SubFilter adbe.pkcs7.detached) over a
// PDF already written to disk with a placeholder signature dictionary.
//
// How it fits the streamed writer: Begin() writes a signature dictionary whose
// /ByteRange is the placeholder kByteRangePlaceholder (fixed width) and whose
// /Contents is kContentsBytes zero bytes written as a hex string. After the
// file is closed, Sign() finds the last placeholder, fills /ByteRange with the
// real offsets (padded with spaces to the same width, so no offset moves),
// computes the detached CMS SignedData (SHA-256, signer certificate and the
// PKCS#12's chain) over the two byte ranges around the /Contents string, and
// writes its DER as hex into the placeholder.
//
// VerifySignatureBytes() recomputes the same ranges from a signed file and
// checks the CMS against them (integrity only: whether the certificate is
// trusted is the reader's policy, not ours).
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

class PdfSigner {
 public:
  // Room for the DER of the CMS: a 2048/4096-bit RSA signature with a chain
  // of three certificates fits in well under half of it.
  static constexpr size_t kContentsBytes = 16384;
  static constexpr char kByteRangePlaceholder[] = "1111111111 2222222222 3333333333";

  // Reads the PKCS#12 file. Unavailable when it cannot be read;
  // InvalidArgument when it cannot be decrypted with the password or lacks a
  // private key or certificate.
  static Result<std::unique_ptr<PdfSigner>> Load(const PdfSignatureOptions& options);
  ~PdfSigner();

  // The signer's name for /Name: the certificate subject's CN (or the whole
  // subject when it has none).
  const std::string& SignerName() const { return signer_name_; }
  const PdfSignatureOptions& options() const { return options_; }

  // Signs `path` in place. Corrupt when the placeholder is missing or
  // malformed; Internal when OpenSSL fails or the CMS does not fit; IOError
  // when the file cannot be read or written.
  Status Sign(const std::filesystem::path& path) const;

 private:
  struct Keys;
  PdfSigner(PdfSignatureOptions options, std::unique_ptr<Keys> keys, std::string name);

  PdfSignatureOptions options_;
  std::unique_ptr<Keys> keys_;
  std::string signer_name_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_SIGNATURE_H_
