#include "acervo/pipeline/sheets.h"

#include "acervo/core/files.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <system_error>

#include "acervo/stages/barcode/barcode.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

constexpr double kPageW = 595.28, kPageH = 841.89;  // A4 in points
constexpr double kInch = 72;

void Text(cairo_t* cr, double size, bool bold, double y, const std::string& s) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  cairo_move_to(cr, (kPageW - ext.x_advance) / 2, y);
  cairo_show_text(cr, s.c_str());
}

// Draws a module matrix (0 = black) with its top-left at (x, y).
void Modules(cairo_t* cr, const cv::Mat& m, double x, double y, double module_w, double module_h) {
  for (int r = 0; r < m.rows; ++r)
    for (int c = 0; c < m.cols; ++c)
      if (m.at<uint8_t>(r, c) == 0) cairo_rectangle(cr, x + c * module_w, y + r * module_h, module_w, module_h);
  cairo_fill(cr);
}

Status DrawBarcodeSheet(cairo_t* cr, const SheetSpec& s) {
  const std::string text = FormatSeparatorPayload(s.prefix, s.payload);
  const bool qr = s.kind == SheetSpec::Kind::kQr;
  ACERVO_ASSIGN_OR_RETURN(cv::Mat m, EncodeBarcode(qr ? "qr" : "code128", text));
  Text(cr, 26, true, 90, "SEPARADOR DE DOCUMENTO");
  std::string caption = s.caption;
  if (caption.empty()) caption = s.payload.type.empty() ? "novo documento" : "tipo: " + s.payload.type;
  Text(cr, 16, false, 125, caption);
  double y = 155;
  if (!s.payload.id.empty()) Text(cr, 12, false, y, "id: " + s.payload.id), y += 18;
  for (const auto& [k, v] : s.payload.fields) Text(cr, 12, false, y, k + ": " + v), y += 18;
  if (qr) {
    // About 8 cm across; modules of at least 0.5 mm so a 150-dpi scan reads it.
    const double side = 3.2 * kInch;
    const double module = side / m.cols;
    if (module < 0.5 / 25.4 * kInch) {
      return Status::InvalidArgument("separator payload too long for a printable QR code (" +
                                     std::to_string(text.size()) + " bytes)");
    }
    Modules(cr, m, (kPageW - side) / 2, 330, module, module);
  } else {
    const double module = std::min(1.2, (kPageW - 72) / m.cols);  // points per module
    if (module < 0.7) {
      return Status::InvalidArgument("separator payload too long for a printable Code 128 (" +
                                     std::to_string(text.size()) + " bytes)");
    }
    const double w = module * m.cols;
    Modules(cr, m, (kPageW - w) / 2, 380, module, 1.5 * kInch);
  }
  Text(cr, 8, false, kPageH - 60, text);
  return Status::OK();
}

Status DrawPatchSheet(cairo_t* cr, const SheetSpec& s) {
  std::optional<PatchCode> code = PatchCodeFromName(s.patch);
  if (!code) return Status::InvalidArgument("unknown patch code '" + s.patch + "' (I, II, III, IV, VI, T)");
  Text(cr, 26, true, 70, "PATCH " + std::string(PatchCodeName(*code)));
  Text(cr, 12, false, 95, s.caption.empty() ? "folha separadora (patch code Kodak)" : s.caption);
  const double wide = 0.20 * kInch, narrow = 0.08 * kInch;
  const double top = 1.9 * kInch, len = 7.0 * kInch;
  const std::array<bool, 4> bars = PatchCodeBars(*code);
  // Three copies across the sheet, so the patch reader of any scanner model
  // (their sensors sit at different places) and our detector see one.
  for (double left : {1.0 * kInch, (kPageW - 0.8 * kInch) / 2, kPageW - 1.8 * kInch}) {
    double x = left;
    for (bool w : bars) {
      cairo_rectangle(cr, x, top, w ? wide : narrow, len);
      x += (w ? wide : narrow) + narrow;
    }
  }
  cairo_fill(cr);
  return Status::OK();
}

}  // namespace

Status WriteSeparatorSheets(const std::vector<SheetSpec>& sheets, const fs::path& path) {
  if (sheets.empty()) return Status::InvalidArgument("no sheets to write");
  // A temporary name of its own (".tmp-"...), renamed when complete.
  const fs::path tmp = TempPathFor(path);
  cairo_surface_t* surface = cairo_pdf_surface_create(tmp.c_str(), kPageW, kPageH);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return Status::IOError("cannot create " + tmp.string());
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "Acervo separator sheets");
  cairo_t* cr = cairo_create(surface);
  Status status;
  for (size_t i = 0; i < sheets.size() && status.ok(); ++i) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    status = sheets[i].kind == SheetSpec::Kind::kPatch ? DrawPatchSheet(cr, sheets[i]) : DrawBarcodeSheet(cr, sheets[i]);
    if (!status.ok()) status = status.WithContext("sheet " + std::to_string(i + 1));
    cairo_show_page(cr);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t cs = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  std::error_code ec;
  if (status.ok() && cs != CAIRO_STATUS_SUCCESS) {
    status = Status::IOError("cannot write " + tmp.string() + ": " + cairo_status_to_string(cs));
  }
  if (!status.ok()) {
    fs::remove(tmp, ec);
    return status;
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::IOError("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
  }
  return Status::OK();
}

}  // namespace acervo
