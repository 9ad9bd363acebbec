#include "acervo/stages/pdf/pdf_writer.h"

#include <fcntl.h>
#include <podofo/podofo.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <random>
#include <system_error>

#include "acervo/core/text.h"
#include "acervo/core/files.h"
#include "acervo/stages/pdf/image_encode.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "signature.h"
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
constexpr char kForegroundName[] = "Im1";  // a mixed-raster page's masked ink
constexpr char kEdgeName[] = "Im2";        // its masked edge tones
constexpr char kFontPrefix[] = "F";
// The custom XMP schema of the Decreto 10.278/2020 Annex II fields
// (docs/pdf.md). A URN: the schema is ours and needs no web address.
constexpr char kArchivalNamespace[] = "urn:acervo:xmp:decreto-10278:1.0#";
constexpr char kArchivalPrefix[] = "d10278";

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

// Info strings: plain when ASCII (readable in any tool), else UTF-16BE. The
// text is cleaned as XmlText() cleans the XMP copy (core/text.h), so that
// Info and XMP stay equal (PDF/A) and no NUL cuts a value short.
PdfString Text(const std::string& raw) {
  const std::string utf8 = CleanText(raw, TextLines::kLines);
  bool ascii = true;
  for (char c : utf8) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return PdfString(utf8);
  return PdfString(reinterpret_cast<const PoDoFo::pdf_utf8*>(utf8.c_str()));
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

// An image XObject holding `im`'s encoded bytes as they are, with the filter
// of its codec. `stencil`: a 1-bit CCITT image written as an /ImageMask (its
// 0 samples are the ones that show; no colour space). `mask`: a stencil
// XObject to use as this image's /Mask. Never called with kMixedRaster or
// kNone (ValidatePage, AddPage unpack).
PdfReference AddImageXObject(PoDoFo::PdfVecObjects& objs, const EncodedImage& im,
                             bool stencil = false, const PdfReference* mask = nullptr) {
  PdfObject* xobj = objs.CreateObject("XObject");
  const PdfReference ref = xobj->Reference();
  PdfDictionary& d = xobj->GetDictionary();
  d.AddKey(PdfName("Subtype"), PdfName("Image"));
  d.AddKey(PdfName("Width"), Int(im.width));
  d.AddKey(PdfName("Height"), Int(im.height));
  if (stencil) {
    d.AddKey(PdfName("ImageMask"), PdfObject(true));
  } else {
    d.AddKey(PdfName("ColorSpace"), PdfName(im.components == 3 ? "DeviceRGB" : "DeviceGray"));
  }
  if (mask != nullptr) d.AddKey(PdfName("Mask"), *mask);
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
      // then 0, which DeviceGray shows as black (and a stencil mask paints).
      parms.AddKey(PdfName("BlackIs1"), PdfObject(false));
      d.AddKey(PdfName("DecodeParms"), parms);
      break;
    }
    case EncodedImage::Codec::kMixedRaster:
    case EncodedImage::Codec::kNone:
      break;
  }
  SetRawStream(xobj, reinterpret_cast<const char*>(im.bytes.data()), im.bytes.size());
  return ref;
}

// One property of the Decreto 10.278 schema: XMP name, Info key, value and
// the description that the pdfaExtension schema carries for readers.
struct ArchivalProperty {
  const char* xmp;
  const char* info;
  const char* description;
  std::string value;
};

std::vector<ArchivalProperty> ArchivalProperties(const PdfDocumentInfo& info) {
  const ArchivalMetadata& m = info.archival;
  std::string hashes;
  for (const std::string& h : info.master_sha256) {
    if (!hashes.empty()) hashes += ' ';
    hashes += h;
  }
  return {
      {"assunto", "Assunto", "Assunto", m.assunto},
      {"autor", "Autor", "Autor (nome)", m.autor},
      {"dataDigitalizacao", "DataDigitalizacao", "Data da digitalizacao", m.data_digitalizacao},
      {"localDigitalizacao", "LocalDigitalizacao", "Local da digitalizacao", m.local_digitalizacao},
      {"identificadorDocumentoDigital", "IdentificadorDocumentoDigital",
       "Identificador do documento digital", m.identificador},
      {"responsavelDigitalizacao", "ResponsavelDigitalizacao", "Responsavel pela digitalizacao",
       m.responsavel_digitalizacao},
      {"titulo", "Titulo", "Titulo", m.titulo},
      {"tipoDocumental", "TipoDocumental", "Tipo documental", m.tipo_documental},
      {"hashSha256", "HashSha256",
       "Hash SHA-256 (hex) das imagens matrizes, na ordem das paginas, separados por espaco", hashes},
      {"classe", "Classe", "Classe (orgaos publicos)", m.classe},
      {"dataProducao", "DataProducao", "Data de producao do documento original (orgaos publicos)",
       m.data_producao},
      {"destinacaoPrevista", "DestinacaoPrevista",
       "Destinacao prevista: eliminacao ou guarda permanente (orgaos publicos)",
       m.destinacao_prevista},
      {"genero", "Genero", "Genero (orgaos publicos)", m.genero},
      {"prazoGuarda", "PrazoGuarda", "Prazo de guarda (orgaos publicos)", m.prazo_guarda},
  };
}

// The XMP packet. PDF/A wants every property either from a predefined schema
// (dc, xmp, pdf, pdfaid) or described in a pdfaExtension schema in the same
// packet, and the Info entries Title/Author/Subject/Keywords/Creator/Producer
// and the dates mirrored exactly (ISO 19005-1, 6.7.3).
std::string BuildXmp(const PdfDocumentInfo& info, std::time_t created, std::time_t modified, const char* pdfa_part) {
  std::string x =
      "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
      "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
      "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
      "<dc:format>application/pdf</dc:format>\n";
  if (!info.title.empty()) {
    x += "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">" + XmlText(info.title) +
         "</rdf:li></rdf:Alt></dc:title>\n";
  }
  if (!info.author.empty()) {
    x += "<dc:creator><rdf:Seq><rdf:li>" + XmlText(info.author) +
         "</rdf:li></rdf:Seq></dc:creator>\n";
  }
  if (!info.subject.empty()) {
    x += "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">" + XmlText(info.subject) +
         "</rdf:li></rdf:Alt></dc:description>\n";
  }
  if (!info.document_id.empty()) {
    x += "<dc:identifier>" + XmlText(info.document_id) + "</dc:identifier>\n";
  }
  if (!info.archival.tipo_documental.empty()) {
    x += "<dc:type><rdf:Bag><rdf:li>" + XmlText(info.archival.tipo_documental) +
         "</rdf:li></rdf:Bag></dc:type>\n";
  }
  x += "</rdf:Description>\n"
       "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n"
       "<xmp:CreateDate>" +
       XmpDateUtc(created) +
       "</xmp:CreateDate>\n"
       "<xmp:ModifyDate>" +
       XmpDateUtc(modified) +
       "</xmp:ModifyDate>\n"
       "<xmp:MetadataDate>" +
       XmpDateUtc(modified) +
       "</xmp:MetadataDate>\n"
       "<xmp:CreatorTool>Acervo</xmp:CreatorTool>\n"
       "</rdf:Description>\n"
       "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n"
       "<pdf:Producer>" +
       std::string(kProducer) + "</pdf:Producer>\n";
  if (!info.keywords.empty()) {
    x += "<pdf:Keywords>" + XmlText(info.keywords) + "</pdf:Keywords>\n";
  }
  x += "</rdf:Description>\n";

  // The Decreto 10.278 values, then the schema that declares them.
  std::vector<ArchivalProperty> props = ArchivalProperties(info);
  x += std::string("<rdf:Description rdf:about=\"\" xmlns:") + kArchivalPrefix + "=\"" +
       kArchivalNamespace + "\">\n";
  for (const ArchivalProperty& p : props) {
    if (p.value.empty()) continue;
    x += std::string("<") + kArchivalPrefix + ":" + p.xmp + ">" + XmlText(p.value) + "</" +
         kArchivalPrefix + ":" + p.xmp + ">\n";
  }
  x += "</rdf:Description>\n";
  if (pdfa_part != nullptr) {
    x += "<rdf:Description rdf:about=\"\" "
         "xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" "
         "xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" "
         "xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n"
         "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n"
         "<pdfaSchema:schema>Decreto 10.278/2020, Anexo II: metadados de documentos "
         "digitalizados</pdfaSchema:schema>\n"
         "<pdfaSchema:namespaceURI>" +
         std::string(kArchivalNamespace) +
         "</pdfaSchema:namespaceURI>\n"
         "<pdfaSchema:prefix>" +
         kArchivalPrefix +
         "</pdfaSchema:prefix>\n"
         "<pdfaSchema:property><rdf:Seq>\n";
    for (const ArchivalProperty& p : props) {
      x += std::string("<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>") + p.xmp +
           "</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType>"
           "<pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>" +
           p.description + "</pdfaProperty:description></rdf:li>\n";
    }
    x += "</rdf:Seq></pdfaSchema:property>\n"
         "</rdf:li></rdf:Bag></pdfaExtension:schemas>\n"
         "</rdf:Description>\n";
    x += "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
         "<pdfaid:part>" +
         std::string(pdfa_part) +
         "</pdfaid:part>\n"
         "<pdfaid:conformance>B</pdfaid:conformance>\n"
         "</rdf:Description>\n";
  }
  x += "</rdf:RDF>\n</x:xmpmeta>\n";
  // Padding lets an editor update the packet in place (XMP spec, 2 KB is usual).
  x += std::string(2048, ' ') + "\n";
  x += "<?xpacket end=\"w\"?>";
  return x;
}

// The Info dictionary of a document (replacing whatever it held): the
// standard keys mirrored by the XMP, Acervo's index keys and the Decreto
// 10.278 values.
void FillInfo(PdfDictionary& d, const PdfDocumentInfo& info, std::time_t created, std::time_t modified) {
  d.Clear();
  if (!info.title.empty()) d.AddKey(PdfName("Title"), Text(info.title));
  if (!info.author.empty()) d.AddKey(PdfName("Author"), Text(info.author));
  if (!info.subject.empty()) d.AddKey(PdfName("Subject"), Text(info.subject));
  if (!info.keywords.empty()) d.AddKey(PdfName("Keywords"), Text(info.keywords));
  d.AddKey(PdfName("Creator"), PdfString("Acervo"));
  d.AddKey(PdfName("Producer"), PdfString(kProducer));
  d.AddKey(PdfName("CreationDate"), PdfString(PdfDateUtc(created)));
  d.AddKey(PdfName("ModDate"), PdfString(PdfDateUtc(modified)));
  if (!info.document_id.empty()) d.AddKey(PdfName("AcervoDocumentId"), Text(info.document_id));
  if (!info.lot_id.empty()) d.AddKey(PdfName("AcervoLotId"), Text(info.lot_id));
  if (!info.document_type.empty()) d.AddKey(PdfName("AcervoDocumentType"), Text(info.document_type));
  for (const auto& [name, value] : info.fields) d.AddKey(PdfName("AcervoField." + name), Text(value));
  if (!info.master_sha256.empty()) {
    std::string joined;
    for (const std::string& h : info.master_sha256) {
      if (!joined.empty()) joined += ' ';
      joined += h;
    }
    d.AddKey(PdfName("AcervoMasterSha256"), Text(joined));
  }
  for (const ArchivalProperty& p : ArchivalProperties(info)) {
    if (!p.value.empty()) d.AddKey(PdfName(p.info), Text(p.value));
  }
}

// The /ByteRange and /Contents placeholders that PdfSigner::Sign() fills
// once the file is complete, and the signing time /M. A placeholder array
// is written by PoDoFo from real numbers: four integers whose text is the
// fixed-width placeholder.
void SetSignaturePlaceholders(PdfDictionary& d, size_t contents_bytes, std::time_t when) {
  PdfArray range;
  range.push_back(Int(0));
  range.push_back(Int(1111111111));
  range.push_back(Int(2222222222));
  range.push_back(Int(3333333333));
  d.AddKey(PdfName("ByteRange"), range);
  std::string zeros(contents_bytes, '\0');
  d.AddKey(PdfName("Contents"), PdfString(zeros.data(), static_cast<PoDoFo::pdf_long>(zeros.size()), true));
  d.AddKey(PdfName("M"), PdfString(PdfDateUtc(when)));
}

// "D:20261207012233Z" (or with an offset) -> time_t; nullopt when unreadable.
std::optional<std::time_t> ParsePdfDate(const std::string& s) {
  std::tm tm{};
  if (s.size() < 16 || s.compare(0, 2, "D:") != 0) return std::nullopt;
  if (std::sscanf(s.c_str() + 2, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
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
  // "/ID [ <32 hex> <32 hex> ]" in clean mode, "/ID[<..><..>]" in compact
  // mode: find both hex strings; anything unexpected is left alone.
  size_t at = tail.rfind("/ID");
  if (at == std::string::npos) return Status::OK();
  size_t i = at + 3;
  auto skip_space = [&] {
    while (i < tail.size() && std::isspace(static_cast<unsigned char>(tail[i]))) ++i;
  };
  auto hex_string = [&]() -> size_t {  // start of the hex digits, or npos
    skip_space();
    if (i >= tail.size() || tail[i] != '<') return std::string::npos;
    const size_t start = i + 1;
    if (start + 33 > tail.size() || tail[start + 32] != '>') return std::string::npos;
    for (size_t k = start; k < start + 32; ++k) {
      if (!std::isxdigit(static_cast<unsigned char>(tail[k]))) return std::string::npos;
    }
    i = start + 33;
    return start;
  };
  skip_space();
  if (i >= tail.size() || tail[i] != '[') return Status::OK();
  ++i;
  const size_t first_at = hex_string();
  const size_t second_at = first_at == std::string::npos ? std::string::npos : hex_string();
  if (second_at == std::string::npos) return Status::OK();
  std::random_device rd;
  std::string hex;
  for (int k = 0; k < 4; ++k) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08X", static_cast<unsigned>(rd()));
    hex += buf;
  }
  if (::pwrite(fd, hex.data(), 32, start + static_cast<off_t>(first_at)) != 32 ||
      ::pwrite(fd, hex.data(), 32, start + static_cast<off_t>(second_at)) != 32) {
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
  // Shared by every font variant: the font program, the CID->glyph map and
  // the ToUnicode CMap (all streams, written once).
  PdfReference font_file;
  PdfReference cid_to_gid;
  PdfReference to_unicode;
  // The Type0 font of each variant used so far (text_layer.h FontMetrics).
  std::map<pdf_internal::FontMetrics, PdfReference> fonts;
  PdfReference widget;  // the signature widget, when signing
  int pages = 0;
};

namespace {

// A Type0 font of the glyphless font program whose descriptor has the
// variant's Ascent/Descent (text_layer.h: this is what makes a word's
// extracted box its OCR box). Only dictionaries: safe to create at any time
// in a streamed document.
PdfReference CreateFontVariant(PoDoFo::PdfVecObjects& objs, const PdfReference& font_file,
                               const PdfReference& cid_to_gid, const PdfReference& to_unicode,
                               pdf_internal::FontMetrics m) {
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
    d.AddKey(PdfName("Ascent"), Int(m.ascent));
    // Poppler reads a Descent of 0 as "unset" and substitutes its own; -1 is
    // as good as nothing and is taken as given.
    d.AddKey(PdfName("Descent"), Int(m.descent == 0 ? -1 : -m.descent));
    d.AddKey(PdfName("CapHeight"), Int(1000));
    d.AddKey(PdfName("StemV"), Int(80));
    d.AddKey(PdfName("FontFile2"), font_file);
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
    // Every CID is glyph 1, whose advance in pdf.ttf is 1024/2048 em.
    d.AddKey(PdfName("DW"), Int(pdf_internal::kGlyphWidth));
    d.AddKey(PdfName("CIDToGIDMap"), cid_to_gid);
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
    d.AddKey(PdfName("ToUnicode"), to_unicode);
  }
  return type0->Reference();
}

// The objects every font variant of a document shares: the font program,
// the CID->glyph map and the ToUnicode CMap (all streams).
struct SharedFont {
  PdfReference file;
  PdfReference cid_to_gid;
  PdfReference to_unicode;
};

// Creates the shared font objects. In a streamed document each stream is
// written out when the next one starts, so each reference is taken at once.
SharedFont CreateSharedFont(PoDoFo::PdfVecObjects& objs, const std::vector<char>& font) {
  SharedFont out;
  PdfObject* font_file = objs.CreateObject();
  out.file = font_file->Reference();
  font_file->GetDictionary().AddKey(PdfName("Length1"), Int(static_cast<int64_t>(font.size())));
  font_file->GetStream()->Set(font.data(), static_cast<PoDoFo::pdf_long>(font.size()));

  // Every CID (0..65535) is drawn with glyph 1, the font's only real glyph.
  PdfObject* cid_to_gid = objs.CreateObject();
  out.cid_to_gid = cid_to_gid->Reference();
  {
    std::vector<char> map(2 * 65536);
    for (size_t i = 1; i < map.size(); i += 2) map[i] = 1;
    cid_to_gid->GetStream()->Set(map.data(), static_cast<PoDoFo::pdf_long>(map.size()));
  }

  PdfObject* to_unicode = objs.CreateObject();
  out.to_unicode = to_unicode->Reference();
  std::string cmap = pdf_internal::ToUnicodeCMap();
  to_unicode->GetStream()->Set(cmap.data(), static_cast<PoDoFo::pdf_long>(cmap.size()));
  return out;
}

}  // namespace

PdfPageInput PdfPageInputFromPage(const Page& page) {
  PdfPageInput in;
  in.image = &page.encoded;
  in.dpi_x = page.dpi_x;
  in.dpi_y = page.dpi_y;
  in.words = page.words;
  return in;
}

std::string_view PdfaPartName(PdfaPart part) { return part == PdfaPart::k2b ? "2b" : "1b"; }

std::string_view SignatureFormName(SignatureForm form) {
  return form == SignatureForm::kIcpBrasil ? "icp-brasil" : "pades-basic";
}

PdfWriter::PdfWriter(PdfOptions options, std::vector<char> font, std::vector<char> icc,
                     std::unique_ptr<PdfSigner> signer)
    : options_(std::move(options)),
      font_(std::move(font)),
      icc_(std::move(icc)),
      signer_(std::move(signer)) {}

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
    const int components = IccComponents(icc);
    if (components != 1 && components != 3) {
      return Status::InvalidArgument("not an RGB or gray ICC profile: " +
                                     options.icc_profile_path.string());
    }
    // PDF/A-1 allows ICC profiles up to version 2 (4.0 came later); PDF/A-2
    // allows version 4.
    const int major = static_cast<unsigned char>(icc[8]);
    if (options.pdfa == PdfaPart::k1b && major >= 4) {
      return Status::InvalidArgument("PDF/A-1 needs an ICC profile of version 2, " +
                                     options.icc_profile_path.string() + " is version " +
                                     std::to_string(major));
    }
  }
  std::unique_ptr<PdfSigner> signer;
  if (options.signature) {
    ACERVO_ASSIGN_OR_RETURN(signer, PdfSigner::Load(*options.signature));
  }
  return std::unique_ptr<PdfWriter>(
      new PdfWriter(options, std::move(font), std::move(icc), std::move(signer)));
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
    // 1.4: the base of PDF/A-1, and enough for everything written here;
    // PDF/A-2 is based on PDF 1.7 (ISO 32000-1). Clean mode puts an end of
    // line after "obj" and before "endobj", as PDF/A (6.1.8) demands;
    // PoDoFo's compact mode does not.
    doc->pdf = std::make_unique<StreamedDocument>(
        doc->temp_path.c_str(),
        options_.pdfa == PdfaPart::k2b ? PoDoFo::ePdfVersion_1_7 : PoDoFo::ePdfVersion_1_4,
        nullptr, PoDoFo::ePdfWriteMode_Clean);
    doc_ = std::move(doc);  // from here on Abort() cleans up the temp file
    StreamedDocument& pdf = *doc_->pdf;
    PoDoFo::PdfVecObjects& objs = *pdf.GetObjects();

    FillInfo(pdf.GetInfo()->GetObject()->GetDictionary(), info, created, created);

    // The glyphless font, shared by all pages.
    //
    // Two rules of PoDoFo's streamed document shape this code: an object's
    // dictionary is written when its stream starts, so every key goes in
    // before the stream data; and a stream object is written out and deleted
    // as soon as the next stream starts, so its reference is taken right
    // after creation and the pointer is not used after the next stream.
    const SharedFont font = CreateSharedFont(objs, font_);
    doc_->font_file = font.file;
    doc_->cid_to_gid = font.cid_to_gid;
    doc_->to_unicode = font.to_unicode;

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
    if (signer_) {
      // The signature dictionary with placeholders that PdfSigner::Sign()
      // fills once the file is complete. Key order in the file is PoDoFo's
      // (sorted), which puts /ByteRange before /Contents, as Sign() expects.
      PdfObject* sig = objs.CreateObject("Sig");
      {
        PdfDictionary& d = sig->GetDictionary();
        d.AddKey(PdfName("Filter"), PdfName("Adobe.PPKLite"));
        d.AddKey(PdfName("SubFilter"), PdfName(signer_->SubFilter()));
        SetSignaturePlaceholders(d, signer_->ContentsBytes(), created);
        d.AddKey(PdfName("Name"), Text(signer_->SignerName()));
        const PdfSignatureOptions& so = signer_->options();
        if (!so.reason.empty()) d.AddKey(PdfName("Reason"), Text(so.reason));
        if (!so.location.empty()) d.AddKey(PdfName("Location"), Text(so.location));
        if (!so.contact.empty()) d.AddKey(PdfName("ContactInfo"), Text(so.contact));
      }
      // One merged field + widget, invisible (zero-size rectangle), printed
      // flag set as PDF/A requires of every annotation (6.5.3).
      // PDF/A wants an appearance for every widget, even an invisible one:
      // an empty form XObject. (A stream object: its reference is taken at
      // once, see the streamed-document rules above.)
      PdfObject* appearance = objs.CreateObject("XObject");
      const PdfReference appearance_ref = appearance->Reference();
      {
        PdfDictionary& d = appearance->GetDictionary();
        d.AddKey(PdfName("Subtype"), PdfName("Form"));
        PdfArray bbox;
        for (int i = 0; i < 4; ++i) bbox.push_back(Int(0));
        d.AddKey(PdfName("BBox"), bbox);
        appearance->GetStream()->Set("", 0);
      }
      PdfObject* widget = objs.CreateObject("Annot");
      {
        PdfDictionary ap;
        ap.AddKey(PdfName("N"), appearance_ref);
        widget->GetDictionary().AddKey(PdfName("AP"), ap);
        PdfDictionary& d = widget->GetDictionary();
        d.AddKey(PdfName("Subtype"), PdfName("Widget"));
        d.AddKey(PdfName("FT"), PdfName("Sig"));
        d.AddKey(PdfName("T"), PdfString("Assinatura1"));
        d.AddKey(PdfName("V"), sig->Reference());
        PdfArray rect;
        for (int i = 0; i < 4; ++i) rect.push_back(Int(0));
        d.AddKey(PdfName("Rect"), rect);
        d.AddKey(PdfName("F"), Int(4 | 128));  // Print + Locked
      }
      doc_->widget = widget->Reference();
      PdfDictionary acroform;
      PdfArray fields;
      fields.push_back(widget->Reference());
      acroform.AddKey(PdfName("Fields"), fields);
      acroform.AddKey(PdfName("SigFlags"), Int(3));  // SignaturesExist + AppendOnly
      catalog.AddKey(PdfName("AcroForm"), acroform);
    }
    if (options_.write_xmp) {
      const bool pdfa = !icc_.empty();
      std::string xmp = BuildXmp(info, created, created,
                                 pdfa ? (options_.pdfa == PdfaPart::k2b ? "2" : "1") : nullptr);
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

namespace {

// The objects of one page but the page dictionary itself: its image
// XObject(s), its content stream (picture and text layer) and its
// resources. Shared by AddPage (a streamed document: references are taken
// at creation, see Begin()) and RewritePages (a document in memory).
struct PageParts {
  PdfReference contents;
  PdfDictionary resources;
  double width_pt = 0;
  double height_pt = 0;
};
// The Type0 font of a variant, made on first use.
using FontFor = std::function<PdfReference(const pdf_internal::FontMetrics&)>;

// InvalidArgument (naming `where`) for a page that cannot be written; PoDoFo
// errors are thrown to the caller.
Result<PageParts> BuildPageParts(PoDoFo::PdfVecObjects& objs, const PdfPageInput& page, const std::string& where,
                                 const FontFor& font_for) {
  ACERVO_RETURN_IF_ERROR(ValidatePage(page).WithContext(where));
  const EncodedImage& im = *page.image;
  // A mixed-raster page is two images: the background (drawn as the page
  // image) and the text mask over it.
  std::optional<MixedRasterLayers> layers;
  const EncodedImage* image = &im;
  if (im.codec == EncodedImage::Codec::kMixedRaster) {
    Result<MixedRasterLayers> unpacked = UnpackMixedRaster(im);
    if (!unpacked.ok()) {
      return Status::InvalidArgument(where + ": " + unpacked.status().message());
    }
    layers = std::move(unpacked).value();
    image = &layers->background;
  }

  pdf_internal::PageGeometry geo;
  geo.width_pt = im.width * 72.0 / page.dpi_x;
  geo.height_pt = im.height * 72.0 / page.dpi_y;
  geo.dpi_x = page.dpi_x;
  geo.dpi_y = page.dpi_y;

  PageParts parts;
  parts.width_pt = geo.width_pt;
  parts.height_pt = geo.height_pt;
  const PdfReference xobj_ref = AddImageXObject(objs, *image);
  std::optional<PdfReference> fg_ref, edge_ref;
  std::vector<std::string_view> overlays;
  if (layers) {
    if (layers->has_edge()) {
      const PdfReference edge_mask_ref = AddImageXObject(objs, layers->edge_mask, /*stencil=*/true);
      edge_ref = AddImageXObject(objs, layers->edge, /*stencil=*/false, &edge_mask_ref);
      overlays.push_back(kEdgeName);
    }
    const PdfReference mask_ref = AddImageXObject(objs, layers->mask, /*stencil=*/true);
    fg_ref = AddImageXObject(objs, layers->foreground, /*stencil=*/false, &mask_ref);
    overlays.push_back(kForegroundName);
  }

  std::set<pdf_internal::FontMetrics> used;
  std::string content =
      pdf_internal::PageContent(geo, kImageName, kFontPrefix, page.words, nullptr, &used, overlays);
  PdfObject* contents = objs.CreateObject();
  parts.contents = contents->Reference();
  contents->GetStream()->Set(content.data(), static_cast<PoDoFo::pdf_long>(content.size()));

  PdfDictionary xobjects;
  xobjects.AddKey(PdfName(kImageName), xobj_ref);
  if (fg_ref) xobjects.AddKey(PdfName(kForegroundName), *fg_ref);
  if (edge_ref) xobjects.AddKey(PdfName(kEdgeName), *edge_ref);
  parts.resources.AddKey(PdfName("XObject"), xobjects);
  PdfDictionary fonts;
  for (const pdf_internal::FontMetrics& m : used) {
    fonts.AddKey(PdfName(pdf_internal::FontName(kFontPrefix, m)), font_for(m));
  }
  if (!used.empty()) parts.resources.AddKey(PdfName("Font"), fonts);
  PdfArray procset;
  procset.push_back(PdfName("PDF"));
  if (!used.empty()) procset.push_back(PdfName("Text"));
  procset.push_back(PdfName(
      im.components == 3 ? "ImageC" : (im.bits_per_component == 1 ? "ImageB" : "ImageG")));
  parts.resources.AddKey(PdfName("ProcSet"), procset);
  return parts;
}

}  // namespace

Status PdfWriter::AddPage(const PdfPageInput& page) {
  if (!doc_) return Status::InvalidArgument("AddPage without Begin");
  const int page_no = doc_->pages + 1;
  const std::string where = doc_->final_path.string() + " page " + std::to_string(page_no);
  try {
    StreamedDocument& pdf = *doc_->pdf;
    PoDoFo::PdfVecObjects& objs = *pdf.GetObjects();
    const FontFor font_for = [&](const pdf_internal::FontMetrics& m) {
      auto it = doc_->fonts.find(m);
      if (it == doc_->fonts.end()) {
        it = doc_->fonts
                 .emplace(m, CreateFontVariant(objs, doc_->font_file, doc_->cid_to_gid, doc_->to_unicode, m))
                 .first;
      }
      return it->second;
    };
    ACERVO_ASSIGN_OR_RETURN(PageParts parts, BuildPageParts(objs, page, where, font_for));
    PoDoFo::PdfPage* p = pdf.CreatePage(PoDoFo::PdfRect(0, 0, parts.width_pt, parts.height_pt));
    PdfDictionary& pd = p->GetObject()->GetDictionary();
    pd.AddKey(PdfName("Contents"), parts.contents);
    pd.AddKey(PdfName("Resources"), parts.resources);
    if (signer_ && page_no == 1) {
      // The signature widget sits on the first page.
      PdfArray annots;
      annots.push_back(doc_->widget);
      pd.AddKey(PdfName("Annots"), annots);
      if (PdfObject* widget = objs.GetObject(doc_->widget)) {
        widget->GetDictionary().AddKey(PdfName("P"), p->GetObject()->Reference());
      }
    }
  } catch (const PoDoFo::PdfError& e) {
    return Status::IOError("cannot write " + where + ": " + PodofoMessage(e));
  } catch (const std::exception& e) {
    return Status::IOError("cannot write " + where + ": " + e.what());
  }
  doc_->pages = page_no;
  return Status::OK();
}

Result<PdfResult> PdfWriter::End(const std::function<Status()>& before_publish) {
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
  // Signing is the last change to the file: it covers every byte but its
  // own /Contents.
  if (signer_) {
    if (Status s = signer_->Sign(temp); !s.ok()) {
      Abort();
      return s.WithContext("PDF " + final_path.string());
    }
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
  Result<PdfFacts> on_disk = InspectPdf(temp);
  if (!on_disk.ok() || on_disk->pages != pages) {
    Abort();
    if (!on_disk.ok()) {
      return on_disk.status().WithContext("PDF " + final_path.string() + " does not re-open");
    }
    return Status::Corrupt("PDF " + final_path.string() + " has " +
                           std::to_string(on_disk->pages) + " pages after writing, expected " +
                           std::to_string(pages));
  }
  if (signer_ && !(on_disk->signature.digest_matches && on_disk->signature.attributes_ok)) {
    Abort();
    return Status::Corrupt("PDF " + final_path.string() +
                           " signature does not verify: " + on_disk->signature.problem);
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
  if (before_publish) {
    if (Status s = before_publish(); !s.ok()) {
      Abort();
      return s;
    }
  }
  Status committed = CommitFile(temp, final_path);
  doc_.reset();  // CommitFile removed the temp file if it failed
  if (!committed.ok()) return committed;
  return result;
}

namespace {

// A reference held by `key` of `d`, when it holds one.
std::optional<PdfReference> RefAt(const PdfDictionary& d, const char* key) {
  const PdfObject* o = d.GetKey(PdfName(key));
  if (o == nullptr || !o->IsReference()) return std::nullopt;
  return o->GetReference();
}

// The shared font objects of a finished PDF of this writer: those of the
// first Type0 font found on a page; nullopt when no page has text.
std::optional<SharedFont> FindSharedFont(PoDoFo::PdfMemDocument& pdf) {
  PoDoFo::PdfVecObjects& objs = pdf.GetObjects();
  auto resolve = [&](const PdfObject* o) -> PdfObject* {
    if (o == nullptr) return nullptr;
    return o->IsReference() ? objs.GetObject(o->GetReference()) : const_cast<PdfObject*>(o);
  };
  for (int i = 0; i < pdf.GetPageCount(); ++i) {
    PdfObject* res = pdf.GetPage(i)->GetResources();
    PdfObject* fonts = res != nullptr && res->IsDictionary() ? resolve(res->GetDictionary().GetKey(PdfName("Font")))
                                                             : nullptr;
    if (fonts == nullptr || !fonts->IsDictionary()) continue;
    for (const auto& [name, value] : fonts->GetDictionary().GetKeys()) {
      PdfObject* type0 = resolve(value);
      if (type0 == nullptr || !type0->IsDictionary()) continue;
      const PdfDictionary& t = type0->GetDictionary();
      PdfObject* desc = resolve(t.GetKey(PdfName("DescendantFonts")));
      if (desc == nullptr || !desc->IsArray() || desc->GetArray().empty()) continue;
      PdfObject* cid = resolve(&desc->GetArray()[0]);
      if (cid == nullptr || !cid->IsDictionary()) continue;
      PdfObject* fd = resolve(cid->GetDictionary().GetKey(PdfName("FontDescriptor")));
      if (fd == nullptr || !fd->IsDictionary()) continue;
      std::optional<PdfReference> file = RefAt(fd->GetDictionary(), "FontFile2");
      std::optional<PdfReference> map = RefAt(cid->GetDictionary(), "CIDToGIDMap");
      std::optional<PdfReference> cmap = RefAt(t, "ToUnicode");
      if (file && map && cmap) return SharedFont{*file, *map, *cmap};
    }
  }
  return std::nullopt;
}

// The objects that only a page of this writer uses: its content stream(s),
// its image XObjects and their stencil masks (fonts are shared).
std::vector<PdfReference> PageOwnObjects(PoDoFo::PdfVecObjects& objs, const PdfObject& page) {
  std::vector<PdfReference> out;
  const PdfDictionary& d = page.GetDictionary();
  if (const PdfObject* c = d.GetKey(PdfName("Contents")); c != nullptr) {
    if (c->IsReference()) out.push_back(c->GetReference());
    if (c->IsArray()) {
      for (const PdfObject& e : c->GetArray()) {
        if (e.IsReference()) out.push_back(e.GetReference());
      }
    }
  }
  const PdfObject* res = d.GetKey(PdfName("Resources"));
  if (res != nullptr && res->IsReference()) res = objs.GetObject(res->GetReference());
  if (res == nullptr || !res->IsDictionary()) return out;
  const PdfObject* xobjects = res->GetDictionary().GetKey(PdfName("XObject"));
  if (xobjects == nullptr || !xobjects->IsDictionary()) return out;
  for (const auto& [name, value] : xobjects->GetDictionary().GetKeys()) {
    if (!value->IsReference()) continue;
    out.push_back(value->GetReference());
    if (const PdfObject* x = objs.GetObject(value->GetReference()); x != nullptr && x->IsDictionary()) {
      if (std::optional<PdfReference> mask = RefAt(x->GetDictionary(), "Mask")) out.push_back(*mask);
    }
  }
  return out;
}

// Applies `edit` to a finished PDF of this writer in memory (RewritePages).
Status EditPages(PoDoFo::PdfMemDocument& pdf, const PdfPageEdit& edit, const std::vector<char>& font,
                 const std::string& where) {
  const int count = pdf.GetPageCount();
  const int index = edit.at - 1;
  if (index < 0 || index > count || (edit.remove && index >= count)) {
    return Status::InvalidArgument(where + ": no page " + std::to_string(edit.at) + " to change (the file has " +
                                   std::to_string(count) + ")");
  }
  if (edit.remove && edit.insert == nullptr && count == 1) {
    return Status::InvalidArgument(where + ": removing page " + std::to_string(edit.at) + " would leave no page");
  }
  PoDoFo::PdfVecObjects& objs = pdf.GetObjects();
  std::optional<PdfObject> annots;  // of the removed page: the signature widget
  if (edit.remove) {
    PoDoFo::PdfPage* old = pdf.GetPage(index);
    PdfObject* old_obj = old->GetObject();
    const PdfReference old_ref = old_obj->Reference();
    if (const PdfObject* a = old_obj->GetDictionary().GetKey(PdfName("Annots")); a != nullptr) annots = *a;
    const std::vector<PdfReference> own = PageOwnObjects(objs, *old_obj);
    pdf.GetPagesTree()->DeletePage(index);
    for (const PdfReference& r : own) delete objs.RemoveObject(r);
    delete objs.RemoveObject(old_ref);
  }
  if (edit.insert != nullptr) {
    SharedFont shared;
    bool have_font = false;
    if (std::optional<SharedFont> found = FindSharedFont(pdf)) {
      shared = *found;
      have_font = true;
    }
    std::map<pdf_internal::FontMetrics, PdfReference> variants;
    const FontFor font_for = [&](const pdf_internal::FontMetrics& m) {
      if (!have_font) {
        shared = CreateSharedFont(objs, font);
        have_font = true;
      }
      auto it = variants.find(m);
      if (it == variants.end()) {
        it = variants.emplace(m, CreateFontVariant(objs, shared.file, shared.cid_to_gid, shared.to_unicode, m)).first;
      }
      return it->second;
    };
    ACERVO_ASSIGN_OR_RETURN(PageParts parts,
                            BuildPageParts(objs, *edit.insert, where + " page " + std::to_string(edit.at), font_for));
    PoDoFo::PdfPage* p = pdf.InsertPage(PoDoFo::PdfRect(0, 0, parts.width_pt, parts.height_pt), index);
    PdfDictionary& pd = p->GetObject()->GetDictionary();
    pd.AddKey(PdfName("Contents"), parts.contents);
    pd.AddKey(PdfName("Resources"), parts.resources);
  }
  if (annots && pdf.GetPageCount() > 0) {
    // The widget goes with its page's place: onto the page now there.
    PoDoFo::PdfPage* host = pdf.GetPage(std::min(index, pdf.GetPageCount() - 1));
    host->GetObject()->GetDictionary().AddKey(PdfName("Annots"), *annots);
    if (annots->IsArray()) {
      for (const PdfObject& a : annots->GetArray()) {
        PdfObject* w = a.IsReference() ? objs.GetObject(a.GetReference()) : nullptr;
        if (w != nullptr && w->IsDictionary()) w->GetDictionary().AddKey(PdfName("P"), host->GetObject()->Reference());
      }
    }
  }
  return Status::OK();
}

}  // namespace

Result<PdfResult> PdfWriter::RewriteMetadata(const fs::path& source, const PdfDocumentInfo& info,
                                             const fs::path& dest) {
  return Rewrite(source, info, dest, nullptr);
}

Result<PdfResult> PdfWriter::RewritePages(const fs::path& source, const PdfPageEdit& edit,
                                          const PdfDocumentInfo& info, const fs::path& dest) {
  return Rewrite(source, info, dest, &edit);
}

Result<PdfResult> PdfWriter::Rewrite(const fs::path& source, const PdfDocumentInfo& info, const fs::path& dest,
                                     const PdfPageEdit* edit) {
  for (const auto& [name, value] : info.fields) {
    if (name.empty()) return Status::InvalidArgument("index field with an empty name");
  }
  const fs::path temp = TempPathFor(dest);
  struct TempGuard {
    fs::path path;
    bool keep = false;
    ~TempGuard() {
      std::error_code ec;
      if (!keep) fs::remove(path, ec);
    }
  } guard{temp};
  int pages = 0;
  try {
    PoDoFo::PdfMemDocument pdf;
    pdf.Load(source.c_str());
    if (edit != nullptr) ACERVO_RETURN_IF_ERROR(EditPages(pdf, *edit, font_, source.string()));
    pages = pdf.GetPageCount();
    PdfObject* catalog = pdf.GetCatalog();
    PdfObject* info_obj = pdf.GetInfo()->GetObject();
    if (catalog == nullptr || info_obj == nullptr) return Status::Corrupt(source.string() + ": no catalog or Info");
    // The file's own creation time (and scan time) stay: only the index
    // metadata changes.
    std::time_t created = std::time(nullptr);
    PdfDocumentInfo out = info;
    PdfDictionary& idict = info_obj->GetDictionary();
    if (const PdfObject* c = idict.GetKey(PdfName("CreationDate")); c != nullptr && c->IsString()) {
      if (std::optional<std::time_t> t = ParsePdfDate(c->GetString().GetStringUtf8())) created = *t;
    }
    if (out.archival.data_digitalizacao.empty()) {
      if (const PdfObject* d = idict.GetKey(PdfName("DataDigitalizacao")); d != nullptr && d->IsString()) {
        out.archival.data_digitalizacao = d->GetString().GetStringUtf8();
      }
    }
    const std::time_t modified = std::max(created, std::time(nullptr));
    FillInfo(idict, out, created, modified);

    // The XMP packet, rebuilt (same claim as the file made).
    PdfObject* meta = catalog->GetIndirectKey(PdfName("Metadata"));
    if (meta != nullptr) {
      std::string old_xmp;
      {
        char* buf = nullptr;
        PoDoFo::pdf_long len = 0;
        meta->GetStream()->GetFilteredCopy(&buf, &len);
        old_xmp.assign(buf, static_cast<size_t>(len));
        PoDoFo::podofo_free(buf);
      }
      std::string part;
      if (size_t at = old_xmp.find("<pdfaid:part>"); at != std::string::npos) {
        part = old_xmp.substr(at + 13, old_xmp.find('<', at + 13) - at - 13);
      }
      std::string xmp = BuildXmp(out, created, modified, part.empty() ? nullptr : part.c_str());
      meta->GetDictionary().RemoveKey(PdfName("Filter"));
      meta->GetDictionary().RemoveKey(PdfName("DecodeParms"));
      SetRawStream(meta, xmp.data(), xmp.size());
    }

    // A signed file is signed again: its signature dictionary gets its
    // placeholders back, and Sign() fills them once the file is written.
    PdfObject* sig = nullptr;
    if (PdfObject* form = catalog->GetIndirectKey(PdfName("AcroForm")); form != nullptr && form->IsDictionary()) {
      if (PdfObject* fields = form->GetIndirectKey(PdfName("Fields")); fields != nullptr && fields->IsArray()) {
        for (const PdfObject& f : fields->GetArray()) {
          PdfObject* widget = f.IsReference() ? pdf.GetObjects().GetObject(f.GetReference()) : nullptr;
          if (widget == nullptr || !widget->IsDictionary()) continue;
          PdfObject* v = widget->GetIndirectKey(PdfName("V"));
          if (v != nullptr && v->IsDictionary() && v->GetDictionary().HasKey(PdfName("ByteRange"))) sig = v;
        }
      }
    }
    if (sig != nullptr && !signer_) {
      return Status::InvalidArgument(source.string() +
                                        " is signed: its metadata can only be rewritten by a writer that signs "
                                        "(the profile's [signature] and its password)");
    }
    if (sig == nullptr && signer_) {
      return Status::InvalidArgument(source.string() + " has no signature field to sign again");
    }
    if (sig != nullptr) {
      SetSignaturePlaceholders(sig->GetDictionary(), signer_->ContentsBytes(), modified);
    }
    // Clean mode, as Begin(): an end of line after "obj" and before
    // "endobj" (PDF/A 6.1.8).
    pdf.SetWriteMode(PoDoFo::ePdfWriteMode_Clean);
    pdf.Write(temp.c_str());
  } catch (const PoDoFo::PdfError& e) {
    return Status::IOError("cannot rewrite the metadata of " + source.string() + ": " + PodofoMessage(e));
  } catch (const std::exception& e) {
    return Status::IOError("cannot rewrite the metadata of " + source.string() + ": " + e.what());
  }
  ACERVO_RETURN_IF_ERROR(MakeIdUnique(temp));
  if (signer_) ACERVO_RETURN_IF_ERROR(signer_->Sign(temp).WithContext("PDF " + dest.string()));
  {
    int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      int err = errno;
      if (fd >= 0) ::close(fd);
      return Status::IOError("cannot sync " + temp.string() + ": " + std::generic_category().message(err));
    }
    ::close(fd);
  }
  Result<PdfFacts> on_disk = InspectPdf(temp);
  if (!on_disk.ok()) return on_disk.status().WithContext("PDF " + dest.string() + " does not re-open");
  if (on_disk->pages != pages) {
    return Status::Corrupt("PDF " + dest.string() + " has " + std::to_string(on_disk->pages) +
                    " pages after rewriting it, expected " + std::to_string(pages));
  }
  if (signer_ && !(on_disk->signature.digest_matches && on_disk->signature.attributes_ok)) {
    return Status::Corrupt("PDF " + dest.string() + " signature does not verify: " + on_disk->signature.problem);
  }
  PdfResult result;
  result.path = dest;
  result.pages = pages;
  std::error_code ec;
  result.bytes = fs::file_size(temp, ec);
  ACERVO_ASSIGN_OR_RETURN(result.sha256, Sha256OfFile(temp));
  guard.keep = true;  // CommitFile takes it (and removes it when it fails)
  ACERVO_RETURN_IF_ERROR(CommitFile(temp, dest));
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
