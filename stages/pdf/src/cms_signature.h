// The CMS SignedData inside a PDF signature's /Contents, in the two forms of
// SignatureForm (pdf_writer.h), and the reader of its attributes.
//
// ICP-Brasil form (ETSI.CAdES.detached, DOC-ICP-15.03 tables A.14/A.15):
// signed attributes content-type, message-digest, signing-certificate-v2
// (ESSCertIDv2 with the SHA-256 of the signer's certificate and its issuer
// and serial, RFC 5035) and signature-policy-identifier (AD-RB, or AD-RT when
// a time-stamp follows); no signing-time, which OpenSSL's signer always adds,
// so the signed attributes are re-signed without it. With a time-stamp
// authority, the token over the signature value is the unsigned attribute
// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
//
// PAdES-basic form (adbe.pkcs7.detached): content-type, signing-time,
// message-digest, and the same optional time-stamp.
//
// Both: SHA-256, the signer's certificate and the PKCS#12's chain.
//
// Thread-safety: functions of their arguments; the key and certificates are
// only read.
#ifndef ACERVO_STAGES_PDF_CMS_SIGNATURE_H_
#define ACERVO_STAGES_PDF_CMS_SIGNATURE_H_

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <ctime>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {

class TimestampClient;

// Borrowed signing material (PdfSigner owns it).
struct SignerMaterial {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;  // may be null
};

// The DER of a detached CMS over the bytes of `data` in `form`, time-stamped
// by `tsa` when not null. `now` is the signing time the ICP-Brasil policy's
// signing period is checked against. Internal when OpenSSL fails;
// InvalidArgument when the policy's period excludes `now`; the time-stamp
// client's Unavailable/Corrupt when the time-stamp cannot be had.
Result<std::vector<uint8_t>> SignDetached(const SignerMaterial& signer, SignatureForm form,
                                          const TimestampClient* tsa, BIO* data, std::time_t now);

// Reads the attributes of a CMS that has verified (CMS_verify succeeded, so
// its signer certificate is resolved) into `check`: signing-certificate-v2,
// signing-time, the policy, the time-stamp. Sets check->attributes_ok, or
// check->problem with the first attribute that does not hold.
void ReadCmsAttributes(CMS_ContentInfo* cms, SignatureCheck* check);

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_CMS_SIGNATURE_H_
