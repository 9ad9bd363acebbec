// Small OpenSSL helpers shared by the signature code of this stage: owning
// pointers for OpenSSL objects, the last error as text, and DER in and out of
// byte vectors. Private to stages/pdf.
#ifndef ACERVO_STAGES_PDF_OPENSSL_UTIL_H_
#define ACERVO_STAGES_PDF_OPENSSL_UTIL_H_

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace acervo::openssl {

// The oldest queued OpenSSL error as text (and clears the queue).
inline std::string LastError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

inline void FreeBio(BIO* b) { BIO_free(b); }
inline void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_free(s); }
inline void FreeTypeStack(STACK_OF(ASN1_TYPE) * s) { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
inline void FreeBytes(unsigned char* p) { OPENSSL_free(p); }

using BioPtr = Ptr<BIO, FreeBio>;
using CmsPtr = Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;
using X509Ptr = Ptr<X509, X509_free>;
using X509StackPtr = Ptr<STACK_OF(X509), FreeX509Stack>;  // does not free the certificates
using TypeStackPtr = Ptr<STACK_OF(ASN1_TYPE), FreeTypeStack>;
using AlgorPtr = Ptr<X509_ALGOR, X509_ALGOR_free>;
using ObjectPtr = Ptr<ASN1_OBJECT, ASN1_OBJECT_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using TsReqPtr = Ptr<TS_REQ, TS_REQ_free>;
using TsRespPtr = Ptr<TS_RESP, TS_RESP_free>;
using TstInfoPtr = Ptr<TS_TST_INFO, TS_TST_INFO_free>;

// The DER of `value` through its i2d function; empty when encoding fails.
template <typename T>
std::vector<uint8_t> ToDer(int (*i2d)(const T*, unsigned char**), const T* value) {
  unsigned char* der = nullptr;
  const int len = i2d(value, &der);
  if (len <= 0) return {};
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// The bytes of an ASN1_STRING (OCTET STRING, IA5String, or the whole
// encoding held by an ASN1_TYPE of type SEQUENCE).
inline std::span<const uint8_t> Bytes(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return {ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s))};
}

// A new ASN1_TYPE of type SEQUENCE holding `der`, a whole encoded SEQUENCE:
// how an element that is itself a structure goes into a STACK_OF(ASN1_TYPE)
// encoded with i2d_ASN1_SEQUENCE_ANY / i2d_ASN1_SET_ANY. nullptr on failure.
inline ASN1_TYPE* SequenceValue(std::span<const uint8_t> der) {
  if (der.empty()) return nullptr;
  ASN1_STRING* s = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
  ASN1_TYPE* t = ASN1_TYPE_new();
  if (s == nullptr || t == nullptr || ASN1_STRING_set(s, der.data(), static_cast<int>(der.size())) != 1) {
    ASN1_STRING_free(s);
    ASN1_TYPE_free(t);
    return nullptr;
  }
  ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
  return t;
}

// Appends `t` to `seq`, which takes ownership of it; false (and `t` freed)
// when `t` is null or the push fails.
inline bool Push(STACK_OF(ASN1_TYPE) * seq, ASN1_TYPE* t) {
  if (t == nullptr) return false;
  if (sk_ASN1_TYPE_push(seq, t) <= 0) {
    ASN1_TYPE_free(t);
    return false;
  }
  return true;
}

// The subject's common name, or the whole subject when it has none.
inline std::string SubjectName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  char buf[512] = {0};
  if (X509_NAME_get_text_by_NID(subject, NID_commonName, buf, sizeof(buf)) > 0) return buf;
  X509_NAME_oneline(subject, buf, sizeof(buf));
  return buf;
}

// The dotted text of an OID ("2.16.76.1.7.1.11.1.3").
inline std::string OidText(const ASN1_OBJECT* o) {
  char buf[128] = {0};
  if (o == nullptr || OBJ_obj2txt(buf, sizeof(buf), o, /*no_name=*/1) <= 0) return "";
  return buf;
}

}  // namespace acervo::openssl

#endif  // ACERVO_STAGES_PDF_OPENSSL_UTIL_H_
