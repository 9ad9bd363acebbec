// ImageEncodeStage: compresses the final page image into the form the PDF
// embeds as-is (Page::encoded), so the PDF writer never re-encodes pixels.
//
// The codec follows Page::color_class:
//   kBw    -> CCITT Group 4 (1 bit per pixel; the image is binarised with Otsu
//             unless it is already pure 0/255). Lossless on the bitonal image.
//   kGray  -> baseline JPEG, 1 component.
//   kColor -> baseline JPEG, 3 components (RGB as every JPEG is; the BGR Mat
//             is handed to the encoder, which stores it as YCbCr/RGB).
// For kGray/kColor the page is also deflated and Flate is kept instead of the
// JPEG when it is smaller (flat digital renders): lossless and smaller.
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

#include <memory>
#include <opencv2/core.hpp>
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
};

class ImageEncodeStage : public PageStage {
 public:
  // InvalidArgument when jpeg_quality is outside 1..100.
  static Result<std::unique_ptr<PageStage>> Create(const EncodeOptions& options);

  std::string_view Name() const override { return "encode"; }
  int Version() const override { return 2; }

  // Sets page.encoded from page.image and page.color_class. InvalidArgument
  // for an empty image or a pixel type other than CV_8UC1/CV_8UC3; Internal
  // when an encoder fails. The image itself is not changed.
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  explicit ImageEncodeStage(const EncodeOptions& options) : options_(options) {}

  // JPEG, or Flate when that is smaller (or when lossless is asked).
  Result<EncodedImage> EncodeContinuousTone(const cv::Mat& image) const;

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

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_IMAGE_ENCODE_H_
