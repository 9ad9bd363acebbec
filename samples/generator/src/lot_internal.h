// The lot generator's plan, exposed so tests can check a spec without
// rendering it.
#ifndef ACERVO_SAMPLES_GENERATOR_SRC_LOT_INTERNAL_H_
#define ACERVO_SAMPLES_GENERATOR_SRC_LOT_INTERNAL_H_

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "acervo/synth/synth.h"

namespace acervo::synth {

struct PlannedPage {
  PageSpec spec;             // complete, seed included
  bool blank = false;
  std::string document_id;
  int page_in_document = 1;  // 1-based
  std::string file;          // file name inside the lot folder
  int page_in_file = 1;      // 1-based
  int sequence = 1;          // 1-based position in the lot
};

struct PlannedFile {
  std::string name;
  FileFormat format = FileFormat::kPng;
  std::vector<size_t> page_indices;  // into LotPlan::pages, in file order
};

struct PlannedDocument {
  std::string id, type, title;
  std::string files;  // the manifest's `files` value
  std::map<std::string, std::string> fields;
};

struct LotPlan {
  double dpi = 300;
  std::vector<PlannedPage> pages;  // lot order
  std::vector<PlannedFile> files;
  std::vector<PlannedDocument> documents;
  std::vector<std::string> field_names;  // manifest columns after `files`
  std::vector<bool> required_fields;
  std::string profile_toml;
};

// Reads and checks a lot spec. InvalidArgument names the spec file and the
// document/page at fault; NotFound/IOError for a missing text file.
Result<LotPlan> PlanLot(const std::filesystem::path& spec_path);

// Shortest decimal that reads back as `v`, always with a '.' ("-3.7", "2.0").
std::string FormatNumber(double v);

}  // namespace acervo::synth

#endif  // ACERVO_SAMPLES_GENERATOR_SRC_LOT_INTERNAL_H_
