// Lot profile: the TOML file that says how a lot is processed and indexed
// (docs/formats.md). A bad profile is refused before any page is touched,
// with the line and the reason; unknown keys are errors too, because a typo
// ("deskw = false") silently ignored would change an archive.
#ifndef ACERVO_PIPELINE_PROFILE_H_
#define ACERVO_PIPELINE_PROFILE_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "acervo/core/files.h"
#include "acervo/core/status.h"

namespace re2 {
class RE2;
}

namespace acervo {

struct FieldSpec {
  std::string name;   // the manifest column and the --field name
  std::string label;  // for people
  std::string type = "text";  // text|int|date|cpf|cnpj|process_number|enum
  bool required = false;
  std::vector<std::string> allowed;  // for enum (or any type: a closed list)
  // `regex`: the whole value must match; null when unset. RE2 syntax
  // (docs/profile.md): matching takes time linear in the value, whatever the
  // pattern, so no profile can make a run hang; backreferences and
  // lookaround, which need backtracking, are refused when the profile loads.
  std::string regex_text;
  std::shared_ptr<const re2::RE2> regex;
  // `extract`: a rule finding the value in OCR text (first capture group, or
  // the whole match); a match is taken only if it validates (a CPF only with
  // right check digits). Null when unset. RE2, as `regex`.
  std::string extract_text;
  std::shared_ptr<const re2::RE2> extract;
  // `types`: document types the field applies to (required only there);
  // empty: every type.
  std::vector<std::string> types;
};

// A document type of the lot ([[types]]).
struct DocumentTypeSpec {
  std::string name;   // the value of document_type, type: in queries
  std::string label;  // for people and on separator sheets
};

// How the page stream is cut into documents ([separation]).
struct SeparationRule {
  enum class Kind {
    kAuto,     // manifest.csv when present, else one input file per document
    kFile,     // one input file per document
    kBarcode,  // a page with a barcode/QR whose payload starts with `prefix`
    kPatch,    // a Kodak patch code sheet (the codes in `patch_codes`)
    kBlank,    // a blank sheet (runs of blank pages count once)
    kFixed,    // every `pages` pages
  };
  Kind kind = Kind::kAuto;
  std::string prefix = "ACERVO";  // barcode payload prefix of a separator
  std::vector<std::string> patch_codes = {"II", "T"};
  int pages = 0;  // kFixed
  // Blank test for kBlank: share of dark pixels below which a page is blank.
  double blank_max_ink = 0.002;
};

// Default scanner and settings for `acervo scan` and `acervo watch`
// ([scanner], docs/scanners.md). Command-line flags override each value.
struct ScannerProfile {
  std::string driver;        // "sane" or "twain"; empty: the command's default
  std::string device;        // driver's device / data source name
  std::string source;        // "flatbed" or "adf"; empty: the device's default
  std::string mode;          // "bw", "gray" or "color"; empty: device default
  double resolution = 0;     // dpi; 0: device default
  bool duplex = false;
  std::vector<std::pair<std::string, std::string>> options;  // raw NAME = VALUE
  std::string ready_marker;  // hot folder: a lot folder is complete only when
                             // it holds a file of this name; empty: none
};

// [archival]: Decreto 10.278/2020 Annex II values, each a template of
// acervo/pipeline/archival.h ("{processo}", "{title}"...). Empty: the default
// that BuildArchivalMetadata() documents, or left out.
struct ArchivalProfile {
  std::string assunto;
  std::string autor;
  std::string local_digitalizacao;
  std::string responsavel_digitalizacao;
  std::string titulo;
  std::string tipo_documental;
  std::string identificador;
  std::string data_producao;
  // A public body must give the four below (the parser refuses the profile
  // otherwise).
  bool orgao_publico = false;
  std::string classe;
  std::string destinacao_prevista;
  std::string genero;
  std::string prazo_guarda;
};

// [signature]: sign every PDF with a PKCS#12 key (docs/pdf.md, "Signature").
// Passwords never live in the profile: they are read from the environment
// variables named here.
struct SignatureProfile {
  std::string pkcs12;  // path; relative paths are relative to the lot folder
  std::string password_env = "ACERVO_SIGN_PASSWORD";
  std::string reason;
  std::string location;
  std::string contact;
  std::string form = "icp-brasil";  // "icp-brasil" (ETSI.CAdES.detached, AD-RB/AD-RT) or "pades-basic"
  // RFC 3161 time-stamp authority; empty: no time-stamp. With it, tsa_ca (the
  // PEM certificates it must chain to; relative to the lot folder) is required.
  std::string tsa_url;
  std::string tsa_ca;
  std::string tsa_user;  // HTTP basic authentication, password from tsa_password_env
  std::string tsa_password_env = "ACERVO_TSA_PASSWORD";
  double tsa_timeout_s = 20;
};

struct LotProfile {
  // [lot]
  std::string lot_id;  // empty: the lot folder's name
  std::string project;
  std::string box;
  std::string operator_name;
  std::string description;
  // [image]
  bool orientation = true;
  bool deskew = true;
  bool blank_detection = true;
  bool border = true;            // crop dark scanner borders, paint punch holes
  bool clean = true;             // background normalisation and despeckling
  // Colour pages in the PDF: "scan" (default: the scan's paper and ink
  // colours; OCR and the text masks still read the cleaned page) or
  // "white" (paper whitened like gray pages). docs/profile.md.
  std::string color_paper = "scan";
  bool binarize = true;          // bitonal (Sauvola) output for pages classed bw
  double blank_threshold = 0.3;  // blank score below which a page is blank
  bool split = false;            // two-page spreads become two pages (stages/split)
  // The least resolution a replacement page (acervo review replace, scan
  // --replace) may have: Decreto 10.278/2020 asks for 300 dpi. 0: any.
  double min_dpi = 300;
  // A document whose pages are all blank: "report" (default: no PDF, an
  // error of the lot, exit 1) or "keep" (a PDF of its blank pages, a row
  // flagged "all_blank"). docs/profile.md.
  std::string blank_documents = "report";
  // [ocr]
  std::string languages = "por+eng";
  double min_confidence = 60;
  double page_deadline_s = 120;  // 0: none
  // [pdf]
  int jpeg_quality = 0;  // 0: the writer's default
  bool lossless = false;
  bool mixed_raster = true;  // text-on-paper gray/colour pages as G4 text
                             // mask over a reduced JPEG (docs/pdf.md)
  std::string pdfa = "1b";  // "1b" or "2b"
  bool hocr = false;        // side outputs (docs/pdf.md): hOCR per page,
  bool alto = false;        // ALTO XML per page,
  bool text = false;        // a plain-text file per document
  // [archival]
  ArchivalProfile archival;
  // [signature]; absent: PDFs are not signed
  std::optional<SignatureProfile> signature;
  // [[fields]]
  std::vector<FieldSpec> fields;
  // [[types]]: empty means any type is accepted.
  std::vector<DocumentTypeSpec> types;
  // [separation]
  SeparationRule separation;
  // [metadata] sources: where field values come from, first wins when two
  // give the same field. Each of "manifest", "separator", "ocr" at most once.
  std::vector<std::string> metadata_sources = {"manifest", "separator", "ocr"};
  // [scanner]
  ScannerProfile scanner;

  const FieldSpec* FindField(std::string_view name) const;
};

// Parses profile text; `name` is used in messages ("profile.toml line 7: ...").
Result<LotProfile> ParseProfile(std::string_view text, std::string_view name);
// Reads and parses a file (at most 1 MB). NotFound if absent; with
// Links::kRefuse (a lot's own profile.toml) a symbolic link is refused.
Result<LotProfile> LoadProfile(const std::filesystem::path& path, Links links = Links::kFollow);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PROFILE_H_
