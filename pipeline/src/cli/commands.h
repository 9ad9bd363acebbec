// The factories of every acervo subcommand (one file each in cli/).
#ifndef ACERVO_PIPELINE_CLI_COMMANDS_H_
#define ACERVO_PIPELINE_CLI_COMMANDS_H_

#include "acervo/pipeline/page_replace.h"
#include "cli/command.h"

namespace acervo::cli {

Command AddRunCommand(CLI::App& root, const Context& ctx);
Command AddBatchCommand(CLI::App& root, const Context& ctx);
Command AddPreprocessCommand(CLI::App& root, const Context& ctx);
Command AddSearchCommand(CLI::App& root, const Context& ctx);
Command AddVerifyCommand(CLI::App& root, const Context& ctx);
Command AddSheetsCommand(CLI::App& root, const Context& ctx);
Command AddDevicesCommand(CLI::App& root, const Context& ctx);
Command AddScanCommand(CLI::App& root, const Context& ctx);
Command AddWatchCommand(CLI::App& root, const Context& ctx);
Command AddEnqueueCommand(CLI::App& root, const Context& ctx);
Command AddWorkerCommand(CLI::App& root, const Context& ctx);
Command AddStatusCommand(CLI::App& root, const Context& ctx);
Command AddServeCommand(CLI::App& root, const Context& ctx);
Command AddUsersCommand(CLI::App& root, const Context& ctx);
Command AddReviewCommand(CLI::App& root, const Context& ctx);
Command AddWithdrawCommand(CLI::App& root, const Context& ctx);
Command AddOptimizeCommand(CLI::App& root, const Context& ctx);
Command AddLgpdCommand(CLI::App& root, const Context& ctx);
Command AddRedactCommand(CLI::App& root, const Context& ctx);

// Prints a page replacement (acervo review replace, acervo scan --replace)
// and returns the exit code: 2 for a refusal (unknown lot, document or
// page, withdrawn document, unusable image).
int PrintReplacement(const Result<PageReplaceResult>& result, bool as_json);

// Who runs a command that writes the audit trail: "cli:<OS user>".
std::string CliActor();

}  // namespace acervo::cli

#endif  // ACERVO_PIPELINE_CLI_COMMANDS_H_
