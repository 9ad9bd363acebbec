// A throwaway public-key infrastructure for signature tests, made with the
// openssl CLI (fixed argv, no shell) in a folder the test owns: a CA, a
// signer's PKCS#12 issued by it, a time-stamp authority certificate issued by
// it, and a second, unrelated CA with its own time-stamp authority (the one a
// configured CA file does not vouch for). Test-only helper.
#ifndef ACERVO_TESTS_SUPPORT_TEST_PKI_H_
#define ACERVO_TESTS_SUPPORT_TEST_PKI_H_

#include <filesystem>
#include <string>

namespace acervo::testing {

struct TestPki {
  std::filesystem::path ca_cert;      // PEM
  std::filesystem::path signer_cert;  // PEM, issued by ca_cert
  std::filesystem::path signer_p12;   // key + signer_cert + ca_cert
  std::string p12_password;
  // Time-stamp authority: critical extendedKeyUsage timeStamping, issued by
  // ca_cert (PEM certificate and unencrypted PEM key).
  std::filesystem::path tsa_cert;
  std::filesystem::path tsa_key;
  // The same kind of certificate from another CA (other_ca_cert).
  std::filesystem::path other_ca_cert;
  std::filesystem::path other_tsa_cert;
  std::filesystem::path other_tsa_key;
};

// Makes every file of TestPki under `dir` (which must exist) for a signer
// whose certificate subject is `signer_subject` ("/O=.../CN=..."; UTF-8).
// Returns "" on success, else which step failed and openssl's message.
std::string MakeTestPki(const std::filesystem::path& dir, const std::string& signer_subject,
                        const std::string& p12_password, TestPki* pki);

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_TEST_PKI_H_
