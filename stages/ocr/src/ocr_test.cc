#include "acervo/stages/ocr/ocr.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"
#include "src/line_images.h"
#include "src/openmp_regions.h"

// Tesseract's inverted retry of a text line, counted: it inverts the line's
// image in place (pixInvert(pix, pix) in LSTMRecognizer::RecognizeLine, a
// 36-pixel-high line for the models Debian ships) and reads it again. This
// definition takes precedence over Leptonica's for Tesseract, as
// line_images.cc's pixWriteMem does.
namespace {
std::atomic<long> inverted_lines{0};
}  // namespace
extern "C" PIX* pixInvert(PIX* pixd, PIX* pixs) {
  using Fn = PIX* (*)(PIX*, PIX*);
  static const Fn leptonica = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pixInvert"));
  if (pixd != nullptr && pixd == pixs && pixGetHeight(pixs) <= 64) ++inverted_lines;
  return leptonica(pixd, pixs);
}

// libgomp's entry points as GCC's OpenMP lowering calls them (the test is
// not built with -fopenmp; openmp_regions.cc defines them for the process).
extern "C" void GOMP_parallel_sections(void (*fn)(void*), void* data, unsigned num_threads, unsigned count,
                                       unsigned flags);
extern "C" unsigned GOMP_sections_next();
extern "C" void GOMP_sections_end_nowait();

namespace acervo {
namespace {

synth::PageSpec CleanPage(const std::string& text) {
  synth::PageSpec spec;
  spec.blocks.push_back({text, 12});
  spec.noise_sigma = 0;
  spec.specks = 0;
  spec.paper_tint = false;
  spec.blur_sigma = 0;
  return spec;
}

const char kText[] =
    "CERTIDÃO DE NASCIMENTO\n"
    "Certifico que, revendo os livros de registro deste cartório, "
    "encontrei o assento de João da Conceição, nascido em 15/03/1987, "
    "filho de Maria José Gonçalves, CPF 123.456.789-09, processo "
    "0001234-56.2024.8.26.0100. O referido é verdade e dou fé.";

Page PageFrom(const synth::SynthPage& s) {
  Page p;
  p.image = s.image;
  p.dpi_x = p.dpi_y = s.spec.dpi;
  p.origin.source_path = "synthetic.png";
  return p;
}

TEST(OcrStageTest, ReadsPortugueseTextWithWordBoxes) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok()) << stage.status().ToString();
  Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  double cer = synth::CharacterErrorRate(out->text, s->text);
  EXPECT_LT(cer, 0.02) << out->text;
  EXPECT_GT(out->mean_confidence, 80);
  EXPECT_FALSE(out->HasFlag("low_confidence"));
  EXPECT_FALSE(out->HasFlag("no_text"));
  ASSERT_FALSE(out->words.empty());
  cv::Rect page_rect(0, 0, s->image.cols, s->image.rows);
  for (const Word& w : out->words) {
    EXPECT_EQ((w.box & page_rect), w.box) << w.text;
    EXPECT_GT(w.box.area(), 0) << w.text;
  }
  // Word boxes line up with the generator's boxes (clean page: same frame).
  int matched = 0;
  for (const synth::WordBox& truth : s->words) {
    for (const Word& w : out->words) {
      if (w.text == truth.text) {
        double iou = double((w.box & truth.box).area()) / double((w.box | truth.box).area());
        if (iou > 0.5) { ++matched; break; }
      }
    }
  }
  EXPECT_GT(matched, static_cast<int>(s->words.size() * 9 / 10));
}

// A 6-pt page scanned at 100 dpi: words ~8 px tall, x-height ~4 px. Read as
// it is, Tesseract loses letters (CER ~15%); the small-type re-read
// (enlarged twice) reads it (~1%), with the boxes back in the page's own
// pixels.
// A page with ink of which not one word is read (here: only a drawing)
// says so, so that review shows it instead of passing it in silence.
TEST(OcrStageTest, FlagsAPageWithInkButNoWordRead) {
  Page p;
  p.image = cv::Mat(2200, 1700, CV_8UC1, cv::Scalar(255));
  cv::circle(p.image, {850, 1100}, 500, cv::Scalar(0), 12);
  cv::rectangle(p.image, {300, 300}, {1400, 1900}, cv::Scalar(0), 8);
  p.dpi_x = p.dpi_y = 200;
  p.origin.source_path = "drawing.png";
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok()) << stage.status().ToString();
  Result<Page> out = (*stage)->Run(std::move(p), PageContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->words.empty()) << out->text;
  EXPECT_TRUE(out->HasFlag("no_text"));
  EXPECT_FALSE(out->HasFlag("low_confidence"));
}

TEST(OcrStageTest, ReadsSmallTypeOnLowResolutionScans) {
  synth::PageSpec spec = CleanPage(kText);
  spec.blocks = {{kText, 6}};
  spec.dpi = 100;
  spec.blur_sigma = 0.6;
  Result<synth::SynthPage> s = synth::RenderPage(spec);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  OcrOptions plain;
  plain.small_type_px = 0;  // no re-read: shows the page really is hard
  Result<std::unique_ptr<PageStage>> as_is = OcrStage::Create(plain);
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(as_is.ok() && stage.ok());
  Result<Page> before = (*as_is)->Run(PageFrom(*s), PageContext{});
  Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(before.ok() && out.ok()) << out.status().ToString();
  EXPECT_GT(synth::CharacterErrorRate(before->text, s->text), 0.08) << before->text;
  EXPECT_LT(synth::CharacterErrorRate(out->text, s->text), 0.03) << out->text;
  EXPECT_GT(out->mean_confidence, before->mean_confidence);
  ASSERT_FALSE(out->words.empty());
  cv::Rect page_rect(0, 0, s->image.cols, s->image.rows);
  int matched = 0;
  for (const Word& w : out->words) {
    EXPECT_EQ((w.box & page_rect), w.box) << w.text;
    EXPECT_LT(w.box.height, 16) << w.text;  // page pixels, not the enlarged image's
    for (const synth::WordBox& truth : s->words) {
      if (w.text != truth.text) continue;
      double iou = double((w.box & truth.box).area()) / double((w.box | truth.box).area());
      if (iou > 0.4) {
        ++matched;
        break;
      }
    }
  }
  EXPECT_GT(matched, static_cast<int>(s->words.size() * 3 / 4));
}

// The type size is told before reading, from the page's own glyphs: a
// small-type page is read once, enlarged (flag "small_type"), an ordinary
// page once at its size, whatever the resolution its file claims.
TEST(OcrStageTest, TellsSmallTypeBeforeReading) {
  synth::PageSpec small = CleanPage(kText);
  small.blocks = {{kText, 6}};
  small.dpi = 100;
  synth::PageSpec normal = CleanPage(kText);
  normal.dpi = 150;
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  for (const auto& [spec, want_small] : {std::pair{small, true}, std::pair{normal, false}}) {
    Result<synth::SynthPage> s = synth::RenderPage(spec);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Page page = PageFrom(*s);
    page.dpi_x = page.dpi_y = 300;  // a wrong tag must not matter
    Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->HasFlag("small_type"), want_small) << spec.dpi;
    EXPECT_LT(synth::CharacterErrorRate(out->text, s->text), 0.03) << out->text;
  }
}

// The orientation stage may leave its OCR vote to OCR (Page::
// orientation_candidates): an upright page's reading settles it at 0 with
// no further reading; a page that reads as garbage is voted on, turned and
// read again.
TEST(OcrStageTest, SettlesDeferredOrientationVote) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());

  Page upright = PageFrom(*s);
  upright.orientation_candidates = {0, 180};
  Result<Page> a = (*stage)->Run(std::move(upright), PageContext{});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->orientation_candidates.empty());
  EXPECT_EQ(a->orientation_deg, 0);
  EXPECT_FALSE(a->HasFlag("orientation_fixed"));
  EXPECT_LT(synth::CharacterErrorRate(a->text, s->text), 0.02) << a->text;

  synth::PageSpec turned_spec = CleanPage(kText);
  turned_spec.orientation_deg = 180;
  Result<synth::SynthPage> t = synth::RenderPage(turned_spec);
  ASSERT_TRUE(t.ok());
  Page turned = PageFrom(*t);
  turned.orientation_candidates = {0, 180};
  Result<Page> b = (*stage)->Run(std::move(turned), PageContext{});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->orientation_candidates.empty());
  EXPECT_EQ(b->orientation_deg, 180);
  EXPECT_TRUE(b->HasFlag("orientation_fixed"));
  EXPECT_LT(synth::CharacterErrorRate(b->text, t->text), 0.02) << b->text;
  // The page image is turned upright with the words that are on it.
  EXPECT_EQ(b->image.size(), t->image.size());
}

// A stage may leave OCR its own copy of the page (the clean stage: evenly
// lit paper before normalisation); OCR reads that one and lets it go.
TEST(OcrStageTest, ReadsOcrImageWhenAStageLeftOne) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage("primeira página do ofício"));
  ASSERT_TRUE(s.ok());
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  Page page = PageFrom(*s);
  page.ocr_image = s->image;
  page.image = cv::Mat(s->image.size(), CV_8UC1, cv::Scalar(255));  // what the PDF would get
  Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
  ASSERT_TRUE(out.ok());
  EXPECT_LT(synth::CharacterErrorRate(out->text, "primeira página do ofício"), 0.05) << out->text;
  EXPECT_TRUE(out->ocr_image.empty());
  EXPECT_FALSE(out->image.empty());
}

// The gray Tesseract is given for a very large colour page is the one its
// LSTM would compute from the colour page itself: Leptonica's luminance,
// bit for bit.
TEST(OcrStageTest, TesseractGrayIsLeptonicasLuminance) {
  cv::Mat bgr(64, 1024, CV_8UC3);
  std::mt19937 rng(16);
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      // Every gray level on each channel alone, then random colours.
      const int i = y * bgr.cols + x;
      cv::Vec3b v(rng() & 255, rng() & 255, rng() & 255);
      if (i < 768) v = cv::Vec3b(i / 256 == 0 ? i % 256 : 0, i / 256 == 1 ? i % 256 : 0, i / 256 == 2 ? i % 256 : 0);
      bgr.at<cv::Vec3b>(y, x) = v;
    }
  }
  PIX* rgb = pixCreate(bgr.cols, bgr.rows, 32);
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b v = bgr.at<cv::Vec3b>(y, x);
      pixSetRGBPixel(rgb, x, y, v[2], v[1], v[0]);
    }
  }
  PIX* lum = pixConvertRGBToLuminance(rgb);
  ASSERT_NE(lum, nullptr);
  const cv::Mat gray = TesseractGray(bgr);
  ASSERT_EQ(gray.type(), CV_8UC1);
  int differ = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      l_uint32 want = 0;
      pixGetPixel(lum, x, y, &want);
      differ += gray.at<uint8_t>(y, x) != want;
    }
  }
  EXPECT_EQ(differ, 0);
  pixDestroy(&lum);
  pixDestroy(&rgb);
}

// A colour page is read (in colour: Tesseract thresholds it per channel),
// and the page keeps its own colour image for the PDF.
TEST(OcrStageTest, ReadsColourPagesAndKeepsTheColour) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok());
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  // Dark blue ink on cream paper, from the gray page.
  cv::Mat colour(s->image.size(), CV_8UC3);
  for (int y = 0; y < colour.rows; ++y) {
    for (int x = 0; x < colour.cols; ++x) {
      const double ink = 1.0 - s->image.at<uint8_t>(y, x) / 255.0;
      const cv::Vec3d paper(222, 240, 246), blue(70, 30, 25);
      const cv::Vec3d v = paper * (1 - ink) + blue * ink;
      colour.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uint8_t>(v[0]), cv::saturate_cast<uint8_t>(v[1]),
                                             cv::saturate_cast<uint8_t>(v[2]));
    }
  }
  Page page = PageFrom(*s);
  page.image = colour;
  page.ocr_image = colour.clone();  // as the clean stage leaves it
  Result<Page> out = (*stage)->Run(page, PageContext{});
  ASSERT_TRUE(out.ok());
  EXPECT_LT(synth::CharacterErrorRate(out->text, s->text), 0.02) << out->text;
  EXPECT_EQ(out->image.type(), CV_8UC3);
  EXPECT_EQ(out->image.data, colour.data) << "the page's own image is not replaced";
  EXPECT_TRUE(out->ocr_image.empty());
}

// Tesseract's line images are kept uncompressed while the OCR stage reads
// (line_images.h): the interposed pixWriteMem is the one Tesseract calls.
// Fails when the symbol is not exported from the executable (Tesseract then
// calls Leptonica's directly and compresses every line as PNG again).
TEST(OcrStageTest, KeepsTesseractsLineImagesUncompressed) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok());
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  const uint64_t before = UncompressedLineImages::Count();
  Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(out.ok());
  EXPECT_LT(synth::CharacterErrorRate(out->text, s->text), 0.02) << out->text;
  EXPECT_GT(UncompressedLineImages::Count(), before);
}

// Only PNGs asked for on a thread inside a scope are written uncompressed
// (Leptonica's SPIX serialisation, not its byte-at-a-time PNM); every other
// call is Leptonica's own (PNG signature), also on other threads. What is
// read back is exactly what the PNG reads back: the same pixels, and RGB's
// unused alpha byte 0 even when the image written had one set.
TEST(OcrStageTest, LineImageScopeIsPerThreadAndLossless) {
  Pix* gray = pixCreate(40, 10, 8);
  Pix* rgb = pixCreate(40, 10, 32);
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 40; ++x) {
      pixSetPixel(gray, x, y, (x * 7 + y * 13) % 256);
      pixSetRGBPixel(rgb, x, y, x * 5, y * 20, (x + y) * 3);
    }
  }
  pixSetPixel(rgb, 3, 4, 0x11223344);  // a stray alpha byte (0x44)
  auto written = [](Pix* pix) {
    l_uint8* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(pixWriteMem(&data, &size, pix, IFF_PNG), 0);
    std::string bytes(reinterpret_cast<const char*>(data), size);
    lept_free(data);
    return bytes;
  };
  auto read = [](const std::string& bytes) {
    return pixReadMem(reinterpret_cast<const l_uint8*>(bytes.data()), bytes.size());
  };
  const std::string png_signature("\x89PNG", 4);
  const std::string png_gray = written(gray), png_rgb = written(rgb);
  EXPECT_EQ(png_gray.substr(0, 4), png_signature);
  {
    UncompressedLineImages scope;
    const std::string g = written(gray), c = written(rgb);
    EXPECT_EQ(g.substr(0, 4), "spix");
    EXPECT_EQ(c.substr(0, 4), "spix");
    std::string other_thread;
    std::thread([&] { other_thread = written(gray); }).join();
    EXPECT_EQ(other_thread.substr(0, 4), png_signature);
    // Read back as Tesseract does: what the PNG gives, word for word.
    for (auto [png, bytes] : {std::pair{png_gray, g}, std::pair{png_rgb, c}}) {
      Pix* want = read(png);
      Pix* back = read(bytes);
      ASSERT_NE(want, nullptr);
      ASSERT_NE(back, nullptr);
      EXPECT_EQ(pixGetDepth(back), pixGetDepth(want));
      EXPECT_EQ(pixGetSpp(back), pixGetSpp(want));
      ASSERT_EQ(pixGetWpl(back), pixGetWpl(want));
      ASSERT_EQ(pixGetHeight(back), pixGetHeight(want));
      const size_t words = static_cast<size_t>(pixGetWpl(want)) * pixGetHeight(want);
      EXPECT_TRUE(std::equal(pixGetData(want), pixGetData(want) + words, pixGetData(back)));
      pixDestroy(&want);
      pixDestroy(&back);
    }
    l_uint32 written_pixel = 0;
    pixGetPixel(rgb, 3, 4, &written_pixel);
    EXPECT_EQ(written_pixel, 0x11223344u) << "the image written is left as it was";
  }
  EXPECT_EQ(written(rgb).substr(0, 4), png_signature);
  pixDestroy(&gray);
  pixDestroy(&rgb);
}

// Reads a noisy page and its colour version twice each, once with the path
// under test off and once on (`Scope` in force turns it on, or off when
// `scope_turns_it_on` is false), and expects the same hOCR both times;
// `count` (the path's use counter) must move only on the read with it on.
template <typename Scope>
void ExpectSameHocrWithThePathOnAndOff(bool scope_turns_it_on, uint64_t (*count)()) {
  synth::PageSpec spec = CleanPage(kText);
  spec.noise_sigma = 6;
  spec.blur_sigma = 0.7;
  Result<synth::SynthPage> s = synth::RenderPage(spec);
  ASSERT_TRUE(s.ok());
  tesseract::TessBaseAPI api;
  ASSERT_EQ(api.Init(DefaultTessdataDir().c_str(), "por+eng", tesseract::OEM_LSTM_ONLY), 0);
  api.SetVariable("debug_file", "/dev/null");
  cv::Mat colour;
  cv::cvtColor(s->image, colour, cv::COLOR_GRAY2BGR);
  colour.forEach<cv::Vec3b>([](cv::Vec3b& v, const int* at) { v[0] = cv::saturate_cast<uint8_t>(v[0] + at[1] % 40); });
  for (const cv::Mat& img : {s->image, colour}) {
    cv::Mat rgb = img;
    if (img.channels() == 3) cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
    auto read = [&](bool path_on) {
      std::optional<Scope> scope;
      if (path_on == scope_turns_it_on) scope.emplace();
      api.SetImage(rgb.data, rgb.cols, rgb.rows, rgb.channels(), static_cast<int>(rgb.step));
      api.SetSourceResolution(300);
      std::unique_ptr<char[]> hocr(api.GetHOCRText(0));
      api.Clear();
      return std::string(hocr.get());
    };
    const uint64_t before = count();
    const std::string off = read(false);
    EXPECT_EQ(count(), before);
    const std::string on = read(true);
    EXPECT_GT(count(), before);
    EXPECT_GT(off.size(), 1000u);
    EXPECT_EQ(off, on) << "channels " << img.channels();
  }
  api.End();
}

// Tesseract reads the same words, boxes and confidences whether its line
// images go through PNG or not (a noisy gray page and its colour version).
TEST(OcrStageTest, UncompressedLineImagesReadTheSame) {
  ExpectSameHocrWithThePathOnAndOff<UncompressedLineImages>(true, &UncompressedLineImages::Count);
}

// Tesseract's OpenMP regions run directly on the worker's thread (the
// tests run with OMP_THREAD_LIMIT=1, as acervo does): reading a page goes
// through them (LSTM::Forward opens one per time step) and what is read is
// exactly what libgomp's one-thread team reads.
TEST(OcrStageTest, RunsTesseractsOpenMpRegionsDirectly) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok());
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  ASSERT_TRUE(OneThreadOpenMp::Active()) << "OMP_THREAD_LIMIT=1 expected (ctest sets it)";
  const uint64_t before = OneThreadOpenMp::RegionsOnThisThread();
  Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(out.ok());
  EXPECT_LT(synth::CharacterErrorRate(out->text, s->text), 0.02) << out->text;
  EXPECT_GT(OneThreadOpenMp::RegionsOnThisThread(), before + 1000);
}

TEST(OcrStageTest, DirectOpenMpRegionsReadTheSame) {
  ExpectSameHocrWithThePathOnAndOff<OpenMpThroughLibgomp>(false, &OneThreadOpenMp::RegionsOnThisThread);
}

// A `parallel sections` region run directly hands out each of its sections
// once, in order, then 0; a region nested in one of them has its own; and
// through libgomp the same sections run.
struct SectionsSeen {
  std::vector<unsigned> order;
  bool nest = false;
};
void SectionsBody(void* data) {
  auto* seen = static_cast<SectionsSeen*>(data);
  for (unsigned s = GOMP_sections_next(); s != 0; s = GOMP_sections_next()) {
    seen->order.push_back(s);
    if (seen->nest && s == 2) {
      SectionsSeen inner;
      GOMP_parallel_sections(&SectionsBody, &inner, 4, 3, 0);
      for (unsigned i : inner.order) seen->order.push_back(100 + i);
    }
  }
  GOMP_sections_end_nowait();
}

TEST(OcrStageTest, DirectParallelSectionsRunEachSectionOnce) {
  SectionsSeen direct;
  direct.nest = true;
  const uint64_t before = OneThreadOpenMp::RegionsOnThisThread();
  GOMP_parallel_sections(&SectionsBody, &direct, 4, 4, 0);
  EXPECT_EQ(direct.order, (std::vector<unsigned>{1, 2, 101, 102, 103, 3, 4}));
  EXPECT_EQ(OneThreadOpenMp::RegionsOnThisThread(), before + 2);
  SectionsSeen libgomp;
  {
    OpenMpThroughLibgomp scope;
    GOMP_parallel_sections(&SectionsBody, &libgomp, 4, 4, 0);
  }
  std::sort(libgomp.order.begin(), libgomp.order.end());
  EXPECT_EQ(libgomp.order, (std::vector<unsigned>{1, 2, 3, 4}));
  EXPECT_EQ(OneThreadOpenMp::RegionsOnThisThread(), before + 2);
}

// Tesseract's retry of every doubtful line inverted is off: a noisy page
// whose lines it would read again inverted (invert_retry, Tesseract's
// default) is read once, and not flagged, as it holds no light-on-dark
// region.
// A noisy, blurred 150-dpi page: many of its lines are ones Tesseract
// doubts, and would read again inverted.
synth::PageSpec NoisyPage() {
  synth::PageSpec spec = CleanPage(kText);
  spec.dpi = 150;
  spec.noise_sigma = 40;
  spec.blur_sigma = 1.1;
  spec.specks = 400;
  return spec;
}

TEST(OcrStageTest, DoesNotReadLinesAgainInverted) {
  Result<synth::SynthPage> s = synth::RenderPage(NoisyPage());
  ASSERT_TRUE(s.ok());
  OcrOptions retry;
  retry.invert_retry = true;
  Result<std::unique_ptr<PageStage>> tesseracts = OcrStage::Create(retry);
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(tesseracts.ok() && stage.ok());
  const long before = inverted_lines.load();
  Result<Page> with_retry = (*tesseracts)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(with_retry.ok());
  const long retried = inverted_lines.load() - before;
  EXPECT_GT(retried, 0) << "the page is not one Tesseract retries; the test shows nothing";
  Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(inverted_lines.load() - before, retried);
  EXPECT_FALSE(out->HasFlag("light_on_dark"));
  EXPECT_LE(synth::CharacterErrorRate(out->text, s->text),
            synth::CharacterErrorRate(with_retry->text, s->text) + 0.01)
      << out->text;
}

// A page that may hold light text on a dark ground (here a band of it) is
// read with Tesseract's inverted retry, as Tesseract reads it by default,
// and flagged; the next plain page read by the same stage is read without
// it again.
TEST(OcrStageTest, RetriesInvertedOnlyOnPagesWithLightTextOnDark) {
  synth::PageSpec spec = CleanPage(kText);
  spec.dpi = 200;
  spec.blocks = {{"Considerando a necessidade de preservar a memória institucional do município.", 11},
                 {"PROCESSO ADMINISTRATIVO 0001234-56.2024 SECRETARIA MUNICIPAL DE ADMINISTRAÇÃO", 11},
                 {"O acervo compreende livros de registro, plantas de loteamento e processos.", 11}};
  spec.blocks[0].space_after_pt = spec.blocks[1].space_after_pt = 24;  // room for the band
  spec.noise_sigma = 12;
  spec.blur_sigma = 0.9;
  Result<synth::SynthPage> s = synth::RenderPage(spec);
  ASSERT_TRUE(s.ok());
  cv::Rect words;
  for (const synth::WordBox& w : s->words) {
    if (w.text == "PROCESSO" || w.text == "ADMINISTRAÇÃO") words = words.empty() ? w.box : (words | w.box);
  }
  const cv::Rect band(60, words.y - 30, s->image.cols - 120, words.height + 60);
  Page page = PageFrom(*s);
  cv::bitwise_not(page.image(band), page.image(band));
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  long before = inverted_lines.load();
  Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_GT(inverted_lines.load(), before);
  EXPECT_TRUE(out->HasFlag("light_on_dark"));
  std::string in_band;
  for (const Word& w : out->words) {
    if (band.contains((w.box.tl() + w.box.br()) / 2)) in_band += (in_band.empty() ? "" : " ") + w.text;
  }
  EXPECT_LT(synth::CharacterErrorRate(in_band, spec.blocks[1].text), 0.05) << in_band;

  Result<synth::SynthPage> plain = synth::RenderPage(NoisyPage());
  ASSERT_TRUE(plain.ok());
  before = inverted_lines.load();
  out = (*stage)->Run(PageFrom(*plain), PageContext{});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(inverted_lines.load(), before);
  EXPECT_FALSE(out->HasFlag("light_on_dark"));
}

TEST(OcrStageTest, SameEngineServesManyPages) {
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  for (const char* text : {"primeira página do ofício", "segunda página: exceção"}) {
    Result<synth::SynthPage> s = synth::RenderPage(CleanPage(text));
    ASSERT_TRUE(s.ok());
    Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
    ASSERT_TRUE(out.ok());
    EXPECT_LT(synth::CharacterErrorRate(out->text, text), 0.05) << out->text;
  }
}

TEST(OcrStageTest, BadOptionsFailAtCreate) {
  struct Case { OcrOptions options; StatusCode code; std::string want; };
  OcrOptions missing;
  missing.languages = "klingon";
  OcrOptions empty;
  empty.languages = "+";
  OcrOptions psm;
  psm.page_segmentation_mode = 42;
  OcrOptions small;
  small.small_type_px = -1;
  for (const Case& c : {Case{missing, StatusCode::kUnavailable, "klingon"},
                        Case{empty, StatusCode::kInvalidArgument, "empty"},
                        Case{psm, StatusCode::kInvalidArgument, "segmentation"},
                        Case{small, StatusCode::kInvalidArgument, "small_type_px"}}) {
    Result<std::unique_ptr<PageStage>> stage = OcrStage::Create(c.options);
    ASSERT_FALSE(stage.ok());
    EXPECT_EQ(stage.status().code(), c.code);
    EXPECT_NE(stage.status().message().find(c.want), std::string::npos) << stage.status().ToString();
  }
}

TEST(OcrStageTest, CancelAndDeadlineStopRecognition) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok());
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  std::atomic<bool> cancel{true};
  PageContext cancelled;
  cancelled.cancel = &cancel;
  EXPECT_EQ((*stage)->Run(PageFrom(*s), cancelled).status().code(), StatusCode::kCancelled);
  PageContext late;
  late.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_EQ((*stage)->Run(PageFrom(*s), late).status().code(), StatusCode::kDeadlineExceeded);
  // The engine is still usable afterwards.
  EXPECT_TRUE((*stage)->Run(PageFrom(*s), PageContext{}).ok());
}

}  // namespace
}  // namespace acervo
