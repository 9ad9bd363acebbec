#include "text_layer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <vector>

namespace acervo::pdf_internal {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendHex4(unsigned v, std::string* out) {
  out->push_back(kHex[(v >> 12) & 0xF]);
  out->push_back(kHex[(v >> 8) & 0xF]);
  out->push_back(kHex[(v >> 4) & 0xF]);
  out->push_back(kHex[v & 0xF]);
}

// Decodes one UTF-8 sequence at `s[*i]`, advancing *i. Returns -1 for an
// invalid sequence (then *i moves past one byte so decoding resynchronises).
int32_t NextCodepoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = 0;
  int32_t cp = 0;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return -1;
  }
  if (*i + static_cast<size_t>(len) > s.size()) {
    ++*i;
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Reject overlong forms and surrogates, which valid UTF-8 never holds.
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++*i;
    return -1;
  }
  *i += static_cast<size_t>(len);
  return cp;
}

}  // namespace

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 3);
  if (r.ec != std::errc()) return "0";
  std::string s(buf, r.ptr);
  // Trim "12.500" -> "12.5", "3.000" -> "3"; "-0" -> "0".
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string Utf8ToUtf16Hex(std::string_view utf8, int* units) {
  std::string hex;
  int n = 0;
  size_t i = 0;
  while (i < utf8.size()) {
    int32_t cp = NextCodepoint(utf8, &i);
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp > 0xFFFF) continue;
    AppendHex4(static_cast<unsigned>(cp), &hex);
    ++n;
  }
  if (units != nullptr) *units = n;
  return hex;
}

std::string FontName(std::string_view prefix, FontMetrics m) {
  return std::string(prefix) + std::to_string(m.ascent) + "_" + std::to_string(m.descent);
}

namespace {

// Text extractors (poppler's pdftotext, which most indexers and viewers
// share the logic of, and pdf.js) do not read the content stream in order:
// they rebuild words, lines, blocks and columns from the glyphs' positions
// and font sizes. Poppler's rules (TextOutputDev.cc), which the choices
// below follow:
//  (a) a block grows to a line above or below whose baseline is at most 1.5
//      font sizes away, that overlaps the block horizontally and whose font
//      size is within 5% of the block's;
//  (b) words on the block's lines that overlap it horizontally (within 0.3
//      font size) join it whatever the gap between them, if their font size
//      is within 60% of the block's: a justified line stays whole once its
//      block spans the column, but so would a caption lying across two
//      columns pull both into one block, line by line;
//  (c) up to three lines of words within 1.0 font size beside a block join
//      it when their font size is within 20%;
//  (d) inside a block, a line takes the next word at most 1.5 font sizes
//      to the right whose baseline is within 0.5 font size of the line's:
//      a justified line's widest gap sets a floor to the size, and a size
//      over twice the line pitch chains words of adjacent lines;
//  (e) characters less than 0.1 font size apart are taken for duplicates
//      (fake bold) and each becomes a word of its own.
// So the OCR blocks stacked in one column are written as one unit (a run),
// every line of a run gets the same font size, large enough for its line
// pitch, and runs that could merge wrongly get sizes far enough apart: 7%
// when one is above the other, 24% side by side across a narrow gutter,
// a factor of 2.6 when they interleave (overlap horizontally on the same
// lines) unless one lies in a hole of the other (InHole). The size is
// free: each word's vertical box comes from its font variant and its width
// from Tz, so the size changes no box.
constexpr double kCapHeightPerEm = 0.72;   // a line's height above its baseline, per em
constexpr double kMaxPitchPerSize = 1.4;   // lines of a run at most this apart (rule a: 1.5)
constexpr double kMaxSizePerPitch = 1.9;   // and the size under this times their pitch (rule d: 2)
constexpr double kMaxSizePerAdvance = 8;   // size over a character's advance (rule e: 10)
constexpr double kMaxGapPerSize = 1.45;    // words of a line at most this apart (rule d: 1.5)
constexpr double kMaxGapPerEm = 4.0;       // gaps wider than this many ems are not bridged
constexpr double kStackedApart = 0.07;     // rule a: 0.05
constexpr double kSideApart = 0.24;        // rule c: 0.2
constexpr double kInterleavedApart = 0.62; // rule b: 0.6 of the larger size
constexpr double kNarrowGutterPerSize = 1.03;  // rule c: 1.0
constexpr double kRunMaxGapPerEm = 4.0;    // blocks further apart start a new run
constexpr double kSizeStep = 1.08;         // candidate sizes: wanted * kSizeStep^k ...
constexpr double kSizeJump = 2.7;          // ... and * or / kSizeJump for interleaved runs
// Table rows: lines with a gap no size can bridge (rule d) take these
// factors of their run's size in turn (rule a: 5% apart; a cycle of three
// because a run's size may reach 1.5 line pitches; smaller, never larger,
// so that no row chains to the next, rule d, nor splits, rule e).
constexpr double kTableRowSizeSteps[] = {1.0, 0.88, 0.77};

// One text line: words [begin, end) of the page's list.
struct TextLine {
  size_t begin = 0, end = 0;
  int base = 0;   // median baseline, px
  int top = 0;    // highest word top, px
  int x0 = 0, x1 = 0;
  int max_gap = 0;  // widest gap between two of its words, px
};

// A rectangle of text: its horizontal extent and the band of its baselines.
struct Extent {
  int x0 = 0, x1 = 0, top = 0, base0 = 0, base1 = 0;
  void Add(const Extent& o) {
    x0 = std::min(x0, o.x0);
    x1 = std::max(x1, o.x1);
    top = std::min(top, o.top);
    base0 = std::min(base0, o.base0);
    base1 = std::max(base1, o.base1);
  }
};

// One OCR block: lines [first, last] of the page's list.
struct TextBlock {
  size_t first = 0, last = 0;
  Extent ext;
  double em_px = 0;        // estimated type size
  double min_advance = 0;  // narrow character advance of its words (10th percentile), px; 0: none
};

// OCR blocks stacked in one column, written with one font size (px).
struct TextRun {
  std::vector<size_t> blocks;
  Extent ext;
  double min_pitch = 0, max_pitch = 0;  // between consecutive lines; 0: one line
  int lines = 0;
  double em_px = 0, floor_px = 0, ceiling_px = 0, size_px = 0;
};

// Baseline distances between consecutive lines of a block. Distances under
// half the block's line height are not lines of text apart but a speck the
// OCR read as a word of its own ("." or "'" beside a line): extractors put
// it on its neighbour's line at any size that keeps lines apart, so it
// sets no pitch (it would force a size too small to keep the block's
// justified lines whole).
void BlockPitches(const std::vector<TextLine>& lines, const TextBlock& b, double* min_pitch, double* max_pitch) {
  for (size_t l = b.first + 1; l <= b.last; ++l) {
    const double p = std::abs(lines[l].base - lines[l - 1].base);
    if (p <= 0 || p < 0.5 * kCapHeightPerEm * b.em_px) continue;
    *min_pitch = *min_pitch > 0 ? std::min(*min_pitch, p) : p;
    *max_pitch = std::max(*max_pitch, p);
  }
}

std::vector<TextLine> SplitLines(std::span<const Word> words) {
  auto base_of = [](const Word& w) { return w.baseline >= 0 ? w.baseline : w.box.y + w.box.height; };
  std::vector<TextLine> lines;
  size_t i = 0;
  while (i < words.size()) {
    // A line: consecutive words with the same line index whose boxes overlap
    // the first word's vertically.
    const Word& first = words[i];
    size_t j = i + 1;
    while (j < words.size() && words[j].line == first.line &&
           std::min(words[j].box.y + words[j].box.height, first.box.y + first.box.height) >
               std::max(words[j].box.y, first.box.y)) {
      ++j;
    }
    TextLine line;
    line.begin = i;
    line.end = j;
    std::vector<int> bases;
    line.top = first.box.y;
    line.x0 = first.box.x;
    line.x1 = first.box.x + first.box.width;
    for (size_t k = i; k < j; ++k) {
      if (k > i) line.max_gap = std::max(line.max_gap, words[k].box.x - (words[k - 1].box.x + words[k - 1].box.width));
      bases.push_back(base_of(words[k]));
      line.top = std::min(line.top, words[k].box.y);
      line.x0 = std::min(line.x0, words[k].box.x);
      line.x1 = std::max(line.x1, words[k].box.x + words[k].box.width);
    }
    std::nth_element(bases.begin(), bases.begin() + bases.size() / 2, bases.end());
    line.base = bases[bases.size() / 2];
    line.top = std::min(line.top, line.base - 1);
    lines.push_back(line);
    i = j;
  }
  return lines;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Consecutive lines of one OCR block (by the first word's block index;
// unknown blocks, -1, form one).
std::vector<TextBlock> GroupBlocks(std::span<const Word> words, const std::vector<TextLine>& lines) {
  std::vector<TextBlock> blocks;
  for (size_t l = 0; l < lines.size(); ++l) {
    const TextLine& line = lines[l];
    const Extent ext{line.x0, line.x1, line.top, line.base, line.base};
    if (blocks.empty() || words[lines[blocks.back().last].begin].block != words[line.begin].block) {
      blocks.push_back({l, l, ext, 0});
    } else {
      blocks.back().last = l;
      blocks.back().ext.Add(ext);
    }
  }
  for (TextBlock& b : blocks) {
    std::vector<double> heights, advances;
    for (size_t l = b.first; l <= b.last; ++l) {
      heights.push_back(lines[l].base - lines[l].top);
      for (size_t k = lines[l].begin; k < lines[l].end; ++k) {
        int n = 0;
        Utf8ToUtf16Hex(words[k].text, &n);
        if (n >= 2) advances.push_back(double(words[k].box.width) / n);
      }
    }
    // A few words of OCR noise ("|||", "...") may split into characters;
    // the size must not split ordinary ones.
    if (!advances.empty()) {
      std::nth_element(advances.begin(), advances.begin() + advances.size() / 10, advances.end());
      b.min_advance = advances[advances.size() / 10];
    }
    b.em_px = std::max(1.0, Median(heights) / kCapHeightPerEm);
  }
  return blocks;
}

bool XOverlap(const Extent& a, const Extent& b, double margin) {
  return a.x0 < b.x1 + margin && b.x0 < a.x1 + margin;
}
bool BandsOverlap(const Extent& a, const Extent& b, double margin) {
  return a.base0 < b.base1 + margin && b.base0 < a.base1 + margin;
}

// Runs of consecutive blocks stacked in one column: the next block joins
// when it lies below the run's last block, shares most of its width, is
// not far below, and the run grown by it overlaps no other block on its
// lines (a heading across two columns never joins the left one).
std::vector<TextRun> GroupRuns(const std::vector<TextLine>& lines, const std::vector<TextBlock>& blocks) {
  std::vector<TextRun> runs;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const TextBlock& blk = blocks[b];
    bool joined = false;
    if (!runs.empty()) {
      TextRun& run = runs.back();
      const TextBlock& last = blocks[run.blocks.back()];
      const double em = std::max(last.em_px, blk.em_px);
      const int overlap = std::min(last.ext.x1, blk.ext.x1) - std::max(last.ext.x0, blk.ext.x0);
      const int narrower = std::min(last.ext.x1 - last.ext.x0, blk.ext.x1 - blk.ext.x0);
      // The run's lines must stay joinable (rule a) without chaining
      // (rule d): its largest line pitch at most kMaxPitchPerSize *
      // kMaxSizePerPitch times its smallest.
      double min_pitch = run.min_pitch, max_pitch = run.max_pitch;
      BlockPitches(lines, blk, &min_pitch, &max_pitch);
      const double gap = blk.ext.base0 - run.ext.base1;
      min_pitch = min_pitch > 0 ? std::min(min_pitch, gap) : gap;
      max_pitch = std::max(max_pitch, gap);
      if (gap > 0 && overlap >= 0.5 * narrower && gap <= kRunMaxGapPerEm * em &&
          max_pitch <= kMaxPitchPerSize * kMaxSizePerPitch * min_pitch) {
        Extent grown = run.ext;
        grown.Add(blk.ext);
        // Nor may the size the grown run needs (its widest line pitch, rule
        // a) reach across the gutter to a block beside it (rule c).
        const double size_needed = max_pitch / kMaxPitchPerSize;
        bool clean = true;
        for (size_t o = 0; clean && o < blocks.size(); ++o) {
          if (o == b || std::find(run.blocks.begin(), run.blocks.end(), o) != run.blocks.end()) continue;
          const Extent& other = blocks[o].ext;
          const double margin = 0.5 * std::max(em, blocks[o].em_px);
          const bool interleaved = XOverlap(grown, other, margin) && BandsOverlap(grown, other, margin);
          const int gutter = std::max(grown.x0 - other.x1, other.x0 - grown.x1);
          const bool bridged = BandsOverlap(grown, other, 0) && gutter >= 0 &&
                               gutter < kNarrowGutterPerSize * std::max(size_needed, blocks[o].em_px);
          clean = !interleaved && !bridged;
        }
        if (clean) {
          run.blocks.push_back(b);
          run.ext = grown;
          run.min_pitch = min_pitch;
          run.max_pitch = max_pitch;
          joined = true;
        }
      }
    }
    if (!joined) {
      TextRun run;
      run.blocks = {b};
      run.ext = blk.ext;
      BlockPitches(lines, blk, &run.min_pitch, &run.max_pitch);
      runs.push_back(run);
    }
  }
  for (TextRun& run : runs) {
    std::vector<double> ems;
    run.ceiling_px = run.min_pitch > 0 ? kMaxSizePerPitch * run.min_pitch : 1e9;
    for (size_t b : run.blocks) {
      ems.push_back(blocks[b].em_px);
      if (blocks[b].min_advance > 0) {
        run.ceiling_px = std::min(run.ceiling_px, kMaxSizePerAdvance * blocks[b].min_advance);
      }
    }
    run.em_px = Median(ems);
    for (size_t b : run.blocks) run.lines += static_cast<int>(blocks[b].last - blocks[b].first + 1);
    // Never a size that reaches across the gutter to text beside the run
    // (rule c): two columns would then merge line by line. Better its
    // paragraphs split where the gaps are widest (rule a).
    for (const TextBlock& o : blocks) {
      const int gutter = std::max(run.ext.x0 - o.ext.x1, o.ext.x0 - run.ext.x1);
      if (gutter > 0 && BandsOverlap(run.ext, o.ext, 0)) {
        run.ceiling_px = std::min(run.ceiling_px, gutter / kNarrowGutterPerSize);
      }
    }
    run.floor_px = run.max_pitch / kMaxPitchPerSize;
    // Lines whose words stay one line (rule d): the widest gaps a size up
    // to the ceiling can bridge (wider ones are table cells: poppler
    // reads those column by column whatever the size).
    for (size_t b : run.blocks) {
      for (size_t l = blocks[b].first; l <= blocks[b].last; ++l) {
        const double needed = lines[l].max_gap / kMaxGapPerSize;
        if (needed <= run.ceiling_px && needed <= kMaxGapPerEm / kMaxGapPerSize * run.em_px) {
          run.floor_px = std::max(run.floor_px, needed);
        }
      }
    }
    // When the two cannot both hold (irregular line spacing, a narrow
    // gutter), the largest size allowed: what splits then splits where the
    // gaps are widest.
    run.floor_px = std::min(run.floor_px, run.ceiling_px);
  }
  return runs;
}

// Whether run `inner` lies in a hole of run `outer`: within its horizontal
// extent, and no line of `outer` on inner's lines (baselines within one of
// outer's type sizes) overlaps it horizontally. A figure's label with the
// paragraph's text wrapped around the figure ("US ELECTION 2016" in a
// logo, stamped-multicol_01): merged into outer's block (rule b) its words
// keep lines of their own, since no line of outer reaches them; kept apart,
// the label was a block of its own with nothing beside it, and poppler
// widened its reading-order box across the page to the edge of whatever
// lay below it, the other column's foot: that column's upper part was
// then read between two paragraphs of this one.
bool InHole(const TextRun& inner, const TextRun& outer, const std::vector<TextLine>& lines,
            const std::vector<TextBlock>& blocks) {
  if (inner.ext.x0 < outer.ext.x0 || inner.ext.x1 > outer.ext.x1) return false;
  for (size_t b : outer.blocks) {
    for (size_t l = blocks[b].first; l <= blocks[b].last; ++l) {
      const TextLine& line = lines[l];
      if (line.base < inner.ext.base0 - outer.em_px || line.base > inner.ext.base1 + outer.em_px) continue;
      if (line.x0 < inner.ext.x1 && inner.ext.x0 < line.x1) return false;
    }
  }
  return true;
}

// Chooses each run's font size (see the rules above), in reading order:
// its type size when it may, else the nearest candidate that keeps the
// distances to the runs already sized that it could merge with.
void ChooseRunSizes(std::vector<TextRun>& runs, const std::vector<TextLine>& lines,
                    const std::vector<TextBlock>& blocks) {
  // Near the type size first; far smaller ones for runs that interleave
  // with one already sized (a caption lying across two columns; its lines
  // may then split, rule a, but stay apart from the columns), far larger
  // ones last (their characters come closer to rule e's limit).
  std::vector<double> candidates;
  for (double jump : {1.0, 1.0 / kSizeJump, kSizeJump}) {
    for (int k : {0, 1, -1, 2, -2, 3, 4, -3, 5, 6}) candidates.push_back(jump * std::pow(kSizeStep, k));
  }
  // The runs of most lines first: they have the least freedom (a single
  // line may take any size).
  std::vector<size_t> order(runs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return runs[a].lines > runs[b].lines; });
  std::vector<bool> sized(runs.size(), false);
  for (size_t r : order) {
    TextRun& run = runs[r];
    const double wanted = std::min(std::max(run.em_px, run.floor_px), run.ceiling_px);
    // For a candidate size c, the worst distance to a run already sized
    // beyond the one required (negative: too close), over the runs it must
    // not merge with: an interleaved one (rule b would mix their lines),
    // one beside it across a narrow gutter when either has at most three
    // lines (rule c), one above or below it when the two merged would
    // interleave with a third run (a heading across two columns, rule a,
    // then b). Stacked runs of one column may merge: that keeps the order.
    auto margin_of = [&](double c) {
      double margin = 1e9;
      for (size_t o = 0; o < runs.size(); ++o) {
        if (!sized[o]) continue;
        const TextRun& other = runs[o];
        const double reach = std::max(c, other.size_px);
        const double distance = std::abs(c - other.size_px) / reach;
        if (XOverlap(run.ext, other.ext, 0.3 * reach) && BandsOverlap(run.ext, other.ext, 0.5 * reach)) {
          // One in a hole of the other may merge with it (InHole).
          if (!InHole(run, other, lines, blocks) && !InHole(other, run, lines, blocks)) {
            margin = std::min(margin, distance - kInterleavedApart);
          }
        } else if (XOverlap(run.ext, other.ext, 0) &&
                   std::max(run.ext.base0 - other.ext.base1, other.ext.base0 - run.ext.base1) <= 1.6 * reach) {
          Extent merged = run.ext;
          merged.Add(other.ext);
          bool harmful = false;
          for (size_t t = 0; t < runs.size() && !harmful; ++t) {
            if (t == r || t == o) continue;
            const double m = std::max(reach, runs[t].em_px);
            harmful = XOverlap(merged, runs[t].ext, 0.3 * m) && BandsOverlap(merged, runs[t].ext, 0.5 * m);
          }
          if (harmful) margin = std::min(margin, distance - kStackedApart);
        } else if (BandsOverlap(run.ext, other.ext, 0) &&
                   std::max(run.ext.x0 - other.ext.x1, other.ext.x0 - run.ext.x1) < kNarrowGutterPerSize * reach) {
          margin = std::min(margin, distance - kSideApart);
        }
      }
      return margin;
    };
    // Best first: apart from all within [floor, ceiling]; then apart from
    // all below the floor (the run's lines may split, in order); else the
    // least bad.
    double best = wanted, best_margin = -1e18;
    bool found = false;
    for (bool below_floor : {false, true}) {
      for (double f : candidates) {
        const double c = wanted * f;
        if (c > run.ceiling_px || (c < run.floor_px) != below_floor) continue;
        const double margin = margin_of(c);
        if (margin >= 0) {
          best = c;
          found = true;
          break;
        }
        if (margin > best_margin) {
          best_margin = margin;
          best = c;
        }
      }
      if (found) break;
    }
    run.size_px = best;
    sized[r] = true;
  }
}

// A line of its own lying in the gutter under two columns (a page number
// between the columns, above a footer) becomes a block of its own in
// poppler, narrower than the gutter; poppler then widens the reading-order
// boxes of the blocks beside it (the left column's footnote, the right
// column) to reach it, they overlap, and the right column is read before
// the left one's footnote (multicol_05). On the size of the run right above
// or below it that spans it (the footer), it joins that run's block
// instead, which is wider than the gutter. After ChooseRunSizes.
void JoinGutterLines(std::vector<TextRun>& runs) {
  for (size_t r = 0; r < runs.size(); ++r) {
    TextRun& run = runs[r];
    if (run.lines != 1) continue;
    // In a gutter: columns of several lines above it on both sides, and
    // nothing above it between them.
    int left_top = -1, right_top = -1;
    for (const TextRun& t : runs) {
      if (t.ext.base1 >= run.ext.base0 || t.lines < 2) continue;
      if (t.ext.x1 <= run.ext.x0) left_top = left_top < 0 ? t.ext.base0 : std::min(left_top, t.ext.base0);
      if (t.ext.x0 >= run.ext.x1) right_top = right_top < 0 ? t.ext.base0 : std::min(right_top, t.ext.base0);
    }
    if (left_top < 0 || right_top < 0) continue;
    bool above = false;
    for (const TextRun& t : runs) {
      above = above || (&t != &run && t.ext.base1 < run.ext.base0 && t.ext.base1 > std::max(left_top, right_top) &&
                        XOverlap(t.ext, run.ext, 0));
    }
    if (above) continue;
    for (size_t o = 0; o < runs.size(); ++o) {
      if (o == r) continue;
      const TextRun& other = runs[o];
      const int overlap = std::min(run.ext.x1, other.ext.x1) - std::max(run.ext.x0, other.ext.x0);
      const int narrower = std::min(run.ext.x1 - run.ext.x0, other.ext.x1 - other.ext.x0);
      if (overlap < 0.5 * narrower) continue;
      const double gap = std::max(run.ext.base0 - other.ext.base1, other.ext.base0 - run.ext.base1);
      if (gap <= 0 || gap > kMaxPitchPerSize * other.size_px || other.size_px > run.ceiling_px) continue;
      Extent merged = run.ext;
      merged.Add(other.ext);
      bool harmful = false;
      for (size_t t = 0; t < runs.size() && !harmful; ++t) {
        if (t == r || t == o) continue;
        const double m = std::max(other.size_px, runs[t].size_px);
        harmful = XOverlap(merged, runs[t].ext, 0.3 * m) && BandsOverlap(merged, runs[t].ext, 0.5 * m);
      }
      if (harmful) continue;
      run.size_px = other.size_px;
      break;
    }
  }
}

// The cells of a line: its words split where a gap is wider than a size of
// `size_px` bridges (rule d), as [x0, x1) extents. Empty when a cell holds
// more words than a table's cell does (kMaxCellWords): a line of prose with
// a hole in it (a stain nothing was read in) is not a table row.
constexpr size_t kMaxCellWords = 8;
std::vector<std::pair<int, int>> LineCells(std::span<const Word> words, const TextLine& line, double size_px) {
  std::vector<std::pair<int, int>> cells;
  size_t in_cell = 0;
  for (size_t k = line.begin; k < line.end; ++k) {
    const Word& w = words[k];
    if (k == line.begin || w.box.x - cells.back().second > kMaxGapPerSize * size_px) {
      cells.push_back({w.box.x, w.box.x + w.box.width});
      in_cell = 1;
    } else {
      cells.back().second = std::max(cells.back().second, w.box.x + w.box.width);
      if (++in_cell > kMaxCellWords) return {};
    }
  }
  return cells;
}

// Lines that are rows of a grid: at least kMinGridRows consecutive lines of
// a run, each of two cells or more (rule d), whose cells fall into the
// columns of the grid's first row: each cell over one column and no other,
// left to right. A row may leave columns empty: a figure not given
// ("Interest coverage (184.6) (442.3)" under four years), a label the OCR
// put in a block of its own. Rows had to have every cell once, and one such
// row ended the grid: the short stretches left kept one size and poppler
// stacked their cells into columns (multicol_07). Only grid rows may take
// stepped sizes: poppler's table detector then reads them row by row, as
// the OCR engine did. Rows whose cells do not fall into the first row's
// columns (a form's records: a header row, a values row, a remarks row)
// would be regrouped by it into tables of its own making.
//
// A line of one cell in the first column, with rows of the grid before and
// after it (a section label: "Assets", "Liabilities") does not end the
// grid; it takes the size of the row after it, so that poppler puts the
// two in one block (rule a), which its table detector takes as that row's
// first cell. With a size of its own it is a block no table takes, read
// after the whole table; ending the grid, it left stretches too short to
// be one (table_01: pdftotext CER +0.020 over the stored text's -> -0.005).
constexpr size_t kMinGridRows = 4;
enum class GridLine { kNone, kRow, kLabel };

// Whether each of `cells` falls into one column of `first` and no other,
// left to right, no two cells into one column.
bool FallIntoColumns(const std::vector<std::pair<int, int>>& first, const std::vector<std::pair<int, int>>& cells) {
  size_t next = 0;  // columns before this one are taken
  for (const auto& cell : cells) {
    size_t hit = first.size();
    int hits = 0;
    for (size_t c = 0; c < first.size(); ++c) {
      if (cell.first < first[c].second && first[c].first < cell.second) {
        hit = c;
        ++hits;
      }
    }
    if (hits != 1 || hit < next) return false;
    next = hit + 1;
  }
  return true;
}

std::vector<GridLine> GridRows(std::span<const Word> words, const std::vector<TextLine>& lines,
                               const std::vector<TextBlock>& blocks, const std::vector<TextRun>& runs) {
  std::vector<GridLine> grid(lines.size(), GridLine::kNone);
  for (const TextRun& run : runs) {
    std::vector<size_t> order;
    for (size_t b : run.blocks) {
      for (size_t l = blocks[b].first; l <= blocks[b].last; ++l) order.push_back(l);
    }
    size_t i = 0;
    while (i < order.size()) {
      const std::vector<std::pair<int, int>> first = LineCells(words, lines[order[i]], run.size_px);
      size_t j = i + 1, rows = 1;
      std::vector<GridLine> kind(1, GridLine::kRow);  // of lines i, i + 1, ...
      if (first.size() >= 2) {
        for (; j < order.size(); ++j) {
          const std::vector<std::pair<int, int>> cells = LineCells(words, lines[order[j]], run.size_px);
          if (cells.size() == 1 && cells[0].first < first[0].second && cells[0].second <= first[1].first) {
            kind.push_back(GridLine::kLabel);
            continue;
          }
          if (cells.size() < 2 || !FallIntoColumns(first, cells)) break;
          kind.push_back(GridLine::kRow);
          ++rows;
        }
        // A label needs a row after it.
        while (kind.back() == GridLine::kLabel) {
          kind.pop_back();
          --j;
        }
      }
      if (rows >= kMinGridRows) {
        for (size_t k = i; k < j; ++k) grid[order[k]] = kind[k - i];
      }
      i = j;
    }
  }
  return grid;
}

// Runs whose every line becomes a block of its own: runs with a row the
// OCR read across a gap no size bridges (rule d: two cells or more, not a
// grid row) between two lines of one cell ("Plaintiff,   CIVIL ACTION NO."
// between "OPPORTUNITY COMMISSION," and "v." in a court caption). At one
// size poppler stacks the row's first cell with the lines above and below
// it into one block (rule a) and reads the other cells after that whole
// block: the order of a second column. With sizes stepped line by line
// (kTableRowSizeSteps, no two lines within two of each other alike) each
// line is a block; a line of one cell has nothing beside it, so poppler
// widens its reading-order box across the blocks below it, and such a box
// between two rows keeps its topological sort from reading a lower row's
// first cell before an upper row's last (Breuel's rule 2 gives way to
// rule 1 through it): the rows are read across, in the OCR's order. Runs
// with grid rows keep the grid's sizes (GridRows).
std::vector<bool> RunsOfSeparateLines(std::span<const Word> words, const std::vector<TextLine>& lines,
                                      const std::vector<TextBlock>& blocks, const std::vector<TextRun>& runs,
                                      const std::vector<GridLine>& grid) {
  std::vector<bool> separate(runs.size(), false);
  for (size_t r = 0; r < runs.size(); ++r) {
    const TextRun& run = runs[r];
    std::vector<size_t> order;
    for (size_t b : run.blocks) {
      for (size_t l = blocks[b].first; l <= blocks[b].last; ++l) order.push_back(l);
    }
    bool has_grid = false;
    std::vector<std::vector<std::pair<int, int>>> cells(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      has_grid = has_grid || grid[order[i]] != GridLine::kNone;
      cells[i] = LineCells(words, lines[order[i]], run.size_px);
    }
    if (has_grid) continue;
    for (size_t i = 1; i + 1 < order.size() && !separate[r]; ++i) {
      if (cells[i].size() < 2 || cells[i - 1].size() != 1 || cells[i + 1].size() != 1) continue;
      // A cell beside the lines above and below, not under them: a cell
      // under them joins their block with its line (rule b), as the words
      // of a justified line do whatever their gaps.
      const double margin = 0.3 * run.size_px;
      const int x0 = std::min(cells[i - 1][0].first, cells[i + 1][0].first);
      const int x1 = std::max(cells[i - 1][0].second, cells[i + 1][0].second);
      for (const auto& cell : cells[i]) {
        separate[r] = separate[r] || cell.first >= x1 + margin || cell.second <= x0 - margin;
      }
    }
  }
  return separate;
}

// The words that go into the text layer: a box and at least one character
// that is not a space (Tesseract emits whitespace "words", some with boxes
// across several lines, which would only confuse the layout).
std::vector<Word> UsableWords(std::span<const Word> words) {
  std::vector<Word> out;
  out.reserve(words.size());
  for (const Word& w : words) {
    if (w.box.width <= 0 || w.box.height <= 0) continue;
    int n = 0;
    std::string hex = Utf8ToUtf16Hex(w.text, &n);
    bool blank = true;
    for (size_t h = 0; blank && h < hex.size(); h += 4) blank = hex.compare(h, 4, "0020") == 0;
    if (n > 0 && !blank) out.push_back(w);
  }
  return out;
}

}  // namespace

std::string PageContent(const PageGeometry& page, std::string_view image_name,
                        std::string_view font_prefix, std::span<const Word> all_words,
                        int* words_written, std::set<FontMetrics>* fonts,
                        std::span<const std::string_view> overlay_names) {
  const std::vector<Word> usable = UsableWords(all_words);
  const std::span<const Word> words(usable);
  std::string out;
  out.reserve(64 + words.size() * 64);
  // The image fills the page: its unit square scaled to the page size.
  out += "q ";
  out += FormatNumber(page.width_pt) + " 0 0 " + FormatNumber(page.height_pt);
  out += " 0 0 cm /";
  out += image_name;
  out += " Do Q\n";
  for (std::string_view overlay_name : overlay_names) {
    // The edge tones and foreground of a mixed-raster page: images whose
    // /Mask stencil lets them show only on their pixels (no transparency
    // involved).
    out += "q ";
    out += FormatNumber(page.width_pt) + " 0 0 " + FormatNumber(page.height_pt);
    out += " 0 0 cm /";
    out += overlay_name;
    out += " Do Q\n";
  }

  const double sx = 72.0 / page.dpi_x;
  const double sy = 72.0 / page.dpi_y;
  int written = 0;
  std::string last_size, last_scale, last_font;

  // Words of one text line share one baseline, and all lines of one OCR
  // block one font size (see the rules above): viewers and extractors
  // rebuild lines from baselines and sizes, so per-word sizes would scatter
  // a line into fragments and per-line sizes split a block into lines that
  // other columns interleave with. Lines and blocks are written in the OCR
  // engine's reading order.
  const std::vector<TextLine> lines = SplitLines(words);
  const std::vector<TextBlock> blocks = GroupBlocks(words, lines);
  std::vector<TextRun> runs = GroupRuns(lines, blocks);
  ChooseRunSizes(runs, lines, blocks);
  JoinGutterLines(runs);
  if (std::getenv("ACERVO_TEXT_LAYER_DEBUG") != nullptr) {
    for (const TextRun& run : runs) {
      std::fprintf(stderr, "run x %d-%d base %d-%d em %.1f floor %.1f ceil %.1f size %.1f blocks", run.ext.x0,
                   run.ext.x1, run.ext.base0, run.ext.base1, run.em_px, run.floor_px, run.ceiling_px, run.size_px);
      for (size_t b : run.blocks) std::fprintf(stderr, " %zu", b);
      std::fprintf(stderr, " '%s'\n", words[lines[blocks[run.blocks[0]].first].begin].text.c_str());
    }
  }
  const std::vector<GridLine> grid_line = GridRows(words, lines, blocks, runs);
  const std::vector<bool> separate = RunsOfSeparateLines(words, lines, blocks, runs, grid_line);
  if (std::getenv("ACERVO_TEXT_LAYER_DEBUG") != nullptr) {
    for (size_t r = 0; r < runs.size(); ++r) {
      if (separate[r]) std::fprintf(stderr, "run %zu: lines separate\n", r);
    }
  }
  for (size_t r = 0; r < runs.size(); ++r) {
    const TextRun& run = runs[r];
    int row = 0;  // consecutive table rows so far; every line in a run of separate lines
    for (size_t b : run.blocks) {
     for (size_t l = blocks[b].first; l <= blocks[b].last; ++l) {
      const TextLine& line = lines[l];
      // Table rows: a line with a gap wider than its size bridges (rule d)
      // breaks into cells, and rows of one size stack those cells into
      // columns (rule a), which extractors read one after the other. Sizes
      // stepped row by row keep each row's cells out of the next rows'
      // blocks: poppler then sees a grid of one-line cells, takes it for a
      // table (cells aligned in rows and columns) and reads it row by row,
      // as the OCR engine did. Only rows of a grid (GridRows): a form's
      // records would be regrouped. Boxes stay: each word's font variant
      // fits its box at whatever size.
      double font_px = run.size_px;
      if (separate[r]) {
        font_px *= kTableRowSizeSteps[row++ % std::size(kTableRowSizeSteps)];
      } else if (grid_line[l] == GridLine::kLabel) {
        font_px *= kTableRowSizeSteps[row % std::size(kTableRowSizeSteps)];  // the next row's
      } else if (grid_line[l] == GridLine::kRow) {
        font_px *= kTableRowSizeSteps[row++ % std::size(kTableRowSizeSteps)];
      } else {
        row = 0;
      }
      const std::string size = FormatNumber(font_px * sy);
      for (size_t k = line.begin; k < line.end; ++k) {
        const Word& w = words[k];
        int n = 0;
        std::string hex = Utf8ToUtf16Hex(w.text, &n);
        const double font_size = font_px * sy;
        const double box_width = w.box.width * sx;
        // Advance of n glyphs at 100% is n * kGlyphWidth/1000 * font_size.
        const double scale = 100.0 * box_width / (n * (kGlyphWidth / 1000.0) * font_size);
        const double x = w.box.x * sx;
        const double y = page.height_pt - line.base * sy;
        // An explicit space after every word but a line's last one: copy-paste
        // and extraction then never glue two words together however narrow the
        // printed gap. It lies outside the stretched word, in the gap.
        if (k + 1 < line.end) hex += "0020";
        if (written == 0) out += "BT\n3 Tr\n";  // 3 Tr: neither fill nor stroke
        std::string tz = FormatNumber(scale);
        // The word's own top and bottom relative to the line's baseline, in
        // 1/1000 of the font size, in steps of 50: a handful of variants per
        // document. Ascent at least one step (an empty box helps nobody).
        auto step = [&](double px) { return static_cast<int>(std::lround(px / font_px * 20.0)) * 50; };
        FontMetrics m;
        m.ascent = std::clamp(step(line.base - w.box.y), 50, 4000);
        m.descent = std::clamp(step(w.box.y + w.box.height - line.base), 0, 2000);
        if (fonts != nullptr) fonts->insert(m);
        std::string font = FontName(font_prefix, m);
        // Tf and Tz are text state: repeat them only when they change.
        if (size != last_size || font != last_font) {
          out += "/";
          out += font;
          out += " " + size + " Tf\n";
          last_size = size;
          last_font = font;
        }
        if (tz != last_scale) {
          out += tz + " Tz\n";
          last_scale = tz;
        }
        out += "1 0 0 1 " + FormatNumber(x) + " " + FormatNumber(y) + " Tm <" + hex + "> Tj\n";
        ++written;
      }
     }
    }
  }
  if (written > 0) out += "ET\n";
  if (words_written != nullptr) *words_written = written;
  return out;
}

std::string ToUnicodeCMap() {
  std::string out =
      "/CIDInit /ProcSet findresource begin\n"
      "12 dict begin\n"
      "begincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n"
      "/CMapType 2 def\n"
      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  // One range per high byte, except the surrogates D8..DF; at most 100
  // ranges per bfrange block.
  std::vector<unsigned> highs;
  for (unsigned hi = 0; hi <= 0xFF; ++hi) {
    if (hi >= 0xD8 && hi <= 0xDF) continue;
    highs.push_back(hi);
  }
  for (size_t start = 0; start < highs.size(); start += 100) {
    size_t end = std::min(highs.size(), start + 100);
    out += std::to_string(end - start) + " beginbfrange\n";
    for (size_t k = start; k < end; ++k) {
      unsigned lo = highs[k] << 8;
      out += "<";
      AppendHex4(lo, &out);
      out += "> <";
      AppendHex4(lo | 0xFF, &out);
      out += "> <";
      AppendHex4(lo, &out);
      out += ">\n";
    }
    out += "endbfrange\n";
  }
  out +=
      "endcmap\n"
      "CMapName currentdict /CMap defineresource pop\n"
      "end\n"
      "end\n";
  return out;
}

}  // namespace acervo::pdf_internal
