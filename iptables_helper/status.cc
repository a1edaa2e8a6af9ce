// SPDX-License-Identifier: BSD-3-Clause
#include "iptables_helper/status.h"

#include "core/config_file.h"
#include "iptables_helper/system.h"

namespace ringfence::firewall {

namespace {

constexpr size_t kMaxSetDiff = 4000;

}  // namespace

bool StatusReport::drift() const {
    return !live_diff.empty() || file == File::changed || file == File::invalid ||
           (pending && !pending_timer_alive);
}

StatusReport firewall_status(const StateStore& state, const Tools& tools, const std::string& file) {
    StatusReport r;
    std::optional<Bundle> active = state.read("active", &r.error);
    if (!active) {
        if (r.error.empty()) {
            r.error = "nothing applied (no state in " + state.path() + ")";
        }
        return r;
    }
    r.applied = true;
    r.backend = active->backend;
    r.source = active->source;
    r.live_diff = line_diff(active->live, capture_live(active->backend, tools));
    if (active->backend == Backend::iptables && !active->ipset.empty()) {
        std::string members = line_diff(set_members_expected(active->ipset), set_members_live(tools));
        if (members.size() > kMaxSetDiff) {
            members = members.substr(0, members.rfind('\n', kMaxSetDiff) + 1) + "... (more set entries differ)\n";
        }
        r.live_diff += members;
    }
    r.file_path = file.empty() ? active->source : file;
    if (!r.file_path.empty() && active->backend != Backend::none) {
        core::ReadResult rr = core::read_config_file(r.file_path);
        if (rr.status == core::ReadStatus::missing) {
            r.file = file.empty() ? StatusReport::File::missing : StatusReport::File::invalid;
            if (!file.empty()) {
                core::Diagnostic d;
                d.file = r.file_path;
                d.message = "the firewall policy does not exist";
                r.file_diags.push_back(d);
            }
        } else if (rr.status == core::ReadStatus::error) {
            r.file = StatusReport::File::invalid;
            r.file_diags.push_back(rr.error);
        } else {
            std::shared_ptr<const Policy> p = Policy::compile(r.file_path, rr.text.lines, CompileOptions(), &r.file_diags);
            if (!p || !p->valid() || core::has_errors(r.file_diags)) {
                r.file = StatusReport::File::invalid;
            } else {
                std::string text;
                for (const std::string& l : rr.text.lines) {
                    text += l + "\n";
                }
                Bundle now = make_bundle(*p, active->backend, text);
                bool same = now.v4 == active->v4 && now.v6 == active->v6 && now.ipset == active->ipset &&
                            now.nft == active->nft;
                r.file = same ? StatusReport::File::same : StatusReport::File::changed;
            }
        }
    }
    r.pending = state.pending();
    if (r.pending) {
        r.pending_timer_alive = is_timer(r.pending->pid, r.pending->token);
    }
    return r;
}

}  // namespace ringfence::firewall
