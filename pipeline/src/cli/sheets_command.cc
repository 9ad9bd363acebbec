// acervo sheets: printable separator sheets (QR/Code 128 payloads or Kodak
// patch codes) as a PDF, for operators to put between documents.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/sheets.h"
#include "acervo/core/text.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddSheetsCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string out, kind = "qr", patch = "II", profile, prefix, type, id, title;
    std::vector<std::string> fields;
    int count = 1;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("sheets", "Print separator sheets (QR, Code 128, Kodak patch code) as a PDF");
  cmd->add_option("-o,--output", a->out, "PDF to write")->required();
  cmd->add_option("--kind", a->kind, "qr, code128 or patch")->check(CLI::IsMember({"qr", "code128", "patch"}));
  cmd->add_option("--patch", a->patch, "Patch code for --kind patch: I, II, III, IV, VI, T");
  cmd->add_option("--profile", a->profile,
                  "Lot profile: its separation prefix, and one sheet per [[types]] entry when --type is not given");
  cmd->add_option("--prefix", a->prefix, "Payload prefix (default: the profile's, else ACERVO)");
  cmd->add_option("--type", a->type, "Document type carried by the sheet");
  cmd->add_option("--id", a->id, "Document id carried by the sheet");
  cmd->add_option("--title", a->title, "Document title carried by the sheet");
  cmd->add_option("--field", a->fields, "Index field NAME=VALUE carried by the sheet (repeatable)");
  cmd->add_option("--count", a->count, "Copies of each sheet")->check(CLI::Range(1, 1000));
  return {cmd, [a]() -> int {
            LotProfile profile;
            if (!a->profile.empty()) {
              Result<LotProfile> p = LoadProfile(a->profile);
              if (!p.ok()) {
                std::fprintf(stderr, "acervo sheets: %s\n", p.status().ToString().c_str());
                return ExitCodeFor(p.status());
              }
              profile = std::move(p).value();
            }
            SheetSpec base;
            base.kind = a->kind == "patch" ? SheetSpec::Kind::kPatch
                        : a->kind == "code128" ? SheetSpec::Kind::kCode128 : SheetSpec::Kind::kQr;
            base.prefix = !a->prefix.empty() ? a->prefix : profile.separation.prefix;
            base.patch = a->patch;
            base.payload.id = a->id;
            base.payload.title = a->title;
            base.payload.type = a->type;
            for (const std::string& f : a->fields) {
              const size_t eq = f.find('=');
              if (eq == std::string::npos || eq == 0) {
                std::fprintf(stderr, "acervo sheets: --field needs NAME=VALUE, got '%s'\n", f.c_str());
                return kExitUsage;
              }
              base.payload.fields.emplace_back(f.substr(0, eq), f.substr(eq + 1));
            }
            std::vector<SheetSpec> sheets;
            if (base.kind != SheetSpec::Kind::kPatch && a->type.empty() && !profile.types.empty()) {
              for (const DocumentTypeSpec& t : profile.types) {
                SheetSpec s = base;
                s.payload.type = t.name;
                s.caption = t.label;
                sheets.push_back(std::move(s));
              }
            } else {
              sheets.push_back(base);
            }
            std::vector<SheetSpec> copies;
            for (const SheetSpec& s : sheets)
              for (int i = 0; i < a->count; ++i) copies.push_back(s);
            Status s = WriteSeparatorSheets(copies, a->out);
            if (!s.ok()) {
              std::fprintf(stderr, "acervo sheets: %s\n", TerminalText(s.ToString()).c_str());
              return ExitCodeFor(s);
            }
            // The result goes to stdout, like every command's result.
            std::printf("%zu sheet(s) written to %s\n", copies.size(), TerminalText(a->out).c_str());
            return kExitOk;
          }};
}

}  // namespace acervo::cli
