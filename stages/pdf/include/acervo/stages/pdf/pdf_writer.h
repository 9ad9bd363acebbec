// PdfWriter: the document sink that turns encoded pages and their OCR words
// into one searchable PDF/A (docs/pdf.md).
//
// Conformance: PDF/A-1b by default (PDF 1.4, classic xref table, sRGB
// OutputIntent, XMP with pdfaid, Dublin Core and the Decreto 10.278/2020
// schema declared by a pdfaExtension schema), PDF/A-2b as an option. Nothing
// is claimed when no ICC profile is given. Optionally signed from a PKCS#12
// file, as the last change to the file: in ICP-Brasil's PAdES form
// (ETSI.CAdES.detached with the AD-RB or, time-stamped, AD-RT policy) or as
// PAdES-basic (adbe.pkcs7.detached); see PdfSignatureOptions.
//
// Each page is the encoded image (embedded as-is: JPEG as DCTDecode, G4 as
// CCITTFaxDecode, zlib as FlateDecode; never re-encoded) with an invisible
// text layer on top, one text object per OCR word, built the way Tesseract's
// own PDF renderer does it: a Type0/Identity-H font whose CIDFontType2
// descendant embeds Tesseract's glyphless TrueType font (pdf.ttf), every CID
// drawn with glyph 1, and a ToUnicode CMap mapping each CID (the UTF-16 code
// unit of the character) back to that character. Each word is scaled so that
// it covers its box exactly, so text selection and search hits line up with
// the picture; each word's font variant (same font program, its own
// Ascent/Descent) puts its selection box on its OCR box vertically too.
// Characters outside the Basic Multilingual Plane are dropped from the text
// layer.
//
// Durability: the PDF is written to TempPathFor(final_path), streamed page by
// page (memory stays bounded by one page), and only after End() has re-opened
// it, counted its pages and synced it to disk is it renamed into place with
// CommitFile(). Abort(), a failed End(), or destroying a writer that was not
// Ended removes the temporary file: no partial PDF is ever visible under the
// final name.
//
// Usage:
//   ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PdfWriter> w, PdfWriter::Create(opts));
//   ACERVO_RETURN_IF_ERROR(w->Begin(path, info));
//   for (const Page& p : pages) ACERVO_RETURN_IF_ERROR(w->AddPage(PdfPageInputFromPage(p)));
//   ACERVO_ASSIGN_OR_RETURN(PdfResult r, w->End());
// A writer can write several documents one after the other (Begin again after
// End or Abort).
//
// Thread-safety: a PdfWriter is used by one thread at a time. Different
// writers may run on different threads.
#ifndef ACERVO_STAGES_PDF_PDF_WRITER_H_
#define ACERVO_STAGES_PDF_PDF_WRITER_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/core/status.h"

namespace acervo {

class PdfSigner;  // signature.h (private)

inline constexpr char kDefaultGlyphlessFontPath[] = "/usr/share/tesseract-ocr/5/tessdata/pdf.ttf";
// sRGB IEC 61966-2.1, ICC v2 (Debian's icc-profiles-free): the OutputIntent
// every PDF/A file needs. v2 because PDF/A-1 forbids v4 profiles.
inline constexpr char kDefaultSrgbProfilePath[] = "/usr/share/color/icc/sRGB.icc";

// Which PDF/A conformance the file claims (and is built for).
enum class PdfaPart {
  k1b,  // ISO 19005-1 level B: PDF 1.4, no transparency, classic xref table
  k2b,  // ISO 19005-2 level B: PDF 1.7 header, otherwise the same objects
};
std::string_view PdfaPartName(PdfaPart part);  // "1b", "2b"

// Which kind of signature each PDF gets (docs/pdf.md, "Signature").
enum class SignatureForm {
  // ICP-Brasil's PAdES profile (DOC-ICP-15.03): SubFilter ETSI.CAdES.detached;
  // signed attributes content-type, message-digest, signing-certificate-v2
  // (RFC 5035) and the signature policy identifier of PA_PAdES_AD_RB_v1_3,
  // or of PA_PAdES_AD_RT_v1_3 when a time-stamp authority adds an RFC 3161
  // signature time-stamp; no signing-time attribute (PAdES forbids it: the
  // claimed time is the dictionary's /M).
  kIcpBrasil,
  // PAdES-basic (ISO 32000-1 12.8.3.3): SubFilter adbe.pkcs7.detached;
  // signed attributes content-type, signing-time, message-digest.
  kPadesBasic,
};
std::string_view SignatureFormName(SignatureForm form);  // "icp-brasil", "pades-basic"

// An RFC 3161 time-stamp authority (an ACT, in ICP-Brasil's words). Each
// signature's value is sent as a SHA-256 imprint with a fresh nonce (HTTP
// POST, application/timestamp-query); the reply is refused unless it grants
// a token for exactly that imprint and nonce, signed by a certificate with
// the critical timeStamping extended key usage that chains to `ca_file`.
struct TimestampAuthorityOptions {
  std::string url;                // http://host[:port]/path or https://...
  std::filesystem::path ca_file;  // PEM certificates the TSA must chain to
  std::string user;               // HTTP basic authentication when not empty
  std::string password;
  int timeout_s = 20;  // connect, send and receive, each
};

// A signature made with the key and certificate of a PKCS#12 file, applied to
// every document when the writer has one (see signature.cc for the
// ByteRange layout).
struct PdfSignatureOptions {
  std::filesystem::path pkcs12_path;
  std::string password;  // of the PKCS#12 file; may be empty
  std::string reason;    // /Reason, e.g. "Digitalização conforme Decreto 10.278/2020"
  std::string location;  // /Location
  std::string contact;   // /ContactInfo
  SignatureForm form = SignatureForm::kIcpBrasil;
  // When set, every signature carries a time-stamp token from it. A document
  // whose time-stamp cannot be had is not produced (End() fails with
  // Unavailable, naming the authority and the reason): an archive that asked
  // for time-stamped signatures never gets a file silently without one.
  std::optional<TimestampAuthorityOptions> tsa;
};

struct PdfOptions {
  // Tesseract's glyphless font, read once at Create().
  std::filesystem::path font_path = kDefaultGlyphlessFontPath;
  // Write an XMP metadata stream (Dublin Core, xmp, pdf, pdfaid and the
  // Decreto 10.278 schema of docs/pdf.md) mirroring the Info dictionary.
  // PDF/A needs it; turning it off also drops the PDF/A claim.
  bool write_xmp = true;
  // The ICC profile of the sRGB OutputIntent. Empty: no OutputIntent, and
  // then the file is not PDF/A and claims nothing.
  std::filesystem::path icc_profile_path = kDefaultSrgbProfilePath;
  PdfaPart pdfa = PdfaPart::k1b;
  // Sign each document when set. The PKCS#12 file is read and checked at
  // Create().
  std::optional<PdfSignatureOptions> signature;
};

// The metadata of Decreto 10.278/2020, Annex II, written to the custom XMP
// schema of docs/pdf.md (prefix "d10278") and as Info keys of the same names
// (capitalised: "Assunto", "DataDigitalizacao", ...). Empty values are left
// out. The hash of the masters comes from PdfDocumentInfo::master_sha256.
struct ArchivalMetadata {
  std::string assunto;
  std::string autor;
  std::string data_digitalizacao;   // ISO 8601 date-time of the scan run
  std::string local_digitalizacao;  // where the scan was made
  std::string identificador;        // identificador do documento digital
  std::string responsavel_digitalizacao;
  std::string titulo;
  std::string tipo_documental;
  // Public bodies (órgãos e entidades da administração pública) add these.
  std::string classe;
  std::string data_producao;  // of the original document
  std::string destinacao_prevista;  // "eliminação" or "guarda permanente"
  std::string genero;
  std::string prazo_guarda;
};

// Document-level metadata: the Info dictionary and the index fields.
struct PdfDocumentInfo {
  std::string title;  // UTF-8, all of these
  std::string author;
  std::string subject;
  std::string keywords;
  // Index fields, stored as custom Info keys (AcervoDocumentId, AcervoLotId,
  // AcervoDocumentType, AcervoField.<name>, AcervoMasterSha256) so that the
  // PDF alone can rebuild its index row.
  std::string document_id;
  std::string lot_id;
  std::string document_type;
  std::vector<std::pair<std::string, std::string>> fields;  // name, value
  std::vector<std::string> master_sha256;                   // hex, in page order
  ArchivalMetadata archival;
  // CreationDate; now when unset (set it for reproducible output).
  std::optional<std::chrono::system_clock::time_point> creation_time;
};

// One page to add. Borrowed views: they need only live until AddPage returns.
struct PdfPageInput {
  const EncodedImage* image = nullptr;
  double dpi_x = 300;
  double dpi_y = 300;
  // Boxes in pixels of `image` (top-left origin); UTF-8 text.
  std::span<const Word> words;
};

// The view of a processed Page that AddPage needs (page.encoded, its dpi and
// OCR words). `page` must outlive the returned value.
PdfPageInput PdfPageInputFromPage(const Page& page);

struct PdfResult {
  std::filesystem::path path;  // the final path
  int pages = 0;
  uint64_t bytes = 0;
  std::string sha256;  // lowercase hex of the file
};

// A change to the pages of a finished PDF (PdfWriter::RewritePages): page
// `at` of the source is removed (`remove`) and/or `insert` is put in as
// page `at`. Replacing a page is both; a page that was left out (blank) and
// now has content is an insert alone; a page that became blank is a remove
// alone.
struct PdfPageEdit {
  int at = 1;  // 1-based
  bool remove = true;
  const PdfPageInput* insert = nullptr;  // borrowed for the call
};

class PdfWriter {
 public:
  // Unavailable when the font, the ICC profile or the PKCS#12 file cannot be
  // read; InvalidArgument when the font is not a TrueType file, the profile
  // not an RGB/gray ICC profile of version 2 (PDF/A-1), or the PKCS#12 file
  // cannot be opened with the password or holds no key and certificate.
  static Result<std::unique_ptr<PdfWriter>> Create(const PdfOptions& options);

  // Removes the temporary file of an unfinished document.
  ~PdfWriter();
  PdfWriter(const PdfWriter&) = delete;
  PdfWriter& operator=(const PdfWriter&) = delete;

  // Starts a document that will become `final_path`. InvalidArgument when a
  // document is already open or a field name is empty; IOError when the
  // temporary file cannot be created.
  Status Begin(const std::filesystem::path& final_path, const PdfDocumentInfo& info);

  // Appends a page. InvalidArgument for a missing/inconsistent image or a
  // non-positive dpi (the document stays open and the page is not added);
  // IOError/Internal when writing fails (the document is then unusable: call
  // Abort()). Words with an empty box or no BMP character are skipped.
  Status AddPage(const PdfPageInput& page);

  // Finishes the PDF, signs it when the writer signs, verifies it (re-opened
  // by PoDoFo, page count checked), syncs and commits it. InvalidArgument without Begin() or with no pages;
  // Corrupt when verification fails; IOError when the file cannot be
  // finished. On failure the temporary file is removed.
  // `before_publish`, when given, runs after verification, right before the
  // rename that publishes the file: its failure is End's (nothing is
  // published, the temporary file is removed). A queue worker checks there
  // that its claim still holds (WorkQueue::HoldClaim).
  Result<PdfResult> End(const std::function<Status()>& before_publish = {});

  // Drops the open document, if any, and removes its temporary file.
  void Abort();

  // A correction without OCR (issue 14): writes `source`, a finished PDF of
  // this writer, to `dest` (atomically, `dest` may be `source`) with its
  // document metadata — Info dictionary and XMP packet, the same PDF/A claim
  // — rebuilt from `info`, and every page, image and text layer object
  // copied as they are. CreationDate stays the file's; ModDate and the XMP
  // ModifyDate/MetadataDate become now; DataDigitalizacao stays the file's
  // when info.archival leaves it empty. A signed file is signed again (the
  // writer must sign: InvalidArgument otherwise, or when the writer signs
  // and the file has no signature field). Verified as End() verifies.
  // Independent of Begin/End (may be called between documents).
  Result<PdfResult> RewriteMetadata(const std::filesystem::path& source, const PdfDocumentInfo& info,
                                    const std::filesystem::path& dest);

  // A page re-scanned (issue 14): as RewriteMetadata, and the pages changed
  // by `edit` — the new page built as AddPage builds one (image embedded as
  // it is, text layer with the document's shared glyphless font), the
  // objects only the removed page used dropped, every other page, image
  // and text-layer object copied as it is. The signature widget, when the
  // removed page held it, moves to the page now at `edit.at`.
  // InvalidArgument when `edit` names no page of the file (or would leave
  // it empty) or the new page is refused as AddPage refuses it.
  Result<PdfResult> RewritePages(const std::filesystem::path& source, const PdfPageEdit& edit,
                                 const PdfDocumentInfo& info, const std::filesystem::path& dest);

 private:
  Result<PdfResult> Rewrite(const std::filesystem::path& source, const PdfDocumentInfo& info,
                            const std::filesystem::path& dest, const PdfPageEdit* edit);

  struct Document;  // the open PoDoFo document and its shared objects
  PdfWriter(PdfOptions options, std::vector<char> font, std::vector<char> icc,
            std::unique_ptr<PdfSigner> signer);

  PdfOptions options_;
  std::vector<char> font_;  // pdf.ttf bytes
  std::vector<char> icc_;   // ICC profile bytes, empty when none
  std::unique_ptr<PdfSigner> signer_;  // null when not signing
  std::unique_ptr<Document> doc_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_PDF_WRITER_H_
