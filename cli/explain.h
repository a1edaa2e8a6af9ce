// SPDX-License-Identifier: BSD-3-Clause
// `ringfence explain`: one request walked through the layers in the order
// a connection meets them — the firewall, then TCP wrappers (for a daemon
// that runs behind ringfence-wrap or ringfence-tcpd), then pam_ringfence
// (for a service whose account stack runs it) — each with its Decision
// (core/decision.h), stopping where the request is stopped, with what would
// have to change. Reads the host's files only: no DNS, no traffic, no change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/decision.h"

namespace ringfence::cli {

struct ExplainRequest {
    std::string from;                  // client address (required)
    std::optional<std::string> user;   // for the PAM layer
    std::string service = "sshd";      // sshd | vmware-hostd | vmware-authd | PORT/PROTO
    std::optional<std::string> at;     // "Tue 21:00" or "2024-05-14 21:00"; default now
    std::optional<std::string> tty;
    bool json = false;
};

// One layer's step.
struct LayerStep {
    std::string layer;                    // "firewall", "wrappers", "pam"
    enum class Kind { decided, skipped, missing_input, broken } kind = Kind::skipped;
    core::Decision decision;              // kind == decided (also broken: denied)
    std::string note;                     // why skipped / what input is missing / what is broken
    std::string change;                   // on a denial: what would have to change
};

struct ExplainResult {
    std::string request;                  // "from 10.1.2.3 to sshd (tcp/22), user alice, at Tue 21:00"
    std::vector<LayerStep> steps;
    std::optional<size_t> stopped_at;     // index into steps of the layer that stops it
    bool complete = true;                 // false: a layer needs an input that was not given
};

// Validates the request (a usage error sets *usage); nullopt then.
std::optional<ExplainResult> explain_request(const Context& ctx, const ExplainRequest& request, std::string* usage);

// Prints it (text or JSON). Returns 0 allowed through every layer, 1 denied
// (core::kExitDenied), 3 no complete answer (an input is missing).
int print_explanation(const ExplainResult& result, bool json);

}  // namespace ringfence::cli
