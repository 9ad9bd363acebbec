// ICP-Brasil's signature policies for PAdES (DOC-ICP-15.03) and the CAdES
// signature-policy-identifier attribute (id-aa-ets-sigPolicyId, RFC 5126
// 5.8.1) that declares one in a signature's signed attributes.
//
// The values are those of the policy documents ITI publishes
// (http://politicas.icpbrasil.gov.br/PA_PAdES_AD_RB_v1_3.der and _RT_);
// docs/pdf.md says where they were read and how to check them. The hash a
// signature declares is the one each policy document carries in its own
// signPolicyHash field (SHA-256 over its signPolicyHashAlg and
// signPolicyInfo), which is what Demoiselle Signer declares and ITI's
// verifier recomputes; the SHA-256 of the whole .der file, which ITI's list
// of policies (LPA_PAdES.der) records, is a different value.
//
// Thread-safety: constant data and pure functions.
#ifndef ACERVO_STAGES_PDF_SIGNATURE_POLICY_H_
#define ACERVO_STAGES_PDF_SIGNATURE_POLICY_H_

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

struct SignaturePolicy {
  const char* name;        // the policy document's file name, without ".der"
  const char* label;       // what `acervo verify` calls the form
  const char* oid;         // its signPolicyIdentifier
  const char* uri;         // where ITI publishes it (the sp-uri qualifier)
  const char* sha256_hex;  // its signPolicyHash (SHA-256), lowercase hex
  // Its signing period (signingPeriod notBefore/notAfter), UTC, as time_t
  // seconds; a signature may declare the policy only inside it.
  std::time_t signing_from;
  std::time_t signing_until;
  bool needs_timestamp;  // id-aa-signatureTimeStampToken is mandated
};

// PA_PAdES_AD_RB_v1_3: basic reference.
const SignaturePolicy& IcpBrasilAdRb();
// PA_PAdES_AD_RT_v1_3: time reference (a signature time-stamp is mandated).
const SignaturePolicy& IcpBrasilAdRt();
// The policy Acervo knows by that OID, or nullptr.
const SignaturePolicy* FindSignaturePolicy(std::string_view oid);

// InvalidArgument when `now` is outside the policy's signing period
// (ITI publishes a new version before one ends; Acervo must then be updated).
Status CheckSigningPeriod(const SignaturePolicy& policy, std::time_t now);

// The DER of the attribute value SignaturePolicyId: the OID, the hash as
// OtherHashAlgAndValue (SHA-256 with absent parameters, as RFC 5754 and
// ITI's own documents encode it) and one sp-uri qualifier with the URI.
std::vector<uint8_t> EncodeSignaturePolicyId(const SignaturePolicy& policy);

// What a SignaturePolicyId attribute value declares.
struct DeclaredPolicy {
  std::string oid;
  std::string hash_algorithm;  // OID of the hash algorithm
  std::vector<uint8_t> hash;
  std::string uri;  // the sp-uri qualifier, "" when absent
};
// Corrupt when `der` is not a SignaturePolicyId.
Result<DeclaredPolicy> DecodeSignaturePolicyId(std::span<const uint8_t> der);

// "" when `declared` is what `policy` publishes, else the difference.
std::string PolicyMismatch(const DeclaredPolicy& declared, const SignaturePolicy& policy);

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_SIGNATURE_POLICY_H_
