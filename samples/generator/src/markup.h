// A tiny plain-text markup for page content, used by the lot spec's text files
// and by `acervo-synth page --text`.
//
//   # Title            a centred bold 14 pt line
//   ## Heading         a bold 11 pt line
//   ^ text             a centred line (consecutive ^ lines stay separate lines)
//   | text             a line kept as is (addresses, signatures)
//   + a | b | c        a row of a ruled table (consecutive rows: one table)
//   other text         paragraph text; consecutive lines are joined and wrapped
//   (empty line)       ends a paragraph
//   %page              starts the next page (only in multi-page texts)
//   %columns N         the blocks that follow go in N balanced columns (1: back)
//   %justify on|off    paragraphs that follow are justified (or not)
//   %size PT           body size of the blocks that follow (mixed type sizes)
//   %% comment         ignored
//
// Thread-safety: pure functions.
#ifndef ACERVO_SAMPLES_GENERATOR_SRC_MARKUP_H_
#define ACERVO_SAMPLES_GENERATOR_SRC_MARKUP_H_

#include <string_view>
#include <vector>

#include "acervo/synth/synth.h"

namespace acervo::synth {

// The blocks of one page. `body_pt` is the size of paragraph and line text.
std::vector<TextBlock> ParseBlocks(std::string_view markup, double body_pt = 11);

// Splits a multi-page text at "%page" lines and parses each page.
std::vector<std::vector<TextBlock>> ParsePages(std::string_view markup, double body_pt = 11);

}  // namespace acervo::synth

#endif  // ACERVO_SAMPLES_GENERATOR_SRC_MARKUP_H_
