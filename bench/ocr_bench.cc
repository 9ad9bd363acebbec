// Google Benchmark: OCR of one synthetic A4 page (por+eng, fast models) by
// one engine, and the whole page chain as `acervo run` builds it. Run with
// OMP_THREAD_LIMIT=1 (the acervo binary sets it itself).
#include <benchmark/benchmark.h>

#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/ocr/ocr.h"
#include "acervo/synth/synth.h"

namespace acervo {
namespace {

const char kText[] =
    "PREFEITURA MUNICIPAL DE SÃO JOÃO DA BOA VISTA\n"
    "Ofício nº 123/2024 - Secretaria de Administração\n"
    "Senhor Diretor, em atenção ao requerimento protocolado em 15/03/2024 sob o número "
    "0001234-56.2024.8.26.0100, informamos que a certidão solicitada pelo interessado, "
    "inscrito no CPF 123.456.789-09, foi expedida nesta data e encontra-se à disposição "
    "no setor de protocolo. Ressaltamos que a documentação apresentada atende às exigências "
    "da legislação vigente, não havendo óbice à continuidade do procedimento administrativo. "
    "Sem mais para o momento, renovamos os protestos de estima e consideração.";

synth::SynthPage MakePage(double dpi, double skew) {
  synth::PageSpec spec;
  spec.dpi = dpi;
  spec.skew_deg = skew;
  for (int i = 0; i < 4; ++i) spec.blocks.push_back({kText, 11});
  return std::move(synth::RenderPage(spec).value());
}

Page ToPage(const synth::SynthPage& s) {
  Page p;
  p.image = s.image;
  p.dpi_x = p.dpi_y = s.spec.dpi;
  return p;
}

void BM_OcrPage(benchmark::State& state) {
  synth::SynthPage s = MakePage(static_cast<double>(state.range(0)), 0);
  std::unique_ptr<PageStage> ocr = std::move(OcrStage::Create({}).value());
  for (auto _ : state) {
    Result<Page> out = ocr->Run(ToPage(s), PageContext{});
    benchmark::DoNotOptimize(out);
    state.counters["cer"] = synth::CharacterErrorRate(out->text, s.text);
  }
  state.counters["words"] = static_cast<double>(s.words.size());
}
BENCHMARK(BM_OcrPage)->Arg(300)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_FullChain(benchmark::State& state) {
  synth::SynthPage s = MakePage(300, 2.3);
  StageChain chain = std::move(BuildStageChain(LotProfile{}).value());
  for (auto _ : state) {
    Result<Page> out = chain.Run(ToPage(s), PageContext{});
    benchmark::DoNotOptimize(out);
    state.counters["cer"] = synth::CharacterErrorRate(out->text, s.text);
    state.counters["pdf_image_kb"] = out->encoded.bytes.size() / 1024.0;
  }
}
BENCHMARK(BM_FullChain)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace acervo

BENCHMARK_MAIN();
