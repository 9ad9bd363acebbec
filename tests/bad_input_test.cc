// End to end: a queue full of bad input, generated here. Every bad file or
// page gets a message naming the file (and page) and the reason, goes to
// quarantine with that reason, and everything good still becomes PDFs; names
// with `../` never write outside the output folder; originals stay intact.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/damaged_tiff.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ReadText;
using testing::RunProcess;
using json = nlohmann::json;

uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

void PutBe32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

void Chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  PutBe32(png, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  PutBe32(png, Crc32(body.data(), body.size()));
}

// A well-formed PNG header that declares 100000 x 100000 gray pixels (10
// gigapixels) followed by a tiny, bogus IDAT: only a pixel limit checked
// before decoding keeps this from allocating 10 GB.
std::vector<uint8_t> HugePng() {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  PutBe32(ihdr, 100000);
  PutBe32(ihdr, 100000);
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});
  Chunk(png, "IHDR", ihdr);
  Chunk(png, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  Chunk(png, "IEND", {});
  return png;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    fs::create_directories(queue_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  void Write(const fs::path& path, const std::vector<std::string>& texts, synth::FileFormat format, uint64_t seed = 1) {
    testing::WriteSmallTextPages(path, texts, format, seed);
  }
  void WriteBytes(const fs::path& path, std::span<const uint8_t> bytes) {
    fs::create_directories(path.parent_path());
    ASSERT_TRUE(WriteFileAtomic(path, bytes).ok()) << path;
  }
  void WriteText(const fs::path& path, std::string_view text) {
    WriteBytes(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  std::vector<uint8_t> Cut(const fs::path& good, double keep) {
    std::vector<uint8_t> b = *ReadFile(good);
    b.resize(static_cast<size_t>(b.size() * keep));
    return b;
  }

  fs::path root_ = fs::temp_directory_path() / ("acervo-bad-e2e-" + std::to_string(::getpid()));
  fs::path queue_ = root_ / "fila";
  fs::path out_ = root_ / "saida";
};

TEST_F(BadInputTest, EveryBadInputIsNamedQuarantinedAndTheRestCompletes) {
  const fs::path bad = queue_ / "lote-ruim";
  const fs::path scratch = root_ / "scratch";
  Write(bad / "bom.png", {"Ofício da secretaria sobre a praça Tiradentes."}, synth::FileFormat::kPng, 1);
  Write(bad / "com espaço.png", {"Requerimento de licença para a feira de Alvorada."}, synth::FileFormat::kPng, 2);
  Write(bad / "p\xe9gina.png", {"Memorando interno sobre o arquivo de Jacarandá."}, synth::FileFormat::kPng, 3);
  // Good sources to damage.
  Write(scratch / "a.tif", {"Página para cortar."}, synth::FileFormat::kTiffLzw, 4);
  Write(scratch / "a.png", {"Página para cortar."}, synth::FileFormat::kPng, 5);
  Write(scratch / "a.jpg", {"Página para cortar."}, synth::FileFormat::kJpeg, 6);
  WriteText(bad / "vazio.png", "");
  WriteBytes(bad / "cortado.tif", Cut(scratch / "a.tif", 0.5));
  WriteBytes(bad / "cortado.png", Cut(scratch / "a.png", 0.5));
  WriteBytes(bad / "cortado.jpg", Cut(scratch / "a.jpg", 0.4));
  // A PNG named .jpg is still a PNG (formats are sniffed): read, with a warning.
  fs::copy_file(scratch / "a.png", bad / "trocado.jpg");
  WriteText(bad / "texto.tif", "Isto é um arquivo de texto com a extensão errada.\n");
  std::mt19937 rng(7);
  std::vector<uint8_t> noise(8192);
  for (uint8_t& b : noise) b = static_cast<uint8_t>(rng());
  WriteBytes(bad / "ruido.png", noise);
  ASSERT_TRUE(synth::WritePages(bad / "pixel.png", {cv::Mat(1, 1, CV_8UC1, cv::Scalar(255))}, 200,
                                synth::FileFormat::kPng).ok());
  WriteBytes(bad / "gigante.png", HugePng());
  // Three pages; page 2's strip overwritten with garbage.
  Write(bad / "multi.tif", {"Primeira folha do processo de Paranaguá.", "Segunda folha danificada.",
                            "Terceira folha do processo de Paranaguá."}, synth::FileFormat::kTiffLzw, 8);
  ASSERT_NO_FATAL_FAILURE(testing::DamageTiffPage(bad / "multi.tif", 1, rng));
  WriteText(bad / "cifrado.pdf",
            "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            "2 0 obj\n<< /Filter /Standard /V 2 /R 3 /O (x) /U (y) /P -4 >>\nendobj\n"
            "trailer\n<< /Root 1 0 R /Encrypt 2 0 R >>\n%%EOF\n");
  WriteText(bad / "malformado.pdf", "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\nstream garbage");

  // A manifest with bad rows, a 1 MB field and names that try to climb out.
  const fs::path man = queue_ / "lote-manifesto";
  Write(man / "p1.png", {"Certidão de nascimento lavrada em Itaboraí."}, synth::FileFormat::kPng, 20);
  Write(man / "p2.png", {"Contrato de locação do imóvel em Quixadá."}, synth::FileFormat::kPng, 21);
  Write(man / "p3.png", {"Edital de convocação da assembleia de Caruaru."}, synth::FileFormat::kPng, 22);
  Write(queue_ / "fora.png", {"Arquivo fora do lote."}, synth::FileFormat::kPng, 23);
  std::string manifest = "document_id,document_type,title,files\n";
  manifest += "certidao,certidao,Certidão,p1.png\n";
  manifest += "curta,oficio\n";                                        // too few columns
  manifest += ",oficio,Sem id,p2.png\n";                               // empty id
  manifest += "certidao,certidao,Repetida,p2.png\n";                   // repeated id
  manifest += "escapa,oficio,Fora,../fora.png\n";                      // climbs out
  manifest += "sumido,oficio,Sumido,nao-existe.png\n";                 // not in the lot
  manifest += "pagina,oficio,Página,p2.png#7\n";                       // no such page
  manifest += "enorme,oficio," + std::string(1 << 20, 'x') + ",p2.png\n";  // 1 MB title
  manifest += "../../contrato,contrato,Contrato,p2.png\n";             // id with ../
  manifest += "edital,edital,Edital,p3.png\n";
  WriteText(man / "manifest.csv", manifest);

  // A profile whose lot id tries to leave the output folder.
  const fs::path climb = queue_ / "lote-perfil";
  Write(climb / "oficio.png", {"Ofício de encaminhamento do acervo de Sobral."}, synth::FileFormat::kPng, 30);
  WriteText(climb / "profile.toml", "[lot]\nid = \"../../fora-do-out\"\n");

  fs::remove_all(scratch);
  std::map<std::string, std::string> originals;
  for (const auto& e : fs::recursive_directory_iterator(queue_)) {
    if (e.is_regular_file()) originals[e.path().string()] = *Sha256OfFile(e.path());
  }

  testing::ProcessResult run = RunProcess({AcervoBinary(), "batch", queue_.string(), "--out", out_.string(),
                                           "--jobs", "2", "--quiet"});
  EXPECT_EQ(run.exit_code, 1) << "bad input must give exit 1\n" << run.out << run.err;

  // Each bad file: named with its reason on stderr and in quarantine.
  struct Bad {
    std::string file, reason;
  };
  const std::vector<Bad> bads = {
      {"vazio.png", "empty file"},
      {"cortado.tif", "TIFF"},
      {"cortado.png", "truncated PNG"},
      {"cortado.jpg", "JPEG"},
      {"texto.tif", "not a TIFF, PNG or JPEG image"},
      {"ruido.png", "not a TIFF, PNG or JPEG image"},
      {"gigante.png", "exceeds the limit of 300000000 pixels"},
      {"pixel.png", "too small to be a scanned page"},
      {"multi.tif page 2", "damaged image data"},
      {"cifrado.pdf", "encrypted"},
      {"malformado.pdf", "PDF"},
  };
  json report = json::parse(ReadText((out_ / "report" / "report.json").string()));
  std::string errors = report["errors"].dump();
  for (const Bad& b : bads) {
    std::string file = b.file.substr(0, b.file.find(' '));
    bool named = false;
    for (const json& e : report["errors"]) {
      std::string text = e["where"].get<std::string>() + ": " + e["message"].get<std::string>();
      if (text.find(b.file) != std::string::npos && text.find(b.reason) != std::string::npos) named = true;
    }
    EXPECT_TRUE(named) << b.file << " / " << b.reason << "\n" << errors;
    EXPECT_NE(run.err.find(b.file), std::string::npos) << b.file << "\n" << run.err;
    fs::path q = out_ / "lote-ruim" / "quarantine" / file;
    EXPECT_TRUE(fs::exists(q)) << q;
    EXPECT_NE(ReadText(q.string() + ".reason.txt").find(b.reason), std::string::npos) << q;
  }
  // Pages 1 and 3 of the damaged TIFF are kept as masters, not lost.
  EXPECT_TRUE(fs::exists(out_ / "lote-ruim" / "masters" / "multi.tif"));

  // Good files, odd names included, became PDFs (a Latin-1 name's id, and
  // so its file name, has U+FFFD for the byte that is not UTF-8).
  for (const char* good : {"bom", "com espaço", "p\xEF\xBF\xBDgina", "trocado"}) {
    fs::path pdf = out_ / "lote-ruim" / (std::string(good) + ".pdf");
    bool found = fs::exists(pdf);
    if (!found) {  // the file name may have been made safe; look by prefix
      for (const auto& e : fs::directory_iterator(out_ / "lote-ruim")) {
        std::string n = e.path().filename().string();
        if (e.path().extension() == ".pdf" && n.rfind(std::string(good).substr(0, 3), 0) == 0) found = true;
      }
    }
    EXPECT_TRUE(found) << good;
  }
  EXPECT_NE(run.err.find("trocado.jpg"), std::string::npos) << "the misnamed PNG deserves a warning\n" << run.err;
  std::vector<fs::path> made;  // the lot's PDFs; quarantine/ holds the bad input PDFs as they came
  for (const auto& e : fs::directory_iterator(out_ / "lote-ruim")) {
    if (e.path().extension() == ".pdf") made.push_back(e.path());
  }
  EXPECT_FALSE(made.empty());
  EXPECT_EQ(testing::PdfaProblems(made), "");

  // Manifest: the good rows became documents, each bad row is named.
  EXPECT_TRUE(fs::exists(out_ / "lote-manifesto" / "certidao.pdf"));
  EXPECT_TRUE(fs::exists(out_ / "lote-manifesto" / "edital.pdf"));
  for (const char* line : {"manifest.csv line 3", "manifest.csv line 4", "manifest.csv line 5",
                           "manifest.csv line 6", "manifest.csv line 7", "manifest.csv line 8",
                           "manifest.csv line 9"}) {
    EXPECT_NE(errors.find(line), std::string::npos) << line << "\n" << errors;
  }
  EXPECT_NE(errors.find("exceeds the limit"), std::string::npos) << errors;

  // Nothing was written outside the output folder.
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(root_)) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"fila", "saida"}));
  for (const auto& e : fs::recursive_directory_iterator(queue_)) {
    if (e.is_regular_file()) {
      EXPECT_TRUE(originals.count(e.path().string())) << "written into the queue: " << e.path();
    }
  }

  for (const auto& [path, sha] : originals) EXPECT_EQ(*Sha256OfFile(path), sha) << "original changed: " << path;
}

}  // namespace
}  // namespace acervo
