#include "acervo/stages/pdf/pdf_writer.h"

#include <fcntl.h>
#include <podofo/podofo.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <iterator>
#include <random>
#include <system_error>

#include "acervo/core/files.h"
#include "text_layer.h"

namespace acervo {

namespace fs = std::filesystem;
using PoDoFo::pdf_int64;
using PoDoFo::PdfArray;
using PoDoFo::PdfDictionary;
using PoDoFo::PdfName;
using PoDoFo::PdfObject;
using PoDoFo::PdfReference;
using PoDoFo::PdfString;

namespace {

constexpr char kProducer[] = "Acervo 0.1 (PoDoFo 0.9.8)";
constexpr char kImageName[] = "Im0";
constexpr char kFontName[] = "F0";

std::string PodofoMessage(const PoDoFo::PdfError& e) {
  std::string msg = PoDoFo::PdfError::ErrorName(e.GetError()) != nullptr
                        ? PoDoFo::PdfError::ErrorName(e.GetError())
                        : "PdfError";
  for (const PoDoFo::PdfErrorInfo& info : e.GetCallstack()) {
    if (!info.GetInformation().empty()) {
      msg += ": " + info.GetInformation();
      break;
    }
  }
  return msg;
}

PdfObject Int(int64_t v) { return PdfObject(static_cast<pdf_int64>(v)); }

// Info strings: plain when ASCII (readable in any tool), else UTF-16BE.
PdfString Text(const std::string& utf8) {
  bool ascii = true;
  for (char c : utf8) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return PdfString(utf8);
  return PdfString(reinterpret_cast<const PoDoFo::pdf_utf8*>(utf8.c_str()));
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// PDF date (Info) and XMP date of the same instant, both in UTC, so that a
// PDF/A validator finds them equal.
std::string PdfDateUtc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "D:%Y%m%d%H%M%SZ", &tm);
  return buf;
}
std::string XmpDateUtc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::vector<char>> ReadAll(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable(std::string("cannot read ") + what + " " + path.string());
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    return Status::Unavailable(std::string("cannot read ") + what + " " + path.string());
  return data;
}

// Writes already-encoded bytes as the object's stream, without a filter of
// PoDoFo's (the caller has put /Filter in the dictionary).
void SetRawStream(PdfObject* obj, const char* data, size_t size) {
  PoDoFo::PdfMemoryInputStream in(data, static_cast<PoDoFo::pdf_long>(size));
  obj->GetStream()->SetRawData(&in, static_cast<PoDoFo::pdf_long>(size));
}

std::string BuildXmp(const PdfDocumentInfo& info, std::time_t created, bool claim_pdfa) {
  std::string x =
      "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
      "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
      "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
      "<dc:format>application/pdf</dc:format>\n";
  if (!info.title.empty()) {
    x += "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">" + XmlEscape(info.title) +
         "</rdf:li></rdf:Alt></dc:title>\n";
  }
  if (!info.author.empty()) {
    x += "<dc:creator><rdf:Seq><rdf:li>" + XmlEscape(info.author) +
         "</rdf:li></rdf:Seq></dc:creator>\n";
  }
  if (!info.subject.empty()) {
    x += "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">" + XmlEscape(info.subject) +
         "</rdf:li></rdf:Alt></dc:description>\n";
  }
  if (!info.document_id.empty()) {
    x += "<dc:identifier>" + XmlEscape(info.document_id) + "</dc:identifier>\n";
  }
  x += "</rdf:Description>\n"
       "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n"
       "<xmp:CreateDate>" +
       XmpDateUtc(created) +
       "</xmp:CreateDate>\n"
       "<xmp:ModifyDate>" +
       XmpDateUtc(created) +
       "</xmp:ModifyDate>\n"
       "<xmp:MetadataDate>" +
       XmpDateUtc(created) +
       "</xmp:MetadataDate>\n"
       "<xmp:CreatorTool>Acervo</xmp:CreatorTool>\n"
       "</rdf:Description>\n"
       "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n"
       "<pdf:Producer>" +
       std::string(kProducer) + "</pdf:Producer>\n";
  if (!info.keywords.empty()) {
    x += "<pdf:Keywords>" + XmlEscape(info.keywords) + "</pdf:Keywords>\n";
  }
  x += "</rdf:Description>\n";
  if (claim_pdfa) {
    x += "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
         "<pdfaid:part>1</pdfaid:part>\n"
         "<pdfaid:conformance>B</pdfaid:conformance>\n"
         "</rdf:Description>\n";
  }
  x += "</rdf:RDF>\n</x:xmpmeta>\n";
  // Padding lets an editor update the packet in place (XMP spec, 2 KB is usual).
  x += std::string(20, ' ') + "\n";
  x += "<?xpacket end=\"w\"?>";
  return x;
}

// Number of components of an ICC profile from its header's colour space
// field, or 0 when the data is not an ICC profile.
int IccComponents(const std::vector<char>& icc) {
  if (icc.size() < 128 || std::string_view(icc.data() + 36, 4) != "acsp") return 0;
  std::string_view space(icc.data() + 16, 4);
  if (space == "RGB ") return 3;
  if (space == "GRAY") return 1;
  if (space == "CMYK") return 4;
  return 0;
}

// Counts the leaf pages of the page tree below `node`, resolving references
// through `objs`. -1 when the tree is malformed (a missing node, a loop, or
// absurd depth).
int CountPages(PoDoFo::PdfVecObjects& objs, const PdfObject* node, int depth) {
  if (node != nullptr && node->IsReference()) node = objs.GetObject(node->GetReference());
  if (node == nullptr || !node->IsDictionary() || depth > 64) return -1;
  const PdfObject* type = node->GetDictionary().GetKey(PdfName("Type"));
  if (type != nullptr && type->IsName() && type->GetName() == PdfName("Page")) return 1;
  const PdfObject* kids = node->GetDictionary().GetKey(PdfName("Kids"));
  if (kids != nullptr && kids->IsReference()) kids = objs.GetObject(kids->GetReference());
  if (kids == nullptr || !kids->IsArray()) return -1;
  int total = 0;
  for (const PdfObject& kid : kids->GetArray()) {
    int n = CountPages(objs, &kid, depth + 1);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

// Re-reads the PDF with PoDoFo's parser (the one PdfMemDocument uses; used
// directly because PdfMemDocument logs the trailer to stderr on every load)
// and returns the number of pages its page tree holds.
Result<int> PagesOnDisk(const fs::path& path) {
  try {
    PoDoFo::PdfVecObjects objs;
    objs.SetAutoDelete(true);  // the vector owns what the parser reads
    PoDoFo::PdfParser parser(&objs, path.c_str(), /*bLoadOnDemand=*/true);
    const PdfObject* trailer = parser.GetTrailer();
    const PdfObject* root =
        trailer != nullptr ? trailer->GetDictionary().GetKey(PdfName("Root")) : nullptr;
    if (root != nullptr && root->IsReference()) root = objs.GetObject(root->GetReference());
    if (root == nullptr || !root->IsDictionary()) return Status::Corrupt("no catalog");
    int n = CountPages(objs, root->GetDictionary().GetKey(PdfName("Pages")), 0);
    if (n < 0) return Status::Corrupt("malformed page tree");
    return n;
  } catch (const PoDoFo::PdfError& e) {
    return Status::Corrupt(PodofoMessage(e));
  }
}

// PoDoFo 0.9.8 derives the trailer /ID from the Info dictionary as it is when
// the document is created (essentially the creation second), so documents
// written in the same second would share an ID. Overwrite both halves, in
// place and at the same length (no offset moves), with random bytes.
Status MakeIdUnique(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + path.string());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const off_t size = ::lseek(fd, 0, SEEK_END);
  const off_t start = size > 4096 ? size - 4096 : 0;
  std::string tail(static_cast<size_t>(size - start), '\0');
  if (::pread(fd, tail.data(), tail.size(), start) != static_cast<ssize_t>(tail.size())) {
    return Status::IOError("cannot read " + path.string());
  }
  const std::string_view kKey = "/ID[<";
  size_t at = tail.rfind(kKey);
  // Expect <32 hex><32 hex> exactly; anything else is left alone.
  if (at == std::string::npos || at + kKey.size() + 32 + 2 + 32 + 1 > tail.size() ||
      tail.compare(at + kKey.size() + 32, 2, "><") != 0) {
    return Status::OK();
  }
  std::random_device rd;
  std::string hex;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08X", static_cast<unsigned>(rd()));
    hex += buf;
  }
  const off_t first = start + static_cast<off_t>(at + kKey.size());
  if (::pwrite(fd, hex.data(), 32, first) != 32 || ::pwrite(fd, hex.data(), 32, first + 34) != 32) {
    return Status::IOError("cannot write the document ID of " + path.string());
  }
  return Status::OK();
}

Status ValidatePage(const PdfPageInput& page) {
  if (page.image == nullptr) return Status::InvalidArgument("page has no encoded image");
  const EncodedImage& im = *page.image;
  if (im.codec == EncodedImage::Codec::kNone || im.bytes.empty()) {
    return Status::InvalidArgument("page image is not encoded (run the encode stage)");
  }
  if (im.width <= 0 || im.height <= 0) {
    return Status::InvalidArgument("page image has no size");
  }
  if (!(page.dpi_x > 0) || !(page.dpi_y > 0) || !std::isfinite(page.dpi_x) ||
      !std::isfinite(page.dpi_y)) {
    return Status::InvalidArgument("page dpi must be positive");
  }
  if (im.codec == EncodedImage::Codec::kCcittG4) {
    if (im.components != 1 || im.bits_per_component != 1) {
      return Status::InvalidArgument("CCITT image must be 1 component, 1 bit");
    }
  } else if ((im.components != 1 && im.components != 3) || im.bits_per_component != 8) {
    return Status::InvalidArgument("image must be 1 or 3 components of 8 bits");
  }
  return Status::OK();
}

// PoDoFo 0.9.8 keeps the catalog accessor protected; the OutputIntents and
// Metadata entries need it.
class StreamedDocument : public PoDoFo::PdfStreamedDocument {
 public:
  using PoDoFo::PdfDocument::GetCatalog;
  using PoDoFo::PdfStreamedDocument::PdfStreamedDocument;
};

}  // namespace

struct PdfWriter::Document {
  fs::path final_path;
  fs::path temp_path;
  std::unique_ptr<StreamedDocument> pdf;
  PdfReference font;
  int pages = 0;
};

PdfPageInput PdfPageInputFromPage(const Page& page) {
  PdfPageInput in;
  in.image = &page.encoded;
  in.dpi_x = page.dpi_x;
  in.dpi_y = page.dpi_y;
  in.words = page.words;
  return in;
}

PdfWriter::PdfWriter(PdfOptions options, std::vector<char> font, std::vector<char> icc)
    : options_(std::move(options)), font_(std::move(font)), icc_(std::move(icc)) {}

PdfWriter::~PdfWriter() { Abort(); }

Result<std::unique_ptr<PdfWriter>> PdfWriter::Create(const PdfOptions& options) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<char> font, ReadAll(options.font_path, "glyphless font"));
  // TrueType fonts start with version 1.0 (00 01 00 00) or "true".
  if (font.size() < 12 || (std::string_view(font.data(), 4) != std::string_view("\0\1\0\0", 4) &&
                           std::string_view(font.data(), 4) != "true")) {
    return Status::InvalidArgument("not a TrueType font: " + options.font_path.string());
  }
  std::vector<char> icc;
  if (!options.icc_profile_path.empty()) {
    ACERVO_ASSIGN_OR_RETURN(icc, ReadAll(options.icc_profile_path, "ICC profile"));
    if (IccComponents(icc) == 0) {
      return Status::InvalidArgument("not a usable ICC profile: " +
                                     options.icc_profile_path.string());
    }
  }
  return std::unique_ptr<PdfWriter>(new PdfWriter(options, std::move(font), std::move(icc)));
}

Status PdfWriter::Begin(const fs::path& final_path, const PdfDocumentInfo& info) {
  if (doc_)
    return Status::InvalidArgument("a document is already open: " + doc_->final_path.string());
  if (final_path.filename().empty())
    return Status::InvalidArgument("no file name in " + final_path.string());
  for (const auto& [name, value] : info.fields) {
    if (name.empty()) return Status::InvalidArgument("index field with an empty name");
  }
  auto doc = std::make_unique<Document>();
  doc->final_path = final_path;
  doc->temp_path = TempPathFor(final_path);
  const std::time_t created = std::chrono::system_clock::to_time_t(
      info.creation_time.value_or(std::chrono::system_clock::now()));
  try {
    // 1.4: the base of PDF/A-1, and enough for everything written here.
    doc->pdf = std::make_unique<StreamedDocument>(doc->temp_path.c_str(), PoDoFo::ePdfVersion_1_4);
    doc_ = std::move(doc);  // from here on Abort() cleans up the temp file
    StreamedDocument& pdf = *doc_->pdf;
    PoDoFo::PdfVecObjects& objs = *pdf.GetObjects();

    PoDoFo::PdfInfo* pinfo = pdf.GetInfo();
    if (!info.title.empty()) pinfo->SetTitle(Text(info.title));
    if (!info.author.empty()) pinfo->SetAuthor(Text(info.author));
    if (!info.subject.empty()) pinfo->SetSubject(Text(info.subject));
    if (!info.keywords.empty()) pinfo->SetKeywords(Text(info.keywords));
    pinfo->SetCreator(PdfString("Acervo"));
    pinfo->SetProducer(PdfString(kProducer));
    PdfDictionary& idict = pinfo->GetObject()->GetDictionary();
    idict.AddKey(PdfName("CreationDate"), PdfString(PdfDateUtc(created)));
    idict.AddKey(PdfName("ModDate"), PdfString(PdfDateUtc(created)));
    if (!info.document_id.empty())
      pinfo->SetCustomKey(PdfName("AcervoDocumentId"), Text(info.document_id));
    if (!info.lot_id.empty()) pinfo->SetCustomKey(PdfName("AcervoLotId"), Text(info.lot_id));
    if (!info.document_type.empty()) {
      pinfo->SetCustomKey(PdfName("AcervoDocumentType"), Text(info.document_type));
    }
    for (const auto& [name, value] : info.fields) {
      pinfo->SetCustomKey(PdfName("AcervoField." + name), Text(value));
    }
    if (!info.master_sha256.empty()) {
      std::string joined;
      for (const std::string& h : info.master_sha256) {
        if (!joined.empty()) joined += ' ';
        joined += h;
      }
      pinfo->SetCustomKey(PdfName("AcervoMasterSha256"), Text(joined));
    }

    // The glyphless font, shared by all pages.
    //
    // Two rules of PoDoFo's streamed document shape this code: an object's
    // dictionary is written when its stream starts, so every key goes in
    // before the stream data; and a stream object is written out and deleted
    // as soon as the next stream starts, so its reference is taken right
    // after creation and the pointer is not used after the next stream.
    PdfObject* font_file = objs.CreateObject();
    const PdfReference font_file_ref = font_file->Reference();
    font_file->GetDictionary().AddKey(PdfName("Length1"), Int(static_cast<int64_t>(font_.size())));
    font_file->GetStream()->Set(font_.data(), static_cast<PoDoFo::pdf_long>(font_.size()));

    PdfObject* descriptor = objs.CreateObject("FontDescriptor");
    {
      PdfDictionary& d = descriptor->GetDictionary();
      d.AddKey(PdfName("FontName"), PdfName("GlyphLessFont"));
      d.AddKey(PdfName("Flags"), Int(5));  // FixedPitch + Symbolic
      PdfArray bbox;
      bbox.push_back(Int(0));
      bbox.push_back(Int(0));
      bbox.push_back(Int(pdf_internal::kGlyphWidth));
      bbox.push_back(Int(1000));
      d.AddKey(PdfName("FontBBox"), bbox);
      d.AddKey(PdfName("ItalicAngle"), Int(0));
      // Ascent 1 em and (almost) no descent: text extractors then report the
      // glyph box from the baseline up one font size, i.e. the word's box.
      d.AddKey(PdfName("Ascent"), Int(1000));
      d.AddKey(PdfName("Descent"), Int(-1));
      d.AddKey(PdfName("CapHeight"), Int(1000));
      d.AddKey(PdfName("StemV"), Int(80));
      d.AddKey(PdfName("FontFile2"), font_file_ref);
    }

    // Every CID (0..65535) is drawn with glyph 1, the font's only real glyph.
    PdfObject* cid_to_gid = objs.CreateObject();
    const PdfReference cid_to_gid_ref = cid_to_gid->Reference();
    {
      std::vector<char> map(2 * 65536);
      for (size_t i = 1; i < map.size(); i += 2) map[i] = 1;
      cid_to_gid->GetStream()->Set(map.data(), static_cast<PoDoFo::pdf_long>(map.size()));
    }

    PdfObject* cid_font = objs.CreateObject("Font");
    {
      PdfDictionary& d = cid_font->GetDictionary();
      d.AddKey(PdfName("Subtype"), PdfName("CIDFontType2"));
      d.AddKey(PdfName("BaseFont"), PdfName("GlyphLessFont"));
      PdfDictionary sysinfo;
      sysinfo.AddKey(PdfName("Registry"), PdfString("Adobe"));
      sysinfo.AddKey(PdfName("Ordering"), PdfString("Identity"));
      sysinfo.AddKey(PdfName("Supplement"), Int(0));
      d.AddKey(PdfName("CIDSystemInfo"), sysinfo);
      d.AddKey(PdfName("FontDescriptor"), descriptor->Reference());
      d.AddKey(PdfName("DW"), Int(pdf_internal::kGlyphWidth));
      d.AddKey(PdfName("CIDToGIDMap"), cid_to_gid_ref);
    }

    PdfObject* to_unicode = objs.CreateObject();
    const PdfReference to_unicode_ref = to_unicode->Reference();
    {
      std::string cmap = pdf_internal::ToUnicodeCMap();
      to_unicode->GetStream()->Set(cmap.data(), static_cast<PoDoFo::pdf_long>(cmap.size()));
    }

    PdfObject* type0 = objs.CreateObject("Font");
    {
      PdfDictionary& d = type0->GetDictionary();
      d.AddKey(PdfName("Subtype"), PdfName("Type0"));
      d.AddKey(PdfName("BaseFont"), PdfName("GlyphLessFont"));
      d.AddKey(PdfName("Encoding"), PdfName("Identity-H"));
      PdfArray descendants;
      descendants.push_back(cid_font->Reference());
      d.AddKey(PdfName("DescendantFonts"), descendants);
      d.AddKey(PdfName("ToUnicode"), to_unicode_ref);
    }
    doc_->font = type0->Reference();

    PdfDictionary& catalog = pdf.GetCatalog()->GetDictionary();
    if (!icc_.empty()) {
      PdfObject* profile = objs.CreateObject();
      const PdfReference profile_ref = profile->Reference();
      profile->GetDictionary().AddKey(PdfName("N"), Int(IccComponents(icc_)));
      profile->GetStream()->Set(icc_.data(), static_cast<PoDoFo::pdf_long>(icc_.size()));
      PdfDictionary intent;
      intent.AddKey(PdfName("Type"), PdfName("OutputIntent"));
      intent.AddKey(PdfName("S"), PdfName("GTS_PDFA1"));
      intent.AddKey(PdfName("OutputConditionIdentifier"), PdfString("sRGB IEC61966-2.1"));
      intent.AddKey(PdfName("Info"), PdfString("sRGB IEC61966-2.1"));
      intent.AddKey(PdfName("DestOutputProfile"), profile_ref);
      PdfArray intents;
      intents.push_back(intent);
      catalog.AddKey(PdfName("OutputIntents"), intents);
    }
    if (options_.write_xmp) {
      std::string xmp = BuildXmp(info, created, !icc_.empty());
      PdfObject* meta = objs.CreateObject("Metadata");
      const PdfReference meta_ref = meta->Reference();
      meta->GetDictionary().AddKey(PdfName("Subtype"), PdfName("XML"));
      // Unfiltered: PDF/A wants the packet readable by tools that do not
      // parse PDF.
      SetRawStream(meta, xmp.data(), xmp.size());
      catalog.AddKey(PdfName("Metadata"), meta_ref);
    }
  } catch (const PoDoFo::PdfError& e) {
    Abort();
    return Status::IOError("cannot start PDF " + final_path.string() + ": " + PodofoMessage(e));
  } catch (const std::exception& e) {
    Abort();
    return Status::IOError("cannot start PDF " + final_path.string() + ": " + e.what());
  }
  return Status::OK();
}

Status PdfWriter::AddPage(const PdfPageInput& page) {
  if (!doc_) return Status::InvalidArgument("AddPage without Begin");
  const int page_no = doc_->pages + 1;
  const std::string where = doc_->final_path.string() + " page " + std::to_string(page_no);
  ACERVO_RETURN_IF_ERROR(ValidatePage(page).WithContext(where));
  const EncodedImage& im = *page.image;

  pdf_internal::PageGeometry geo;
  geo.width_pt = im.width * 72.0 / page.dpi_x;
  geo.height_pt = im.height * 72.0 / page.dpi_y;
  geo.dpi_x = page.dpi_x;
  geo.dpi_y = page.dpi_y;

  try {
    StreamedDocument& pdf = *doc_->pdf;
    PoDoFo::PdfVecObjects& objs = *pdf.GetObjects();

    // References are taken at creation: see the streamed-document rules in
    // Begin().
    PdfObject* xobj = objs.CreateObject("XObject");
    const PdfReference xobj_ref = xobj->Reference();
    {
      PdfDictionary& d = xobj->GetDictionary();
      d.AddKey(PdfName("Subtype"), PdfName("Image"));
      d.AddKey(PdfName("Width"), Int(im.width));
      d.AddKey(PdfName("Height"), Int(im.height));
      d.AddKey(PdfName("ColorSpace"), PdfName(im.components == 3 ? "DeviceRGB" : "DeviceGray"));
      d.AddKey(PdfName("BitsPerComponent"), Int(im.bits_per_component));
      switch (im.codec) {
        case EncodedImage::Codec::kJpeg:
          d.AddKey(PdfName("Filter"), PdfName("DCTDecode"));
          break;
        case EncodedImage::Codec::kFlate:
          d.AddKey(PdfName("Filter"), PdfName("FlateDecode"));
          break;
        case EncodedImage::Codec::kCcittG4: {
          d.AddKey(PdfName("Filter"), PdfName("CCITTFaxDecode"));
          PdfDictionary parms;
          parms.AddKey(PdfName("K"), Int(-1));
          parms.AddKey(PdfName("Columns"), Int(im.width));
          parms.AddKey(PdfName("Rows"), Int(im.height));
          // The G4 data's black runs are the black pixels; decoded black is
          // then 0, which DeviceGray shows as black.
          parms.AddKey(PdfName("BlackIs1"), PdfObject(false));
          d.AddKey(PdfName("DecodeParms"), parms);
          break;
        }
        case EncodedImage::Codec::kNone:
          break;  // rejected by ValidatePage
      }
    }
    SetRawStream(xobj, reinterpret_cast<const char*>(im.bytes.data()), im.bytes.size());

    std::string content =
        pdf_internal::PageContent(geo, kImageName, kFontName, page.words, nullptr);
    PdfObject* contents = objs.CreateObject();
    const PdfReference contents_ref = contents->Reference();
    contents->GetStream()->Set(content.data(), static_cast<PoDoFo::pdf_long>(content.size()));

    PoDoFo::PdfPage* p = pdf.CreatePage(PoDoFo::PdfRect(0, 0, geo.width_pt, geo.height_pt));
    PdfDictionary& pd = p->GetObject()->GetDictionary();
    pd.AddKey(PdfName("Contents"), contents_ref);
    PdfDictionary resources;
    PdfDictionary xobjects;
    xobjects.AddKey(PdfName(kImageName), xobj_ref);
    resources.AddKey(PdfName("XObject"), xobjects);
    PdfDictionary fonts;
    fonts.AddKey(PdfName(kFontName), doc_->font);
    resources.AddKey(PdfName("Font"), fonts);
    PdfArray procset;
    procset.push_back(PdfName("PDF"));
    procset.push_back(PdfName("Text"));
    procset.push_back(PdfName(
        im.components == 3 ? "ImageC" : (im.bits_per_component == 1 ? "ImageB" : "ImageG")));
    resources.AddKey(PdfName("ProcSet"), procset);
    pd.AddKey(PdfName("Resources"), resources);
  } catch (const PoDoFo::PdfError& e) {
    return Status::IOError("cannot write " + where + ": " + PodofoMessage(e));
  } catch (const std::exception& e) {
    return Status::IOError("cannot write " + where + ": " + e.what());
  }
  doc_->pages = page_no;
  return Status::OK();
}

Result<PdfResult> PdfWriter::End() {
  if (!doc_) return Status::InvalidArgument("End without Begin");
  const fs::path final_path = doc_->final_path;
  const fs::path temp = doc_->temp_path;
  const int pages = doc_->pages;
  if (pages == 0) {
    Abort();
    return Status::InvalidArgument("PDF with no pages: " + final_path.string());
  }
  try {
    doc_->pdf->Close();
    doc_->pdf.reset();
  } catch (const PoDoFo::PdfError& e) {
    Abort();
    return Status::IOError("cannot finish PDF " + final_path.string() + ": " + PodofoMessage(e));
  }

  if (Status s = MakeIdUnique(temp); !s.ok()) {
    Abort();
    return s;
  }

  // PoDoFo wrote through stdio and closed the file; make the bytes durable
  // before the rename publishes them.
  {
    int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      int err = errno;
      if (fd >= 0) ::close(fd);
      Abort();
      return Status::IOError("cannot sync " + temp.string() + ": " +
                             std::generic_category().message(err));
    }
    ::close(fd);
  }

  // Verify what is on disk, not what we meant to write.
  Result<int> on_disk = PagesOnDisk(temp);
  if (!on_disk.ok() || *on_disk != pages) {
    Abort();
    if (!on_disk.ok()) {
      return on_disk.status().WithContext("PDF " + final_path.string() + " does not re-open");
    }
    return Status::Corrupt("PDF " + final_path.string() + " has " + std::to_string(*on_disk) +
                           " pages after writing, expected " + std::to_string(pages));
  }

  PdfResult result;
  result.path = final_path;
  result.pages = pages;
  std::error_code ec;
  result.bytes = fs::file_size(temp, ec);
  if (ec) {
    Abort();
    return Status::IOError("cannot stat " + temp.string() + ": " + ec.message());
  }
  Result<std::string> sha = Sha256OfFile(temp);
  if (!sha.ok()) {
    Abort();
    return sha.status();
  }
  result.sha256 = std::move(sha).value();
  Status committed = CommitFile(temp, final_path);
  doc_.reset();  // CommitFile removed the temp file if it failed
  if (!committed.ok()) return committed;
  return result;
}

void PdfWriter::Abort() {
  if (!doc_) return;
  try {
    doc_->pdf.reset();
  } catch (...) {
    // Destroying a half-written document must not stop the cleanup.
  }
  std::error_code ec;
  fs::remove(doc_->temp_path, ec);
  doc_.reset();
}

}  // namespace acervo
