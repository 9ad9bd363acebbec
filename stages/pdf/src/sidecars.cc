#include "acervo/stages/pdf/sidecars.h"

#include <algorithm>
#include <cstdio>

namespace acervo {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

// A run of consecutive words with one line index: the OCR stage emits words
// in reading order, line by line.
struct Line {
  size_t begin = 0, end = 0;
  cv::Rect box;
};

std::vector<Line> Lines(std::span<const Word> words) {
  std::vector<Line> lines;
  size_t i = 0;
  while (i < words.size()) {
    Line l;
    l.begin = i;
    l.box = words[i].box;
    size_t j = i + 1;
    while (j < words.size() && words[j].line == words[i].line) {
      l.box |= words[j].box;
      ++j;
    }
    l.end = j;
    lines.push_back(l);
    i = j;
  }
  return lines;
}

bool Usable(const Word& w) { return w.box.width > 0 && w.box.height > 0 && !XmlText(w.text).empty(); }

std::string Bbox(const cv::Rect& r) {
  return std::to_string(r.x) + " " + std::to_string(r.y) + " " + std::to_string(r.x + r.width) + " " +
         std::to_string(r.y + r.height);
}

}  // namespace

SidecarPage SidecarPageFromPage(const Page& page, int number) {
  SidecarPage s;
  s.number = number;
  s.width = page.encoded.width > 0 ? page.encoded.width : page.image.cols;
  s.height = page.encoded.height > 0 ? page.encoded.height : page.image.rows;
  s.dpi_x = page.dpi_x;
  s.dpi_y = page.dpi_y;
  s.image_name = page.origin.master_path.empty() ? page.origin.source_path : page.origin.master_path;
  s.words = page.words;
  return s;
}

std::string HocrPage(const SidecarPage& page) {
  const std::string n = std::to_string(page.number);
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
      "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"pt\" lang=\"pt\">\n"
      "<head>\n<title>" + XmlText(page.image_name) + "</title>\n"
      "<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
      "<meta name=\"ocr-system\" content=\"acervo (tesseract)\"/>\n"
      "<meta name=\"ocr-capabilities\" content=\"ocr_page ocr_line ocrx_word ocrp_wconf\"/>\n"
      "</head>\n<body>\n";
  // The image name goes inside a quoted title property: escape its quotes
  // for hOCR as well as for XML.
  std::string image = page.image_name;
  std::replace(image.begin(), image.end(), '"', '\'');
  x += "<div class=\"ocr_page\" id=\"page_" + n + "\" title=\"image &quot;" + XmlText(image) +
       "&quot;; bbox 0 0 " + std::to_string(page.width) + " " + std::to_string(page.height) +
       "; ppageno " + std::to_string(page.number - 1) + "; scan_res " + Num(page.dpi_x) + " " +
       Num(page.dpi_y) + "\">\n";
  int line_no = 0, word_no = 0;
  for (const Line& l : Lines(page.words)) {
    bool any = false;
    for (size_t k = l.begin; k < l.end; ++k) any |= Usable(page.words[k]);
    if (!any) continue;
    ++line_no;
    x += "<span class=\"ocr_line\" id=\"line_" + n + "_" + std::to_string(line_no) + "\" title=\"bbox " +
         Bbox(l.box) + "\">";
    for (size_t k = l.begin; k < l.end; ++k) {
      const Word& w = page.words[k];
      if (!Usable(w)) continue;
      ++word_no;
      x += "<span class=\"ocrx_word\" id=\"word_" + n + "_" + std::to_string(word_no) + "\" title=\"bbox " +
           Bbox(w.box) + "; x_wconf " + Num(w.confidence) + "\">" + XmlText(w.text) + "</span> ";
    }
    x += "</span>\n";
  }
  x += "</div>\n</body>\n</html>\n";
  return x;
}

std::string AltoPage(const SidecarPage& page) {
  const std::string n = std::to_string(page.number);
  auto pos = [](const cv::Rect& r) {
    return "HPOS=\"" + std::to_string(r.x) + "\" VPOS=\"" + std::to_string(r.y) + "\" WIDTH=\"" +
           std::to_string(r.width) + "\" HEIGHT=\"" + std::to_string(r.height) + "\"";
  };
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:schemaLocation=\"http://www.loc.gov/standards/alto/ns-v4# "
      "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd\">\n"
      "<Description>\n<MeasurementUnit>pixel</MeasurementUnit>\n"
      "<sourceImageInformation><fileName>" + XmlText(page.image_name) +
      "</fileName></sourceImageInformation>\n"
      "<OCRProcessing ID=\"OCR_0\"><ocrProcessingStep><processingSoftware>"
      "<softwareName>Acervo (Tesseract)</softwareName></processingSoftware></ocrProcessingStep>"
      "</OCRProcessing>\n</Description>\n<Layout>\n";
  const cv::Rect whole(0, 0, page.width, page.height);
  x += "<Page ID=\"page_" + n + "\" PHYSICAL_IMG_NR=\"" + n + "\" WIDTH=\"" + std::to_string(page.width) +
       "\" HEIGHT=\"" + std::to_string(page.height) + "\">\n<PrintSpace " + pos(whole) + ">\n";
  std::vector<Line> lines = Lines(page.words);
  cv::Rect block;
  bool have_block = false;
  for (const Word& w : page.words) {
    if (!Usable(w)) continue;
    block = have_block ? (block | w.box) : w.box;
    have_block = true;
  }
  if (have_block) {
    x += "<TextBlock ID=\"block_" + n + "_1\" " + pos(block) + ">\n";
    int line_no = 0, word_no = 0;
    for (const Line& l : lines) {
      bool any = false;
      for (size_t k = l.begin; k < l.end; ++k) any |= Usable(page.words[k]);
      if (!any) continue;
      ++line_no;
      x += "<TextLine ID=\"line_" + n + "_" + std::to_string(line_no) + "\" " + pos(l.box) + ">";
      bool first = true;
      for (size_t k = l.begin; k < l.end; ++k) {
        const Word& w = page.words[k];
        if (!Usable(w)) continue;
        if (!first) x += "<SP/>";
        first = false;
        ++word_no;
        char wc[16];
        std::snprintf(wc, sizeof(wc), "%.2f", std::clamp(w.confidence / 100.0, 0.0, 1.0));
        x += "<String ID=\"string_" + n + "_" + std::to_string(word_no) + "\" " + pos(w.box) +
             " WC=\"" + wc + "\" CONTENT=\"" + XmlText(w.text) + "\"/>";
      }
      x += "</TextLine>\n";
    }
    x += "</TextBlock>\n";
  }
  x += "</PrintSpace>\n</Page>\n</Layout>\n</alto>\n";
  return x;
}

}  // namespace acervo
