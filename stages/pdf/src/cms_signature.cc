#include "cms_signature.h"

#include <openssl/ess.h>

#include <string>

#include "openssl_util.h"
#include "signature_policy.h"
#include "timestamp.h"

namespace acervo {
namespace {

using openssl::Bytes;
using openssl::CmsPtr;
using openssl::LastError;
using openssl::Push;
using openssl::SequenceValue;
using openssl::ToDer;
using openssl::TypeStackPtr;
using openssl::X509StackPtr;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigningCertFree {
  void operator()(ESS_SIGNING_CERT_V2* s) const { ESS_SIGNING_CERT_V2_free(s); }
};

// The encoded value of a single-valued attribute whose value is a structure.
std::span<const uint8_t> SequenceAttribute(X509_ATTRIBUTE* attr) {
  const ASN1_TYPE* t = attr == nullptr ? nullptr : X509_ATTRIBUTE_get0_type(attr, 0);
  if (t == nullptr || ASN1_TYPE_get(t) != V_ASN1_SEQUENCE) return {};
  return Bytes(t->value.sequence);
}

// OpenSSL's CMS signer always adds signing-time, which PAdES forbids
// (ETSI EN 319 142-1 table 1; ITI's verifier refuses a PAdES signature with
// it). So drop it and sign the remaining signed attributes again: the bytes
// signed are their DER as a SET OF (RFC 5652 5.4), sorted as DER requires,
// which is how OpenSSL encodes them in the SignerInfo too.
Status ResignWithoutSigningTime(CMS_SignerInfo* si, EVP_PKEY* key) {
  const int loc = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (loc >= 0) X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, loc));
  TypeStackPtr attrs(sk_ASN1_TYPE_new_null());
  if (!attrs) return Status::Internal("out of memory");
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
    if (!Push(attrs.get(), SequenceValue(ToDer(i2d_X509_ATTRIBUTE, CMS_signed_get_attr(si, i))))) {
      return Status::Internal("cannot encode a signed attribute: " + LastError());
    }
  }
  const std::vector<uint8_t> to_sign = ToDer(i2d_ASN1_SET_ANY, attrs.get());
  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
  const ASN1_OBJECT* digest_oid = nullptr;
  X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest_alg);
  const EVP_MD* md = EVP_get_digestbyobj(digest_oid);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (to_sign.empty() || md == nullptr || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, to_sign.data(), to_sign.size()) != 1) {
    return Status::Internal("cannot sign the signed attributes: " + LastError());
  }
  std::vector<unsigned char> signature(len);
  if (EVP_DigestSign(ctx.get(), signature.data(), &len, to_sign.data(), to_sign.size()) != 1 ||
      ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), signature.data(), static_cast<int>(len)) != 1) {
    return Status::Internal("cannot sign the signed attributes: " + LastError());
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<uint8_t>> SignDetached(const SignerMaterial& signer, SignatureForm form,
                                          const TimestampClient* tsa, BIO* data, std::time_t now) {
  const bool icp = form == SignatureForm::kIcpBrasil;
  const SignaturePolicy* policy = nullptr;
  if (icp) {
    // A time-stamped ICP-Brasil signature declares the time-reference policy,
    // which mandates the time-stamp; without one, the basic reference.
    policy = tsa != nullptr ? &IcpBrasilAdRt() : &IcpBrasilAdRb();
    ACERVO_RETURN_IF_ERROR(CheckSigningPeriod(*policy, now));
  }
  // Detached, binary (no MIME canonicalisation), no S/MIME capabilities;
  // CMS_CADES adds signing-certificate-v2 with the signing digest (SHA-256).
  const unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL | (icp ? CMS_CADES : 0);
  CmsPtr cms(CMS_sign(nullptr, nullptr, signer.chain, nullptr, flags));
  if (!cms) return Status::Internal("cannot start the CMS: " + LastError());
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert, signer.key, EVP_sha256(), flags);
  if (si == nullptr) return Status::Internal("cannot add the signer: " + LastError());
  if (policy != nullptr) {
    const std::vector<uint8_t> id = EncodeSignaturePolicyId(*policy);
    if (id.empty() || CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_ets_sigPolicyId, V_ASN1_SEQUENCE, id.data(),
                                                  static_cast<int>(id.size())) != 1) {
      return Status::Internal("cannot add the signature policy identifier: " + LastError());
    }
  }
  if (CMS_final(cms.get(), data, nullptr, CMS_DETACHED | CMS_BINARY) != 1) {
    return Status::Internal("cannot sign: " + LastError());
  }
  if (icp) ACERVO_RETURN_IF_ERROR(ResignWithoutSigningTime(si, signer.key));
  if (tsa != nullptr) {
    // RFC 3161 appendix A: the token's imprint is over the signature value.
    ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> token, tsa->Stamp(Bytes(CMS_SignerInfo_get0_signature(si))));
    if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token.data(),
                                      static_cast<int>(token.size())) != 1) {
      return Status::Internal("cannot add the time-stamp token: " + LastError());
    }
  }
  std::vector<uint8_t> der = ToDer(i2d_CMS_ContentInfo, cms.get());
  if (der.empty()) return Status::Internal("cannot encode the signature: " + LastError());
  return der;
}

void ReadCmsAttributes(CMS_ContentInfo* cms, SignatureCheck* check) {
  std::string problems;
  auto problem = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  X509* signer = nullptr;
  if (si != nullptr) CMS_SignerInfo_get0_algs(si, nullptr, &signer, nullptr, nullptr);
  if (si == nullptr || signer == nullptr) {
    check->problem = "no signer certificate in the signature";
    return;
  }
  check->signing_time_attribute = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0;

  const int cert_loc = CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1);
  if (cert_loc >= 0) {
    std::span<const uint8_t> der = SequenceAttribute(CMS_signed_get_attr(si, cert_loc));
    const unsigned char* p = der.data();
    std::unique_ptr<ESS_SIGNING_CERT_V2, SigningCertFree> sc(
        d2i_ESS_SIGNING_CERT_V2(nullptr, &p, static_cast<long>(der.size())));
    X509StackPtr chain(sk_X509_new_null());
    // The first ESSCertIDv2 must be the signer's certificate (hash, and
    // issuer and serial when present).
    check->signing_certificate_v2 = sc && chain && sk_X509_push(chain.get(), signer) > 0 &&
                                     OSSL_ESS_check_signing_certs(nullptr, sc.get(), chain.get(), 1) == 1;
    ERR_clear_error();
    if (!check->signing_certificate_v2) problem("signing-certificate-v2 does not name the signer's certificate");
  }

  const SignaturePolicy* policy = nullptr;
  const int policy_loc = CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_ets_sigPolicyId, -1);
  if (policy_loc >= 0) {
    Result<DeclaredPolicy> declared = DecodeSignaturePolicyId(SequenceAttribute(CMS_signed_get_attr(si, policy_loc)));
    if (!declared.ok()) {
      problem(declared.status().message());
    } else {
      check->policy_oid = declared->oid;
      policy = FindSignaturePolicy(declared->oid);
      if (policy != nullptr) {
        check->policy_name = policy->name;
        std::string mismatch = PolicyMismatch(*declared, *policy);
        if (!mismatch.empty()) problem(mismatch);
      }
    }
  }
  if (policy != nullptr) {
    // What the ICP-Brasil policies mandate and forbid of the signed attributes.
    if (!check->signing_certificate_v2 && cert_loc < 0) problem(std::string(policy->name) + " needs signing-certificate-v2");
    if (check->signing_time_attribute) problem(std::string(policy->name) + " forbids the signing-time attribute");
  }

  const int ts_loc = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (ts_loc >= 0) {
    Result<TimestampFacts> ts = CheckTimestampToken(SequenceAttribute(CMS_unsigned_get_attr(si, ts_loc)),
                                                    Bytes(CMS_SignerInfo_get0_signature(si)));
    if (!ts.ok()) {
      problem(ts.status().message());
    } else {
      check->timestamp_time = ts->time;
      check->timestamp_authority = ts->authority;
    }
  } else if (policy != nullptr && policy->needs_timestamp) {
    problem(std::string(policy->name) + " needs a signature time-stamp and there is none");
  }
  check->attributes_ok = problems.empty();
  if (!problems.empty()) check->problem = problems;
}

}  // namespace acervo
