// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: the hosts_access compiler and evaluator. The input is
// hosts.allow and hosts.deny separated by a NUL byte; pattern files are
// never read. Evaluates fixed requests against fake lookups, then renders
// every diagnostic, explains and lints; aborts when the fast index, the
// reference evaluator and explain() disagree.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fakes/fake_identity.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"
#include "tcpd_shim/hosts_lint.h"

namespace {

using namespace ringfence;

class FakeReverse : public tcpd::ReverseNameService {
public:
    std::optional<std::string> reverse(const core::IpAddress& a) override {
        if (a.to_string() == "10.1.2.3") {
            return std::string("ws.example.com");
        }
        return std::nullopt;
    }
};

// ws.example.com is 10.1.2.3 and in the netgroup trusted.
void fill(fakes::FakeIdentity* id, fakes::FakeNameService* dns) {
    dns->add("ws.example.com", {"10.1.2.3"});
    id->add_triple("trusted", {"ws.example.com", "", ""});
    id->this_host = "esx01.example.com";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    size_t nul = text.find('\0');
    std::string allow = text.substr(0, nul);
    std::string deny = nul == std::string::npos ? "" : text.substr(nul + 1);

    tcpd::CompileOptions opt;
    opt.read_pattern_file = [](const std::string& path) {
        core::ReadResult r;
        r.status = core::ReadStatus::missing;
        r.text.path = path;
        return r;
    };
    core::Diagnostics diags;
    auto policy = tcpd::Policy::compile(tcpd::hosts_file_from_text("hosts.allow", allow),
                                        tcpd::hosts_file_from_text("hosts.deny", deny), opt, &diags);
    for (const auto& d : diags) {
        (void)d.full();
    }
    for (const auto& d : tcpd::lint(*policy, tcpd::hosts_file_from_text("hosts.allow", allow),
                                    tcpd::hosts_file_from_text("hosts.deny", deny), tcpd::LintOptions())) {
        (void)d.full();
    }
    FakeReverse reverse;
    fakes::FakeNameService dns;
    fakes::FakeIdentity identity;
    fill(&identity, &dns);
    tcpd::Lookups lookups{&reverse, &dns, &identity};
    const char* clients[] = {"10.1.2.3", "192.168.1.5", "::1", "::ffff:10.1.2.3"};
    for (const char* daemon : {"sshd", "vmware-authd", ""}) {
        for (const char* c : clients) {
            tcpd::Request req;
            req.daemon = daemon;
            req.server_port = 902;
            req.server.address = core::IpAddress::parse("10.0.0.1");
            req.client.address = core::IpAddress::parse(c);
            req.user = std::string("root");
            tcpd::Decision fast = policy->evaluate(req, lookups);
            tcpd::Decision reference = policy->evaluate_reference(req, lookups);
            if (!(fast == reference)) {
                std::fprintf(stderr, "fast index: %s\nreference: %s\n", fast.explanation().c_str(),
                             reference.explanation().c_str());
                std::abort();  // the two evaluators must agree on every decision
            }
            // One pass over the same text (ringfence-tcpd's path): the same
            // decision and the same diagnostics.
            core::Diagnostics once_diags;
            tcpd::Decision once;
            auto one_pass = tcpd::Policy::compile_and_decide(tcpd::hosts_file_from_text("hosts.allow", allow),
                                                             tcpd::hosts_file_from_text("hosts.deny", deny), opt,
                                                             &once_diags, req, lookups, &once);
            if (!once.same_as(reference) || one_pass->valid() != policy->valid() ||
                once_diags.size() != diags.size()) {
                std::fprintf(stderr, "one pass: %s\nreference: %s\n", once.explanation().c_str(),
                             reference.explanation().c_str());
                std::abort();
            }
            for (size_t i = 0; i < diags.size(); ++i) {
                if (once_diags[i].one_line() != diags[i].one_line()) {
                    std::abort();  // the one pass must report exactly what compile() reports
                }
            }
            if (policy->valid()) {
                // As on checked stamps: only the lines that can decide are compiled.
                core::Diagnostics checked_diags;
                tcpd::Decision checked;
                auto kept = tcpd::Policy::compile_and_decide(tcpd::hosts_file_from_text("hosts.allow", allow),
                                                 tcpd::hosts_file_from_text("hosts.deny", deny), opt, &checked_diags,
                                                 req, lookups, &checked, true);
                if (!checked.same_as(reference)) {
                    std::fprintf(stderr, "checked: %s\nreference: %s\n", checked.explanation().c_str(),
                                 reference.explanation().c_str());
                    std::abort();
                }
            }
            tcpd::Explanation e = tcpd::explain(*policy, req, lookups);
            if (!(e.decision == reference)) {
                std::fprintf(stderr, "explain: %s\nreference: %s\n", e.decision.explanation().c_str(),
                             reference.explanation().c_str());
                std::abort();
            }
            (void)tcpd::to_core_decision(fast, req).summary();
        }
    }
    return 0;
}
