// SPDX-License-Identifier: BSD-3-Clause
// The firewall.conf language (layer 1): text compiled once into an immutable
// Policy, with compiler-style diagnostics. Pure code: set files are read
// through a function the caller passes (core::read_config_file by default),
// nothing here touches netfilter.
//
// Grammar (one statement per line, '#' starts a comment, words separated by
// blanks; keywords are case-insensitive, names are case-sensitive):
//
//   policy in  drop|reject|accept          default: drop
//   policy out drop|reject|accept          default: accept
//   service NAME PORTSPEC...               e.g. service vmware-authd tcp/902 udp/902
//   set NAME file PATH                     one address or CIDR per line, '#' comments
//   set NAME url URL [every DURATION] [format plain|spamhaus] [max N] [cache PATH]
//                                          a feed `ringfence sync` fetches; its last good
//                                          list is the file PATH (default
//                                          /var/lib/ringfence/feeds/NAME.list), empty until then
//   never ADDRESS...                       addresses and CIDRs no feed may list
//   allow  in  [TARGET...] [from SOURCE...]
//   allow  out [TARGET...] [to DEST...]
//   deny   in  [TARGET...] from SOURCE...  (deny out ... to DEST...)
//   reject in  [TARGET...] from SOURCE...  (reject out ... to DEST...)
//   log denied [rate N/sec|N/min|N/hour|N/day]   default rate 10/min
//
//   PORTSPEC  tcp/PORTS | udp/PORTS | tcp | udp | icmp[/TYPE,...] | icmpv6[/TYPE,...]
//   PORTS     PORT or LO-HI, comma-separated: tcp/2050-2250,8042-8045
//   TARGET    a service NAME, a PORTSPEC, or `all` (the default)
//   SOURCE    an IPv4/IPv6 address or CIDR, a set NAME, or `any`
//
// Meaning: deny and reject rules are checked first (before established
// connections, so adding an address cuts its live sessions, as the rc.local
// `iptables -I INPUT 1 -s X -j DROP` lines did), then allow rules, then the
// default policy. Addresses of both families may be mixed; each lands in its
// family. A rule whose sources all belong to one family does not exist in the
// other family (it is never widened to "from anywhere"), and the default
// policy governs both families in every case.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config_file.h"
#include "core/diagnostic.h"
#include "core/ip.h"

namespace ringfence::firewall {

struct Plan;  // plan.h

enum class Direction { in, out };
enum class Action { accept, drop, reject };
enum class Protocol { any, tcp, udp, icmp, icmpv6 };

const char* direction_name(Direction d);
const char* action_name(Action a);
const char* protocol_name(Protocol p);

struct PortRange {
    uint16_t lo = 0;
    uint16_t hi = 0;  // lo <= hi, both in 1..65535
    bool operator==(const PortRange& o) const { return lo == o.lo && hi == o.hi; }
};

// One protocol with its ports (tcp/udp) or message types (icmp/icmpv6).
// Empty ports/types: every port or type of the protocol. Protocol::any: all
// traffic (the `all` target).
struct PortSpec {
    Protocol protocol = Protocol::any;
    std::vector<PortRange> ports;  // tcp, udp
    std::vector<uint8_t> types;    // icmp, icmpv6
    std::string text;              // as written, for comments and messages
};

struct Service {
    std::string name;
    std::vector<PortSpec> specs;
    int line = 0;
};

enum class FeedFormat { plain, spamhaus };
const char* feed_format_name(FeedFormat f);

// A set that comes from a URL (`set NAME url ...`). Its entries are read
// from the cache file (AddressSet::path) that `ringfence sync` keeps.
struct Feed {
    std::string url;
    long every_seconds = 3600;
    FeedFormat format = FeedFormat::plain;
    size_t max_entries = 100000;
};

struct AddressSet {
    std::string name;
    std::string path;                     // as written in firewall.conf (for a feed: its cache file)
    std::optional<Feed> feed;             // set NAME url ...
    std::vector<core::CidrRange> v4;      // in file order; /0 split into two /1
    std::vector<core::CidrRange> v6;
    int line = 0;
};

// Where a rule's peers may be. `any` true: everywhere (no address match).
// Otherwise only the listed networks and sets; a family with neither has no
// rule at all.
struct Peers {
    bool any = true;
    std::vector<core::CidrRange> v4;
    std::vector<core::CidrRange> v6;
    std::vector<std::string> sets;  // AddressSet names, both families

    bool empty_in(core::IpAddress::Family f) const;  // !any and nothing of family f
};

struct Rule {
    Action action = Action::accept;
    Direction direction = Direction::in;
    std::vector<PortSpec> specs;       // resolved; one PortSpec{any} for `all`
    std::vector<std::string> targets;  // as written (service names, specs), for comments
    Peers peers;                       // sources (in) or destinations (out)
    int line = 0;
    std::string source;                // the statement as written, for explanations
};

struct LogSettings {
    bool enabled = false;
    int rate = 10;                 // packets per unit
    std::string unit = "minute";   // second|minute|hour|day (iptables' limit units)
    int burst = 5;
};

inline constexpr size_t kMaxWordsPerLine = 1024;
inline constexpr size_t kMaxSetName = 14;  // "ringfence-" NAME "-v4a" fits ipset's 31 bytes
inline constexpr size_t kMaxServiceName = 64;
inline constexpr size_t kMaxSetEntries = 4u << 20;

struct CompileOptions {
    // Reads set files; defaults to core::read_config_file. Relative paths are
    // taken relative to the directory of the firewall.conf.
    std::function<core::ReadResult(const std::string&)> read_set_file;
};

class Policy {
public:
    // Compiles `lines` (the text of `file`). Errors go to *diags as
    // "file:line:col: error: ..." with a hint; any error makes the policy
    // invalid (valid() false), and an invalid policy must never be rendered.
    static std::shared_ptr<const Policy> compile(const std::string& file, const std::vector<std::string>& lines,
                                                 const CompileOptions& options, core::Diagnostics* diags);
    // read_config_file(path) then compile(); a read failure is a diagnostic.
    static std::shared_ptr<const Policy> load(const std::string& path, core::Diagnostics* diags);

    bool valid() const { return valid_; }
    const std::string& file() const { return file_; }
    Action default_in() const { return default_in_; }
    Action default_out() const { return default_out_; }
    const std::vector<Service>& services() const { return services_; }  // in file order
    const std::vector<AddressSet>& sets() const { return sets_; }       // in file order
    const std::vector<Rule>& rules() const { return rules_; }           // in file order
    const LogSettings& log() const { return log_; }
    // The order in which the chains look at a packet (plan.h): what the
    // renderers print and the evaluator walks.
    const Plan& plan() const;
    // `never` statements, in file order: what no feed may list.
    const std::vector<core::CidrRange>& never() const { return never_; }

    const Service* find_service(const std::string& name) const;
    const AddressSet* find_set(const std::string& name) const;

private:
    Policy() = default;
    friend class Compiler;
    bool valid_ = false;
    std::string file_;
    Action default_in_ = Action::drop;
    Action default_out_ = Action::accept;
    std::vector<Service> services_;
    std::vector<AddressSet> sets_;
    std::vector<Rule> rules_;
    LogSettings log_;
    std::shared_ptr<const Plan> plan_;
    std::vector<core::CidrRange> never_;
};

// The directory of feed cache files when `cache` is not given.
inline constexpr const char* kFeedCacheDir = "/var/lib/ringfence/feeds";

}  // namespace ringfence::firewall
