// Taking a signed PDF apart the way an outside verifier does, for tests that
// check the signature with the openssl CLI: the /ByteRange and /Contents of
// the last signature, the CMS in it, the signer's signature value and the
// signature time-stamp token (RFC 3161) among its unsigned attributes.
// Test-only helper.
#ifndef ACERVO_TESTS_SUPPORT_SIGNATURE_PARTS_H_
#define ACERVO_TESTS_SUPPORT_SIGNATURE_PARTS_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace acervo::testing {

struct SignatureParts {
  std::string cms;              // DER of the CMS ContentInfo (padding dropped)
  std::string signed_bytes;     // the two /ByteRange spans, concatenated
  std::string signature_value;  // the first SignerInfo's signature
  std::string timestamp_token;  // DER ContentInfo; "" when there is none
};

// "" on success, else why the PDF could not be taken apart.
std::string ReadSignatureParts(const std::filesystem::path& pdf, SignatureParts* parts);

// `pdf` (the bytes of a signed file) with one byte the signature covers
// changed: a third into the first /ByteRange span (the page objects), never
// in /Contents, whose unused zero padding a fixed fraction of a small file
// can land in. Empty when there is no /ByteRange.
std::vector<uint8_t> WithSignedByteChanged(std::vector<uint8_t> pdf);

// Writes `bytes` to `path`; false on failure.
bool WriteBytes(const std::filesystem::path& path, const std::string& bytes);

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_SIGNATURE_PARTS_H_
