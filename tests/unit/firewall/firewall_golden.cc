// SPDX-License-Identifier: BSD-3-Clause
// Golden render test: every NAME.conf in a directory is compiled and
// rendered; the output must equal NAME.iptables, NAME.ip6tables, NAME.ipset
// and NAME.nft (the nftables script) byte for byte (or NAME.err, the
// diagnostics, for a policy that does not compile). `--update` rewrites the
// expected files instead.
//
// usage: firewall_golden [--update] DIR
// Files are read plainly (not with read_config_file's ownership checks: a
// source checkout is not root-owned) and compiled under their base name, so
// the output does not depend on where the tree lives.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "iptables_helper/firewall_conf.h"
#include "iptables_helper/render.h"
#include "iptables_helper/render_nft.h"

using namespace ringfence;

namespace {

bool read_file(const std::string& path, std::string* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return true;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

}  // namespace

int main(int argc, char** argv) {
    bool update = false;
    std::string dir;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--update") == 0) {
            update = true;
        } else {
            dir = argv[i];
        }
    }
    if (dir.empty()) {
        std::fprintf(stderr, "usage: firewall_golden [--update] DIR\n");
        return 2;
    }
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0) {
                names.push_back(n.substr(0, n.size() - 5));
            }
        }
        closedir(d);
    } else {
        std::fprintf(stderr, "firewall_golden: cannot open %s\n", dir.c_str());
        return 2;
    }
    std::sort(names.begin(), names.end());
    int failures = 0;
    for (const std::string& name : names) {
        std::string text;
        read_file(dir + "/" + name + ".conf", &text);
        firewall::CompileOptions opt;
        opt.read_set_file = [&](const std::string& path) {
            core::ReadResult rr;
            std::string content;
            if (!read_file(dir + "/" + path, &content)) {
                rr.status = core::ReadStatus::missing;
                return rr;
            }
            rr.status = core::ReadStatus::ok;
            rr.text.path = path;
            rr.text.lines = split_lines(content);
            return rr;
        };
        core::Diagnostics diags;
        auto policy = firewall::Policy::compile(name + ".conf", split_lines(text), opt, &diags);
        std::vector<std::pair<std::string, std::string>> outputs;
        if (policy->valid()) {
            outputs.emplace_back(".iptables", firewall::render_iptables(*policy, core::IpAddress::Family::v4));
            outputs.emplace_back(".ip6tables", firewall::render_iptables(*policy, core::IpAddress::Family::v6));
            outputs.emplace_back(".ipset", firewall::render_ipset(*policy));
            outputs.emplace_back(".nft", firewall::render_nft(*policy));
        }
        std::string diag_text;
        for (const auto& dg : diags) {
            diag_text += dg.full();
        }
        if (!policy->valid() || !diag_text.empty()) {
            outputs.emplace_back(".err", diag_text);
        }
        for (const auto& [ext, actual] : outputs) {
            std::string path = dir + "/" + name + ext;
            if (update) {
                std::ofstream out(path, std::ios::binary | std::ios::trunc);
                out << actual;
                continue;
            }
            std::string expected;
            if (!read_file(path, &expected)) {
                std::fprintf(stderr, "FAIL %s%s: expected file missing (run with --update)\n", name.c_str(), ext.c_str());
                ++failures;
            } else if (expected != actual) {
                std::fprintf(stderr, "FAIL %s%s: output differs\n--- actual ---\n%s--- end ---\n", name.c_str(),
                             ext.c_str(), actual.c_str());
                ++failures;
            } else {
                std::printf("ok   %s%s\n", name.c_str(), ext.c_str());
            }
        }
    }
    if (names.empty()) {
        std::fprintf(stderr, "firewall_golden: no .conf files in %s\n", dir.c_str());
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
