#include "acervo/stages/pdf/pdf_writer.h"

#include <gtest/gtest.h>
#include <podofo/podofo.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <thread>

#include "acervo/core/files.h"
#include "acervo/stages/pdf/image_encode.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "support/pdfa.h"
#include "test_tools.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using testing::BboxWord;
using testing::RunTool;

const std::vector<std::string> kWords = {
    "certidão", "exceção",  "nº",     "Conceição", "1ª",       "“Termo”",  "2019–2020",
    "São",      "Paulo",    "ação",   "também",    "você",     "pôr",      "João",
    "Tabelião", "Ofício",   "ÁREA",   "coração",   "R$",       "1.234,56", "&",
    "<fim>",    "registro", "número", "órgão",     "Assunção", "mãe",      "avô"};

class PdfWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("writer"); }
  // Every PDF a test leaves in dir_ must be PDF/A-1b (Preflight) and pass
  // qpdf --check, except those a test writes without PDF/A on purpose.
  void TearDown() override {
    std::vector<fs::path> pdfs;
    for (const fs::path& p : testing::PdfsIn(dir_)) {
      if (std::find(not_pdfa_.begin(), not_pdfa_.end(), p) == not_pdfa_.end()) pdfs.push_back(p);
    }
    if (!pdfs.empty()) {
      EXPECT_EQ(testing::PdfaProblems(pdfs), "");
    }
    fs::remove_all(dir_);
  }

  static std::unique_ptr<PdfWriter> NewWriter() {
    auto w = PdfWriter::Create(PdfOptions{});
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  static Page Encoded(Page page, EncodeOptions options = {}) {
    auto stage = ImageEncodeStage::Create(options);
    EXPECT_TRUE(stage.ok());
    Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return std::move(out).value();
  }

  // Writes `pages` to dir_/name and returns the result.
  Result<PdfResult> Write(const std::string& name, const std::vector<Page>& pages,
                          const PdfDocumentInfo& info = {}) {
    std::unique_ptr<PdfWriter> w = NewWriter();
    ACERVO_RETURN_IF_ERROR(w->Begin(dir_ / name, info));
    for (const Page& p : pages) ACERVO_RETURN_IF_ERROR(w->AddPage(PdfPageInputFromPage(p)));
    return w->End();
  }

  std::vector<std::string> DirEntries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
  std::vector<fs::path> not_pdfa_;
};

TEST_F(PdfWriterTest, MissingFontIsUnavailable) {
  PdfOptions o;
  o.font_path = dir_ / "no-such-font.ttf";
  auto w = PdfWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(w.status().message().find("no-such-font.ttf"), std::string::npos);
}

TEST_F(PdfWriterTest, NonTrueTypeFontIsInvalidArgument) {
  ASSERT_TRUE(WriteFileAtomic(dir_ / "bad.ttf", std::string_view("not a font at all")).ok());
  PdfOptions o;
  o.font_path = dir_ / "bad.ttf";
  auto w = PdfWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PdfWriterTest, MissingIccProfileIsUnavailable) {
  PdfOptions o;
  o.icc_profile_path = dir_ / "srgb.icc";
  auto w = PdfWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kUnavailable);
}

// The core promise: every OCR word is searchable with its exact text, and
// selecting it highlights its place on the picture.
TEST_F(PdfWriterTest, TextLayerRoundTripsThroughPdftotext) {
  Page page = Encoded(testing::MakeTextPage(2480, 3508, 300, kWords, 100000));
  ASSERT_GT(page.words.size(), 500u);
  auto r = Write("a4.pdf", {page});
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  testing::ToolOutput bbox = RunTool({"pdftotext", "-bbox", r->path.string(), "-"});
  ASSERT_EQ(bbox.exit_code, 0);
  std::vector<BboxWord> got = testing::ParseBbox(bbox.out);
  ASSERT_FALSE(got.empty());

  // Same words, same UTF-8, same count.
  std::map<std::string, int> want_count, got_count;
  for (const Word& w : page.words) ++want_count[w.text];
  for (const BboxWord& w : got) ++got_count[w.text];
  EXPECT_EQ(got_count, want_count);

  // Each input word has an output word with the same text at the same place.
  const double px_per_pt = 300.0 / 72.0;
  size_t matched = 0;
  for (const Word& w : page.words) {
    double best = 0;
    for (const BboxWord& g : got) {
      if (g.text != w.text) continue;
      cv::Rect2d gb(g.x_min * px_per_pt, g.y_min * px_per_pt, (g.x_max - g.x_min) * px_per_pt,
                    (g.y_max - g.y_min) * px_per_pt);
      best = std::max(best, testing::IoU(gb, cv::Rect2d(w.box)));
    }
    if (best >= 0.5) ++matched;
  }
  EXPECT_GE(matched * 100, page.words.size() * 98)
      << matched << " of " << page.words.size() << " words placed";

  testing::ToolOutput layout = RunTool({"pdftotext", "-layout", r->path.string(), "-"});
  ASSERT_EQ(layout.exit_code, 0);
  for (const char* w : {"certidão", "exceção", "nº", "Conceição", "1ª", "“Termo”", "2019–2020"}) {
    EXPECT_NE(layout.out.find(w), std::string::npos) << w;
  }
  // Words on one line come out separated by spaces, in order.
  EXPECT_NE(layout.out.find("certidão exceção nº Conceição"), std::string::npos);

  EXPECT_EQ(RunTool({"qpdf", "--check", r->path.string()}).exit_code, 0);
}

// Pages laid out as real scans are (issue 16, multicol_05 and a generated
// two-column page of the bench): the text layer must bring poppler's
// reading order (pdftotext without -layout, the order indexers and "copy
// all" take) to the OCR's block order. Words are given, not read: the
// layout is exact and only the text layer is under test.
class PageLayout {
 public:
  PageLayout(int width, int height, double dpi) {
    page_.image = cv::Mat(height, width, CV_8UC1, cv::Scalar(255));
    page_.dpi_x = page_.dpi_y = dpi;
    page_.color_class = ColorClass::kGray;
  }
  // One OCR block of `lines` justified lines from x0 to x1, the first
  // baseline at `base`, `pitch` apart, words `height` px tall named
  // "<tag><line>w<k>"; widths vary from line to line as printed text does.
  void Block(const std::string& tag, int x0, int x1, int base, int pitch, int lines, int height) {
    for (int l = 0; l < lines; ++l, ++line_) {
      // 4-6 words filling three quarters of the line, the rest spaces.
      const int n = 4 + (l * 7) % 3;
      std::vector<int> units;
      int total = 0;
      for (int k = 0; k < n; ++k) total += units.emplace_back(3 + (l * 5 + k * 3) % 3);
      std::vector<int> widths;
      int sum = 0;
      for (int u : units) sum += widths.emplace_back(u * 3 * (x1 - x0) / (4 * total));
      const double gap = static_cast<double>(x1 - x0 - sum) / (n - 1);
      double x = x0;
      for (int k = 0; k < n; ++k) {
        const int y = base + l * pitch;
        Add(tag + std::to_string(l) + "w" + std::to_string(k), cv::Rect(static_cast<int>(x), y - height, widths[k], height), y);
        x += widths[k] + gap;
      }
    }
    ++block_;
  }
  // One OCR block of `rows` table rows read across, as Tesseract reads a
  // table: one left-aligned cell starting at each of `columns`, the first
  // baseline at `base`, `pitch` apart, words `height` px tall named
  // "<tag><row>c<column>", of widths that vary from row to row.
  void Table(const std::string& tag, const std::vector<int>& columns, int base, int pitch, int rows, int height) {
    Rows(tag, std::vector<std::vector<int>>(rows, columns), base, pitch, height);
  }
  // The same with each row's own cell starts (a form's records).
  void Rows(const std::string& tag, const std::vector<std::vector<int>>& rows, int base, int pitch, int height) {
    for (size_t r = 0; r < rows.size(); ++r, ++line_) {
      const int y = base + static_cast<int>(r) * pitch;
      for (size_t k = 0; k < rows[r].size(); ++k) {
        const int w = (k == 0 ? 110 : 50) + static_cast<int>(r * 37 + k * 11) % 60;
        Add(tag + std::to_string(r) + "c" + std::to_string(k), cv::Rect(rows[r][k], y - height, w, height), y);
      }
    }
    ++block_;
  }
  // A one-word line of its own block.
  void Line(const std::string& text, cv::Rect box) {
    Add(text, box, box.y + box.height);
    ++line_;
    ++block_;
  }
  // A word read at the end of line `line` of the page (baseline unknown: a
  // speck).
  void Speck(const std::string& text, cv::Rect box, int line) {
    auto after = std::find_if(page_.words.rbegin(), page_.words.rend(), [&](const Word& w) { return w.line == line; });
    ASSERT_NE(after, page_.words.rend());
    page_.words.insert(after.base(), Word{text, box, 60, line, -1, after->block, after->paragraph});
  }
  Page& page() { return page_; }

 private:
  void Add(const std::string& text, cv::Rect box, int base) {
    page_.words.push_back({text, box, 90, line_, base, block_, block_});
  }
  Page page_;
  int line_ = 0, block_ = 0;
};

// `o` itself, or the object it refers to in `doc`.
PoDoFo::PdfObject* Resolve(PoDoFo::PdfMemDocument& doc, const PoDoFo::PdfObject* o) {
  if (o != nullptr && o->IsReference()) return doc.GetObjects().GetObject(o->GetReference());
  return const_cast<PoDoFo::PdfObject*>(o);
}

// The XObject `name` of the first page's resources, or null.
PoDoFo::PdfObject* FirstPageXObject(PoDoFo::PdfMemDocument& doc, const char* name) {
  PoDoFo::PdfObject* xobjs = Resolve(doc, doc.GetPage(0)->GetResources()->GetDictionary().GetKey("XObject"));
  return xobjs == nullptr ? nullptr : Resolve(doc, xobjs->GetDictionary().GetKey(name));
}

// The non-empty lines pdftotext gives, whitespace-normalised.
std::vector<std::string> ExtractedLines(const fs::path& pdf) {
  std::vector<std::string> out;
  std::istringstream in(RunTool({"pdftotext", "-enc", "UTF-8", pdf.string(), "-"}).out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w, norm;
    while (words >> w) norm += (norm.empty() ? "" : " ") + w;
    if (!norm.empty()) out.push_back(norm);
  }
  return out;
}

// A speck the OCR read as "." just under a justified line's baseline, as a
// word of that line (multicol and generated 150-dpi pages): it must not
// set the column's line pitch to a few pixels, which forced a font size so
// small that every line of the column came out word by word.
TEST_F(PdfWriterTest, SpeckUnderAJustifiedLineKeepsItsColumnsLinesWhole) {
  PageLayout layout(1240, 1754, 150);
  layout.Block("a", 150, 590, 300, 30, 12, 20);
  layout.Block("b", 650, 1090, 300, 30, 12, 20);
  // Under the right column's sixth line (the page's 18th), past its end.
  layout.Speck(".", cv::Rect(1096, 452, 4, 3), 17);
  auto r = Write("speck.pdf", {Encoded(layout.page())});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<std::string> got = ExtractedLines(r->path);
  // Every printed line is one extracted line: its words, in order.
  std::map<int, std::string> printed;
  for (const Word& w : layout.page().words) {
    if (w.text == ".") continue;
    printed[w.line] += (printed[w.line].empty() ? "" : " ") + w.text;
  }
  size_t whole = 0;
  for (const auto& [line, text] : printed) {
    whole += std::any_of(got.begin(), got.end(), [&](const std::string& g) {
      return g == text || g == text + " .";
    });
  }
  EXPECT_EQ(whole, printed.size()) << ::testing::PrintToString(got);
}

// Two columns, each with a footnote, a page number in the gutter under
// them and a footer line below it (multicol_05): a block narrower than the
// gutter lying in it stretches poppler's reading-order boxes of the left
// footnote and the right column until they overlap, and the right column
// came out between the left column and its footnote. The page number, on
// the footer's size, joins the footer's block instead.
TEST_F(PdfWriterTest, PageNumberInTheGutterKeepsEachColumnWithItsFootnote) {
  PageLayout layout(1200, 1460, 145);
  layout.Line("HEADER", cv::Rect(528, 52, 242, 26));
  layout.Block("L", 250, 640, 152, 27, 33, 13);
  layout.Block("F", 251, 635, 1085, 17, 11, 9);
  layout.Line("1", cv::Rect(658, 1276, 7, 11));
  layout.Block("R", 689, 1074, 153, 27, 12, 13);
  layout.Block("S", 689, 1074, 518, 27, 11, 13);
  layout.Block("G", 697, 1080, 1128, 17, 8, 9);
  layout.Line("FOOTER", cv::Rect(603, 1306, 129, 24));
  auto r = Write("gutter.pdf", {Encoded(layout.page())});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The order of the blocks' first lines in the extracted text.
  std::string order;
  for (const std::string& line : ExtractedLines(r->path)) {
    for (const char* tag : {"L0w0", "F0w0", "R0w0", "S0w0", "G0w0"}) {
      if (line.rfind(tag, 0) == 0) order += tag[0];
    }
  }
  EXPECT_EQ(order, "LFRSG");
}

// A table read across by the OCR (multicol_07, multicol_03: row labels and
// figures far apart): rows of one size stack their cells into columns in
// poppler's eyes and pdftotext gave every label, then every figure column.
// Row sizes stepped in turn make each row's cells blocks of their own,
// which poppler takes for a table and reads row by row.
TEST_F(PdfWriterTest, TableRowsAreExtractedRowByRow) {
  PageLayout layout(1240, 1754, 150);
  layout.Block("P", 150, 1050, 250, 28, 4, 14);
  layout.Table("T", {150, 480, 650, 820, 960}, 420, 24, 12, 14);
  layout.Block("Q", 150, 1050, 760, 28, 4, 14);
  auto r = Write("table.pdf", {Encoded(layout.page())});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string want, got;
  for (const Word& w : layout.page().words) want += (want.empty() ? "" : " ") + w.text;
  for (const std::string& line : ExtractedLines(r->path)) got += (got.empty() ? "" : " ") + line;
  EXPECT_EQ(got, want);
  // And the word boxes are where they were.
  const std::string bbox = RunTool({"pdftotext", "-bbox", r->path.string(), "-"}).out;
  EXPECT_NE(bbox.find("T5c2"), std::string::npos);
}

// A court caption: party names on the left, one line each, and rows the
// OCR reads across a gap no type size bridges ("Plaintiff,  CIVIL ACTION
// NO."), each between two lines of one cell (filing_01). At one size
// poppler stacked the left cells into one block and read the right ones
// after it; with each line a block of its own, the lines of one cell keep
// the rows apart in its reading-order sort and the rows are read across.
TEST_F(PdfWriterTest, CaptionRowsAreExtractedAcross) {
  PageLayout layout(1240, 1754, 150);
  layout.Block("P", 150, 1050, 250, 28, 3, 14);
  layout.Rows("C", {{150}, {150}, {330, 700}, {250}, {150, 700}, {330}}, 400, 28, 14);
  layout.Block("Q", 150, 1050, 620, 28, 4, 14);
  auto r = Write("caption.pdf", {Encoded(layout.page())});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string want, got;
  for (const Word& w : layout.page().words) want += (want.empty() ? "" : " ") + w.text;
  for (const std::string& line : ExtractedLines(r->path)) got += (got.empty() ? "" : " ") + line;
  EXPECT_EQ(got, want);
}

TEST_F(PdfWriterTest, PageSizeFollowsDpi) {
  struct Case {
    int w, h;
    double dpi_x, dpi_y;
  } cases[] = {{2480, 3508, 300, 300},
               {1654, 2339, 200, 200},
               {4960, 7016, 600, 600},
               {1700, 1100, 200, 100}};
  for (const Case& c : cases) {
    Page page;
    page.image = cv::Mat(c.h, c.w, CV_8UC1, cv::Scalar(255));
    page.dpi_x = c.dpi_x;
    page.dpi_y = c.dpi_y;
    page.color_class = ColorClass::kBw;
    page = Encoded(std::move(page));
    auto r = Write("size-" + std::to_string(c.w) + "-" + std::to_string(int(c.dpi_y)) + ".pdf", {page});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    PoDoFo::PdfMemDocument doc;
    doc.Load(r->path.c_str());
    PoDoFo::PdfRect box = doc.GetPage(0)->GetMediaBox();
    EXPECT_NEAR(box.GetWidth(), c.w * 72.0 / c.dpi_x, 0.01);
    EXPECT_NEAR(box.GetHeight(), c.h * 72.0 / c.dpi_y, 0.01);
  }
}

// The image XObject uses the codec of the encoded image and renders back to
// the same pixels: right polarity for G4, right channel order for colour.
TEST_F(PdfWriterTest, ImagesEmbeddedAsEncodedAndRenderBack) {
  struct Case {
    ColorClass cls;
    bool lossless;
    const char* filter;
    const char* space;
    double max_far_off;  // fraction of pixels off by more than 100 levels
  } cases[] = {
      {ColorClass::kBw, false, "CCITTFaxDecode", "DeviceGray", 0.05},
      {ColorClass::kGray, false, "DCTDecode", "DeviceGray", 0.05},
      {ColorClass::kColor, false, "DCTDecode", "DeviceRGB", 0.05},
      {ColorClass::kGray, true, "FlateDecode", "DeviceGray", 0.05},
      {ColorClass::kColor, true, "FlateDecode", "DeviceRGB", 0.05},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.filter + std::string(" ") + c.space);
    // 144 dpi makes pdftoppm at 144 dpi reproduce the pixel grid exactly.
    Page page = testing::MakeTextPage(720, 480, 144, kWords, 30);
    if (c.cls == ColorClass::kColor) {
      cv::cvtColor(page.image, page.image, cv::COLOR_GRAY2BGR);
      cv::rectangle(page.image, cv::Rect(500, 300, 150, 120), cv::Scalar(0, 0, 255), cv::FILLED);
    } else if (c.cls == ColorClass::kBw) {
      cv::threshold(page.image, page.image, 128, 255, cv::THRESH_BINARY);
    }
    if (c.cls != ColorClass::kBw) {
      // Scanner noise: a flat render would deflate smaller than its JPEG and
      // the encoder would rightly keep Flate.
      cv::Mat noise(page.image.size(), CV_MAKETYPE(CV_16S, page.image.channels()));
      cv::randn(noise, 0, 10);
      cv::Mat noisy;
      page.image.convertTo(noisy, CV_MAKETYPE(CV_16S, page.image.channels()));
      noisy += noise;
      noisy.convertTo(page.image, page.image.type());
    }
    page.color_class = c.cls;
    EncodeOptions eo;
    eo.lossless = c.lossless;
    page = Encoded(std::move(page), eo);
    auto r = Write(std::string("img-") + c.filter + "-" + c.space + ".pdf", {page});
    ASSERT_TRUE(r.ok()) << r.status().ToString();

    PoDoFo::PdfMemDocument doc;
    doc.Load(r->path.c_str());
    // Direct sub-dictionaries have no owner to resolve references through.
    auto resolve = [&](PoDoFo::PdfObject* o) {
      return o != nullptr && o->IsReference() ? doc.GetObjects().GetObject(o->GetReference()) : o;
    };
    PoDoFo::PdfObject* res = doc.GetPage(0)->GetResources();
    PoDoFo::PdfObject* xobjs = resolve(res->GetDictionary().GetKey("XObject"));
    ASSERT_NE(xobjs, nullptr);
    PoDoFo::PdfObject* im = resolve(xobjs->GetDictionary().GetKey("Im0"));
    ASSERT_NE(im, nullptr);
    const PoDoFo::PdfDictionary& imd = im->GetDictionary();
    EXPECT_EQ(imd.GetKey("Filter")->GetName().GetName(), c.filter);
    EXPECT_EQ(imd.GetKey("ColorSpace")->GetName().GetName(), c.space);
    EXPECT_EQ(imd.GetKey("Width")->GetNumber(), 720);
    EXPECT_EQ(imd.GetKey("Height")->GetNumber(), 480);
    if (c.cls == ColorClass::kBw) {
      const PoDoFo::PdfDictionary& parms = imd.GetKey("DecodeParms")->GetDictionary();
      EXPECT_EQ(parms.GetKey("K")->GetNumber(), -1);
      EXPECT_EQ(parms.GetKey("Columns")->GetNumber(), 720);
      EXPECT_EQ(parms.GetKey("Rows")->GetNumber(), 480);
    }
    // Embedded as-is: the stream holds exactly the encoded bytes.
    {
      char* raw = nullptr;
      PoDoFo::pdf_long raw_len = 0;
      im->GetStream()->GetCopy(&raw, &raw_len);  // raw (still encoded) bytes
      std::vector<uint8_t> stored(reinterpret_cast<uint8_t*>(raw),
                                  reinterpret_cast<uint8_t*>(raw) + raw_len);
      PoDoFo::podofo_free(raw);
      EXPECT_TRUE(stored == page.encoded.bytes);
    }

    const bool colour = c.cls == ColorClass::kColor;
    fs::path prefix = dir_ / "render";
    std::vector<std::string> argv = {"pdftoppm", "-r", "144", "-singlefile"};
    if (!colour) argv.push_back("-gray");
    argv.push_back(r->path.string());
    argv.push_back(prefix.string());
    ASSERT_EQ(RunTool(argv).exit_code, 0);
    cv::Mat rendered =
        cv::imread(prefix.string() + (colour ? ".ppm" : ".pgm"), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(rendered.size(), page.image.size());
    ASSERT_EQ(rendered.channels(), page.image.channels());
    // Poppler's Splash does not draw the image 1:1 here: an image whose far
    // edges fall exactly on device pixel boundaries is drawn a pixel wider
    // and taller, interpolated (docs/benchmarks.md, session 11), which moves
    // about half of the edge pixels of black strokes. So compare by the
    // share of strongly differing pixels: an inverted G4 page or swapped
    // channels would be far off nearly everywhere ink or colour is.
    cv::Mat diff;
    cv::absdiff(rendered, page.image, diff);
    diff = diff.reshape(1);
    const double far_off = cv::countNonZero(diff > 100) / static_cast<double>(diff.total());
    EXPECT_LT(far_off, c.max_far_off);
    // Overall tone equal: an inverted page would be far off.
    EXPECT_NEAR(cv::mean(rendered)[0], cv::mean(page.image)[0], 4.0);
    if (colour) {
      cv::Vec3b px = rendered.at<cv::Vec3b>(360, 575);  // inside the red block (BGR)
      EXPECT_GT(px[2], 200);
      EXPECT_LT(px[0], 60);
      EXPECT_LT(px[1], 60);
    }
    EXPECT_EQ(RunTool({"qpdf", "--check", r->path.string()}).exit_code, 0);
    fs::remove(prefix.string() + (colour ? ".ppm" : ".pgm"));
  }
}

// Mixed raster content: a text page on tinted paper (gray, and colour with
// blue ink and a red stamp on cream paper) becomes a reduced JPEG background
// (Im0) and a reduced JPEG foreground (Im1) whose /Mask is a full-resolution
// G4 stencil (/ImageMask). The PDF renders back to the page and, like every
// PDF here, passes Preflight (PDF/A-1b) and qpdf --check in TearDown.
TEST_F(PdfWriterTest, MixedRasterPageIsMaskedForegroundOverBackground) {
  for (bool colour : {false, true}) {
    SCOPED_TRACE(colour ? "colour" : "gray");
    // 144 dpi makes pdftoppm at 144 dpi reproduce the pixel grid exactly.
    Page page = testing::MakeTextPage(720, 480, 144, kWords, 30);
    cv::Mat ink = page.image < 128;
    if (colour) {
      cv::Mat bgr(page.image.size(), CV_8UC3, cv::Scalar(205, 235, 245));  // cream paper
      bgr.setTo(cv::Scalar(140, 40, 20), ink);                             // blue ink
      cv::circle(bgr, cv::Point(600, 380), 60, cv::Scalar(40, 30, 200), 6);  // red stamp
      page.image = bgr;
    } else {
      page.image.setTo(225);
      page.image.setTo(35, ink);
    }
    // Mild scanner noise: a flat render would deflate smaller than either
    // encoding and the encoder would rightly keep Flate.
    cv::Mat noise(page.image.size(), CV_MAKETYPE(CV_16S, page.image.channels()));
    cv::randn(noise, 0, 2);
    cv::Mat noisy;
    page.image.convertTo(noisy, CV_MAKETYPE(CV_16S, page.image.channels()));
    noisy += noise;
    noisy.convertTo(page.image, page.image.type());
    page.color_class = colour ? ColorClass::kColor : ColorClass::kGray;
    page = Encoded(std::move(page));
    ASSERT_EQ(page.encoded.codec, EncodedImage::Codec::kMixedRaster);
    auto r = Write(std::string("mixed-") + (colour ? "colour" : "gray") + ".pdf", {page});
    ASSERT_TRUE(r.ok()) << r.status().ToString();

    PoDoFo::PdfMemDocument doc;
    doc.Load(r->path.c_str());
    PoDoFo::PdfObject* bg = FirstPageXObject(doc, "Im0");
    PoDoFo::PdfObject* fg = FirstPageXObject(doc, "Im1");
    ASSERT_NE(bg, nullptr);
    ASSERT_NE(fg, nullptr);
    const char* space = colour ? "DeviceRGB" : "DeviceGray";
    const PoDoFo::PdfDictionary& bd = bg->GetDictionary();
    EXPECT_EQ(bd.GetKey("Filter")->GetName().GetName(), "DCTDecode");
    EXPECT_EQ(bd.GetKey("ColorSpace")->GetName().GetName(), space);
    EXPECT_EQ(bd.GetKey("Width")->GetNumber(), 240);  // a third of the page
    EXPECT_EQ(bd.GetKey("Height")->GetNumber(), 160);
    const PoDoFo::PdfDictionary& fd = fg->GetDictionary();
    EXPECT_EQ(fd.GetKey("Filter")->GetName().GetName(), "DCTDecode");
    EXPECT_EQ(fd.GetKey("ColorSpace")->GetName().GetName(), space);
    EXPECT_EQ(fd.GetKey("Width")->GetNumber(), 90);  // an eighth
    EXPECT_EQ(fd.GetKey("SMask"), nullptr);         // PDF/A-1: no soft mask
    PoDoFo::PdfObject* mask = Resolve(doc, fg->GetDictionary().GetKey("Mask"));
    ASSERT_NE(mask, nullptr);
    const PoDoFo::PdfDictionary& md = mask->GetDictionary();
    EXPECT_TRUE(md.GetKey("ImageMask")->GetBool());
    EXPECT_EQ(md.GetKey("ColorSpace"), nullptr);
    EXPECT_EQ(md.GetKey("BitsPerComponent")->GetNumber(), 1);
    EXPECT_EQ(md.GetKey("Filter")->GetName().GetName(), "CCITTFaxDecode");
    EXPECT_EQ(md.GetKey("Width")->GetNumber(), 720);  // the text keeps the scan resolution
    EXPECT_EQ(md.GetKey("Height")->GetNumber(), 480);

    fs::path prefix = dir_ / "render";
    std::vector<std::string> argv = {"pdftoppm", "-r", "144", "-singlefile"};
    if (!colour) argv.push_back("-gray");
    argv.push_back(r->path.string());
    argv.push_back(prefix.string());
    ASSERT_EQ(RunTool(argv).exit_code, 0);
    cv::Mat rendered =
        cv::imread(prefix.string() + (colour ? ".ppm" : ".pgm"), cv::IMREAD_UNCHANGED);
    fs::remove(prefix.string() + (colour ? ".ppm" : ".pgm"));
    ASSERT_EQ(rendered.size(), page.image.size());
    cv::Mat diff;
    cv::absdiff(rendered, page.image, diff);
    diff = diff.reshape(1);
    // Paper and ink come back in their colours (a mask painted in the wrong
    // colour, an inverted mask or a missing background would be far off on
    // most ink or paper pixels); only anti-aliased edges differ much.
    EXPECT_LT(cv::countNonZero(diff > 60) / static_cast<double>(diff.total()), 0.03);
    if (colour) {
      // Paper, blue ink and the red stamp each keep their colour (BGR).
      const cv::Vec3b paper = rendered.at<cv::Vec3b>(470, 10);
      EXPECT_NEAR(paper[0], 205, 12);
      EXPECT_NEAR(paper[2], 245, 12);
      const cv::Vec3b stamp = rendered.at<cv::Vec3b>(380, 660);
      EXPECT_GT(stamp[2], 150);
      EXPECT_LT(stamp[0], 90);
      int blue = 0;
      for (int x = 0; x < 720; ++x) {
        const cv::Vec3b px = rendered.at<cv::Vec3b>(page.words.front().box.y, x);
        blue += px[0] > 100 && px[2] < 80;
      }
      EXPECT_GT(blue, 20);  // the top edge of the first word box, in blue
    }
    // The text layer is there as for any page.
    std::string text = RunTool({"pdftotext", r->path.string(), "-"}).out;
    EXPECT_NE(text.find(page.words.front().text), std::string::npos);
  }
}

// Edge tones: a page with soft letter edges (as scanned) keeps the middle of
// each edge's grey ramp in a third image (Im2) under the ink, shown through
// its own G4 stencil; a reader draws it, so the rendered page is closer to
// the scan than the same page written without edge tones. Preflight checks
// the PDF in TearDown.
TEST_F(PdfWriterTest, MixedRasterEdgeTonesAreDrawnUnderTheInk) {
  Page page = testing::MakeTextPage(720, 480, 144, kWords, 30);
  const cv::Mat ink = page.image < 128;
  cv::Mat bgr(page.image.size(), CV_8UC3, cv::Scalar(205, 235, 245));  // cream paper
  bgr.setTo(cv::Scalar(140, 40, 20), ink);                             // blue ink
  cv::GaussianBlur(bgr, bgr, cv::Size(0, 0), 0.8);                     // soft edges
  cv::Mat noise(bgr.size(), CV_16SC3), noisy;
  cv::randn(noise, 0, 2);
  bgr.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(bgr, CV_8UC3);
  page.image = bgr;
  page.color_class = ColorClass::kColor;

  double psnr[2] = {0, 0};
  for (bool edges : {false, true}) {
    SCOPED_TRACE(edges ? "edge tones" : "ink and paper only");
    MixedRasterOptions options;
    options.edge_tones = edges;
    auto packed = EncodeMixedRaster(page.image, options, SIZE_MAX);
    ASSERT_TRUE(packed.ok() && packed->has_value());
    Page p = page;
    p.encoded = **packed;
    const std::string name = edges ? "edges.pdf" : "no-edges.pdf";
    auto r = Write(name, {p});
    ASSERT_TRUE(r.ok()) << r.status().ToString();

    PoDoFo::PdfMemDocument doc;
    doc.Load(r->path.c_str());
    PoDoFo::PdfObject* edge = FirstPageXObject(doc, "Im2");
    ASSERT_EQ(edge != nullptr, edges);
    if (edges) {
      const PoDoFo::PdfDictionary& ed = edge->GetDictionary();
      EXPECT_EQ(ed.GetKey("Filter")->GetName().GetName(), "DCTDecode");
      EXPECT_EQ(ed.GetKey("ColorSpace")->GetName().GetName(), "DeviceRGB");
      EXPECT_EQ(ed.GetKey("SMask"), nullptr);  // PDF/A-1: no soft mask
      PoDoFo::PdfObject* mask = Resolve(doc, edge->GetDictionary().GetKey("Mask"));
      ASSERT_NE(mask, nullptr);
      EXPECT_TRUE(mask->GetDictionary().GetKey("ImageMask")->GetBool());
      EXPECT_EQ(mask->GetDictionary().GetKey("Filter")->GetName().GetName(), "CCITTFaxDecode");
      EXPECT_EQ(mask->GetDictionary().GetKey("Width")->GetNumber(), 720);
    }

    fs::path prefix = dir_ / "render";
    ASSERT_EQ(RunTool({"pdftoppm", "-r", "144", "-singlefile", r->path.string(), prefix.string()}).exit_code, 0);
    cv::Mat rendered = cv::imread(prefix.string() + ".ppm", cv::IMREAD_UNCHANGED);
    fs::remove(prefix.string() + ".ppm");
    ASSERT_EQ(rendered.size(), page.image.size());
    cv::Mat diff;
    cv::absdiff(rendered, page.image, diff);
    diff = diff.reshape(1);
    diff.convertTo(diff, CV_32F);
    psnr[edges] = 10.0 * std::log10(255.0 * 255.0 / cv::mean(diff.mul(diff))[0]);
  }
  // (Splash smooths stencil edges itself, so the gain through a reader is
  // smaller than on the layers alone; without Im2 drawn it is a loss.)
  EXPECT_GT(psnr[1], psnr[0] + 0.5) << psnr[1] << " vs " << psnr[0];
}

TEST_F(PdfWriterTest, MultiPageDocumentKeepsPagesInOrder) {
  std::vector<Page> pages;
  const ColorClass classes[] = {ColorClass::kBw, ColorClass::kGray, ColorClass::kColor,
                                ColorClass::kGray};
  for (int i = 0; i < 4; ++i) {
    Page p = testing::MakeTextPage(1240, 1754, 150, {"página", std::to_string(i + 1) + "ª"}, 2);
    if (classes[i] == ColorClass::kColor) cv::cvtColor(p.image, p.image, cv::COLOR_GRAY2BGR);
    p.color_class = classes[i];
    pages.push_back(Encoded(std::move(p)));
  }
  auto r = Write("multi.pdf", pages);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pages, 4);
  std::vector<BboxWord> got =
      testing::ParseBbox(RunTool({"pdftotext", "-bbox", r->path.string(), "-"}).out);
  ASSERT_EQ(got.size(), 8u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[static_cast<size_t>(2 * i)].text, "página");
    EXPECT_EQ(got[static_cast<size_t>(2 * i + 1)].text, std::to_string(i + 1) + "ª");
    EXPECT_EQ(got[static_cast<size_t>(2 * i + 1)].page, i + 1);
  }
  testing::ToolOutput info = RunTool({"pdfinfo", r->path.string()});
  EXPECT_NE(info.out.find("PDF version:     1.4"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Pages:           4"), std::string::npos) << info.out;
  EXPECT_EQ(RunTool({"qpdf", "--check", r->path.string()}).exit_code, 0);
}

TEST_F(PdfWriterTest, ResultDescribesCommittedFile) {
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 20));
  auto r = Write("doc.pdf", {page});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir_ / "doc.pdf");
  EXPECT_EQ(r->pages, 1);
  EXPECT_EQ(r->bytes, fs::file_size(dir_ / "doc.pdf"));
  auto sha = Sha256OfFile(dir_ / "doc.pdf");
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(r->sha256, *sha);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"doc.pdf"});  // no temp left
}

TEST_F(PdfWriterTest, MetadataInInfoAndXmp) {
  PdfDocumentInfo info;
  info.title = "Certidão de nascimento nº 12";
  info.author = "Cartório de Conceição";
  info.subject = "Registro civil – 1ª via";
  info.keywords = "certidão; nascimento";
  info.document_id = "doc-0001";
  info.lot_id = "lote-07";
  info.document_type = "certidao";
  info.fields = {{"cpf", "123.456.789-09"}, {"nome", "João da Conceição"}};
  info.master_sha256 = {std::string(64, 'a'), std::string(64, 'b')};
  info.creation_time = std::chrono::system_clock::from_time_t(1700000000);  // 2023-11-14 22:13:20Z
  info.archival.assunto = "Registro civil – 1ª via";
  info.archival.autor = "Cartório de Conceição";
  info.archival.data_digitalizacao = "2026-03-01T08:00:00Z";
  info.archival.local_digitalizacao = "Santos/SP";
  info.archival.identificador = "lote-07/doc-0001";
  info.archival.responsavel_digitalizacao = "Maria <operadora> & cia";
  info.archival.titulo = "Certidão de nascimento nº 12";
  info.archival.tipo_documental = "certidão";
  info.archival.classe = "100.11";
  info.archival.data_producao = "1987-05-04";
  info.archival.destinacao_prevista = "guarda permanente";
  info.archival.genero = "textual";
  info.archival.prazo_guarda = "permanente";
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  auto r = Write("meta.pdf", {page}, info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  testing::ToolOutput pi = RunTool({"pdfinfo", "-isodates", r->path.string()});
  EXPECT_NE(pi.out.find("Title:           Certidão de nascimento nº 12"), std::string::npos)
      << pi.out;
  EXPECT_NE(pi.out.find("Author:          Cartório de Conceição"), std::string::npos);
  EXPECT_NE(pi.out.find("Subject:         Registro civil – 1ª via"), std::string::npos);
  EXPECT_NE(pi.out.find("Keywords:        certidão; nascimento"), std::string::npos);
  EXPECT_NE(pi.out.find("Creator:         Acervo"), std::string::npos);
  EXPECT_NE(pi.out.find("Producer:        Acervo"), std::string::npos);
  EXPECT_NE(pi.out.find("CreationDate:    2023-11-14T22:13:20"), std::string::npos) << pi.out;

  PoDoFo::PdfMemDocument doc;
  doc.Load(r->path.c_str());
  const PoDoFo::PdfDictionary& d = doc.GetInfo()->GetObject()->GetDictionary();
  auto text = [&](const char* key) {
    const PoDoFo::PdfObject* o = d.GetKey(PoDoFo::PdfName(key));
    return o == nullptr ? std::string("<missing>") : o->GetString().GetStringUtf8();
  };
  EXPECT_EQ(text("AcervoDocumentId"), "doc-0001");
  EXPECT_EQ(text("AcervoLotId"), "lote-07");
  EXPECT_EQ(text("AcervoDocumentType"), "certidao");
  EXPECT_EQ(text("AcervoField.cpf"), "123.456.789-09");
  EXPECT_EQ(text("AcervoField.nome"), "João da Conceição");
  EXPECT_EQ(text("AcervoMasterSha256"), std::string(64, 'a') + " " + std::string(64, 'b'));

  testing::ToolOutput meta = RunTool({"pdfinfo", "-meta", r->path.string()});
  EXPECT_NE(meta.out.find(
                "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Certidão de nascimento nº 12"),
            std::string::npos)
      << meta.out;
  EXPECT_NE(meta.out.find("<xmp:CreateDate>2023-11-14T22:13:20Z</xmp:CreateDate>"),
            std::string::npos);
  EXPECT_NE(meta.out.find("<pdfaid:part>1</pdfaid:part>"), std::string::npos);
  EXPECT_NE(meta.out.find("<pdfaid:conformance>B</pdfaid:conformance>"), std::string::npos);
  // The Annex II fields: in the custom schema (declared by a pdfaExtension
  // schema, which Preflight checks in TearDown) and as Info keys.
  struct Field {
    const char* xmp;
    const char* info;
    std::string value;
  } fields[] = {
      {"assunto", "Assunto", "Registro civil – 1ª via"},
      {"autor", "Autor", "Cartório de Conceição"},
      {"dataDigitalizacao", "DataDigitalizacao", "2026-03-01T08:00:00Z"},
      {"localDigitalizacao", "LocalDigitalizacao", "Santos/SP"},
      {"identificadorDocumentoDigital", "IdentificadorDocumentoDigital", "lote-07/doc-0001"},
      {"responsavelDigitalizacao", "ResponsavelDigitalizacao", "Maria <operadora> & cia"},
      {"titulo", "Titulo", "Certidão de nascimento nº 12"},
      {"tipoDocumental", "TipoDocumental", "certidão"},
      {"hashSha256", "HashSha256", std::string(64, 'a') + " " + std::string(64, 'b')},
      {"classe", "Classe", "100.11"},
      {"dataProducao", "DataProducao", "1987-05-04"},
      {"destinacaoPrevista", "DestinacaoPrevista", "guarda permanente"},
      {"genero", "Genero", "textual"},
      {"prazoGuarda", "PrazoGuarda", "permanente"},
  };
  for (const Field& f : fields) {
    SCOPED_TRACE(f.xmp);
    std::string escaped = f.value;
    for (auto [from, to] : {std::pair<std::string, std::string>{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}}) {
      for (size_t at = escaped.find(from); at != std::string::npos; at = escaped.find(from, at + to.size()))
        escaped.replace(at, from.size(), to);
    }
    EXPECT_NE(meta.out.find(std::string("<d10278:") + f.xmp + ">" + escaped + "</d10278:" + f.xmp + ">"),
              std::string::npos);
    EXPECT_NE(meta.out.find(std::string("<pdfaProperty:name>") + f.xmp + "</pdfaProperty:name>"),
              std::string::npos);
    EXPECT_EQ(text(f.info), f.value);
  }
  EXPECT_EQ(RunTool({"qpdf", "--check", r->path.string()}).exit_code, 0);
}

// Without an OutputIntent a file cannot be PDF/A: nothing is claimed.
// Issue 14: a correction rewrites the metadata and nothing else.
TEST_F(PdfWriterTest, RewriteMetadataKeepsPagesTextAndPdfa) {
  PdfDocumentInfo info;
  info.title = "Certidão";
  info.document_id = "doc-1";
  info.lot_id = "lote-1";
  info.document_type = "certidao";
  info.fields = {{"cpf", "123.456.789-09"}};
  info.master_sha256 = {std::string(64, 'a'), std::string(64, 'b')};
  info.archival.data_digitalizacao = "2026-03-01T08:00:00Z";
  info.creation_time = std::chrono::system_clock::from_time_t(1700000000);
  Page p1 = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  Page p2 = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 6));
  auto r = Write("doc.pdf", {p1, p2}, info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string text = RunTool({"pdftotext", r->path.string(), "-"}).out;

  PdfDocumentInfo changed = info;
  changed.fields = {{"cpf", "529.982.247-25"}, {"data", "28/02/2021"}};
  changed.archival.data_digitalizacao.clear();  // kept from the file
  changed.archival.data_producao = "28/02/2021";
  std::unique_ptr<PdfWriter> w = NewWriter();
  Result<PdfResult> again = w->RewriteMetadata(r->path, changed, r->path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->pages, 2);
  EXPECT_NE(again->sha256, r->sha256);
  EXPECT_EQ(again->sha256, *Sha256OfFile(r->path));
  EXPECT_EQ(RunTool({"pdftotext", r->path.string(), "-"}).out, text);  // same text layer
  const std::string pi = RunTool({"pdfinfo", "-custom", "-isodates", r->path.string()}).out;
  EXPECT_NE(pi.find("529.982.247-25"), std::string::npos) << pi;
  EXPECT_EQ(pi.find("123.456.789-09"), std::string::npos) << pi;
  EXPECT_NE(pi.find("2026-03-01T08:00:00Z"), std::string::npos) << pi;  // scan date kept
  EXPECT_NE(pi.find("2023-11-14T22:13:20"), std::string::npos) << pi;  // creation kept
  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok());
  EXPECT_NE(facts->xmp.find("28/02/2021"), std::string::npos);
  EXPECT_EQ(facts->pdfa_claim, "1b");
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"doc.pdf"});  // no temporary file left
  // TearDown: Preflight and qpdf still pass.
}

// Issue 14, a page re-scanned: one page replaced, inserted or removed; the
// other pages' objects are copied as they are (same text, same images).
TEST_F(PdfWriterTest, RewritePagesReplacesInsertsAndRemovesOnePage) {
  PdfDocumentInfo info;
  info.document_id = "doc-1";
  info.master_sha256 = {std::string(64, 'a'), std::string(64, 'b'), std::string(64, 'c')};
  const std::vector<std::string> other = {"reescaneada", "substituta", "nova"};
  Page p1 = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  Page p2 = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 6));
  Page p3 = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 7));
  Page fresh = Encoded(testing::MakeTextPage(700, 900, 100, other, 3));
  auto r = Write("doc.pdf", {p1, p2, p3}, info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto page_text = [&](int n) {
    return RunTool({"pdftotext", "-f", std::to_string(n), "-l", std::to_string(n), r->path.string(), "-"}).out;
  };
  auto images = [&](int n) {  // pdfimages -list of one page, minus the header
    std::string out = RunTool({"pdfimages", "-list", "-f", std::to_string(n), "-l", std::to_string(n),
                               r->path.string()}).out;
    return out.substr(out.find("\n", out.find("\n") + 1) + 1);
  };
  const std::string t1 = page_text(1), t3 = page_text(3);
  const std::string i1 = images(1).substr(images(1).find(" image"));
  PdfDocumentInfo changed = info;
  changed.master_sha256[1] = std::string(64, 'd');
  std::unique_ptr<PdfWriter> w = NewWriter();
  const PdfPageInput in = PdfPageInputFromPage(fresh);

  // Replaced: page 2 is the new image, the others as they were.
  Result<PdfResult> replaced = w->RewritePages(r->path, {2, true, &in}, changed, r->path);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->pages, 3);
  EXPECT_EQ(page_text(1), t1);
  EXPECT_EQ(page_text(3), t3);
  EXPECT_NE(page_text(2).find("reescaneada"), std::string::npos) << page_text(2);
  EXPECT_EQ(page_text(2).find(kWords[0]), std::string::npos);
  EXPECT_NE(images(2).find(" 700   900 "), std::string::npos) << images(2);
  EXPECT_EQ(images(1).substr(images(1).find(" image")), i1);
  const std::string pi = RunTool({"pdfinfo", "-custom", r->path.string()}).out;
  EXPECT_NE(pi.find(std::string(64, 'd')), std::string::npos) << pi;
  const uint64_t size_replaced = fs::file_size(r->path);

  // Inserted (the page was blank, left out): 4 pages, the new one third.
  ASSERT_TRUE(w->RewritePages(r->path, {3, false, &in}, changed, r->path).ok());
  EXPECT_EQ(InspectPdf(r->path)->pages, 4);
  EXPECT_NE(page_text(3).find("reescaneada"), std::string::npos);
  EXPECT_EQ(page_text(4), t3);
  // Removed (the new scan is blank): back to 3, the old objects gone.
  ASSERT_TRUE(w->RewritePages(r->path, {3, true, nullptr}, changed, r->path).ok());
  EXPECT_EQ(InspectPdf(r->path)->pages, 3);
  EXPECT_EQ(page_text(3), t3);
  EXPECT_LT(fs::file_size(r->path), size_replaced + 1024);  // the removed page's image went with it

  // Refused: no such page; the last page removed.
  EXPECT_EQ(w->RewritePages(r->path, {5, true, &in}, changed, r->path).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"doc.pdf"});
  // TearDown: Preflight and qpdf still pass.
}

TEST_F(PdfWriterTest, NoIccProfileMeansNoPdfaClaim) {
  PdfOptions o;
  o.icc_profile_path.clear();
  auto w = PdfWriter::Create(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  ASSERT_TRUE((*w)->Begin(dir_ / "plain.pdf", {}).ok());
  ASSERT_TRUE((*w)->AddPage(PdfPageInputFromPage(page)).ok());
  auto r = (*w)->End();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  not_pdfa_.push_back(r->path);
  std::string meta = RunTool({"pdfinfo", "-meta", r->path.string()}).out;
  EXPECT_EQ(meta.find("pdfaid"), std::string::npos) << meta;
  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->pdfa_claim, "");
  EXPECT_EQ(RunTool({"qpdf", "--check", r->path.string()}).exit_code, 0);
}

// The OutputIntent carries Debian's sRGB profile and the XMP claims 1b.
TEST_F(PdfWriterTest, DefaultIsPdfa1bWithSrgbOutputIntent) {
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  auto r = Write("a1b.pdf", {page});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  PoDoFo::PdfMemDocument doc;
  doc.Load(r->path.c_str());
  const PoDoFo::PdfObject* intents =
      doc.GetCatalog()->GetDictionary().GetKey(PoDoFo::PdfName("OutputIntents"));
  ASSERT_NE(intents, nullptr);
  ASSERT_TRUE(intents->IsArray());
  ASSERT_EQ(intents->GetArray().size(), 1u);
  const PoDoFo::PdfDictionary& intent = intents->GetArray()[0].GetDictionary();
  EXPECT_EQ(intent.GetKey("S")->GetName().GetName(), "GTS_PDFA1");
  PoDoFo::PdfObject* profile = doc.GetObjects().GetObject(intent.GetKey("DestOutputProfile")->GetReference());
  ASSERT_NE(profile, nullptr);
  char* icc = nullptr;
  PoDoFo::pdf_long icc_len = 0;
  profile->GetStream()->GetFilteredCopy(&icc, &icc_len);
  std::vector<uint8_t> embedded(reinterpret_cast<uint8_t*>(icc), reinterpret_cast<uint8_t*>(icc) + icc_len);
  PoDoFo::podofo_free(icc);
  EXPECT_EQ(embedded, *ReadFile(kDefaultSrgbProfilePath));
  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->pdfa_claim, "1b");
  EXPECT_EQ(facts->pages, 1);
  EXPECT_FALSE(facts->signature.present);
  // PDF/A-1 forbids cross-reference streams and object streams: a classic
  // xref table, and no /ObjStm anywhere.
  std::vector<uint8_t> bytes = *ReadFile(r->path);
  std::string_view file(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_NE(file.find("\nxref\n"), std::string_view::npos);
  EXPECT_EQ(file.find("/XRefStm"), std::string_view::npos);
  EXPECT_EQ(file.find("/ObjStm"), std::string_view::npos);
  EXPECT_EQ(file.find("/Encrypt"), std::string_view::npos);
  EXPECT_EQ(file.find("/SMask"), std::string_view::npos);
}

TEST_F(PdfWriterTest, Pdfa2bOption) {
  PdfOptions o;
  o.pdfa = PdfaPart::k2b;
  auto w = PdfWriter::Create(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  const fs::path path = dir_ / "sub" / "a2b.pdf";  // outside TearDown's 1b check
  fs::create_directories(path.parent_path());
  ASSERT_TRUE((*w)->Begin(path, {}).ok());
  ASSERT_TRUE((*w)->AddPage(PdfPageInputFromPage(page)).ok());
  auto r = (*w)->End();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  not_pdfa_.push_back(path);
  EXPECT_EQ(testing::PdfaProblems({path}, testing::PdfaLevel::k2b), "");
  Result<PdfFacts> facts = InspectPdf(path);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->pdfa_claim, "2b");
  testing::ToolOutput info = RunTool({"pdfinfo", path.string()});
  EXPECT_NE(info.out.find("PDF version:     1.7"), std::string::npos) << info.out;
}

// PDF/A-1 forbids ICC v4 profiles; a broken profile is refused up front.
TEST_F(PdfWriterTest, UnusableIccProfileIsInvalidArgument) {
  std::vector<uint8_t> srgb = *ReadFile(kDefaultSrgbProfilePath);
  std::string icc(srgb.begin(), srgb.end());
  icc[8] = 4;  // version 4.x
  ASSERT_TRUE(WriteFileAtomic(dir_ / "v4.icc", icc).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ / "junk.icc", std::string_view("not an ICC profile")).ok());
  PdfOptions o;
  o.icc_profile_path = dir_ / "v4.icc";
  auto w = PdfWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("version 2"), std::string::npos) << w.status().ToString();
  o.pdfa = PdfaPart::k2b;  // allowed there
  EXPECT_TRUE(PdfWriter::Create(o).ok());
  o.icc_profile_path = dir_ / "junk.icc";
  EXPECT_EQ(PdfWriter::Create(o).status().code(), StatusCode::kInvalidArgument);
}

// /DW of the CIDFont is the advance of the font's only glyph: read it from
// pdf.ttf itself (head.unitsPerEm, hmtx), not from what we believe.
TEST_F(PdfWriterTest, GlyphWidthMatchesTheEmbeddedFont) {
  std::vector<uint8_t> ttf = *ReadFile(kDefaultGlyphlessFontPath);
  auto u16 = [&](size_t at) { return static_cast<unsigned>(ttf.at(at) << 8 | ttf.at(at + 1)); };
  auto u32 = [&](size_t at) { return u16(at) << 16 | u16(at + 2); };
  std::map<std::string, size_t> tables;
  for (unsigned i = 0; i < u16(4); ++i) {
    size_t rec = 12 + 16 * i;
    tables[std::string(ttf.begin() + rec, ttf.begin() + rec + 4)] = u32(rec + 8);
  }
  ASSERT_TRUE(tables.count("head") && tables.count("hhea") && tables.count("hmtx") && tables.count("maxp"));
  const unsigned units_per_em = u16(tables["head"] + 18);
  const unsigned hmetrics = u16(tables["hhea"] + 34);
  ASSERT_EQ(u16(tables["maxp"] + 4), 2u) << "glyph 0 (.notdef) and glyph 1";
  // Glyph 1's advance (the last long metric applies to later glyphs too).
  const unsigned advance = u16(tables["hmtx"] + 4 * std::min(1u, hmetrics - 1));
  EXPECT_EQ(advance * 1000 / units_per_em, 500u);

  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  auto r = Write("dw.pdf", {page});
  ASSERT_TRUE(r.ok());
  std::string fonts = RunTool({"pdffonts", r->path.string()}).out;
  EXPECT_NE(fonts.find("GlyphLessFont"), std::string::npos) << fonts;
  EXPECT_NE(fonts.find("CID TrueType"), std::string::npos) << fonts;
  EXPECT_NE(fonts.find("Identity-H       yes no  yes"), std::string::npos) << "embedded, not subset, ToUnicode\n" << fonts;
}

TEST_F(PdfWriterTest, AbortAndDestroyLeaveNothing) {
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  {
    std::unique_ptr<PdfWriter> w = NewWriter();
    ASSERT_TRUE(w->Begin(dir_ / "aborted.pdf", {}).ok());
    ASSERT_TRUE(w->AddPage(PdfPageInputFromPage(page)).ok());
    EXPECT_EQ(DirEntries().size(), 1u);  // the temp file exists meanwhile
    EXPECT_EQ(DirEntries()[0].rfind(".tmp-aborted.pdf-", 0), 0u);
    w->Abort();
    EXPECT_TRUE(DirEntries().empty());
    // The writer is reusable after Abort.
    ASSERT_TRUE(w->Begin(dir_ / "second.pdf", {}).ok());
    ASSERT_TRUE(w->AddPage(PdfPageInputFromPage(page)).ok());
  }  // destroyed without End
  EXPECT_TRUE(DirEntries().empty());

  std::unique_ptr<PdfWriter> w = NewWriter();
  ASSERT_TRUE(w->Begin(dir_ / "empty.pdf", {}).ok());
  auto r = w->End();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(DirEntries().empty());
}

// End's last check before the rename (a queue worker's claim): when it
// fails nothing is published, not even over an older file of that name.
TEST_F(PdfWriterTest, AFailedCheckBeforePublishingPublishesNothing) {
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  const fs::path dest = dir_ / "doc.pdf";
  std::unique_ptr<PdfWriter> w = NewWriter();
  ASSERT_TRUE(w->Begin(dest, {}).ok());
  ASSERT_TRUE(w->AddPage(PdfPageInputFromPage(page)).ok());
  int checked = 0;
  Result<PdfResult> first = w->End([&] {
    ++checked;
    EXPECT_TRUE(DirEntries().size() == 1u && DirEntries()[0] != "doc.pdf") << "checked before the rename";
    return Status::OK();
  });
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(checked, 1);
  Result<std::vector<uint8_t>> before = ReadFile(dest);
  ASSERT_TRUE(before.ok());

  ASSERT_TRUE(w->Begin(dest, {}).ok());
  ASSERT_TRUE(w->AddPage(PdfPageInputFromPage(page)).ok());
  ASSERT_TRUE(w->AddPage(PdfPageInputFromPage(page)).ok());
  Result<PdfResult> refused = w->End([] { return Status::Cancelled("another worker took the unit over"); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"doc.pdf"}) << "no temp file left";
  Result<std::vector<uint8_t>> after = ReadFile(dest);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before) << "the published file was not replaced";
}

TEST_F(PdfWriterTest, MisuseIsInvalidArgument) {
  std::unique_ptr<PdfWriter> w = NewWriter();
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  EXPECT_EQ(w->AddPage(PdfPageInputFromPage(page)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w->End().status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(w->Begin(dir_ / "m.pdf", {}).ok());
  EXPECT_EQ(w->Begin(dir_ / "m2.pdf", {}).code(), StatusCode::kInvalidArgument);

  Page unencoded = testing::MakeTextPage(600, 800, 100, kWords, 5);
  EXPECT_EQ(w->AddPage(PdfPageInputFromPage(unencoded)).code(), StatusCode::kInvalidArgument);
  PdfPageInput bad_dpi = PdfPageInputFromPage(page);
  bad_dpi.dpi_x = 0;
  EXPECT_EQ(w->AddPage(bad_dpi).code(), StatusCode::kInvalidArgument);
  // The document is still usable after a rejected page.
  ASSERT_TRUE(w->AddPage(PdfPageInputFromPage(page)).ok());
  auto r = w->End();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pages, 1);

  PdfDocumentInfo info;
  info.fields = {{"", "x"}};
  EXPECT_EQ(w->Begin(dir_ / "f.pdf", info).code(), StatusCode::kInvalidArgument);
}

TEST_F(PdfWriterTest, DocumentIdsDiffer) {
  Page page = Encoded(testing::MakeTextPage(600, 800, 100, kWords, 5));
  PdfDocumentInfo info;
  info.creation_time = std::chrono::system_clock::from_time_t(1700000000);
  auto a = Write("a.pdf", {page}, info);
  auto b = Write("b.pdf", {page}, info);
  ASSERT_TRUE(a.ok() && b.ok());
  auto id = [](const fs::path& p) {
    std::string s = RunTool({"qpdf", "--show-object=trailer", p.string()}).out;
    size_t at = s.find("/ID");
    return at == std::string::npos ? std::string() : s.substr(at, 80);
  };
  EXPECT_FALSE(id(a->path).empty());
  EXPECT_NE(id(a->path), id(b->path));
  EXPECT_EQ(RunTool({"qpdf", "--check", a->path.string()}).exit_code, 0);
}

// One encoder and one writer per worker, as the pipeline runs them.
TEST_F(PdfWriterTest, WorkersWriteConcurrently) {
  constexpr int kWorkers = 4;
  std::vector<Status> status(kWorkers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t) {
    threads.emplace_back([&, t] {
      auto stage = ImageEncodeStage::Create(EncodeOptions{});
      auto writer = PdfWriter::Create(PdfOptions{});
      if (!stage.ok() || !writer.ok()) {
        status[t] = Status::Internal("create failed");
        return;
      }
      Page page = testing::MakeTextPage(1240, 1754, 150, kWords, 200);
      page.color_class = t % 2 == 0 ? ColorClass::kBw : ColorClass::kGray;
      Result<Page> encoded = (*stage)->Run(std::move(page), PageContext{});
      if (!encoded.ok()) {
        status[t] = encoded.status();
        return;
      }
      const fs::path path = dir_ / ("w" + std::to_string(t) + ".pdf");
      status[t] = (*writer)->Begin(path, {});
      for (int i = 0; i < 3 && status[t].ok(); ++i) {
        status[t] = (*writer)->AddPage(PdfPageInputFromPage(*encoded));
      }
      if (status[t].ok()) status[t] = (*writer)->End().status();
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kWorkers; ++t) {
    ASSERT_TRUE(status[t].ok()) << status[t].ToString();
    const fs::path path = dir_ / ("w" + std::to_string(t) + ".pdf");
    std::vector<BboxWord> got =
        testing::ParseBbox(RunTool({"pdftotext", "-bbox", path.string(), "-"}).out);
    EXPECT_GT(got.size(), 300u);
    EXPECT_EQ(RunTool({"qpdf", "--check", path.string()}).exit_code, 0);
  }
}

TEST_F(PdfWriterTest, UnwritableDirectoryIsIOError) {
  std::unique_ptr<PdfWriter> w = NewWriter();
  Status s = w->Begin(dir_ / "no-such-dir" / "x.pdf", {});
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
}

}  // namespace
}  // namespace acervo
