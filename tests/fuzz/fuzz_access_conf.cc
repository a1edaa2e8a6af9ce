// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: the access.conf compiler and evaluator, plus the core
// parsers it uses. Parse, then evaluate for fixed requests against fake
// lookups, explain the same requests (the verdict must be evaluate's), lint,
// then render every diagnostic. Built with libFuzzer when
// RINGFENCE_FUZZ=ON; otherwise replay_main.cc replays the corpus as a test.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/ip.h"
#include "pam_module/time_spec.h"
#include "fakes/fake_identity.h"
#include "pam_module/access_conf.h"
#include "pam_module/access_explain.h"
#include "pam_module/access_lint.h"

namespace {

using namespace ringfence;

// root and alice exist (lint asks; evaluate never does); vmadmins (gid
// 2000) lists alice; "flaky" cannot be resolved; the netgroup admins holds
// alice on 10.1.2.3.
void fill(fakes::FakeIdentity* id, fakes::FakeNameService* dns) {
    id->add_user("root", 0, 0);
    id->add_user("alice", 1000, 1000);
    id->add_group("root", 0);
    id->add_group("vmadmins", 2000, {"alice"});
    id->failing_groups = {"flaky"};
    id->add_triple("admins", {"10.1.2.3", "alice", ""});
    id->this_host = "esx01.example.com";
    dns->add("esx01.example.com", {"10.1.2.3", "2001:db8::3"});
    dns->add("ws.example.com", {"10.1.2.3", "2001:db8::3"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    // The first byte picks module options, the rest is the file.
    uint8_t flags = data[0];
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

    std::string why;
    size_t col = 0;
    (void)access::TimeSpec::parse(text.substr(0, 200), &why, &col);
    (void)core::CidrRange::parse(text.substr(0, 64), &why);

    core::ConfigText file;
    file.path = "fuzz.conf";
    size_t start = 0;
    while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            file.lines.push_back(text.substr(start));
            break;
        }
        file.lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    access::ParseOptions opt;
    opt.atgroup = flags & 1;
    opt.nodefgroup = flags & 2;
    if (flags & 4) {
        opt.fieldsep = "|";
    }
    if (flags & 8) {
        opt.listsep = ",";
    }
    core::Diagnostics diags;
    auto policy = access::Policy::compile({file}, opt, &diags);
    for (const auto& d : diags) {
        (void)d.full();
    }
    if (!policy->valid()) {
        return 0;
    }

    core::UserInfo alice{"alice", 1000, 1000};
    core::UserInfo root{"root", 0, 0};
    fakes::FakeIdentity identity;
    fakes::FakeNameService dns;
    fill(&identity, &dns);
    access::Environment env{identity, dns};
    const char* rhosts[] = {"", "10.1.2.3", "2001:db8::3", "::ffff:192.168.1.5", "ws.example.com", "unknown.test"};
    for (const core::UserInfo* u : {&alice, &root}) {
        for (const char* rhost : rhosts) {
            access::Request req;
            req.user = u;
            req.rhost = rhost;
            req.tty = std::string("/dev/tty1");
            req.service = "sshd";
            req.when = core::LocalTime{flags % 7, (flags * 37) % 1440};
            access::Decision d = policy->evaluate(req, env);
            (void)d.explanation();
            access::Explanation e = access::explain(*policy, req, env);
            if (e.decision.verdict != d.verdict || e.decision.rule != d.rule ||
                e.decision.unresolved_group != d.unresolved_group) {
                std::abort();  // explain must decide exactly as the module
            }
            (void)access::format_explanation(e);
            // One pass, whole and as on checked stamps: the same decision.
            for (bool checked : {false, true}) {
                std::vector<core::ConfigBuffer> bufs(1);
                bufs[0].path = file.path;
                for (const std::string& line : file.lines) {
                    bufs[0].data += line + "\n";
                }
                core::Diagnostics once_diags;
                access::Decision once;
                auto kept = access::Policy::compile_and_decide(std::move(bufs), opt, &once_diags, req, env, &once,
                                                               checked);
                if (!kept->valid() || once.verdict != d.verdict || (once.rule == nullptr) != (d.rule == nullptr) ||
                    (once.rule != nullptr && once.rule->location() != d.rule->location()) ||
                    once.unresolved_group != d.unresolved_group) {
                    std::abort();  // a fresh process must decide exactly as evaluate()
                }
            }
        }
    }
    for (const auto& d : access::lint(*policy, env)) {
        (void)d.full();
    }
    return 0;
}
