// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: the parsers of ringfence-firewall's own inputs besides
// firewall.conf: state bundles (read back at boot and by rollback; a damaged
// file must be refused, never half read), iptables-restore text for the
// chain-reference check, set-name rewriting, the drift diff, and the
// SSH_CONNECTION value the lockout check reads (untrusted environment text).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "iptables_helper/applier.h"
#include "iptables_helper/evaluate.h"

using namespace ringfence;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (std::optional<firewall::Bundle> b = firewall::deserialize(text)) {
        // What was accepted survives a round trip unchanged.
        std::optional<firewall::Bundle> again = firewall::deserialize(firewall::serialize(*b));
        if (!again || again->backend != b->backend || again->policy != b->policy || again->v4 != b->v4 ||
            again->v6 != b->v6 || again->ipset != b->ipset || again->nft != b->nft || again->live != b->live ||
            again->source != b->source) {
            std::abort();
        }
    }
    (void)firewall::check_references(text, {"ringfence-bl-v4a", "ringfence-bl-v6a"});
    const std::string moved = firewall::retarget_sets(text, 'b');
    if (moved.size() != text.size()) {
        std::abort();  // only one letter per set name changes
    }
    const size_t half = size / 2;
    (void)firewall::line_diff(text.substr(0, half), text.substr(half));
    if (!firewall::line_diff(text, text).empty()) {
        std::abort();
    }
    // Either read whole (ports in range, zone only with link-local) or
    // refused with a reason: never a half-read value.
    std::string why;
    if (auto c = firewall::parse_ssh_connection(text.substr(0, 300), &why)) {
        if (c->client_port == 0 || c->server_port == 0 || !why.empty()) {
            std::abort();
        }
    } else if (why.empty()) {
        std::abort();
    }
    return 0;
}
