// SPDX-License-Identifier: BSD-3-Clause
// `ringfence lint`: every policy file the host uses, in one run, each with
// its own layer's checks, then the findings across layers
// (cli/cross_layer.h). Reads only; no DNS.
#pragma once

#include "cli/context.h"

namespace ringfence::cli {

struct LintOptions {
    bool json = false;
};

// Prints every diagnostic (file:line:col: error|warning: ..., the line, a
// caret, a hint) and a summary, or one JSON document. Returns
// core::kExitOk (clean), kExitInvalid (errors), kExitWarnings (warnings only).
int run_lint(const Context& ctx, const LintOptions& options);

}  // namespace ringfence::cli
