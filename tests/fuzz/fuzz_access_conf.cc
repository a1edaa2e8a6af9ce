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
#include "pam_module/access_conf.h"
#include "pam_module/access_explain.h"
#include "pam_module/access_lint.h"

namespace {

using namespace ringfence;

class FakeIdentity : public core::Identity {
public:
    // root and alice exist (lint asks; evaluate never does).
    core::LookupStatus lookup_user(const std::string& name, core::UserInfo* out) override {
        if (name != "root" && name != "alice") {
            return core::LookupStatus::not_found;
        }
        *out = name == "root" ? core::UserInfo{"root", 0, 0} : core::UserInfo{"alice", 1000, 1000};
        return core::LookupStatus::found;
    }
    // vmadmins (gid 2000) lists alice; "flaky" cannot be resolved.
    core::LookupStatus lookup_group(const std::string& name, core::GroupInfo* out) override {
        if (name == "flaky") {
            return core::LookupStatus::failed;
        }
        if (name != "vmadmins" && name != "root") {
            return core::LookupStatus::not_found;
        }
        out->name = name;
        out->gid = name == "root" ? 0 : 2000;
        out->members = name == "root" ? std::vector<std::string>{} : std::vector<std::string>{"alice"};
        return core::LookupStatus::found;
    }
    core::LookupStatus group_ids(const core::UserInfo& u, std::vector<gid_t>* out) override {
        out->assign(1, u.gid);
        if (u.name == "alice") {
            out->push_back(2000);
        }
        return core::LookupStatus::found;
    }
    bool in_netgroup(const std::string& ng, const char* host, const char* user, const char*) override {
        return ng == "admins" && (user == nullptr || std::string(user) == "alice") &&
               (host == nullptr || std::string(host) == "10.1.2.3");
    }
    std::string host_name() override { return "esx01.example.com"; }
    std::string nis_domain() override { return ""; }
};

class FakeDns : public core::NameService {
public:
    std::vector<core::IpAddress> resolve(const std::string& host) override {
        if (host == "esx01.example.com" || host == "ws.example.com") {
            return {*core::IpAddress::parse("10.1.2.3"), *core::IpAddress::parse("2001:db8::3")};
        }
        return {};
    }
};

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
    FakeIdentity identity;
    FakeDns dns;
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
        }
    }
    for (const auto& d : access::lint(*policy, env)) {
        (void)d.full();
    }
    return 0;
}
