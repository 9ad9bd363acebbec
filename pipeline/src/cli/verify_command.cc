// acervo verify: re-hash masters, check PDFs against masters and the store.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/core/text.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/verify.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {

// `acervo verify --audit`: recompute the audit trail's hash chain.
int VerifyAudit(const std::string& store_spec, const std::string& head, bool json) {
  if (store_spec.empty()) {
    std::fprintf(stderr, "acervo verify: --audit needs --store\n");
    return kExitUsage;
  }
  Result<std::unique_ptr<Store>> store = OpenStore(store_spec, /*create_if_missing=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "acervo verify: %s\n", store.status().ToString().c_str());
    return kExitCannotRun;
  }
  Result<AuditCheck> check = (*store)->Access().VerifyAudit();
  if (!check.ok()) {
    std::fprintf(stderr, "acervo verify: %s\n", check.status().ToString().c_str());
    return kExitCannotRun;
  }
  std::vector<std::string> problems = check->problems;
  if (!head.empty()) {
    const size_t colon = head.find(':');
    const std::string seq = head.substr(0, colon);
    if (colon == std::string::npos || seq.empty() || seq.find_first_not_of("0123456789") != std::string::npos) {
      std::fprintf(stderr, "acervo verify: --audit-head needs SEQ:HASH\n");
      return kExitUsage;
    }
    AuditFilter f;
    f.before_seq = std::stoll(seq) + 1;
    f.limit = 1;
    Result<std::vector<AuditRow>> rows = (*store)->Access().ListAudit(f);
    if (!rows.ok() || rows->empty() || rows->front().seq != std::stoll(seq)) {
      problems.push_back("audit row " + seq + " recorded as the head earlier is gone (rows cut off the end)");
    } else if (rows->front().hash != head.substr(colon + 1)) {
      problems.push_back("audit row " + seq + " no longer has the hash recorded earlier");
    }
  }
  if (json) {
    nlohmann::json j = {{"ok", problems.empty()}, {"rows", check->rows}, {"head_seq", check->head_seq},
                        {"head_hash", check->head_hash}, {"problems", problems}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const std::string& p : problems) std::fprintf(stderr, "mismatch: audit trail: %s\n", p.c_str());
    std::printf("%s: audit trail of %lld rows; head %lld:%s\n", problems.empty() ? "OK" : "FAILED",
                static_cast<long long>(check->rows), static_cast<long long>(check->head_seq),
                check->head_hash.c_str());
  }
  return problems.empty() ? kExitOk : kExitPartial;
}

}  // namespace

Command AddVerifyCommand(CLI::App& root, const Context& /*ctx*/) {
  struct Args {
    VerifyOptions options;
    std::string store;
    bool json = false;
    bool audit = false;
    std::string audit_head;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand(
      "verify", "Re-hash masters and check every PDF against its masters and the store");
  cmd->add_option("OUT_DIR", a->options.out_dir, "Output folder of acervo run (--out); not needed with --audit")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--audit", a->audit,
                "Check the audit trail's hash chain instead (needs --store): no row edited or removed");
  cmd->add_option("--audit-head", a->audit_head,
                  "SEQ:HASH recorded earlier (printed by a previous --audit): also proves no row from 1 to SEQ was "
                  "cut off the end");
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\") (default: OUT_DIR/acervo.db)");
  cmd->add_flag("--json", a->json, "Print the report as JSON on stdout");
  return {cmd, [a]() -> int {
            if (a->audit) return VerifyAudit(a->store, a->audit_head, a->json);
            if (a->options.out_dir.empty()) {
              std::fprintf(stderr, "acervo verify: OUT_DIR is required (or --audit --store DB)\n");
              return kExitUsage;
            }
            a->options.store_path = a->store;
            Result<VerifyReport> r = VerifyOutput(a->options);
            if (!r.ok()) {
              std::fprintf(stderr, "acervo verify: %s\n", TerminalText(r.status().ToString()).c_str());
              return kExitCannotRun;
            }
            if (a->json) {
              std::printf("%s\n", r->ToJson().c_str());
            } else {
              for (const VerifiedSignature& s : r->signatures) {
                std::printf("signature: %s: %s, signed by %s%s\n", s.pdf.c_str(), s.form.c_str(), s.signer.c_str(),
                            s.timestamp.empty()
                                ? ""
                                : (", time-stamp " + s.timestamp + " (" + s.timestamp_authority + ")").c_str());
              }
              for (const VerifyIssue& i : r->mismatches) {
                std::fprintf(stderr, "mismatch: %s: %s\n", TerminalText(i.where).c_str(),
                             TerminalText(i.message).c_str());
              }
              std::printf("%s: %d lots, %d documents, %d PDFs, %d masters checked, %d withdrawn documents; %zu mismatches\n",
                          r->ok() ? "OK" : "FAILED", r->lots, r->documents, r->pdfs, r->masters, r->withdrawn,
                          r->mismatches.size());
            }
            return r->ok() ? kExitOk : kExitPartial;
          }};
}

}  // namespace acervo::cli
