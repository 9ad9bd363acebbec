#include "signature_policy.h"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <cstdio>

#include "openssl_util.h"

namespace acervo {
namespace {

using openssl::AlgorPtr;
using openssl::Bytes;
using openssl::OidText;
using openssl::Push;
using openssl::SequenceValue;
using openssl::ToDer;
using openssl::TypeStackPtr;

// Read from the policy documents themselves (docs/pdf.md, "ICP-Brasil
// signature policy"): signPolicyIdentifier, signingPeriod and the
// signPolicyHash that closes each document.
constexpr SignaturePolicy kAdRb = {
    "PA_PAdES_AD_RB_v1_3",
    "ICP-Brasil AD-RB",
    "2.16.76.1.7.1.11.1.3",
    "http://politicas.icpbrasil.gov.br/PA_PAdES_AD_RB_v1_3.der",
    "23e4be4b9b362172e4ebb0e72b86a133ece5aad843d8651c6e38a0ba3f08fc60",
    1753228800,  // 2025-07-23
    2139782400,  // 2037-10-22
    false,
};
constexpr SignaturePolicy kAdRt = {
    "PA_PAdES_AD_RT_v1_3",
    "ICP-Brasil AD-RT",
    "2.16.76.1.7.1.12.1.3",
    "http://politicas.icpbrasil.gov.br/PA_PAdES_AD_RT_v1_3.der",
    "21d6e8d9f85e5626dc71307337a7cabd6ffef8d085038746775cf0ce6ba4d3b5",
    1753228800,  // 2025-07-23
    2139782400,  // 2037-10-22
    true,
};

// id-spq-ets-uri (RFC 5126 5.8.1): the qualifier whose value is the URI.
constexpr char kSpqEtsUri[] = "1.2.840.113549.1.9.16.5.1";

std::string Hex(std::span<const uint8_t> bytes) {
  std::string s;
  char buf[3];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x", b);
    s += buf;
  }
  return s;
}

std::string Date(std::time_t t) {
  char buf[16];
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

ASN1_TYPE* Typed(int type, void* value) {
  if (value == nullptr) return nullptr;
  ASN1_TYPE* t = ASN1_TYPE_new();
  if (t == nullptr) return nullptr;
  ASN1_TYPE_set(t, type, value);
  return t;
}

ASN1_STRING* StringOf(int type, const void* data, size_t len) {
  ASN1_STRING* s = ASN1_STRING_type_new(type);
  if (s != nullptr && ASN1_STRING_set(s, data, static_cast<int>(len)) != 1) {
    ASN1_STRING_free(s);
    return nullptr;
  }
  return s;
}

std::vector<uint8_t> SequenceDer(const TypeStackPtr& seq) { return ToDer(i2d_ASN1_SEQUENCE_ANY, seq.get()); }

std::vector<uint8_t> FromHex(const char* hex) {
  std::vector<uint8_t> out;
  for (const char* p = hex; p[0] != '\0' && p[1] != '\0'; p += 2) {
    unsigned v = 0;
    std::sscanf(p, "%2x", &v);
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

// The elements of an encoded SEQUENCE; nullptr when `der` is not one.
TypeStackPtr Elements(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  TypeStackPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (seq && p != der.data() + der.size()) return nullptr;  // trailing bytes
  return seq;
}

const ASN1_TYPE* At(const TypeStackPtr& seq, int i, int type) {
  if (!seq || i >= sk_ASN1_TYPE_num(seq.get())) return nullptr;
  const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq.get(), i);
  return ASN1_TYPE_get(t) == type ? t : nullptr;
}

}  // namespace

const SignaturePolicy& IcpBrasilAdRb() { return kAdRb; }
const SignaturePolicy& IcpBrasilAdRt() { return kAdRt; }

const SignaturePolicy* FindSignaturePolicy(std::string_view oid) {
  for (const SignaturePolicy* p : {&kAdRb, &kAdRt}) {
    if (oid == p->oid) return p;
  }
  return nullptr;
}

Status CheckSigningPeriod(const SignaturePolicy& policy, std::time_t now) {
  if (now < policy.signing_from || now >= policy.signing_until) {
    return Status::InvalidArgument(std::string("ICP-Brasil policy ") + policy.name + " may be declared from " +
                                   Date(policy.signing_from) + " until " + Date(policy.signing_until) +
                                   ", not on " + Date(now) +
                                   " (a newer Acervo knows the policy version in force)");
  }
  return Status::OK();
}

std::vector<uint8_t> EncodeSignaturePolicyId(const SignaturePolicy& policy) {
  // OtherHashAlgAndValue ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier,
  //                                     hashValue OCTET STRING }
  AlgorPtr sha256(X509_ALGOR_new());
  if (!sha256 || X509_ALGOR_set0(sha256.get(), OBJ_nid2obj(NID_sha256), V_ASN1_UNDEF, nullptr) != 1) return {};
  const std::vector<uint8_t> hash = FromHex(policy.sha256_hex);
  TypeStackPtr hash_seq(sk_ASN1_TYPE_new_null());
  if (!hash_seq || !Push(hash_seq.get(), SequenceValue(ToDer(i2d_X509_ALGOR, sha256.get()))) ||
      !Push(hash_seq.get(), Typed(V_ASN1_OCTET_STRING, StringOf(V_ASN1_OCTET_STRING, hash.data(), hash.size())))) {
    return {};
  }
  // SigPolicyQualifierInfo ::= SEQUENCE { id-spq-ets-uri, IA5String }
  const std::string uri = policy.uri;
  TypeStackPtr qualifier(sk_ASN1_TYPE_new_null());
  if (!qualifier || !Push(qualifier.get(), Typed(V_ASN1_OBJECT, OBJ_txt2obj(kSpqEtsUri, 1))) ||
      !Push(qualifier.get(), Typed(V_ASN1_IA5STRING, StringOf(V_ASN1_IA5STRING, uri.data(), uri.size())))) {
    return {};
  }
  TypeStackPtr qualifiers(sk_ASN1_TYPE_new_null());
  if (!qualifiers || !Push(qualifiers.get(), SequenceValue(SequenceDer(qualifier)))) return {};
  // SignaturePolicyId ::= SEQUENCE { sigPolicyId, sigPolicyHash, sigPolicyQualifiers }
  TypeStackPtr id(sk_ASN1_TYPE_new_null());
  if (!id || !Push(id.get(), Typed(V_ASN1_OBJECT, OBJ_txt2obj(policy.oid, 1))) ||
      !Push(id.get(), SequenceValue(SequenceDer(hash_seq))) ||
      !Push(id.get(), SequenceValue(SequenceDer(qualifiers)))) {
    return {};
  }
  return SequenceDer(id);
}

Result<DeclaredPolicy> DecodeSignaturePolicyId(std::span<const uint8_t> der) {
  auto bad = [](const std::string& why) { return Status::Corrupt("signature policy identifier: " + why); };
  TypeStackPtr id = Elements(der);
  const ASN1_TYPE* oid = At(id, 0, V_ASN1_OBJECT);
  const ASN1_TYPE* hash = At(id, 1, V_ASN1_SEQUENCE);
  if (oid == nullptr || hash == nullptr) return bad("not a SignaturePolicyId");
  DeclaredPolicy d;
  d.oid = OidText(oid->value.object);
  TypeStackPtr hash_seq = Elements(Bytes(hash->value.sequence));
  const ASN1_TYPE* alg = At(hash_seq, 0, V_ASN1_SEQUENCE);
  const ASN1_TYPE* value = At(hash_seq, 1, V_ASN1_OCTET_STRING);
  if (alg == nullptr || value == nullptr) return bad("sigPolicyHash is not an OtherHashAlgAndValue");
  std::span<const uint8_t> alg_der = Bytes(alg->value.sequence);
  const unsigned char* p = alg_der.data();
  AlgorPtr algor(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(alg_der.size())));
  if (!algor) return bad("unreadable hash algorithm");
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&alg_oid, &param_type, nullptr, algor.get());
  d.hash_algorithm = OidText(alg_oid);
  // An explicit NULL parameter is not the encoding ITI publishes (its
  // verifier compares the structure, so that alone fails a signature).
  if (param_type != V_ASN1_UNDEF) d.hash_algorithm += " (with parameters)";
  std::span<const uint8_t> h = Bytes(value->value.octet_string);
  d.hash.assign(h.begin(), h.end());
  if (const ASN1_TYPE* qs = At(id, 2, V_ASN1_SEQUENCE)) {
    TypeStackPtr qualifiers = Elements(Bytes(qs->value.sequence));
    for (int i = 0; qualifiers && i < sk_ASN1_TYPE_num(qualifiers.get()); ++i) {
      const ASN1_TYPE* q = At(qualifiers, i, V_ASN1_SEQUENCE);
      if (q == nullptr) return bad("malformed qualifier");
      TypeStackPtr info = Elements(Bytes(q->value.sequence));
      const ASN1_TYPE* qid = At(info, 0, V_ASN1_OBJECT);
      const ASN1_TYPE* quri = At(info, 1, V_ASN1_IA5STRING);
      if (qid != nullptr && quri != nullptr && OidText(qid->value.object) == kSpqEtsUri) {
        std::span<const uint8_t> u = Bytes(quri->value.ia5string);
        d.uri.assign(u.begin(), u.end());
      }
    }
  }
  return d;
}

std::string PolicyMismatch(const DeclaredPolicy& declared, const SignaturePolicy& policy) {
  if (declared.oid != policy.oid) return "policy " + declared.oid + " is not " + policy.oid;
  if (declared.hash_algorithm != OidText(OBJ_nid2obj(NID_sha256))) {
    return std::string("policy ") + policy.name + " hash algorithm is " + declared.hash_algorithm +
           ", ITI publishes SHA-256 without parameters";
  }
  if (Hex(declared.hash) != policy.sha256_hex) {
    return std::string("policy ") + policy.name + " hash is " + Hex(declared.hash) + ", ITI publishes " +
           policy.sha256_hex;
  }
  return "";
}

}  // namespace acervo
