// ImageEncodeStage: compresses the final page image into the form the PDF
// embeds as-is (Page::encoded), so the PDF writer never re-encodes pixels.
//
// The codec follows Page::color_class:
//   kBw    -> CCITT Group 4 (1 bit per pixel; the image is binarised with Otsu
//             unless it is already pure 0/255). Lossless on the bitonal image.
//   kGray  -> baseline JPEG, 1 component (libjpeg-turbo, optimised Huffman
//             tables).
//   kColor -> baseline JPEG, 3 components: YCbCr with 4:2:0 chroma.
// With EncodeOptions::mixed_raster, a gray or colour page that is text on
// plain paper becomes kMixedRaster (a full-resolution G4 text mask with
// reduced JPEGs of the paper and of the ink colours, see
// EncodeMixedRaster) when that is faithful, and small enough not to need a
// comparison, or smaller than the JPEG. A page that looks like a flat
// digital render (most neighbouring pixels equal) is also deflated, and
// Flate is kept instead of the JPEG when it is smaller: lossless and
// smaller.
// With EncodeOptions::lossless, kGray and kColor are stored as zlib (Flate)
// compressed raw 8-bit samples instead (gray, or RGB in that order); kBw stays
// G4, which is already lossless.
//
// The encoded image has the same width and height as Page::image, so OCR word
// boxes (in Page::image pixels) are also in encoded-image pixels.
//
// Thread-safety: one instance per worker thread, as for every PageStage; the
// stage keeps no state between pages and touches no global state (libtiff
// errors are routed per handle, not through libtiff's global handlers).
#ifndef ACERVO_STAGES_PDF_IMAGE_ENCODE_H_
#define ACERVO_STAGES_PDF_IMAGE_ENCODE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string_view>

#include "acervo/core/page.h"
#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"

namespace acervo {

struct EncodeOptions {
  // JPEG quality 1..100 for kGray/kColor. 75: on a dense 300-dpi A4 text
  // page (bench/pdf_bench.cc) it gives 0.73 MB clean / 1.14 MB noisy against
  // 1.28 / 3.51 MB at 95, with a mean error of 6 grey levels on ink pixels
  // (1.4 at 95, 9.7 at 50): strokes stay crisp, artefacts stay below what
  // OCR and readers notice.
  int jpeg_quality = 75;
  // Store gray/colour pages losslessly (Flate) instead of JPEG.
  bool lossless = false;
  // Store a gray/colour page that is text on plain paper as mixed raster
  // content (EncodeMixedRaster below) when that passes its fidelity bounds
  // and is smaller than the JPEG. Ignored with `lossless`.
  bool mixed_raster = true;
};

class ImageEncodeStage : public PageStage {
 public:
  // InvalidArgument when jpeg_quality is outside 1..100.
  static Result<std::unique_ptr<PageStage>> Create(const EncodeOptions& options);

  std::string_view Name() const override { return "encode"; }
  // 4: mixed raster tried first (no JPEG when it is small), Flate only for
  // flat images, layers reduced in integers and checked strip by strip;
  // 5: edge tones in mixed raster content; 6: colour pages get their paper
  // tone back (Page::paper_tone).
  int Version() const override { return 6; }

  // Sets page.encoded from page.image and page.color_class. InvalidArgument
  // for an empty image or a pixel type other than CV_8UC1/CV_8UC3; Internal
  // when an encoder fails. A colour page with a Page::paper_tone (the clean
  // stage whitened its paper) is encoded in the scan's colours
  // (ApplyPaperTone), its text masks split from the whitened page; that
  // image then replaces page.image and the tone is cleared. Otherwise the
  // image is not changed.
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  explicit ImageEncodeStage(const EncodeOptions& options) : options_(options) {}

  // JPEG, or Flate when that is smaller (or when lossless is asked); mixed
  // raster masks split from `split_from` when given (EncodeMixedRaster).
  Result<EncodedImage> EncodeContinuousTone(const cv::Mat& image, const cv::Mat& split_from = cv::Mat()) const;

  EncodeOptions options_;
};

// The building blocks of the stage, exposed for tests and benchmarks. Each
// accepts CV_8UC1 or CV_8UC3 and converts as needed.

// Otsu-binarised (or as-is when already 0/255) image, CV_8UC1 with 0 = black,
// 255 = white.
Result<cv::Mat> Binarize(const cv::Mat& image);
// CCITT Group 4 (K=-1) data of `image` after Binarize(): the raw strip bytes
// of a TIFF with PhotometricInterpretation WhiteIsZero, whose black runs are
// the black pixels. A PDF reads them with CCITTFaxDecode and the default
// /BlackIs1 false (decoded black runs become 0 = black in DeviceGray).
Result<EncodedImage> EncodeCcittG4(const cv::Mat& image);
// Baseline JPEG; 1 component for CV_8UC1, 3 (RGB) for CV_8UC3 (BGR Mat).
Result<EncodedImage> EncodeJpeg(const cv::Mat& image, int quality);
// zlib stream of the raw samples (gray, or RGB order for a BGR Mat).
Result<EncodedImage> EncodeFlate(const cv::Mat& image);
// `image` (8-bit, paper whitened by the clean stage) times `paper_tone` / 255,
// the tone (same channels, any smaller size: the clean stage's 1/8 paper
// estimate, Page::paper_tone) scaled up to the image bilinearly as the
// clean stage scaled it: the page in its scan's colours again (within a
// level, but for paper pixels lighter than the paper estimate, which the
// whitening clipped at 255). `image` itself when the tone is empty or of
// other channels.
cv::Mat ApplyPaperTone(const cv::Mat& image, const cv::Mat& paper_tone);
// The same, written over `image` (which must not be shared with a reader
// that expects it unchanged).
void ApplyPaperToneInPlace(cv::Mat& image, const cv::Mat& paper_tone);

// ---- Mixed raster content (text on plain paper) ----
//
// A gray or colour page that is text on a plain background is stored as
// three layers, as DjVu and MRC PDF compressors do:
//   - the mask: which pixels are ink, CCITT G4 at the full scan resolution
//     (the text keeps its 300 dpi; the legal resolution applies to what is
//     read);
//   - the background: the page with the ink removed, a JPEG at 1/3 of the
//     resolution (paper tint, stains, fold shadows);
//   - the foreground: the ink's colour, a JPEG at 1/4 of the resolution
//     (black print, grey print, a red stamp and a blue signature each keep
//     their colour), shown only through the mask.
//   - optionally the edge tones: the pixels on stroke edges whose grey is
//     between ink and paper, a second full-resolution G4 mask and their
//     colour as a reduced JPEG (MixedRasterOptions::edge_tones).
// In the PDF the background is drawn, then the edge image with the edge
// mask as its /Mask, then the foreground image with the mask as its /Mask
// (explicit stencil masks, which PDF/A-1 allows; no soft mask, no
// transparency).

struct MixedRasterOptions {
  // Background resolution divisor: 3 puts a 300-dpi page's paper at 100 dpi.
  int background_scale = 3;
  // JPEG quality of the background (no text edges left in it).
  int background_quality = 50;
  // Foreground (ink colour) resolution divisor and JPEG quality. The ink
  // colour changes slowly along strokes, so both can be low.
  int foreground_scale = 8;
  int foreground_quality = 50;
  // Edge tones: the pixels of the scanner's anti-aliasing ramp on each side
  // of a stroke edge whose grey lies between ink and paper (the middle half
  // of the way) get a layer of their own, a second G4 mask with the mean
  // colour of those pixels (a JPEG at the foreground's scale and quality),
  // instead of being rounded to full ink or bare paper. A bitonal mask alone
  // rounds every edge pixel by up to half the ink-paper contrast: on a
  // 300-dpi page that was 80-90% of the squared error of the page rebuilt
  // from its layers (generated colour pages, 26-27 dB PSNR; with edge tones
  // 30-31 dB; OCRmyPDF's full-resolution JPEG 28-30 dB), for ~40-60% more
  // mask bytes.
  bool edge_tones = true;
  // Fidelity bounds on the page rebuilt from the layers against the image,
  // as mean absolute errors in grey levels (0..255) over 32x32 tiles
  // (MixedRasterFidelity). Measured on the corpus (bench/pdf_bench.cc): text
  // pages, stamped or not, have a handful of tiles above 8 and none above
  // 16; photos, soft-edged lettering and gradients, cut into ink and paper,
  // have 2-10% of their tiles above 12 or single tiles above 30, and stay a
  // plain JPEG.
  // At most this share of the tiles may exceed `max_tile_error` (where a
  // stamp crosses the text, the reduced ink colours blend) ...
  double max_tile_error = 12;
  double max_share_over = 0.005;
  // ... no tile may exceed this ...
  double max_any_tile_error = 24;
  // ... and the mean over the whole page stays below this.
  double max_mean_error = 3;
};

// The three layers; in EncodedImage::Codec::kMixedRaster they travel packed
// in one byte string (PackMixedRaster) so that the journal and the writer
// handle a page image as one blob.
struct MixedRasterLayers {
  EncodedImage mask;        // kCcittG4, page size; black runs = ink
  EncodedImage background;  // kJpeg, 1 or 3 components, page size / scale
  EncodedImage foreground;  // kJpeg, as many components as the background
  // The edge tones (MixedRasterOptions::edge_tones), drawn between the
  // background and the foreground; both empty (no bytes) when there are
  // none (edge tones off, or a page packed before they existed).
  EncodedImage edge_mask;   // kCcittG4, page size; black runs = edge pixels
  EncodedImage edge;        // kJpeg, as many components as the background
  bool has_edge() const { return !edge_mask.bytes.empty(); }
};

// The mixed-raster form of `image` (CV_8UC1/CV_8UC3) when the rebuilt page
// stays within the fidelity bounds, std::nullopt when it does not (the page
// is not text on plain paper) or when it would not be smaller than
// `not_larger_than` bytes. The ink and edge masks are split from
// `split_from` when it is given (CV_8UC1/CV_8UC3 of the image's size: the
// page with its paper whitened, while `image` has the scan's colours, which
// the layers and the fidelity check take). InvalidArgument for bad images
// or options.
Result<std::optional<EncodedImage>> EncodeMixedRaster(const cv::Mat& image,
                                                      const MixedRasterOptions& options,
                                                      size_t not_larger_than,
                                                      const cv::Mat& split_from = cv::Mat());

// Packs the layers into one kMixedRaster EncodedImage (width/height: the
// mask's, components: the background's) and back. Unpack fails with Corrupt
// on truncated or inconsistent data.
EncodedImage PackMixedRaster(const MixedRasterLayers& layers);
Result<MixedRasterLayers> UnpackMixedRaster(const EncodedImage& packed);

// How far `rebuilt` (RenderMixedRaster) is from `image`, in grey levels
// (the mean of the three channel differences for colour), leaving out a
// one-pixel band each side of the ink edges (`ink`: 255 = ink), which no
// bitonal mask can hold: the worst mean over 32x32 tiles, the share of
// tiles whose mean exceeds `tile_bound`, and the mean over the page.
struct MixedRasterError {
  double worst_tile = 0;
  double share_over = 0;
  double mean = 0;
};
MixedRasterError MixedRasterFidelity(const cv::Mat& image, const cv::Mat& rebuilt,
                                     const cv::Mat& ink, double tile_bound);

// The page as a reader sees it: background, edge tones and foreground
// scaled up to the mask's size (bilinear), the edge colour showing where
// the edge mask is black and the foreground where the mask is black.
// BGR or gray like the background. Corrupt when a layer does not decode. For
// tests and the fidelity check.
Result<cv::Mat> RenderMixedRaster(const MixedRasterLayers& layers);

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_IMAGE_ENCODE_H_
