// SPDX-License-Identifier: BSD-3-Clause
// Compiles a firewall policy from a string for the unit tests, with set
// files served from an in-memory map (keyed by absolute path under
// /etc/ringfence/).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "../unit_test.h"
#include "iptables_helper/firewall_conf.h"

namespace unit {

struct Compiled {
    std::shared_ptr<const ringfence::firewall::Policy> policy;
    ringfence::core::Diagnostics diags;
    std::string text() const {
        std::string out;
        for (const auto& d : diags) {
            out += d.one_line() + "\n";
        }
        return out;
    }
};

inline Compiled compile(const std::string& text, const std::map<std::string, std::string>& files = {},
                        const std::string& path = "/etc/ringfence/firewall.conf") {
    using namespace ringfence;
    Compiled c;
    firewall::CompileOptions opt;
    opt.read_set_file = [files](const std::string& file) {
        core::ReadResult rr;
        auto it = files.find(file);
        if (it == files.end()) {
            rr.status = core::ReadStatus::missing;
            return rr;
        }
        rr.status = core::ReadStatus::ok;
        rr.text.path = file;
        rr.text.lines = split_lines(it->second);
        return rr;
    };
    c.policy = firewall::Policy::compile(path, split_lines(text), opt, &c.diags);
    return c;
}

}  // namespace unit
