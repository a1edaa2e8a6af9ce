// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: what a feed or bundle server sends, before anything vouches
// for it. The first byte picks the parser: a plain feed, a Spamhaus feed
// (then the never-block check), a bundle MANIFEST, or a .minisig verified
// against a fixed key.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/bundle.h"
#include "core/minisign.h"
#include "iptables_helper/feeds.h"

using namespace ringfence;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string err;
    switch (data[0] % 4) {
        case 0:
        case 1: {
            auto p = firewall::parse_feed(text, data[0] % 4 == 0 ? firewall::FeedFormat::plain
                                                                  : firewall::FeedFormat::spamhaus,
                                          1000, 1796400000);
            if (p.list) {
                std::vector<firewall::Protected> protect = {
                    {*core::CidrRange::parse("10.9.0.0/24", &err), "management"},
                    {*core::CidrRange::parse("2001:db8::/48", &err), "never"}};
                (void)firewall::check_feed(*p.list, protect);
                (void)firewall::render_feed_cache(*p.list, "https://fuzz/");
            }
            break;
        }
        case 2: {
            auto m = cli::parse_manifest(text, &err);
            if (m) {
                (void)cli::render_manifest(*m);
                for (const cli::BundleFile& f : m->files) {
                    (void)cli::bundle_destination(f.name);
                }
                (void)cli::scope_matches(m->scope, "console1", {"esx"});
            }
            break;
        }
        default: {
            static const auto key =
                core::parse_minisign_key("RWQBAgMEBQYH+K5NcVjcJy1dsco/CcCZcefvLo985jpTpeDipF8Xt6pH", &err);
            if (key) {
                (void)core::minisign_verify({*key}, "ringfence-bundle 1\n", text, &err);
            }
            (void)core::parse_minisign_key(text, &err);
            break;
        }
    }
    return 0;
}
