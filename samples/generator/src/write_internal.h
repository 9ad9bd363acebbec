// Pieces of WritePages exposed for its tests and for the lot generator.
#ifndef ACERVO_SAMPLES_GENERATOR_SRC_WRITE_INTERNAL_H_
#define ACERVO_SAMPLES_GENERATOR_SRC_WRITE_INTERNAL_H_

#include <cstdint>
#include <span>
#include <vector>

#include "acervo/synth/synth.h"

namespace acervo::synth {

// Gray levels below this become black in a G4 (1-bit) TIFF.
inline constexpr uint8_t kG4Threshold = 128;

// CRC-32 as PNG (and zlib) define it: reflected polynomial 0xEDB88320.
uint32_t Crc32(std::span<const uint8_t> data);

// Inserts a pHYs chunk (pixels per metre) right after IHDR, replacing any.
// Corrupt when the bytes are not a PNG.
Status SetPngDpi(std::vector<uint8_t>* png, double dpi);

// Sets the JFIF APP0 density to dpi (units = 1, dots per inch), inserting a
// JFIF header after SOI when there is none. Corrupt when not a JPEG.
Status SetJpegDpi(std::vector<uint8_t>* jpeg, double dpi);

// The bytes WritePages would write.
Result<std::vector<uint8_t>> EncodePages(const std::vector<cv::Mat>& pages, double dpi,
                                         FileFormat format);

}  // namespace acervo::synth

#endif  // ACERVO_SAMPLES_GENERATOR_SRC_WRITE_INTERNAL_H_
