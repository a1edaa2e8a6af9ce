// SPDX-License-Identifier: BSD-3-Clause
// ringfence sync: fetch, verify, lint, install, apply; keep the last good
// of everything. Whatever arrives over the network is untrusted until the
// step that vouches for it (signature, hash, parse, lint) has passed; a
// refusal changes nothing on the host and says why in one line (stderr and
// syslog).
#include "cli/sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/bundle.h"
#include "cli/context.h"
#include "core/atomic_file.h"
#include "core/config_file.h"
#include "core/diagnostic.h"
#include "core/exit_status.h"
#include "core/http_fetch.h"
#include "core/minisign.h"
#include "core/paths.h"
#include "core/program.h"
#include "core/run_program.h"
#include "core/socket_address.h"
#include "core/text.h"
#include "iptables_helper/apply_file.h"
#include "iptables_helper/feeds.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::cli {

namespace {

namespace fw = ringfence::firewall;

constexpr const char* kSyncConf = core::kSyncConf;
constexpr const char* kSyncState = core::kSyncStateDir;
constexpr const char* kFirewallConf = core::kFirewallConf;
constexpr const char* kFirewallState = core::kFirewallStateDir;

struct SyncConfig {
    std::string bundle_url;  // base URL ending in '/'
    std::vector<core::MinisignKey> keys;
    std::string host;
    std::vector<std::string> groups;
    std::string ca_file;
    std::string pin;
    std::string firewall = kFirewallConf;
    long stale_seconds = 86400;
    size_t max_bytes = 16u << 20;
    long timeout = 30;
};

struct SyncOptions {
    std::string config = kSyncConf;
    std::string state_dir = kSyncState;
    std::string backend;          // as ringfence-firewall --backend
    std::string firewall_state;   // as ringfence-firewall --state-dir
    bool force = false;
    bool quiet = false;
};

void say(const SyncOptions& o, const std::string& text) {
    if (!o.quiet) {
        std::printf("%s\n", text.c_str());
        std::fflush(stdout);
    }
}

// One line on stderr and in syslog: what went wrong and what was kept.
void complain(int priority, const std::string& text) {
    std::fprintf(stderr, "ringfence sync: %s\n", text.c_str());
    syslog(priority, "%s", core::escape_for_log(text, 900).c_str());
}

std::optional<long> parse_duration(const std::string& s) {
    if (s.empty() || s.size() > 12) {
        return std::nullopt;
    }
    long unit = 1;
    std::string n = s;
    char last = n.back();
    if (last == 's' || last == 'm' || last == 'h' || last == 'd') {
        unit = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : 86400;
        n.pop_back();
    }
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stol(n) * unit;
}

std::vector<std::string> words_of(const std::string& line) { return core::config_word_strings(line); }

std::string hostname() {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0) {
        return "";
    }
    return buf;
}

// sync.conf: see ringfence-sync(8). Read with the config trust checks.
// `root` ("" for this host) is put before the absolute paths sync.conf names
// (key files), so that `ringfence --root DIR audit` reads the tree's.
std::optional<SyncConfig> load_config(const std::string& path, bool must_exist, std::string* error,
                                      const std::string& root = "") {
    core::ReadResult rr = core::read_config_file(path);
    if (rr.status == core::ReadStatus::missing && !must_exist) {
        SyncConfig defaults;
        defaults.host = hostname();
        return defaults;  // feeds only
    }
    if (rr.status == core::ReadStatus::missing) {
        *error = path + ": does not exist (see ringfence-sync(8))";
        return std::nullopt;
    }
    if (rr.status != core::ReadStatus::ok) {
        *error = rr.error.one_line();
        return std::nullopt;
    }
    SyncConfig c;
    c.host = hostname();
    for (size_t i = 0; i < rr.text.lines.size(); ++i) {
        std::vector<std::string> w = words_of(rr.text.lines[i]);
        std::string where = path + ":" + std::to_string(i + 1) + ":1: error: ";
        if (w.empty()) {
            continue;
        }
        const std::string& k = w[0];
        if (k == "group") {
            if (w.size() < 2) {
                *error = where + "expected group names after 'group'";
                return std::nullopt;
            }
            c.groups.insert(c.groups.end(), w.begin() + 1, w.end());
            continue;
        }
        if (w.size() != 2) {
            *error = where + "expected '" + core::escape_for_log(k, 40) + " VALUE'";
            return std::nullopt;
        }
        const std::string& v = w[1];
        if (k == "bundle") {
            if (!core::istarts_with(v, "https://")) {
                *error = where + "the bundle URL must be https://";
                return std::nullopt;
            }
            c.bundle_url = v.back() == '/' ? v : v + "/";
        } else if (k == "key") {
            std::string text = v;
            if (v[0] == '/') {
                core::ReadResult kr = core::read_config_file(root + v);
                if (kr.status != core::ReadStatus::ok) {
                    *error = where + "cannot read the key file " + v +
                             (kr.status == core::ReadStatus::missing ? ": it does not exist" : ": " + kr.error.one_line());
                    return std::nullopt;
                }
                text.clear();
                for (const std::string& l : kr.text.lines) {
                    text += l + "\n";
                }
            }
            std::string why;
            auto key = core::parse_minisign_key(text, &why);
            if (!key) {
                *error = where + why;
                return std::nullopt;
            }
            if (c.keys.size() == 2) {
                *error = where + "at most two keys (the current one and the next, while rotating)";
                return std::nullopt;
            }
            c.keys.push_back(*key);
        } else if (k == "host") {
            c.host = v;
        } else if (k == "ca-file") {
            c.ca_file = v;
        } else if (k == "pin") {
            c.pin = v;
        } else if (k == "firewall") {
            c.firewall = v;
        } else if (k == "stale") {
            auto d = parse_duration(v);
            if (!d || *d <= 0) {
                *error = where + "expected a duration such as 12h or 2d";
                return std::nullopt;
            }
            c.stale_seconds = *d;
        } else if (k == "max-bytes") {
            if (v.find_first_not_of("0123456789") != std::string::npos || v.size() > 10) {
                *error = where + "expected a number of bytes";
                return std::nullopt;
            }
            c.max_bytes = std::stoul(v);
        } else if (k == "timeout") {
            auto d = parse_duration(v);
            if (!d || *d <= 0 || *d > 3600) {
                *error = where + "expected a timeout from 1s to 1h";
                return std::nullopt;
            }
            c.timeout = *d;
        } else {
            *error = where + "unknown setting '" + core::escape_for_log(k, 40) +
                     "' (bundle, key, host, group, ca-file, pin, firewall, stale, max-bytes, timeout)";
            return std::nullopt;
        }
    }
    if (!c.bundle_url.empty() && c.keys.empty()) {
        *error = path + ": a bundle URL needs at least one 'key' to verify it with";
        return std::nullopt;
    }
    return c;
}

core::FetchRequest request_for(const SyncConfig& c, const std::string& url, size_t max_bytes) {
    core::FetchRequest r;
    r.url = url;
    r.ca_file = c.ca_file;
    r.pinned_key = c.pin;
    r.max_bytes = max_bytes;
    r.connect_timeout = std::min(c.timeout, 10L);
    r.low_speed_time = c.timeout;
    r.total_timeout = std::max(c.timeout * 10, 60L);
    return r;
}

// --- small file helpers ----------------------------------------------------

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool make_dirs(const std::string& dir, mode_t mode) {
    std::string cur;
    size_t pos = 1;
    while (pos <= dir.size()) {
        size_t slash = dir.find('/', pos);
        cur = dir.substr(0, slash);
        if (!cur.empty() && mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
            return false;
        }
        if (slash == std::string::npos) {
            break;
        }
        pos = slash + 1;
    }
    return true;
}

std::string dir_of(const std::string& path) {
    size_t s = path.rfind('/');
    return s == std::string::npos || s == 0 ? "/" : path.substr(0, s);
}

bool write_file(const std::string& path, const std::string& bytes, mode_t mode, std::string* error) {
    if (!make_dirs(dir_of(path), 0755)) {
        *error = "cannot create " + dir_of(path) + ": " + std::strerror(errno);
        return false;
    }
    core::NewFileAttrs attrs;
    attrs.mode = mode;
    return core::replace_file(path, bytes, attrs, error) == 0;
}

std::map<std::string, std::string> read_state(const std::string& path) {
    std::map<std::string, std::string> m;
    auto text = read_file(path);
    if (!text) {
        return m;
    }
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        size_t sp = line.find(' ');
        if (sp != std::string::npos) {
            m[line.substr(0, sp)] = line.substr(sp + 1);
        }
    }
    return m;
}

bool write_state(const std::string& path, const std::map<std::string, std::string>& m, std::string* error) {
    std::string out;
    for (const auto& [k, v] : m) {
        std::string clean = v;
        std::replace(clean.begin(), clean.end(), '\n', ' ');
        out += k + " " + clean + "\n";
    }
    return write_file(path, out, 0600, error);
}

long state_number(const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    if (it == m.end() || it->second.empty() || it->second.find_first_not_of("0123456789") != std::string::npos ||
        it->second.size() > 18) {
        return 0;
    }
    return std::stol(it->second);
}

// The state directory, locked for the whole run: two syncs never interleave.
class StateLock {
public:
    bool open(const std::string& dir, std::string* error) {
        if (!make_dirs(dir, 0700)) {
            *error = "cannot create the state directory " + dir + ": " + std::strerror(errno);
            return false;
        }
        fd_ = ::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_ < 0) {
            *error = "cannot open " + dir + "/lock: " + std::strerror(errno);
            return false;
        }
        for (int i = 0; i < 600; ++i) {
            if (flock(fd_, LOCK_EX | LOCK_NB) == 0) {
                return true;
            }
            usleep(100000);
        }
        *error = "another ringfence sync holds " + dir + "/lock (waited 60 s)";
        return false;
    }
    ~StateLock() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

private:
    int fd_ = -1;
};

// --- the firewall ----------------------------------------------------------

// The firewall's own apply, linked (iptables_helper/apply_file.h): the
// same policy checks, SSH lockout check, lock and transaction as
// `ringfence-firewall apply`, without a confirmation (nobody is there to
// confirm a timer's run). When only the members of sets changed (a feed),
// only they are loaded. "" or why it failed; the ruleset is then unchanged.
std::string apply_firewall(const SyncOptions& o, const std::string& policy) {
    fw::ApplyRequest req;
    req.file = policy;
    req.backend = o.backend;
    req.state_dir = o.firewall_state;
    const char* ssh = std::getenv("SSH_CONNECTION");
    req.ssh_connection = ssh != nullptr ? ssh : "";
    req.under_sudo = std::getenv("SUDO_USER") != nullptr;
    fw::FileApply apply(req);
    fw::Outcome out = apply.prepare();
    if (out.ok()) {
        fw::CriticalSection critical;  // the transaction runs to its end
        out = apply.run();
    }
    for (const auto& [level, text] : out.log) {
        syslog(level == fw::LogLevel::notice ? LOG_NOTICE : level == fw::LogLevel::warning ? LOG_WARNING : LOG_ERR,
               "%s", core::escape_for_log(text, 900).c_str());
    }
    if (out.ok()) {
        for (const std::string& warning : out.problems) {
            complain(LOG_WARNING, "firewall: " + warning);
        }
        return "";
    }
    std::string why = out.problems.empty() ? "failed" : out.problems.back();
    if (!out.diagnostics.empty()) {
        why += " (" + out.diagnostics.front().substr(0, out.diagnostics.front().find('\n')) + ")";
    }
    return "the firewall apply failed: " + core::escape_for_log(why, 400);
}

// --- what a feed may never block ------------------------------------------

void add_host_addresses(std::vector<fw::Protected>* p) {
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return;
    }
    for (struct ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr) {
            continue;
        }
        if (auto a = core::address_of(i->ifa_addr)) {
            p->push_back({core::CidrRange::host(*a), "an address of this host (" + std::string(i->ifa_name) + ")"});
        }
    }
    freeifaddrs(list);
}

// Established TCP connections to a local SSH port, from /proc/net/tcp{,6}.
void add_ssh_peers(const std::vector<uint16_t>& ports, std::vector<fw::Protected>* p) {
    for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream s(line);
            std::string sl, local, remote, state;
            s >> sl >> local >> remote >> state;
            if (state != "01") {
                continue;  // TCP_ESTABLISHED
            }
            size_t lc = local.find(':'), rc = remote.find(':');
            if (lc == std::string::npos || rc == std::string::npos) {
                continue;
            }
            uint16_t port = uint16_t(std::strtoul(local.substr(lc + 1).c_str(), nullptr, 16));
            if (std::find(ports.begin(), ports.end(), port) == ports.end()) {
                continue;
            }
            std::string hex = remote.substr(0, rc);
            std::string text;
            if (hex.size() == 8) {
                uint32_t v = uint32_t(std::strtoul(hex.c_str(), nullptr, 16));  // host byte order (little endian)
                text = std::to_string(v & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." +
                       std::to_string((v >> 16) & 0xff) + "." + std::to_string(v >> 24);
            } else if (hex.size() == 32) {
                for (int w = 0; w < 4; ++w) {
                    uint32_t v = uint32_t(std::strtoul(hex.substr(size_t(w) * 8, 8).c_str(), nullptr, 16));
                    char buf[16];
                    std::snprintf(buf, sizeof buf, "%02x%02x:%02x%02x", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
                                  v >> 24);
                    text += (w ? ":" : "") + std::string(buf);
                }
            }
            if (auto a = core::IpAddress::parse(text)) {
                core::IpAddress addr = a->is_v4_mapped() ? a->unmapped() : *a;
                p->push_back({core::CidrRange::host(addr), "the source of an SSH session"});
            }
        }
    }
    if (const char* c = std::getenv("SSH_CONNECTION")) {
        std::string client = std::string(c).substr(0, std::string(c).find(' '));
        if (auto a = core::IpAddress::parse(client)) {
            p->push_back({core::CidrRange::host(*a), "the source of this SSH session"});
        }
    }
}

std::vector<uint16_t> ssh_ports(const fw::Policy& policy) {
    std::vector<uint16_t> ports{22};
    if (const fw::Service* s = policy.find_service("ssh")) {
        for (const fw::PortSpec& spec : s->specs) {
            for (const fw::PortRange& r : spec.ports) {
                if (spec.protocol == fw::Protocol::tcp && r.hi - r.lo < 16) {
                    for (unsigned p = r.lo; p <= r.hi; ++p) {
                        ports.push_back(uint16_t(p));
                    }
                }
            }
        }
    }
    return ports;
}

// --- feeds -------------------------------------------------------------------

std::string feed_cache_path(const fw::Policy& policy, const fw::AddressSet& set) {
    if (set.path[0] == '/') {
        return set.path;
    }
    return dir_of(policy.file()) + "/" + set.path;
}

struct FeedChange {
    const fw::AddressSet* set;
    std::string cache;
    std::optional<std::string> old_content;
    std::string new_content;
    core::FetchResult fetched;
    size_t entries = 0;
};

// The policy as sync needs it: its statements, not the members of its sets
// (a feed's cache file is compared byte for byte, and ringfence-firewall
// reads every set again when it applies). Saves parsing 100,000 cached
// entries on every run, most of which end in a 304.
std::shared_ptr<const fw::Policy> load_policy_without_members(const std::string& path, core::Diagnostics* diags) {
    core::ReadResult rr = core::read_config_file(path);
    if (rr.status != core::ReadStatus::ok) {
        return fw::Policy::load(path, diags);  // the same diagnostics as everywhere
    }
    fw::CompileOptions opts;
    opts.read_set_file = [](const std::string& set_path) {
        core::ReadResult empty;
        empty.status = core::ReadStatus::ok;
        empty.text.path = set_path;
        return empty;
    };
    return fw::Policy::compile(path, rr.text.lines, opts, diags);
}

int sync_feeds(const SyncOptions& o, const SyncConfig& c, time_t now) {
    core::Diagnostics diags;
    auto policy = load_policy_without_members(c.firewall, &diags);
    if (!policy->valid()) {
        for (const core::Diagnostic& d : diags) {
            if (d.severity == core::Severity::error) {
                std::fprintf(stderr, "%s\n", d.one_line().c_str());
            }
        }
        complain(LOG_ERR, c.firewall + " has errors: no feed synced");
        return core::kExitInvalid;
    }
    std::vector<fw::Protected> protect = fw::policy_protected(*policy);
    add_host_addresses(&protect);
    add_ssh_peers(ssh_ports(*policy), &protect);

    int rc = core::kExitOk;
    std::vector<FeedChange> changes;
    std::map<std::string, std::map<std::string, std::string>> states;
    for (const fw::AddressSet& set : policy->sets()) {
        if (!set.feed) {
            continue;
        }
        const fw::Feed& feed = *set.feed;
        std::string state_path = o.state_dir + "/feed-" + set.name + ".state";
        auto& st = states[state_path];
        st = read_state(state_path);
        if (!o.force && now - state_number(st, "checked") < feed.every_seconds) {
            say(o, "feed " + set.name + ": not due");
            states.erase(state_path);
            continue;
        }
        std::string cache = feed_cache_path(*policy, set);
        std::optional<std::string> old = read_file(cache);
        core::FetchRequest req = request_for(c, feed.url, std::max<size_t>(c.max_bytes, feed.max_entries * 48));
        if (old) {  // validators only with a list to fall back on
            req.etag = st["etag"];
            req.last_modified = st["last-modified"];
        }
        core::FetchResult r = core::http_fetch(req);
        st["checked"] = std::to_string(now);
        std::string keeping = old ? "keeping the last good list" : "the set stays empty";
        if (r.status == core::FetchStatus::not_modified) {
            st["good"] = std::to_string(now);
            st["error"] = "";
            say(o, "feed " + set.name + ": not modified");
            continue;
        }
        if (r.status == core::FetchStatus::failed) {
            st["error"] = r.error;
            complain(LOG_WARNING, "feed " + set.name + ": " + r.error + "; " + keeping);
            rc = std::max(rc, core::kExitFailed);
            continue;
        }
        fw::FeedParse parsed = fw::parse_feed(r.body, feed.format, feed.max_entries, now);
        std::string refusal = parsed.list ? fw::check_feed(*parsed.list, protect) : parsed.error;
        if (!refusal.empty()) {
            st["error"] = "refused: " + refusal;
            complain(LOG_WARNING, "feed " + set.name + " refused (" + core::escape_for_log(feed.url, 200) +
                                      "): " + refusal + "; " + keeping);
            rc = std::max(rc, core::kExitRefused);
            continue;
        }
        std::string text = fw::render_feed_cache(*parsed.list, feed.url);
        if (old && *old == text) {
            st["etag"] = r.etag;
            st["last-modified"] = r.last_modified;
            st["good"] = std::to_string(now);
            st["error"] = "";
            say(o, "feed " + set.name + ": unchanged (" + std::to_string(parsed.list->size()) + " entries)");
            continue;
        }
        changes.push_back(FeedChange{&set, cache, old, text, r, parsed.list->size()});
    }
    if (!changes.empty()) {
        std::string error;
        size_t written = 0;
        for (const FeedChange& ch : changes) {
            if (!write_file(ch.cache, ch.new_content, 0644, &error)) {
                break;
            }
            ++written;
        }
        if (written == changes.size()) {
            error = apply_firewall(o, c.firewall);
        }
        if (!error.empty()) {
            for (size_t i = 0; i < written; ++i) {  // back to the lists the kernel has
                std::string ignored;
                if (changes[i].old_content) {
                    write_file(changes[i].cache, *changes[i].old_content, 0644, &ignored);
                } else {
                    unlink(changes[i].cache.c_str());
                }
            }
            for (const FeedChange& ch : changes) {
                states[o.state_dir + "/feed-" + ch.set->name + ".state"]["error"] = error;
            }
            complain(LOG_ERR, "feeds not loaded: " + error + "; the last good lists stay");
            rc = std::max(rc, core::kExitFailed);
        } else {
            for (const FeedChange& ch : changes) {
                auto& st = states[o.state_dir + "/feed-" + ch.set->name + ".state"];
                st["etag"] = ch.fetched.etag;
                st["last-modified"] = ch.fetched.last_modified;
                st["good"] = std::to_string(now);
                st["error"] = "";
                std::string line = "feed " + ch.set->name + ": loaded " + std::to_string(ch.entries) + " entries";
                say(o, line);
                syslog(LOG_NOTICE, "%s", line.c_str());
            }
        }
    }
    for (const auto& [path, st] : states) {
        std::string error;
        if (!write_state(path, st, &error)) {
            complain(LOG_ERR, error);
            rc = std::max(rc, core::kExitFailed);
        }
    }
    return rc;
}

// --- bundles -----------------------------------------------------------------

// What a bundle install replaced: restored by --rollback, or at once when
// the firewall refuses the new policy. "file PATH present SIZE\n" + bytes, or
// "file PATH absent\n".
struct Saved {
    std::string path;
    std::optional<std::string> content;
};

std::string serialize_saved(const std::vector<Saved>& saved) {
    std::string out = "ringfence-previous 1\n";
    for (const Saved& s : saved) {
        if (s.content) {
            out += "file " + s.path + " present " + std::to_string(s.content->size()) + "\n" + *s.content;
        } else {
            out += "file " + s.path + " absent\n";
        }
    }
    return out;
}

std::optional<std::vector<Saved>> deserialize_saved(const std::string& text) {
    std::vector<Saved> out;
    const std::string head = "ringfence-previous 1\n";
    if (text.compare(0, head.size(), head) != 0) {
        return std::nullopt;
    }
    size_t pos = head.size();
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            return std::nullopt;
        }
        std::vector<std::string> w = words_of(text.substr(pos, nl - pos));
        pos = nl + 1;
        if (w.size() == 3 && w[0] == "file" && w[2] == "absent") {
            out.push_back(Saved{w[1], std::nullopt});
        } else if (w.size() == 4 && w[0] == "file" && w[2] == "present" &&
                   w[3].find_first_not_of("0123456789") == std::string::npos && w[3].size() < 12) {
            size_t n = std::stoul(w[3]);
            if (text.size() - pos < n) {
                return std::nullopt;
            }
            out.push_back(Saved{w[1], text.substr(pos, n)});
            pos += n;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

// Puts the saved files back; true when all went back.
bool restore(const std::vector<Saved>& saved, std::string* error) {
    bool ok = true;
    for (const Saved& s : saved) {
        std::string e;
        if (s.content) {
            if (!write_file(s.path, *s.content, 0644, &e)) {
                ok = false;
                *error = e;
            }
        } else if (unlink(s.path.c_str()) != 0 && errno != ENOENT) {
            ok = false;
            *error = "cannot remove " + s.path + ": " + std::strerror(errno);
        }
    }
    return ok;
}

bool touches_firewall(const std::vector<std::string>& paths) {
    for (const std::string& p : paths) {
        if (p.compare(0, 15, "/etc/ringfence/") == 0) {
            return true;
        }
    }
    return false;
}

int sync_bundle(const SyncOptions& o, const SyncConfig& c, time_t now) {
    std::string state_path = o.state_dir + "/bundle.state";
    auto st = read_state(state_path);
    auto refuse = [&](const std::string& why) {
        complain(LOG_ERR, "bundle refused: " + why + "; nothing changed");
        return core::kExitRefused;
    };
    core::FetchResult man = core::http_fetch(request_for(c, c.bundle_url + "MANIFEST", 1u << 20));
    if (man.status != core::FetchStatus::ok) {
        complain(LOG_ERR, "bundle not fetched: " + man.error + "; nothing changed");
        return core::kExitFailed;
    }
    core::FetchResult sig = core::http_fetch(request_for(c, c.bundle_url + "MANIFEST.minisig", 4096));
    if (sig.status != core::FetchStatus::ok) {
        return refuse("no signature (" + sig.error + ")");
    }
    std::string why;
    auto verified = core::minisign_verify(c.keys, man.body, sig.body, &why);
    if (!verified) {
        return refuse("MANIFEST: " + why);
    }
    auto m = parse_manifest(man.body, &why);
    if (!m) {
        return refuse(why);
    }
    unsigned long long installed = std::strtoull(st["serial"].c_str(), nullptr, 10);
    if (m->serial <= installed) {
        if (m->serial == installed) {
            say(o, "bundle: serial " + std::to_string(m->serial) + " is installed; nothing to do");
            return core::kExitOk;
        }
        return refuse("serial " + std::to_string(m->serial) + " is not above the installed serial " +
                      std::to_string(installed) + " (an old bundle replayed?)");
    }
    if (m->expires <= now) {
        return refuse("the manifest expired at " + format_utc(m->expires));
    }
    if (!scope_matches(m->scope, c.host, c.groups)) {
        std::string scope;
        for (const std::string& s : m->scope) {
            scope += (scope.empty() ? "" : " ") + s;
        }
        return refuse("its scope (" + core::escape_for_log(scope, 200) + ") does not name this host (" + c.host + ")");
    }
    std::vector<StagedFile> staged;
    for (const BundleFile& f : m->files) {
        core::FetchResult r = core::http_fetch(request_for(c, c.bundle_url + f.name, c.max_bytes));
        if (r.status != core::FetchStatus::ok) {
            complain(LOG_ERR, "bundle not fetched: " + r.error + "; nothing changed");
            return core::kExitFailed;
        }
        if (core::sha256_hex(r.body) != f.sha256) {
            return refuse(f.name + " does not match its SHA-256 in the signed manifest");
        }
        staged.push_back(StagedFile{f.name, bundle_destination(f.name), std::move(r.body)});
    }
    std::vector<std::string> lint;
    if (!lint_bundle(staged, &lint)) {
        for (const std::string& l : lint) {
            std::fprintf(stderr, "%s\n", l.c_str());
        }
        return refuse(lint.front());
    }
    // Install: remember what is there, replace each file in one step; if
    // any step fails, put everything back.
    std::vector<Saved> saved;
    std::vector<std::string> changed, paths;
    for (const StagedFile& f : staged) {
        std::optional<std::string> cur = read_file(f.destination);
        saved.push_back(Saved{f.destination, cur});
        paths.push_back(f.destination);
        if (!cur || *cur != f.content) {
            changed.push_back(f.name);
        }
    }
    std::string error;
    if (!write_file(o.state_dir + "/previous", serialize_saved(saved), 0600, &error)) {
        complain(LOG_ERR, "bundle not installed: " + error + "; nothing changed");
        return core::kExitFailed;
    }
    for (const StagedFile& f : staged) {
        mode_t mode = 0644;
        if (!write_file(f.destination, f.content, mode, &error)) {
            break;
        }
    }
    if (error.empty() && touches_firewall(paths)) {
        error = apply_firewall(o, c.firewall);
    }
    if (!error.empty()) {
        std::string rerr;
        bool back = restore(saved, &rerr);
        complain(LOG_ERR, "bundle serial " + std::to_string(m->serial) + " not installed: " + error +
                              (back ? "; the previous files are back" : "; restoring failed too: " + rerr));
        return core::kExitFailed;
    }
    st.erase("rolled-back");
    st["serial"] = std::to_string(m->serial);
    st["expires"] = std::to_string(m->expires);
    st["key"] = verified->key_id;
    st["installed"] = std::to_string(now);
    if (!write_state(state_path, st, &error)) {
        complain(LOG_ERR, error);
        return core::kExitFailed;
    }
    std::string list;
    for (const std::string& n : changed) {
        list += (list.empty() ? "" : ", ") + n;
    }
    std::string line = "bundle serial " + std::to_string(m->serial) + " installed (key " + verified->key_id +
                       "): " + (list.empty() ? "no file changed" : "changed " + list);
    say(o, line);
    syslog(LOG_NOTICE, "%s", line.c_str());
    return core::kExitOk;
}

int rollback(const SyncOptions& o, const SyncConfig& c) {
    auto text = read_file(o.state_dir + "/previous");
    if (!text) {
        complain(LOG_ERR, "nothing to roll back to (no previous bundle in " + o.state_dir + ")");
        return core::kExitInvalid;
    }
    auto saved = deserialize_saved(*text);
    if (!saved) {
        complain(LOG_ERR, o.state_dir + "/previous is damaged; nothing changed");
        return core::kExitFailed;
    }
    std::vector<Saved> now_there;
    std::vector<std::string> paths;
    for (const Saved& s : *saved) {
        now_there.push_back(Saved{s.path, read_file(s.path)});
        paths.push_back(s.path);
    }
    std::string error;
    if (!restore(*saved, &error)) {
        restore(now_there, &error);
        complain(LOG_ERR, "rollback failed: " + error);
        return core::kExitFailed;
    }
    if (touches_firewall(paths)) {
        std::string fe = apply_firewall(o, c.firewall);
        if (!fe.empty()) {
            restore(now_there, &error);
            complain(LOG_ERR, "rollback failed: " + fe + "; the bundle's files are back");
            return core::kExitFailed;
        }
    }
    unlink((o.state_dir + "/previous").c_str());
    std::string state_path = o.state_dir + "/bundle.state";
    auto st = read_state(state_path);
    st["rolled-back"] = std::to_string(time(nullptr));
    std::string serr;
    if (!write_state(state_path, st, &serr)) {
        complain(LOG_ERR, serr);
    }
    // The serial stays: the bundle just rolled back is not installed again
    // until the publisher signs a higher serial.
    say(o, "rolled back to the files before the last bundle");
    syslog(LOG_NOTICE, "rolled back to the files before the last bundle");
    return core::kExitOk;
}

std::vector<SyncHealth> health_of(const SyncOptions& o, const SyncConfig& c, time_t now) {
    std::vector<SyncHealth> out;
    if (!c.bundle_url.empty()) {
        auto st = read_state(o.state_dir + "/bundle.state");
        long expires = state_number(st, "expires");
        SyncHealth h{"bundle", 0, ""};
        if (st.count("serial") == 0) {
            h.state = 1;
            h.message = "no bundle installed yet";
        } else if (expires <= now) {
            h.state = 2;
            h.message = "bundle serial " + st["serial"] + " expired at " + format_utc(expires) +
                        " (the host is frozen on it)";
        } else if (st.count("rolled-back") != 0) {
            h.message = "bundle serial " + st["serial"] + " rolled back at " +
                        format_utc(state_number(st, "rolled-back")) + ": the files before it are in place";
        } else {
            h.message = "bundle serial " + st["serial"] + " until " + format_utc(expires);
        }
        out.push_back(h);
    }
    core::Diagnostics diags;
    auto policy = load_policy_without_members(c.firewall, &diags);
    for (const fw::AddressSet& set : policy ? policy->sets() : std::vector<fw::AddressSet>()) {
        if (!set.feed) {
            continue;
        }
        auto st = read_state(o.state_dir + "/feed-" + set.name + ".state");
        long good = state_number(st, "good");
        SyncHealth h{"feed " + set.name, 0, ""};
        if (good == 0 || now - good > c.stale_seconds) {
            h.state = 1;
            h.message = "feed " + set.name + " stale" +
                        (good == 0 ? " (never fetched)" : " (last good " + format_utc(good) + ")") +
                        (st["error"].empty() ? "" : ": " + st["error"]);
        } else {
            h.message = "feed " + set.name + " ok";
        }
        out.push_back(h);
    }
    return out;
}

// Nagios convention: the worst of every feed and the bundle, one line.
int status(const SyncOptions& o, const SyncConfig& c, time_t now) {
    int worst = 0;
    std::vector<std::string> notes;
    for (const SyncHealth& h : health_of(o, c, now)) {
        worst = std::max(worst, h.state);
        notes.push_back(h.message);
    }
    if (notes.empty()) {
        notes.push_back("no bundle and no feed configured");
    }
    static const char* names[] = {"OK", "WARNING", "CRITICAL"};
    std::string line = std::string("SYNC ") + names[worst] + ":";
    for (size_t i = 0; i < notes.size(); ++i) {
        line += (i ? "; " : " ") + notes[i];
    }
    std::printf("%s\n", line.c_str());
    return worst;
}

}  // namespace

const char kSyncUsage[] =
    "usage: ringfence sync [--force] [-q] [--config FILE] [--state-dir DIR] [--backend auto|iptables|nft]\n"
    "                      [--firewall-state DIR]\n"
    "       ringfence sync --rollback | --status\n"
    "\n"
    "  fetches the feeds of firewall.conf's `set NAME url` lines that are due and the\n"
    "  signed bundle of sync.conf; installs only what verifies and lints (ringfence-sync(8))\n"
    "  --force      fetch every feed now, due or not\n"
    "  --backend, --firewall-state   as ringfence-firewall's --backend and --state-dir\n"
    "  --rollback   put back the files the last bundle replaced, and apply the firewall\n"
    "  --status     Nagios-style: stale feeds WARNING, an expired bundle CRITICAL\n";

int sync_command(const std::vector<std::string>& args) {
    SyncOptions o;
    // The firewall's settings, read as ringfence-firewall reads them.
    if (const char* b = std::getenv("RINGFENCE_FIREWALL_BACKEND")) {
        o.backend = b;
    }
    const char* fw_state = std::getenv("RINGFENCE_FIREWALL_STATE");
    o.firewall_state = fw_state != nullptr && *fw_state != '\0' ? fw_state : kFirewallState;
    bool do_rollback = false, do_status = false, config_given = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string* out) {
            if (i + 1 >= args.size() || args[i + 1].empty()) {
                return false;
            }
            *out = args[++i];
            return true;
        };
        if (a == "--config") {
            config_given = true;
            if (!value(&o.config)) {
                core::usage_error("ringfence sync", "--config needs a file");
                return core::kExitUsage;
            }
        } else if (a == "--state-dir") {
            if (!value(&o.state_dir) || o.state_dir[0] != '/') {
                core::usage_error("ringfence sync", "--state-dir needs an absolute directory");
                return core::kExitUsage;
            }
        } else if (a == "--backend") {
            if (!value(&o.backend) || (o.backend != "auto" && o.backend != "iptables" && o.backend != "nft")) {
                core::usage_error("ringfence sync", "--backend needs auto, iptables or nft");
                return core::kExitUsage;
            }
        } else if (a == "--firewall-state") {
            if (!value(&o.firewall_state) || o.firewall_state[0] != '/') {
                core::usage_error("ringfence sync", "--firewall-state needs an absolute directory");
                return core::kExitUsage;
            }
        } else if (a == "-h" || a == "--help") {
            std::fputs(kSyncUsage, stdout);
            return core::kExitOk;
        } else if (a == "--force") {
            o.force = true;
        } else if (a == "-q" || a == "--quiet") {
            o.quiet = true;
        } else if (a == "--rollback") {
            do_rollback = true;
        } else if (a == "--status") {
            do_status = true;
        } else {
            core::usage_error("ringfence sync", "unexpected '" + core::escape_for_log(a, 60) + "'");
            return core::kExitUsage;
        }
    }
    if (do_rollback && do_status) {
        core::usage_error("ringfence sync", "--rollback and --status go alone");
        return core::kExitUsage;
    }
    openlog("ringfence-sync", LOG_PID, LOG_DAEMON);
    std::string error;
    auto c = load_config(o.config, config_given, &error);
    if (!c) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return do_status ? 3 : core::kExitInvalid;
    }
    time_t now = time(nullptr);
    if (do_status) {
        return status(o, *c, now);
    }
    StateLock lock;
    if (!lock.open(o.state_dir, &error)) {
        complain(LOG_ERR, error);
        return core::kExitFailed;
    }
    if (do_rollback) {
        return rollback(o, *c);
    }
    core::HttpGlobal http;
    if (!http.ok()) {
        complain(LOG_ERR, "libcurl could not be initialised");
        return core::kExitFailed;
    }
    int rc = core::kExitOk;
    if (!c->bundle_url.empty()) {
        rc = std::max(rc, sync_bundle(o, *c, now));
    }
    struct stat sb;
    if (stat(c->firewall.c_str(), &sb) == 0) {
        rc = std::max(rc, sync_feeds(o, *c, now));
    }
    return rc;
}

int bundle_command(const std::vector<std::string>& args) {
    if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
        std::puts("usage: ringfence bundle make DIR [--serial N] [--valid DURATION] [--scope 'HOST @GROUP ...']");
        return core::kExitOk;
    }
    const char* usage =
        "ringfence bundle make DIR [--serial N] [--valid DURATION] [--scope 'HOST @GROUP ...']";
    if (args.empty() || args[0] != "make" || args.size() < 2) {
        core::usage_error("ringfence bundle", std::string("usage: ") + usage);
        return core::kExitUsage;
    }
    std::string dir = args[1];
    Manifest m;
    m.issued = time(nullptr);
    m.serial = static_cast<unsigned long long>(m.issued);
    long valid = 30 * 86400;
    m.scope = {"*"};
    for (size_t i = 2; i < args.size(); ++i) {
        if (i + 1 >= args.size()) {
            core::usage_error("ringfence bundle", args[i] + " needs a value");
            return core::kExitUsage;
        }
        const std::string& v = args[i + 1];
        if (args[i] == "--serial" && !v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos) {
            m.serial = std::stoull(v);
        } else if (args[i] == "--valid" && parse_duration(v) && *parse_duration(v) > 0) {
            valid = *parse_duration(v);
        } else if (args[i] == "--scope" && !words_of(v).empty()) {
            m.scope = words_of(v);
        } else {
            core::usage_error("ringfence bundle", "bad option '" + core::escape_for_log(args[i] + " " + v, 80) +
                                                      "'; " + usage);
            return core::kExitUsage;
        }
        ++i;
    }
    m.expires = m.issued + valid;
    // The bundle's files: the layout's names under DIR, nothing else.
    std::vector<std::string> names;
    for (const char* n : {"access.conf", "hosts.allow", "hosts.deny", "firewall.conf"}) {
        struct stat sb;
        if (stat((dir + "/" + n).c_str(), &sb) == 0) {
            names.push_back(n);
        }
    }
    std::vector<std::string> unknown;
    if (DIR* d = opendir(dir.c_str())) {
        while (struct dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n == "." || n == ".." || n == "MANIFEST" || n == "MANIFEST.minisig") {
                continue;
            }
            if (n == "access.d" || n == "sets") {
                if (DIR* sd = opendir((dir + "/" + n).c_str())) {
                    while (struct dirent* se = readdir(sd)) {
                        std::string sn = se->d_name;
                        if (sn == "." || sn == "..") {
                            continue;
                        }
                        std::string name = n + "/" + sn;
                        (bundle_destination(name).empty() ? unknown : names).push_back(name);
                    }
                    closedir(sd);
                }
            } else if (bundle_destination(n).empty()) {
                unknown.push_back(n);
            }
        }
        closedir(d);
    } else {
        std::fprintf(stderr, "ringfence bundle: error: cannot read %s: %s\n", dir.c_str(), std::strerror(errno));
        return core::kExitFailed;
    }
    if (!unknown.empty()) {
        std::fprintf(stderr,
                     "ringfence bundle: error: %s/%s is not a bundle file\n"
                     "  hint: a bundle holds access.conf, access.d/*.conf, hosts.allow, hosts.deny, firewall.conf, "
                     "sets/*\n",
                     dir.c_str(), unknown.front().c_str());
        return core::kExitInvalid;
    }
    std::sort(names.begin(), names.end());
    std::vector<StagedFile> staged;
    for (const std::string& n : names) {
        auto content = read_file(dir + "/" + n);
        if (!content) {
            std::fprintf(stderr, "ringfence bundle: error: cannot read %s/%s\n", dir.c_str(), n.c_str());
            return core::kExitFailed;
        }
        m.files.push_back(BundleFile{n, core::sha256_hex(*content)});
        staged.push_back(StagedFile{n, bundle_destination(n), *content});
    }
    if (names.empty()) {
        std::fprintf(stderr, "ringfence bundle: error: %s holds no bundle file\n", dir.c_str());
        return core::kExitInvalid;
    }
    std::vector<std::string> lint;
    if (!lint_bundle(staged, &lint)) {
        for (const std::string& l : lint) {
            std::fprintf(stderr, "%s\n", l.c_str());
        }
        std::fprintf(stderr, "ringfence bundle: error: the bundle does not pass lint; no MANIFEST written\n");
        return core::kExitInvalid;
    }
    std::string error;
    if (!write_file(dir + "/MANIFEST", render_manifest(m), 0644, &error)) {
        std::fprintf(stderr, "ringfence bundle: error: %s\n", error.c_str());
        return core::kExitFailed;
    }
    std::printf("%s/MANIFEST: serial %llu, %zu files, expires %s\nsign it: minisign -Sm %s/MANIFEST\n", dir.c_str(),
                m.serial, m.files.size(), format_utc(m.expires).c_str(), dir.c_str());
    return core::kExitOk;
}

std::vector<SyncHealth> sync_health(const std::string& root, time_t now) {
    SyncOptions o;
    o.config = root + kSyncConf;
    o.state_dir = root + kSyncState;
    std::string error;
    std::optional<SyncConfig> c = load_config(o.config, false, &error, root);
    if (!c) {
        return {SyncHealth{"config", 3, error}};
    }
    c->firewall = root + c->firewall;
    std::vector<SyncHealth> out = health_of(o, *c, now);
    return out;
}

}  // namespace ringfence::cli
