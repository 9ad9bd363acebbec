// PdfWriter: the document sink that turns encoded pages and their OCR words
// into one searchable PDF.
//
// Each page is the encoded image (embedded as-is: JPEG as DCTDecode, G4 as
// CCITTFaxDecode, zlib as FlateDecode; never re-encoded) with an invisible
// text layer on top, one text object per OCR word, built the way Tesseract's
// own PDF renderer does it: a Type0/Identity-H font whose CIDFontType2
// descendant embeds Tesseract's glyphless TrueType font (pdf.ttf), every CID
// drawn with glyph 1, and a ToUnicode CMap mapping each CID (the UTF-16 code
// unit of the character) back to that character. Each word is scaled so that
// it covers its box exactly, so text selection and search hits line up with
// the picture. Characters outside the Basic Multilingual Plane are dropped
// from the text layer.
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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/core/status.h"

namespace acervo {

inline constexpr char kDefaultGlyphlessFontPath[] = "/usr/share/tesseract-ocr/5/tessdata/pdf.ttf";

struct PdfOptions {
  // Tesseract's glyphless font, read once at Create().
  std::filesystem::path font_path = kDefaultGlyphlessFontPath;
  // Write an XMP metadata stream (Dublin Core, xmp, pdf schemas) mirroring the
  // Info dictionary.
  bool write_xmp = true;
  // An ICC profile for an sRGB OutputIntent. Empty: no OutputIntent. When set
  // (and readable), the XMP also claims PDF/A-1b (pdfaid part 1, B); without
  // an OutputIntent the file could not be PDF/A, so nothing is claimed.
  std::filesystem::path icc_profile_path;
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

class PdfWriter {
 public:
  // Unavailable when the font (or a given ICC profile) cannot be read;
  // InvalidArgument when the font is not a TrueType file.
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

  // Finishes the PDF, verifies it (re-opened by PoDoFo, page count checked),
  // syncs and commits it. InvalidArgument without Begin() or with no pages;
  // Corrupt when verification fails; IOError when the file cannot be
  // finished. On failure the temporary file is removed.
  Result<PdfResult> End();

  // Drops the open document, if any, and removes its temporary file.
  void Abort();

 private:
  struct Document;  // the open PoDoFo document and its shared objects
  PdfWriter(PdfOptions options, std::vector<char> font, std::vector<char> icc);

  PdfOptions options_;
  std::vector<char> font_;  // pdf.ttf bytes
  std::vector<char> icc_;   // ICC profile bytes, empty when none
  std::unique_ptr<Document> doc_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_PDF_WRITER_H_
