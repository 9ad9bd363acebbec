#include "support/signature_parts.h"

#include <openssl/cms.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace acervo::testing {

bool WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

std::vector<uint8_t> WithSignedByteChanged(std::vector<uint8_t> pdf) {
  const std::string text(pdf.begin(), pdf.end());
  const size_t range = text.rfind("/ByteRange");
  long long start = 0, length = 0;
  if (range == std::string::npos ||
      std::sscanf(text.c_str() + range, "/ByteRange [ %lld %lld", &start, &length) != 2 || length < 3 ||
      static_cast<size_t>(start + length) > pdf.size()) {
    return {};
  }
  pdf[static_cast<size_t>(start + length / 3)] ^= 0x01;
  return pdf;
}

std::string ReadSignatureParts(const std::filesystem::path& pdf, SignatureParts* parts) {
  std::ifstream in(pdf, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string file = ss.str();
  const size_t key = file.rfind("/ByteRange");
  if (key == std::string::npos) return "no /ByteRange";
  long long a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(file.c_str() + key, "/ByteRange [ %lld %lld %lld %lld", &a, &b, &c, &d) != 4 || a != 0 ||
      static_cast<size_t>(c + d) != file.size() || b >= c) {
    return "unexpected /ByteRange";
  }
  parts->signed_bytes = file.substr(0, static_cast<size_t>(b)) + file.substr(static_cast<size_t>(c));
  // /Contents is <hex> between the two spans.
  std::string der;
  for (long long i = b + 1; i + 1 < c - 1; i += 2) {
    der.push_back(static_cast<char>(std::stoi(file.substr(static_cast<size_t>(i), 2), nullptr, 16)));
  }
  // The DER's own length (a SEQUENCE with a long-form length); the rest is
  // the zero padding of the placeholder.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  if (der.size() < 4 || p[0] != 0x30 || (p[1] & 0x80) == 0) return "/Contents is not a DER SEQUENCE";
  size_t n = p[1] & 0x7F, len = 0;
  for (size_t i = 0; i < n; ++i) len = len << 8 | p[2 + i];
  if (2 + n + len > der.size()) return "/Contents DER longer than the placeholder";
  parts->cms = der.substr(0, 2 + n + len);

  const unsigned char* q = reinterpret_cast<const unsigned char*>(parts->cms.data());
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &q, static_cast<long>(parts->cms.size()));
  if (cms == nullptr) return "/Contents is not a CMS";
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  std::string why;
  if (si == nullptr) {
    why = "no SignerInfo";
  } else {
    const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
    parts->signature_value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(sig)),
                                  static_cast<size_t>(ASN1_STRING_length(sig)));
    parts->timestamp_token.clear();
    const int loc = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    if (loc >= 0) {
      const ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, loc), 0);
      if (t == nullptr || ASN1_TYPE_get(t) != V_ASN1_SEQUENCE) {
        why = "time-stamp attribute is not a SEQUENCE";
      } else {
        parts->timestamp_token.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t->value.sequence)),
                                      static_cast<size_t>(ASN1_STRING_length(t->value.sequence)));
      }
    }
  }
  CMS_ContentInfo_free(cms);
  return why;
}

}  // namespace acervo::testing
