// Redacted copies for release (Lei de Acesso à Informação; LGPD): a new
// PDF/A of one stored document in which chosen words are burnt into the
// page images as black boxes and left out of the text layer.
//
// What is redacted, found through the OCR word boxes the store keeps:
//  - `cpf` / `cnpj`: every CPF / CNPJ in the page text, also as OCR reads
//    them on paper (spaces after separators, letters for digits; see
//    core/personal_numbers.h, FindOptions::ocr), spanning one word or more;
//  - `fields`: the value of each named index field wherever its words occur
//    on a page (compared ignoring case, accents and punctuation), and the
//    value itself in the copy's metadata;
//  - `words`: each page word equal to one of these (same comparison).
// Index field values that hold a redacted CPF/CNPJ, and named fields, are
// written to the copy's metadata as "[tarjado]".
//
// The original PDF and the store's rows are not touched; the copy says what
// was redacted, when and by whom (its Keywords and a "redacao" field in its
// metadata), and an audit row "redact" records it in the store.
//
// Failure: NotFound for an unknown document; InvalidArgument when nothing
// is asked, when `out` is the original, when a named field does not exist,
// or when the document has no word boxes (stored before schema v6: run the
// lot again); Corrupt when the original PDF cannot be rendered. A failed
// run leaves no file at `out`.
#ifndef ACERVO_PIPELINE_REDACT_H_
#define ACERVO_PIPELINE_REDACT_H_

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"

namespace acervo {

struct RedactOptions {
  bool cpf = false;
  bool cnpj = false;
  std::vector<std::string> fields;
  std::vector<std::string> words;
  std::string actor;  // who asked: recorded in the copy and the audit trail
  std::filesystem::path out;
  // Where the store's relative PDF paths are read from (StoredPaths in
  // indexer/open_store.h): the store as given (a SQLite file's folder is
  // the default root) and an optional --root.
  std::string store_spec;
  std::filesystem::path root;
};

struct RedactBox {
  int page = 0;  // document page number
  int x = 0, y = 0, w = 0, h = 0;  // pixels of the page image
  std::string reason;  // "cpf", "cnpj", "field cpf", "word Silva"
};

struct RedactResult {
  std::filesystem::path path;
  std::string sha256;
  int pages = 0;
  std::vector<RedactBox> boxes;
  std::map<std::string, int> counts;  // reason -> occurrences
};

Result<RedactResult> RedactDocument(Store& store, const std::string& lot_id, const std::string& document_id,
                                    const RedactOptions& options);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_REDACT_H_
