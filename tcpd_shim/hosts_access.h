// SPDX-License-Identifier: BSD-3-Clause
// The hosts_access(5) language: /etc/hosts.allow and /etc/hosts.deny,
// compiled once into an immutable Policy and evaluated as a pure function of
// the policy, a Request and the lookups passed in (reverse and forward DNS,
// netgroups). Decisions follow Debian's libwrap 7.6.q (the oracle of the
// differential test) on well-formed files; a malformed rule denies.
//
// Evaluation: hosts.allow, then hosts.deny; the first rule whose daemon list
// and client list both match decides (allow file: grant, deny file: refuse,
// unless its options end in `allow` or `deny`); no match grants.
//
// The four verbs: compile (Policy::compile, hosts_compile.cc with
// hosts_lines.cc and hosts_options.cc), evaluate (Policy::evaluate through
// hosts_fast_index.cc; Policy::evaluate_reference in hosts_evaluate.cc),
// lint (hosts_lint.h) and explain (hosts_explain.h, which also turns a
// Decision into a core::Decision with its reason).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config_file.h"
#include "core/diagnostic.h"
#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"

namespace ringfence::tcpd {

// ---------------------------------------------------------------------------
// Lookups

// Reverse DNS: the name a PTR lookup gives for `address` (getnameinfo with
// NI_NAMEREQD), not yet verified. nullopt when there is none, on failure and
// on timeout. Implementations must bound the time they take.
class ReverseNameService {
public:
    virtual ~ReverseNameService() = default;
    virtual std::optional<std::string> reverse(const core::IpAddress& address) = 0;
};

// What evaluation may ask. A null member means "never look that up": names
// stay "unknown", netgroups never match.
struct Lookups {
    ReverseNameService* reverse = nullptr;
    core::NameService* forward = nullptr;  // verifies reverse names (double-reverse)
    core::Identity* identity = nullptr;    // innetgr() and the NIS domain
};

// libwrap's placeholder names: a client whose name cannot be found is
// "unknown"; one whose reverse and forward lookups disagree is "paranoid".
inline constexpr std::string_view kUnknown = "unknown";
inline constexpr std::string_view kParanoid = "paranoid";

// The double-reverse lookup of libwrap's sock_hostname(): the PTR name of the
// address, then a forward lookup of that name that must give the address back.
// Returns the name, "unknown" (no PTR name) or "paranoid" (the PTR name is a
// numeric address, does not resolve, or does not resolve back to the address).
// v4-mapped addresses are looked up as IPv4.
std::string verified_host_name(const core::IpAddress& address, ReverseNameService& reverse,
                               core::NameService& forward);

// ---------------------------------------------------------------------------
// Request and decision

struct Endpoint {
    std::optional<core::IpAddress> address;  // nullopt: "unknown"
    // Given name (as libwrap's RQ_CLIENT_NAME; "" means "unknown"). nullopt:
    // looked up from the address, once, and only when a rule needs a name.
    std::optional<std::string> name;
};

struct Request {
    std::string daemon;                   // process name (argv[0] basename); "" = "unknown"
    std::optional<uint16_t> server_port;  // for numeric daemon patterns; nullopt = never matches one
    Endpoint server;
    Endpoint client;
    std::optional<std::string> user;      // RFC 931 user; nullopt or "" = "unknown" (no ident lookup)
};

// ---------------------------------------------------------------------------
// Compiled policy

// A pattern compared with a string (daemon, user, host name or address), as
// libwrap's string_match(): case-insensitive, "::ffff:a.b.c.d" is compared as
// "a.b.c.d".
struct StringPattern {
    enum class Kind {
        all,       // ALL
        known,     // KNOWN: the string is not "unknown"
        wildcard,  // contains '*' or '?'
        suffix,    // .example.com: the string is longer and ends with it
        prefix,    // 10.1. or host.: the string starts with it
        v6,        // [2001:db8::1]: the same IPv6 address
        exact,     // anything else, case-insensitive
    };
    Kind kind = Kind::exact;
    std::string text;                   // as written
    std::string lower;                  // text, ASCII lower-cased (set at compile time)
    std::optional<core::IpAddress> v6;  // Kind::v6
};

struct HostPattern;
using HostPatternList = std::vector<HostPattern>;

// A pattern compared with an endpoint (libwrap's host_match()).
struct HostPattern {
    enum class Kind {
        string,    // address, and the name too when the text is not all digits, dots and slashes
        known,     // KNOWN: address and name both known
        local,     // LOCAL: the name has no dot
        netgroup,  // @group: innetgr(group, name, -, NIS domain)
        file,      // /path: any pattern in the file (read at compile time)
        v4_net,    // a.b.c.d/m or a.b.c.d/m.m.m.m
        v6_net,    // [v6]/len
    };
    Kind kind = Kind::string;
    std::string text;
    StringPattern string;            // Kind::string
    bool also_name = false;          // Kind::string: compare with the host name as well
    std::string netgroup;            // Kind::netgroup
    std::shared_ptr<const HostPatternList> file_patterns;  // Kind::file (empty if missing)
    // Kind::v4_net: core's netmask mode (any mask, as libwrap); Kind::v6_net:
    // a prefix.
    std::optional<core::CidrRange> net;

    // Whether matching may need the host name (and so a DNS lookup).
    bool needs_name() const;
};

struct DaemonPattern {
    bool is_port = false;                // a number 0..65535: the server port
    uint16_t port = 0;
    StringPattern daemon;                // !is_port
    std::optional<HostPattern> server;   // daemon@host
    std::string text;
};

struct ClientPattern {
    std::optional<StringPattern> user;   // user@host
    HostPattern host;
    std::string text;
};

// "a b EXCEPT c EXCEPT d" is parts {a b} {c} {d} and means
// (a or b) and not ((c) and not (d)).
template <typename T>
struct PatternList {
    std::vector<std::vector<T>> parts;
};

// One hosts_options(5) option, parsed and checked; executing it is the
// adapter's job.
struct Option {
    enum class Kind {
        allow, deny, severity, banners, spawn, twist, setenv, umask, user, group, nice, keepalive, linger, rfc931
    };
    Kind kind = Kind::allow;
    std::string keyword;   // as written
    std::string value;     // "\:" already replaced by ':'; empty when none
    int number = 0;        // umask: the mask; nice: the increment (default 10);
                           // linger: seconds; rfc931: timeout (0 = default)
    int facility = -1;     // severity: LOG_* facility, -1 = unchanged
    int level = -1;        // severity: LOG_* level
    std::string name;      // setenv: variable; user: user name
    std::string argument;  // setenv: value; user: group after '.' (may be empty)
    int line = 0;
    int column = 0;
};

const char* option_name(Option::Kind kind);

enum class FileKind { allow, deny };

struct Rule {
    FileKind file_kind = FileKind::allow;
    std::string file;
    int line = 0;          // first physical line of the rule
    int last_line = 0;     // last physical line (libwrap reports this one)
    std::string source;    // the logical line, continuations joined, without '\n'

    PatternList<DaemonPattern> daemons;
    PatternList<ClientPattern> clients;
    bool has_options = false;
    std::vector<Option> options;

    // A rule with an error denies instead of doing anything else, as libwrap
    // does for option errors. What it denies: every request that reaches it
    // when the lists themselves could not be compiled, else every request
    // its lists match.
    bool broken = false;
    bool daemons_broken = false;
    bool clients_broken = false;
    std::string error;     // the first error, for logs

    std::string location() const;  // "file:line"
};

enum class Verdict { allow, deny };

struct Decision {
    enum class Reason {
        allow_rule,     // matched in hosts.allow
        deny_rule,      // matched in hosts.deny
        allow_option,   // matched, and its options end in `allow`
        deny_option,    // matched, and its options end in `deny`
        broken_rule,    // a rule with an error was reached (or matched)
        default_allow,  // nothing matched
    };
    Verdict verdict = Verdict::allow;
    Reason reason = Reason::default_allow;
    const Rule* rule = nullptr;  // null only for default_allow
    // The patterns of the deciding rule's daemon and client lists (their
    // first parts, before any EXCEPT) that matched; null for default_allow
    // and for a list that could not be compiled.
    const DaemonPattern* daemon = nullptr;
    const ClientPattern* client = nullptr;
    // The client's host name if a pattern needed it (given or looked up),
    // else empty: what a name pattern was compared with.
    std::string client_name;

    // "hosts.allow:3" or "default allow".
    std::string location() const;
    // The options of the deciding rule (to execute on a grant, or `banners`
    // and `spawn` on a refusal); null when none apply.
    const std::vector<Option>* options() const {
        return rule != nullptr && rule->has_options && !rule->broken ? &rule->options : nullptr;
    }
    // "granted by hosts.allow:3", "refused by hosts.deny:1 (ALL: ALL)", ...
    std::string explanation() const;
    // Every field the same (the tests compare the two evaluators with it).
    bool operator==(const Decision& o) const {
        return verdict == o.verdict && reason == o.reason && rule == o.rule && daemon == o.daemon &&
               client == o.client && client_name == o.client_name;
    }
    // The same decision from another compile of the same files
    // (Policy::compile_and_decide() against compile()): rules compared by
    // file and line, patterns by their place in the list.
    bool same_as(const Decision& o) const;
};

// A hosts file as read from disk: raw bytes, so that line continuations,
// the final newline and the line length are judged exactly as libwrap does.
struct HostsFile {
    std::string path;
    bool exists = false;                       // false: missing = empty
    std::string content;
    std::optional<core::Diagnostic> read_error;  // set: the file could not be read safely
    core::FileStamp stamp;
};

// Reads with core::read_config_file (O_NOFOLLOW, root-owned, not group or
// world writable). Missing: exists false, no error.
HostsFile read_hosts_file(const std::string& path);
HostsFile hosts_file_from_text(const std::string& path, const std::string& text);

struct CompileOptions {
    // Reads `/path` pattern files; defaults to core::read_config_file.
    std::function<core::ReadResult(const std::string&)> read_pattern_file;
};

// libwrap's logical line buffer is 2048 bytes: a rule (continuations joined)
// may hold at most 2046 bytes plus its newline.
inline constexpr size_t kMaxLogicalLine = 2046;
// libwrap copies daemon, user, host names and addresses into 128-byte
// buffers: longer request strings are compared by their first 127 bytes.
inline constexpr size_t kMaxRequestString = 127;
inline constexpr size_t kMaxPatternFileTokens = 100000;
inline constexpr int kMaxPatternFileDepth = 8;

struct FastIndex;  // hosts_fast_index.cc

class Policy {
public:
    // Compiles both files. Errors go to *diags (with file:line:col) and make
    // the policy invalid; the rules that have them deny (see Rule::broken).
    static std::shared_ptr<const Policy> compile(const HostsFile& allow, const HostsFile& deny,
                                                 const CompileOptions& options, core::Diagnostics* diags);
    // read_hosts_file() on both paths, then compile().
    static std::shared_ptr<const Policy> load(const std::string& allow_path, const std::string& deny_path,
                                              core::Diagnostics* diags);

    // compile() and, in the same pass over the text, the decision
    // evaluate() would make for `request`, for a process that decides once
    // (ringfence-tcpd, ringfence-tcpdmatch): every line of both files is
    // compiled, so the diagnostics and valid() are compile()'s, but each
    // rule is evaluated as soon as it is compiled and then dropped; once a
    // rule has decided, the rest are compiled for their diagnostics only.
    // Lookups are made as evaluate() makes them. The returned policy keeps
    // only the deciding rule (rules() is empty for default_allow), which
    // *decision points into; inputs() is complete.
    //
    // checked: both files are known to pass the whole check with no error
    // (a checked stamp, core/checked_stamp.h). Then a rule whose daemon list
    // does not match the request is not compiled past that list, and the
    // pass stops at the deciding rule, as libwrap's does: the same decision
    // for a fraction of the work.
    static std::shared_ptr<const Policy> compile_and_decide(const HostsFile& allow, const HostsFile& deny,
                                                            const CompileOptions& options, core::Diagnostics* diags,
                                                            const Request& request, const Lookups& lookups,
                                                            Decision* decision, bool checked = false);
    // read_hosts_file() on both paths, then compile_and_decide(), checked
    // when both files have a checked stamp of kind kCheckedKind. Without
    // one, every file that compiled with no error (and names no pattern
    // file) gets its stamp, when this process is root.
    static std::shared_ptr<const Policy> load_and_decide(const std::string& allow_path, const std::string& deny_path,
                                                         core::Diagnostics* diags, const Request& request,
                                                         const Lookups& lookups, Decision* decision);

    bool valid() const { return valid_; }
    const std::vector<Rule>& rules() const { return rules_; }  // allow rules first
    // Every file the policy was made of (both tables and the pattern files),
    // with the stamp it had: reload when any stamp_of() differs.
    const std::vector<std::pair<std::string, core::FileStamp>>& inputs() const { return inputs_; }

    // Thread-safe (the policy is immutable); lookups are made through
    // `lookups`, at most once per name per call, and only when a rule needs
    // the name.
    Decision evaluate(const Request& request, const Lookups& lookups) const;
    // The same decision, rule by rule without the fast index: what
    // evaluate() must agree with (the tests compare the two), and what
    // explain() walks.
    Decision evaluate_reference(const Request& request, const Lookups& lookups) const;

private:
    // A compact copy of the rules' common patterns (hosts_fast_index.cc), built
    // once by compile(), so that evaluate() skips most rules cheaply.
    std::shared_ptr<const FastIndex> fast_;
    std::vector<Rule> rules_;
    std::vector<std::pair<std::string, core::FileStamp>> inputs_;
    bool valid_ = false;
    // compile_and_decide(): hosts.allow, hosts.deny compiled whole with no
    // error and no pattern file (what a checked stamp may say).
    bool clean_[2] = {false, false};
    bool checked_ = false;  // decided on checked stamps

public:
    // Whether load_and_decide() decided on checked stamps (for tests).
    bool decided_on_stamps() const { return checked_; }
    // After compile() or compile_and_decide() (not on stamps) of these
    // files: writes the checked stamp of each that compiled with no error
    // and names no pattern file (only as root; see core/checked_stamp.h).
    // Returns how many were written.
    int record_checked_stamps(const HostsFile& allow, const HostsFile& deny) const;
};

// The name of hosts_access's check in a checked stamp.
inline constexpr const char* kCheckedKind = "hosts_access";

// "daemon@host" as the compiler reads a daemon pattern, and so as
// ringfence-tcpdmatch reads its operand: split at the first '@' after the
// first byte and outside [...]; host is nullopt when there is none.
struct DaemonAndHost {
    std::string_view daemon;
    std::optional<std::string_view> host;
};
DaemonAndHost split_daemon_host(std::string_view text);

// True when any input of the policy changed on disk (inode, size, mtime).
bool policy_is_stale(const Policy& policy);

// Glob match of libwrap's match_pattern_ylo(): '*' any run, '?' one byte,
// ASCII case-insensitive. No backtracking: O(len(pattern) * len(text)).
bool wildcard_match(std::string_view pattern, std::string_view text);

}  // namespace ringfence::tcpd
