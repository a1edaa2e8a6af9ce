// SPDX-License-Identifier: BSD-3-Clause
// Bundle manifest, layout and lint.
#include "cli/bundle.h"

#include <map>
#include <set>

#include "core/config_file.h"
#include "core/diagnostic.h"
#include "core/paths.h"
#include "core/text.h"
#include "iptables_helper/firewall_conf.h"
#include "pam_module/access_conf.h"
#include "tcpd_shim/hosts_access.h"

namespace ringfence::cli {

namespace {

std::vector<std::string> words_of(const std::string& line) { return core::config_word_strings(line); }


bool is_plain_name(const std::string& s) {
    if (s.empty() || s.size() > 100 || s[0] == '.' || s[0] == '-') {
        return false;
    }
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool is_hex64(const std::string& s) {
    if (s.size() != 64) {
        return false;
    }
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

core::ConfigText config_text(const std::string& path, const std::string& content) {
    core::ConfigText t;
    t.path = path;
    t.lines = core::split_lines(content);
    return t;
}

const char* const kFirewallConf = core::kFirewallConf;

}  // namespace

std::optional<time_t> parse_utc(const std::string& s) {
    struct tm tm = {};
    const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    return timegm(&tm);
}

std::string format_utc(time_t t) {
    char buf[32];
    struct tm tm;
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    return buf;
}

std::string bundle_destination(const std::string& name) {
    if (name == "access.conf") {
        return core::kAccessConf;
    }
    if (name == "hosts.allow" || name == "hosts.deny") {
        return "/etc/" + name;
    }
    if (name == "firewall.conf") {
        return kFirewallConf;
    }
    size_t slash = name.find('/');
    if (slash == std::string::npos || name.find('/', slash + 1) != std::string::npos) {
        return "";
    }
    std::string dir = name.substr(0, slash);
    std::string base = name.substr(slash + 1);
    if (!is_plain_name(base)) {
        return "";
    }
    if (dir == "access.d" && base.size() > 5 && base.compare(base.size() - 5, 5, ".conf") == 0) {
        return "/etc/security/access.d/" + base;
    }
    if (dir == "sets") {
        return "/etc/ringfence/sets/" + base;
    }
    return "";
}

std::optional<Manifest> parse_manifest(const std::string& text, std::string* error) {
    Manifest m;
    bool header = false, have_serial = false, have_issued = false, have_expires = false, have_scope = false;
    std::set<std::string> names;
    std::vector<std::string> lines = core::split_lines(text);
    if (lines.size() > 10000) {
        *error = "MANIFEST: too many lines";
        return std::nullopt;
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        std::vector<std::string> w = words_of(lines[i]);
        auto fail = [&](const std::string& why) {
            *error = "MANIFEST:" + std::to_string(i + 1) + ": " + why;
            return std::nullopt;
        };
        if (w.empty()) {
            continue;
        }
        if (!header) {
            if (w.size() != 2 || w[0] != "ringfence-bundle" || w[1] != "1") {
                return fail("expected 'ringfence-bundle 1' first");
            }
            header = true;
            continue;
        }
        const std::string& k = w[0];
        if (k == "serial" && w.size() == 2 && !have_serial) {
            if (w[1].empty() || w[1].size() > 18 || w[1].find_first_not_of("0123456789") != std::string::npos) {
                return fail("serial must be a number");
            }
            m.serial = std::stoull(w[1]);
            have_serial = true;
        } else if ((k == "issued" || k == "expires") && w.size() == 2) {
            auto t = parse_utc(w[1]);
            if (!t) {
                return fail("expected a UTC time such as 2026-12-04T12:00:00Z after '" + k + "'");
            }
            (k == "issued" ? m.issued : m.expires) = *t;
            (k == "issued" ? have_issued : have_expires) = true;
        } else if (k == "scope" && w.size() >= 2 && !have_scope) {
            m.scope.assign(w.begin() + 1, w.end());
            have_scope = true;
        } else if (k == "file" && w.size() == 3) {
            if (bundle_destination(w[1]).empty()) {
                return fail("'" + core::escape_for_log(w[1], 80) +
                            "' is not a bundle file (access.conf, access.d/*.conf, hosts.allow, hosts.deny, "
                            "firewall.conf, sets/*)");
            }
            if (!is_hex64(w[2])) {
                return fail("expected the SHA-256 of " + w[1] + " in lower-case hex");
            }
            if (!names.insert(w[1]).second) {
                return fail(w[1] + " listed twice");
            }
            m.files.push_back(BundleFile{w[1], w[2]});
        } else {
            return fail("unexpected '" + core::escape_for_log(lines[i], 80) + "'");
        }
    }
    if (!header || !have_serial || !have_issued || !have_expires || !have_scope) {
        *error = "MANIFEST: needs ringfence-bundle 1, serial, issued, expires and scope";
        return std::nullopt;
    }
    if (m.files.empty()) {
        *error = "MANIFEST: lists no file";
        return std::nullopt;
    }
    if (m.expires <= m.issued) {
        *error = "MANIFEST: expires is not after issued";
        return std::nullopt;
    }
    return m;
}

std::string render_manifest(const Manifest& m) {
    std::string out = "ringfence-bundle 1\n";
    out += "serial " + std::to_string(m.serial) + "\n";
    out += "issued " + format_utc(m.issued) + "\n";
    out += "expires " + format_utc(m.expires) + "\n";
    out += "scope";
    for (const std::string& s : m.scope) {
        out += " " + s;
    }
    out += "\n";
    for (const BundleFile& f : m.files) {
        out += "file " + f.name + " " + f.sha256 + "\n";
    }
    return out;
}

bool scope_matches(const std::vector<std::string>& scope, const std::string& host,
                   const std::vector<std::string>& groups) {
    for (const std::string& s : scope) {
        if (s == "*" || (!host.empty() && core::iequals(s, host))) {
            return true;
        }
        if (s.size() > 1 && s[0] == '@') {
            for (const std::string& g : groups) {
                if (s.compare(1, std::string::npos, g) == 0) {
                    return true;
                }
            }
        }
    }
    return false;
}

bool lint_bundle(const std::vector<StagedFile>& files, std::vector<std::string>* errors) {
    std::map<std::string, const StagedFile*> by_name;
    std::map<std::string, const StagedFile*> by_dest;
    for (const StagedFile& f : files) {
        by_name[f.name] = &f;
        by_dest[f.destination] = &f;
    }
    size_t before = errors->size();
    auto report = [&](const core::Diagnostics& diags) {
        for (const core::Diagnostic& d : diags) {
            if (d.severity == core::Severity::error) {
                errors->push_back(d.one_line());
            }
        }
    };
    // Account layer: access.conf and access.d/*.conf of the bundle.
    std::vector<core::ConfigText> access_files;
    for (const StagedFile& f : files) {
        if (f.name == "access.conf" || f.name.compare(0, 9, "access.d/") == 0) {
            access_files.push_back(config_text("bundle:" + f.name, f.content));
        }
    }
    if (!access_files.empty()) {
        core::Diagnostics diags;
        auto p = access::Policy::compile(access_files, access::ParseOptions(), &diags);
        report(diags);
        if (!p->valid() && errors->size() == before) {
            errors->push_back("bundle: the access.conf files do not compile");
        }
    }
    // Daemon layer: hosts.allow and hosts.deny, the host's where the bundle has none.
    if (by_name.count("hosts.allow") || by_name.count("hosts.deny")) {
        auto file = [&](const char* name) {
            auto it = by_name.find(name);
            if (it != by_name.end()) {
                return tcpd::hosts_file_from_text("bundle:" + std::string(name), it->second->content);
            }
            return tcpd::read_hosts_file("/etc/" + std::string(name));
        };
        core::Diagnostics diags;
        size_t mark = errors->size();
        auto p = tcpd::Policy::compile(file("hosts.allow"), file("hosts.deny"), tcpd::CompileOptions(), &diags);
        report(diags);
        if (!p->valid() && errors->size() == mark) {
            errors->push_back("bundle: hosts.allow / hosts.deny do not compile");
        }
    }
    // Packet layer: firewall.conf (the bundle's or the host's) with the bundle's set files.
    bool sets = false;
    for (const StagedFile& f : files) {
        sets = sets || f.name.compare(0, 5, "sets/") == 0;
    }
    if (by_name.count("firewall.conf") || sets) {
        firewall::CompileOptions opts;
        opts.read_set_file = [&](const std::string& path) {
            auto it = by_dest.find(path);
            if (it == by_dest.end()) {
                return core::read_config_file(path);
            }
            core::ReadResult rr;
            rr.status = core::ReadStatus::ok;
            rr.text = config_text(path, it->second->content);
            return rr;
        };
        core::Diagnostics diags;
        std::shared_ptr<const firewall::Policy> p;
        auto it = by_name.find("firewall.conf");
        if (it != by_name.end()) {
            p = firewall::Policy::compile(kFirewallConf, core::split_lines(it->second->content), opts, &diags);
        } else {
            core::ReadResult rr = core::read_config_file(kFirewallConf);
            if (rr.status == core::ReadStatus::ok) {
                p = firewall::Policy::compile(kFirewallConf, rr.text.lines, opts, &diags);
            }
        }
        // Name the bundle's own files, not where they will be installed.
        for (core::Diagnostic& d : diags) {
            auto staged = by_dest.find(d.file);
            if (staged != by_dest.end()) {
                d.file = "bundle:" + staged->second->name;
            }
        }
        size_t mark = errors->size();
        report(diags);
        if (p && !p->valid() && errors->size() == mark) {
            errors->push_back("bundle: firewall.conf does not compile");
        }
    }
    return errors->size() == before;
}

}  // namespace ringfence::cli
