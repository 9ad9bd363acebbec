// The lot model: what is in a lot folder and how its pages form documents.
//
// PlanLot() reads the folder (and its manifest.csv and profile.toml when
// present), probes every image file for its page count without decoding
// pixels, and returns the plan: input files, documents with their pages in
// order, and every problem found, each naming the file (and page or manifest
// line) and the reason. A problem with one file or one manifest row never
// stops the plan: the affected document is marked failed and the rest of the
// lot goes on. Only a lot that cannot be read at all (missing folder,
// unparsable profile or manifest, a lot id that is not plain text or too
// long) fails PlanLot itself.
//
// File-system trust (docs/formats.md): symbolic links inside the lot are
// never followed (each is a problem naming it), nor is anything that is not
// a regular file or a folder read; a subfolder that cannot be listed is a
// problem, the rest of the lot goes on.
//
// Identity: every text of the plan is clean (core/text.h). Documents whose
// ids share a file name (letter case aside), whose id has a control
// character or is too long for a file name are refused (document errors
// naming each other), never merged or renamed.
//
// Thread-safety: plain values.
#ifndef ACERVO_PIPELINE_LOT_H_
#define ACERVO_PIPELINE_LOT_H_

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/pipeline/profile.h"

namespace acervo {

struct InputFile {
  std::filesystem::path path;  // absolute or as given
  std::string name;            // path relative to the lot folder
  int pages = 0;               // 0 when the file could not be probed
  Status status;               // why it could not be read
};

struct PageRef {
  int file = 0;          // index into LotPlan::files
  int page_in_file = 1;  // 1-based
};

struct DocumentPlan {
  std::string id;         // as given (manifest) or the file's stem; clean text (core/text.h)
  std::string origin;     // where the id came from: "manifest.csv line 4", "sub/x.png"
  std::string file_name;  // SafeFileName(id): unique in the lot, letter case aside
  std::string type;
  std::string title;
  std::vector<std::pair<std::string, std::string>> fields;
  // Where each of `fields` came from, by field name: "manifest.csv line 4",
  // "separator 0003.tif page 1" (see metadata.h).
  std::map<std::string, std::string> field_sources;
  std::vector<PageRef> pages;
  std::vector<std::string> errors;  // non-empty: the document cannot be built
  // Why separation needs a person to look at this document (issue 14):
  // kind ("no_separator", "separator_payload", "separator_unreadable"; see
  // core/review_reason.h), page of the document (0: all of it), detail.
  struct ReviewNote {
    std::string kind;
    int page = 0;
    std::string detail;
  };
  std::vector<ReviewNote> review_notes;
};

struct LotProblem {
  std::string where;    // "manifest.csv line 4", "0003.tif page 2"
  std::string message;  // the reason
};

// A separator sheet found while planning: kept as a master (its input file
// is copied like any other), left out of every document and PDF.
struct SeparatorSheet {
  PageRef page;
  std::string kind;     // "barcode QRCode", "patch II", "blank", ...
  std::string payload;  // the barcode text; "" for patch codes and blanks
};

struct LotPlan {
  std::filesystem::path dir;
  std::string lot_id;
  LotProfile profile;
  bool has_manifest = false;
  std::vector<InputFile> files;
  std::vector<DocumentPlan> documents;
  std::vector<SeparatorSheet> separators;  // in page order
  std::vector<LotProblem> problems;   // errors: they make the run fail
  std::vector<LotProblem> warnings;   // worth telling, not failures
  // A separator sheet at the end of the lot that starts no document: where
  // it is ("" when none). A review item of the lot (issue 14).
  std::string unused_separator;
  int TotalPages() const;
};

struct PlanOptions {
  std::string lot_id;  // overrides profile and folder name when set
  // When set, the lot is this one file of the folder and nothing else (no
  // manifest, no profile, no other file): a page file dropped into a hot
  // folder (acervo watch), processed where it is.
  std::string only_file = {};
};

Result<LotPlan> PlanLot(const std::filesystem::path& dir, const PlanOptions& options = {});

// The lot id PlanLot gives the lot folder (options.lot_id, else the
// profile's [lot] id, else the folder's name), reading only its profile.
// Fails as PlanLot does for an unreadable profile or an id that is not
// plain text or too long.
Result<std::string> LotIdOf(const std::filesystem::path& dir, const PlanOptions& options = {});

// The file name of a document id (and of a lot id's folder), the same for
// ever and different for different ids: letters, digits, '-', '_',
// non-ASCII UTF-8 and '.' (not first) are kept, every other byte becomes
// %XX (uppercase hex), so '/' and '\' can never leave the folder and "x/y"
// (x%2Fy) never meets "x_y". Empty ids (refused everywhere) give "_".
std::string SafeFileName(std::string_view id);

// Natural order of names ("2.tif" before "10.tif", "lote-2" before
// "lote-10"), how operators number scans and boxes; leading zeros ignored.
bool NaturalLess(const std::string& a, const std::string& b);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_LOT_H_
