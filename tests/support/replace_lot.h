// What the page-replacement tests (issue 14: tests/page_replace_test.cc from
// the command line, tests/page_replace_web_test.cc from the web) share: the
// document whose page 2 is replaced, the images offered for it, and the
// documents a search finds. Test-only.
#ifndef ACERVO_TESTS_SUPPORT_REPLACE_LOT_H_
#define ACERVO_TESTS_SUPPORT_REPLACE_LOT_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/synth/synth.h"
#include "postgres_test_server.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo::testing {

// `lot`/processo.tif: three small pages, the second "borrada"; in `root`:
// nova.png (its replacement, "substituta"), baixa.png (150 dpi, below the
// tests' min_dpi of 200) and quebrada.png (not an image).
inline void WriteReplaceFixtures(const std::filesystem::path& root, const std::filesystem::path& lot) {
  WriteSmallTextPages(lot / "processo.tif",
                      {"Primeira folha do processo administrativo", "Segunda folha borrada ilegivel",
                       "Terceira folha com despacho final"},
                      synth::FileFormat::kTiffLzw, 11);
  WriteSmallTextPages(root / "nova.png", {"Segunda folha substituta nitida"}, synth::FileFormat::kPng, 13);
  cv::Mat low = TextPage("Folha em baixa resolucao", 14, 150);
  ASSERT_TRUE(synth::WritePages(root / "baixa.png", {low}, 150, synth::FileFormat::kPng).ok());
  std::ofstream(root / "quebrada.png") << "not an image";
}

// The documents `acervo search --json QUERY` finds, in order.
inline std::vector<std::string> SearchIds(const std::string& store, const std::string& query) {
  const ProcessResult r = RunProcess({AcervoBinary(), "search", "--store", store, "--json", query});
  const nlohmann::json hits = nlohmann::json::parse(r.out, nullptr, false);
  std::vector<std::string> ids;
  if (hits.is_array()) {
    for (const nlohmann::json& h : hits) ids.push_back(h["document"]);
  }
  return ids;
}

// Runs `loop` with the connection string of database `db` on a real
// PostgreSQL started for it; the test is skipped when none can run here.
inline void OnPostgres(const std::string& db, const std::function<void(const std::string&)>& loop) {
  PostgresTestServer server;
  Status started = server.Start();
  if (!started.ok()) GTEST_SKIP() << "PostgreSQL cannot run here: " << started.ToString();
  Result<std::string> conninfo = server.CreateDatabase(db);
  ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
  loop(*conninfo);
}

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_REPLACE_LOT_H_
