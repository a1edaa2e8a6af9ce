// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: the firewall.conf compiler, the four renderers, the plan's
// walk (explain, the SSH session check) and lint. Set files named in the
// input resolve to a fixed in-memory list; nothing is read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "iptables_helper/evaluate.h"
#include "iptables_helper/firewall_conf.h"
#include "iptables_helper/lint.h"
#include "iptables_helper/render.h"
#include "iptables_helper/render_nft.h"

using namespace ringfence;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    firewall::CompileOptions opt;
    opt.read_set_file = [](const std::string& path) {
        core::ReadResult r;
        r.status = core::ReadStatus::ok;
        r.text.path = path;
        r.text.lines = {"192.0.2.0/24", "2001:db8::/32", "# comment", "198.51.100.7"};
        return r;
    };
    core::Diagnostics diags;
    auto policy = firewall::Policy::compile("fuzz.conf", lines, opt, &diags);
    for (const auto& d : diags) {
        (void)d.full();
    }
    if (policy->valid()) {
        (void)firewall::render_iptables(*policy, core::IpAddress::Family::v4);
        (void)firewall::render_iptables(*policy, core::IpAddress::Family::v6);
        (void)firewall::render_ipset(*policy);
        (void)firewall::render_nft(*policy);
        // Then evaluate (the plan's walk) and lint, as check and explain do.
        for (const char* peer : {"10.1.2.3", "192.0.2.1", "2001:db8::1", "127.0.0.1", "::ffff:10.1.2.3"}) {
            for (uint16_t port : {22, 443, 65535}) {
                (void)firewall::explain_inbound(*policy, *core::IpAddress::parse(peer), firewall::Protocol::tcp, port);
            }
            (void)firewall::check_session(*policy, *core::IpAddress::parse(peer), 40000, 22);
        }
        for (const auto& d : firewall::lint(*policy)) {
            (void)d.full();
        }
    }
    return 0;
}
