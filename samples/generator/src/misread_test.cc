#include <gtest/gtest.h>

#include <map>
#include <string>

#include "acervo/synth/synth.h"

namespace acervo::synth {
namespace {

const char* kTruth =
    "Certifico que Joaquim Ribeiro da Conceição, portador do CPF 284.615.937-82, requereu a "
    "expedição da presente certidão de objeto e pé no processo 0004821-10.2023.8.26.0562, "
    "tramitando perante esta Vara Cível da Comarca de Santos, conforme registros do cartório.";

TEST(MisreadTest, EveryChangeIsRecordedAndTheRestIsKept) {
  MisreadSpec spec;
  spec.word_rate = 1.0;  // every word of 4+ letters
  spec.identifier_rate = 1.0;
  spec.seed = 7;
  const MisreadText m = Misread(kTruth, spec);
  EXPECT_NE(m.text, kTruth);
  std::map<std::string, int> kinds;
  for (const Misreading& r : m.misreadings) {
    ++kinds[r.kind];
    EXPECT_NE(r.truth, r.read) << r.kind;
    if (r.kind != "dropped" && r.kind != "merged") {
      EXPECT_NE(m.text.find(r.read), std::string::npos) << r.read;
    }
  }
  EXPECT_EQ(kinds["identifier"], 2);  // the CPF and the process number
  EXPECT_GE(m.misreadings.size(), 20u);
  // Short words stay as written.
  EXPECT_NE(m.text.find(" da "), std::string::npos);
}

TEST(MisreadTest, DeterministicForASeedAndRateZeroChangesNothing) {
  MisreadSpec spec;
  spec.seed = 3;
  EXPECT_EQ(Misread(kTruth, spec).text, Misread(kTruth, spec).text);
  spec.word_rate = 0;
  spec.identifier_rate = 0;
  const MisreadText same = Misread(kTruth, spec);
  EXPECT_EQ(same.text, kTruth);
  EXPECT_TRUE(same.misreadings.empty());
}

}  // namespace
}  // namespace acervo::synth
