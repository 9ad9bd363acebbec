#include "signature.h"

#include <fcntl.h>
#include <openssl/pkcs12.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <string_view>

#include "acervo/core/files.h"
#include "cms_signature.h"
#include "openssl_util.h"
#include "signature_policy.h"
#include "timestamp.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using openssl::BioPtr;
using openssl::CmsPtr;
using openssl::LastError;
using openssl::SubjectName;

// A read-only or read-write mapping of a whole file.
class MappedFile {
 public:
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const fs::path& path, bool writable) {
    fd_ = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd_ < 0) {
      return errno == ENOENT ? Status::NotFound("no such file: " + path.string())
                             : Status::IOError("cannot open " + path.string());
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return Status::IOError("cannot stat " + path.string());
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) return Status::OK();
    void* p = ::mmap(nullptr, size_, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
                     fd_, 0);
    if (p == MAP_FAILED) return Status::IOError("cannot map " + path.string());
    data_ = static_cast<char*>(p);
    return Status::OK();
  }
  Status Sync(const fs::path& path) {
    if (data_ != nullptr && ::msync(data_, size_, MS_SYNC) != 0) {
      return Status::IOError("cannot write " + path.string());
    }
    return Status::OK();
  }
  char* data() { return data_; }
  size_t size() const { return size_; }

 private:
  int fd_ = -1;
  char* data_ = nullptr;
  size_t size_ = 0;
};

// Where the signature's two ranges are: /Contents' hex string spans
// [contents_begin, contents_end) including its angle brackets.
struct SignatureLayout {
  size_t byte_range_at = 0;   // first digit of the /ByteRange numbers
  size_t byte_range_len = 0;  // up to, not including, ']'
  size_t contents_begin = 0;  // '<'
  size_t contents_end = 0;    // one past '>'
};

// Finds the last /ByteRange array and the /Contents string of the same
// dictionary. The writer puts them in one dictionary whose keys PoDoFo sorts,
// so /Contents follows /ByteRange.
Result<SignatureLayout> FindLayout(std::string_view file) {
  size_t key = file.rfind("/ByteRange");
  if (key == std::string_view::npos) return Status::NotFound("no /ByteRange");
  SignatureLayout l;
  size_t open = file.find('[', key);
  size_t close = file.find(']', key);
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      close - key > 128) {
    return Status::Corrupt("malformed /ByteRange");
  }
  l.byte_range_at = open + 1;
  l.byte_range_len = close - l.byte_range_at;
  size_t contents = file.find("/Contents", close);
  if (contents == std::string_view::npos || contents - close > 4096) {
    return Status::Corrupt("no /Contents after /ByteRange");
  }
  size_t lt = file.find('<', contents);
  if (lt == std::string_view::npos || lt - contents > 16) return Status::Corrupt("/Contents is not a hex string");
  size_t gt = file.find('>', lt);
  if (gt == std::string_view::npos) return Status::Corrupt("unterminated /Contents");
  for (size_t i = lt + 1; i < gt; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(file[i]))) {
      return Status::Corrupt("/Contents is not a hex string");
    }
  }
  l.contents_begin = lt;
  l.contents_end = gt + 1;
  return l;
}

// The bytes the signature covers: the file without the /Contents string.
BioPtr SignedBytes(std::string_view file, const SignatureLayout& l) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return nullptr;
  if (BIO_write(bio.get(), file.data(), static_cast<int>(l.contents_begin)) !=
          static_cast<int>(l.contents_begin) ||
      BIO_write(bio.get(), file.data() + l.contents_end,
                static_cast<int>(file.size() - l.contents_end)) !=
          static_cast<int>(file.size() - l.contents_end)) {
    return nullptr;
  }
  return bio;
}

}  // namespace

struct PdfSigner::Keys {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  ~Keys() {
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
  }
};

PdfSigner::PdfSigner(PdfSignatureOptions options, std::unique_ptr<Keys> keys, std::string name,
                     std::unique_ptr<TimestampClient> tsa)
    : options_(std::move(options)), keys_(std::move(keys)), tsa_(std::move(tsa)), signer_name_(std::move(name)) {}

const char* PdfSigner::SubFilter() const {
  return options_.form == SignatureForm::kIcpBrasil ? "ETSI.CAdES.detached" : "adbe.pkcs7.detached";
}

PdfSigner::~PdfSigner() = default;

Result<std::unique_ptr<PdfSigner>> PdfSigner::Load(const PdfSignatureOptions& options) {
  Result<std::vector<uint8_t>> bytes = ReadFile(options.pkcs12_path);
  if (!bytes.ok()) {
    return Status::Unavailable("cannot read PKCS#12 file " + options.pkcs12_path.string() + ": " +
                               bytes.status().message());
  }
  const unsigned char* p = bytes->data();
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(bytes->size()));
  if (p12 == nullptr) {
    return Status::InvalidArgument("not a PKCS#12 file: " + options.pkcs12_path.string());
  }
  auto keys = std::make_unique<Keys>();
  const int ok = PKCS12_parse(p12, options.password.c_str(), &keys->key, &keys->cert, &keys->chain);
  PKCS12_free(p12);
  if (ok != 1) {
    return Status::InvalidArgument("cannot open PKCS#12 file " + options.pkcs12_path.string() +
                                   " (wrong password?): " + LastError());
  }
  if (keys->key == nullptr || keys->cert == nullptr) {
    return Status::InvalidArgument("PKCS#12 file " + options.pkcs12_path.string() +
                                   " holds no private key and certificate");
  }
  if (X509_check_private_key(keys->cert, keys->key) != 1) {
    return Status::InvalidArgument("PKCS#12 file " + options.pkcs12_path.string() +
                                   ": the key does not match the certificate");
  }
  std::unique_ptr<TimestampClient> tsa;
  if (options.tsa) {
    ACERVO_ASSIGN_OR_RETURN(tsa, TimestampClient::Create(*options.tsa));
  }
  if (options.form == SignatureForm::kIcpBrasil) {
    // Refuse before the first page rather than at the first document.
    ACERVO_RETURN_IF_ERROR(CheckSigningPeriod(tsa ? IcpBrasilAdRt() : IcpBrasilAdRb(), std::time(nullptr)));
  }
  std::string name = SubjectName(keys->cert);
  return std::unique_ptr<PdfSigner>(new PdfSigner(options, std::move(keys), std::move(name), std::move(tsa)));
}

Status PdfSigner::Sign(const fs::path& path) const {
  MappedFile file;
  ACERVO_RETURN_IF_ERROR(file.Open(path, /*writable=*/true));
  std::string_view view(file.data(), file.size());
  Result<SignatureLayout> layout = FindLayout(view);
  if (!layout.ok()) return Status::Corrupt("cannot sign " + path.string() + ": " + layout.status().message());
  const SignatureLayout& l = *layout;
  if (std::string_view(file.data() + l.byte_range_at, l.byte_range_len).find(kByteRangePlaceholder) ==
      std::string_view::npos) {
    return Status::Corrupt("cannot sign " + path.string() + ": /ByteRange is not the placeholder");
  }
  if (l.contents_end - l.contents_begin - 2 != 2 * ContentsBytes()) {
    return Status::Corrupt("cannot sign " + path.string() + ": /Contents has the wrong size");
  }

  // The real ranges, padded with spaces to the placeholder's width so that no
  // byte after them moves.
  std::string ranges = "0 " + std::to_string(l.contents_begin) + " " + std::to_string(l.contents_end) +
                       " " + std::to_string(file.size() - l.contents_end);
  if (ranges.size() > l.byte_range_len) {
    return Status::Internal("cannot sign " + path.string() + ": file too large for /ByteRange");
  }
  ranges.resize(l.byte_range_len, ' ');
  std::memcpy(file.data() + l.byte_range_at, ranges.data(), ranges.size());

  BioPtr data = SignedBytes(view, l);
  if (!data) return Status::Internal("cannot sign " + path.string() + ": out of memory");
  Result<std::vector<uint8_t>> der = SignDetached({keys_->key, keys_->cert, keys_->chain}, options_.form,
                                                  tsa_.get(), data.get(), std::time(nullptr));
  if (!der.ok()) return der.status().WithContext("cannot sign " + path.string());
  if (der->size() > ContentsBytes()) {
    return Status::Internal("signature of " + std::to_string(der->size()) + " bytes does not fit in " +
                            std::to_string(ContentsBytes()));
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  char* out = file.data() + l.contents_begin + 1;
  for (size_t i = 0; i < der->size(); ++i) {
    out[2 * i] = kHex[(*der)[i] >> 4];
    out[2 * i + 1] = kHex[(*der)[i] & 0xF];
  }
  // The rest stays '0': trailing zero bytes after the DER, as every signer
  // leaves them.
  return file.Sync(path);
}

Result<SignatureCheck> VerifySignatureBytes(const fs::path& path) {
  MappedFile file;
  ACERVO_RETURN_IF_ERROR(file.Open(path, /*writable=*/false));
  std::string_view view(file.data(), file.size());
  SignatureCheck check;
  Result<SignatureLayout> layout = FindLayout(view);
  if (!layout.ok()) {
    if (layout.status().code() == StatusCode::kNotFound) return check;
    check.present = true;
    check.problem = layout.status().message();
    return check;
  }
  check.present = true;
  const SignatureLayout& l = *layout;
  std::string expected = "0 " + std::to_string(l.contents_begin) + " " +
                         std::to_string(l.contents_end) + " " +
                         std::to_string(file.size() - l.contents_end);
  std::string stated(view.substr(l.byte_range_at, l.byte_range_len));
  while (!stated.empty() && stated.back() == ' ') stated.pop_back();
  while (!stated.empty() && stated.front() == ' ') stated.erase(0, 1);
  check.covers_file = stated == expected;
  if (!check.covers_file) {
    check.problem = "/ByteRange [" + stated + "] does not cover the file (expected [" + expected + "])";
    return check;
  }
  // Hex to DER; trailing zero padding is harmless to d2i (it stops at the end
  // of the outer SEQUENCE).
  std::vector<unsigned char> der;
  der.reserve((l.contents_end - l.contents_begin) / 2);
  auto nibble = [](char c) {
    return static_cast<unsigned char>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                                                                                  : (std::toupper(c) - 'A' + 10));
  };
  for (size_t i = l.contents_begin + 1; i + 2 < l.contents_end; i += 2) {
    der.push_back(static_cast<unsigned char>(nibble(view[i]) << 4 | nibble(view[i + 1])));
  }
  const unsigned char* p = der.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) {
    check.problem = "/Contents is not a CMS SignedData: " + LastError();
    return check;
  }
  BioPtr data = SignedBytes(view, l);
  if (!data) return Status::Internal("out of memory");
  // Integrity only: the certificate chain's trust is the reader's policy.
  check.digest_matches = CMS_verify(cms.get(), nullptr, nullptr, data.get(), nullptr,
                                    CMS_DETACHED | CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
  if (!check.digest_matches) {
    check.problem = "signature does not match the file: " + LastError();
    return check;
  }
  // Only a verified CMS has its signer certificates resolved.
  STACK_OF(X509)* signers = CMS_get0_signers(cms.get());
  if (signers != nullptr && sk_X509_num(signers) > 0) check.signer = SubjectName(sk_X509_value(signers, 0));
  sk_X509_free(signers);
  ReadCmsAttributes(cms.get(), &check);
  return check;
}

}  // namespace acervo
