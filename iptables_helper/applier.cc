// SPDX-License-Identifier: BSD-3-Clause
#include "iptables_helper/applier.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/rooted_path.h"
#include "core/run_program.h"
#include "core/text.h"
#include "iptables_helper/find_tool.h"
#include "iptables_helper/render.h"
#include "iptables_helper/render_nft.h"

namespace ringfence::firewall {

using Family = core::IpAddress::Family;

namespace {

constexpr int kWaitSeconds = 5;  // iptables -w

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool is_own_chain(const std::string& name) {
    for (const std::string& c : own_chains()) {
        if (name == c) {
            return true;
        }
    }
    return false;
}

bool is_own_set(const std::string& name) { return starts_with(name, "ringfence-"); }

// The generation letter of an own set name ("ringfence-bl-v4b" -> 'b'), or 0.
char generation_of(const std::string& name) {
    if (!is_own_set(name) || name.size() < 4) {
        return 0;
    }
    const std::string tail = name.substr(name.size() - 4);
    if ((tail.compare(0, 3, "-v4") == 0 || tail.compare(0, 3, "-v6") == 0) && tail[3] >= 'a' && tail[3] <= 'z') {
        return tail[3];
    }
    return 0;
}

// Lines of iptables-save output that belong to ringfence: own chain
// declarations and rules, and any rule that jumps to an own chain (the
// hooks), which keeps its position in its chain ("# rule N of INPUT").
struct SavedTable {
    std::vector<std::string> own_chains;    // declared own chains
    std::vector<std::string> own_rules;     // "-A RINGFENCE-..." lines
    std::vector<std::string> hooks;         // "-A INPUT -j RINGFENCE-IN" lines
    std::vector<std::string> hooks_at;      // the same, with their position
    std::set<char> generations;             // of sets the own rules use
};

SavedTable parse_save(const std::string& save) {
    SavedTable t;
    std::map<std::string, int> position;
    bool in_filter = false;
    for (const std::string& line : core::split_lines(save)) {
        if (starts_with(line, "*")) {
            in_filter = line == "*filter";
            continue;
        }
        if (!in_filter) {
            continue;
        }
        if (starts_with(line, ":")) {
            std::string name = line.substr(1, line.find(' ') - 1);
            if (is_own_chain(name)) {
                t.own_chains.push_back(name);
            }
            continue;
        }
        if (!starts_with(line, "-A ")) {
            continue;
        }
        std::vector<std::string> w = core::split_words(line);
        if (w.size() < 2) {
            continue;
        }
        int pos = ++position[w[1]];
        if (is_own_chain(w[1])) {
            t.own_rules.push_back(line);
            for (size_t i = 0; i + 1 < w.size(); ++i) {
                if (w[i] == "--match-set" && generation_of(w[i + 1]) != 0) {
                    t.generations.insert(generation_of(w[i + 1]));
                }
            }
            continue;
        }
        for (size_t i = 0; i + 1 < w.size(); ++i) {
            if ((w[i] == "-j" || w[i] == "-g") && is_own_chain(w[i + 1])) {
                t.hooks.push_back(line);
                t.hooks_at.push_back(line + "  # rule " + std::to_string(pos) + " of " + w[1]);
                break;
            }
        }
    }
    return t;
}

// What capture_iptables read on its way: both tables and the own sets.
struct LiveTables {
    SavedTable v4, v6;
    std::vector<std::string> sets;
    std::string error;  // a table that could not be read
};

// capture_live() for the iptables backend; `read` (may be null) receives
// what it read, so that a set reload checks and loads on one reading.
std::string capture_iptables(const Tools& tools, LiveTables* read);

// iptables-restore --noflush input that puts back exactly what `before`
// (iptables-save output) had of ringfence, after `added_hooks` were added.
std::string restore_from_save(const SavedTable& before, const std::vector<std::string>& added_hooks) {
    std::string out = "*filter\n";
    for (const std::string& h : added_hooks) {
        out += "-D " + h.substr(3) + "\n";
    }
    for (const std::string& c : own_chains()) {
        out += ":" + c + " - [0:0]\n";
    }
    for (const std::string& r : before.own_rules) {
        out += r + "\n";
    }
    for (const std::string& c : own_chains()) {
        if (std::find(before.own_chains.begin(), before.own_chains.end(), c) == before.own_chains.end()) {
            out += "-X " + c + "\n";
        }
    }
    out += "COMMIT\n";
    return out;
}

// Drops the rendered `-I INPUT 1 -j RINGFENCE-IN` lines whose hook is live
// already (builtin chains are not flushed by --noflush); returns the hooks
// that stay, as "-A ..." lines.
std::string adjust_hooks(const std::string& text, const SavedTable& live, std::vector<std::string>* added) {
    std::string out;
    for (const std::string& line : core::split_lines(text)) {
        if (starts_with(line, "-I ")) {
            std::vector<std::string> w = core::split_words(line);  // -I CHAIN 1 -j TARGET
            std::string as_append = "-A " + w[1];
            for (size_t i = 3; i < w.size(); ++i) {
                as_append += " " + w[i];
            }
            if (std::find(live.hooks.begin(), live.hooks.end(), as_append) != live.hooks.end()) {
                continue;
            }
            added->push_back(as_append);
        }
        out += line + "\n";
    }
    return out;
}

std::vector<std::string> ipset_names(const std::string& ipset_text) {
    std::vector<std::string> out;
    for (const std::string& line : core::split_lines(ipset_text)) {
        std::vector<std::string> w = core::split_words(line);
        if (w.size() >= 2 && w[0] == "create") {
            out.push_back(w[1]);
        }
    }
    return out;
}

// The netfilter tools: output captured, killed after two minutes; through
// the tools' runner when one is set (tests), else core::run_program.
core::ProgramResult run_program(const Tools& tools, const std::vector<std::string>& argv,
                                const std::string& input = std::string(), int timeout_seconds = 120) {
    return tools.run ? tools.run(argv, input, timeout_seconds) : core::run_program(argv, input, timeout_seconds);
}

std::string first_line(const std::string& s) {
    size_t nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string tool_failure(const std::string& what, const core::ProgramResult& r) {
    return what + " failed: " + r.summary();
}

std::vector<std::string> live_sets(const Tools& tools) {
    std::vector<std::string> out;
    if (tools.ipset.empty()) {
        return out;
    }
    core::ProgramResult r = run_program(tools, {tools.ipset, "list", "-n"});
    if (!r.ok()) {
        return out;
    }
    for (const std::string& name : core::split_lines(r.out)) {
        if (is_own_set(name)) {
            out.push_back(name);
        }
    }
    return out;
}

void destroy_sets(const Tools& tools, const std::vector<std::string>& names, std::vector<std::string>* notes) {
    for (const std::string& n : names) {
        core::ProgramResult r = run_program(tools, {tools.ipset, "destroy", n});
        if (!r.ok() && notes != nullptr) {
            notes->push_back("ipset " + n + " not removed: " + r.summary());
        }
    }
}

std::string read_save(const Tools& tools, const std::string& tool, std::string* error) {
    core::ProgramResult r = run_program(tools, {tool, "-t", "filter"});
    if (!r.ok()) {
        *error = tool_failure(tool + " -t filter", r);
        return std::string();
    }
    return r.out;
}

bool load_iptables(const Bundle& b, const Tools& tools, std::string* error, std::vector<std::string>* notes) {
    if (!tools.has_iptables()) {
        *error = "the iptables programs (iptables, ip6tables, *-restore, *-save) are missing";
        return false;
    }
    const bool have_sets = !b.ipset.empty();
    if (have_sets && tools.ipset.empty()) {
        *error = "the policy uses sets, and the ipset program is missing";
        return false;
    }
    std::string save_error;
    const std::string save4 = read_save(tools, tools.iptables_save, &save_error);
    const std::string save6 = save_error.empty() ? read_save(tools, tools.ip6tables_save, &save_error) : std::string();
    if (!save_error.empty()) {
        *error = save_error;
        return false;
    }
    const SavedTable live4 = parse_save(save4), live6 = parse_save(save6);

    // A generation no live rule uses (after a kill between the two family
    // commits, two may be in use).
    char gen = 'a';
    while (live4.generations.count(gen) != 0 || live6.generations.count(gen) != 0) {
        ++gen;
    }
    std::vector<std::string> added4, added6;
    const std::string v4 = adjust_hooks(retarget_sets(b.v4, gen), live4, &added4);
    const std::string v6 = adjust_hooks(retarget_sets(b.v6, gen), live6, &added6);
    const std::string sets_text = retarget_sets(b.ipset, gen);
    const std::vector<std::string> new_sets = ipset_names(sets_text);
    for (const std::string* text : {&v4, &v6}) {
        std::string problem = check_references(*text, new_sets);
        if (!problem.empty()) {
            *error = "internal error in the rendered rules: " + problem;
            return false;
        }
    }

    // Stale sets of this generation (left by an interrupted apply): nothing
    // references them.
    std::vector<std::string> old_sets, stale;
    for (const std::string& n : live_sets(tools)) {
        (generation_of(n) == gen ? stale : old_sets).push_back(n);
    }
    destroy_sets(tools, stale, nullptr);
    auto drop_new_sets = [&]() {
        std::vector<std::string> created;
        for (const std::string& n : live_sets(tools)) {
            if (generation_of(n) == gen) {
                created.push_back(n);
            }
        }
        destroy_sets(tools, created, nullptr);
    };
    if (have_sets) {
        core::ProgramResult r = run_program(tools, {tools.ipset, "restore"}, sets_text);
        if (!r.ok()) {
            drop_new_sets();
            *error = tool_failure("ipset restore", r);
            return false;
        }
    }
    const std::string w = std::to_string(kWaitSeconds);
    for (auto [tool, text] : {std::make_pair(&tools.iptables_restore, &v4), std::make_pair(&tools.ip6tables_restore, &v6)}) {
        core::ProgramResult r = run_program(tools, {*tool, "-w", w, "--test", "--noflush"}, *text);
        if (!r.ok()) {
            drop_new_sets();
            *error = tool_failure(*tool + " --test", r);
            return false;
        }
    }
    core::ProgramResult r4 = run_program(tools, {tools.iptables_restore, "-w", w, "--noflush"}, v4);
    if (!r4.ok()) {
        drop_new_sets();
        *error = tool_failure(tools.iptables_restore, r4);
        return false;
    }
    core::ProgramResult r6 = run_program(tools, {tools.ip6tables_restore, "-w", w, "--noflush"}, v6);
    if (!r6.ok()) {
        core::ProgramResult back = run_program(tools, {tools.iptables_restore, "-w", w, "--noflush"}, restore_from_save(live4, added4));
        *error = tool_failure(tools.ip6tables_restore, r6);
        if (!back.ok()) {
            *error += "; putting the IPv4 rules back failed too (" + back.summary() +
                      "): IPv4 has the new policy, IPv6 the old one";
            return false;
        }
        drop_new_sets();
        return false;
    }
    destroy_sets(tools, old_sets, notes);
    return true;
}

bool load_nft(const Bundle& b, const Tools& tools, std::string* error) {
    if (tools.nft.empty()) {
        *error = "the nft program is missing";
        return false;
    }
    // One `nft -f` is one transaction: on any error nothing changes, so a
    // separate `nft -c` pass would only double the time of a big set.
    core::ProgramResult r = run_program(tools, {tools.nft, "-f", "/dev/stdin"}, b.nft);
    if (!r.ok()) {
        *error = tool_failure("nft -f", r);
        return false;
    }
    return true;
}

// State files are the firewall's own: mode 0600, owned by the caller.
bool write_file_atomically(const std::string& path, const std::string& data, std::string* error) {
    core::NewFileAttrs attrs;
    attrs.mode = 0600;
    return core::replace_file(path, data, attrs, error) == 0;
}

std::optional<std::string> read_whole(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        out.append(buf, size_t(got));
    }
    close(fd);
    return out;
}

}  // namespace

const char* backend_name(Backend b) {
    switch (b) {
        case Backend::none:
            return "none";
        case Backend::iptables:
            return "iptables";
        case Backend::nft:
            return "nft";
    }
    return "none";
}

std::optional<Backend> parse_backend(const std::string& name) {
    if (name == "iptables") {
        return Backend::iptables;
    }
    if (name == "nft") {
        return Backend::nft;
    }
    if (name == "none") {
        return Backend::none;
    }
    return std::nullopt;
}

bool Tools::has_iptables() const {
    return !iptables.empty() && !ip6tables.empty() && !iptables_restore.empty() && !ip6tables_restore.empty() &&
           !iptables_save.empty() && !ip6tables_save.empty();
}

Tools detect_tools() {
    Tools t;
    t.iptables = find_tool("iptables");
    t.ip6tables = find_tool("ip6tables");
    t.iptables_restore = find_tool("iptables-restore");
    t.ip6tables_restore = find_tool("ip6tables-restore");
    t.iptables_save = find_tool("iptables-save");
    t.ip6tables_save = find_tool("ip6tables-save");
    t.ipset = find_tool("ipset");
    t.nft = find_tool("nft");
    auto version = [](const std::string& tool) {
        if (tool.empty()) {
            return std::string();
        }
        core::ProgramResult r = core::run_program({tool, "--version"}, std::string(), 10);
        return r.ok() ? first_line(r.out) : std::string();
    };
    t.iptables_version = version(t.iptables);
    t.ipset_version = version(t.ipset);
    t.nft_version = version(t.nft);
    if (size_t comma = t.ipset_version.find(','); comma != std::string::npos) {
        t.ipset_version.resize(comma);
    }
    return t;
}

std::optional<Backend> choose_backend(const std::string& requested, const Tools& tools, std::string* why) {
    if (requested.empty() || requested == "auto") {
        if (!tools.nft.empty() && (tools.iptables.empty() || tools.iptables_is_nft())) {
            return Backend::nft;
        }
        if (tools.has_iptables()) {
            return Backend::iptables;
        }
        *why = "neither nft nor the iptables programs were found in " + std::string(getenv("RINGFENCE_FIREWALL_PATH") ? "RINGFENCE_FIREWALL_PATH" : "/usr/sbin:/sbin:/usr/bin:/bin");
        return std::nullopt;
    }
    std::optional<Backend> b = parse_backend(requested);
    if (!b || *b == Backend::none) {
        *why = "unknown backend `" + requested + "` (expected auto, iptables or nft)";
        return std::nullopt;
    }
    if (*b == Backend::nft && tools.nft.empty()) {
        *why = "backend nft: the nft program is missing";
        return std::nullopt;
    }
    if (*b == Backend::iptables && !tools.has_iptables()) {
        *why = "backend iptables: the iptables programs (iptables, ip6tables, *-restore, *-save) are missing";
        return std::nullopt;
    }
    return b;
}

std::string describe_backend(Backend b, const Tools& tools) {
    if (b == Backend::nft) {
        return "nft (" + tools.nft_version + "), table inet " + kNftTable;
    }
    if (b == Backend::iptables) {
        std::string out = std::string(tools.iptables_is_nft() ? "iptables-nft" : "iptables-legacy") + " (" +
                          tools.iptables_version + ")";
        if (!tools.ipset_version.empty()) {
            out += ", " + tools.ipset_version;
        }
        return out;
    }
    return "none";
}

Bundle make_bundle(const Policy& policy, Backend backend, const std::string& policy_text) {
    Bundle b;
    b.backend = backend;
    b.source = policy.file();
    b.policy = policy_text;
    if (backend == Backend::iptables) {
        b.v4 = render_iptables(policy, Family::v4);
        b.v6 = render_iptables(policy, Family::v6);
        b.ipset = render_ipset(policy);
    } else if (backend == Backend::nft) {
        b.nft = render_nft(policy);
    }
    b.rules = int(policy.rules().size());
    b.sets = int(policy.sets().size());
    for (const AddressSet& s : policy.sets()) {
        b.entries += long(s.v4.size() + s.v6.size());
    }
    return b;
}

std::string serialize(const Bundle& b) {
    std::string out = "ringfence-firewall state 1\n";
    out += std::string("backend ") + backend_name(b.backend) + "\n";
    out += "counts " + std::to_string(b.rules) + " " + std::to_string(b.sets) + " " + std::to_string(b.entries) + "\n";
    for (auto [name, text] : {std::make_pair("source", &b.source), std::make_pair("policy", &b.policy),
                              std::make_pair("v4", &b.v4), std::make_pair("v6", &b.v6),
                              std::make_pair("ipset", &b.ipset), std::make_pair("nft", &b.nft),
                              std::make_pair("live", &b.live)}) {
        out += std::string("section ") + name + " " + std::to_string(text->size()) + "\n" + *text + "\n";
    }
    return out;
}

std::optional<Bundle> deserialize(const std::string& text) {
    Bundle b;
    size_t pos = 0;
    auto next_line = [&](std::string* line) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            return false;
        }
        *line = text.substr(pos, nl - pos);
        pos = nl + 1;
        return true;
    };
    std::string line;
    if (!next_line(&line) || line != "ringfence-firewall state 1") {
        return std::nullopt;
    }
    while (next_line(&line)) {
        std::vector<std::string> w = core::split_words(line);
        if (w.size() == 2 && w[0] == "backend") {
            std::optional<Backend> be = parse_backend(w[1]);
            if (!be) {
                return std::nullopt;
            }
            b.backend = *be;
        } else if (w.size() == 4 && w[0] == "counts") {
            b.rules = std::atoi(w[1].c_str());
            b.sets = std::atoi(w[2].c_str());
            b.entries = std::atol(w[3].c_str());
        } else if (w.size() == 3 && w[0] == "section") {
            size_t size = std::strtoul(w[2].c_str(), nullptr, 10);
            if (pos + size + 1 > text.size() || text[pos + size] != '\n') {
                return std::nullopt;
            }
            std::string body = text.substr(pos, size);
            pos += size + 1;
            std::map<std::string, std::string*> fields = {{"source", &b.source}, {"policy", &b.policy}, {"v4", &b.v4},
                                                          {"v6", &b.v6},         {"ipset", &b.ipset},   {"nft", &b.nft},
                                                          {"live", &b.live}};
            auto it = fields.find(w[1]);
            if (it != fields.end()) {
                *it->second = std::move(body);
            }
        } else {
            return std::nullopt;
        }
    }
    return b;
}

std::string retarget_sets(const std::string& text, char generation) {
    // In place, word by word: ipset input of a big set is mostly such words.
    std::string out = text;
    size_t i = 0;
    while (i < out.size()) {
        size_t end = out.find_first_of(" \n", i);
        if (end == std::string::npos) {
            end = out.size();
        }
        const size_t n = end - i;
        if (n >= 13 && out.compare(i, 10, "ringfence-") == 0 && out[end - 4] == '-' && out[end - 3] == 'v' &&
            (out[end - 2] == '4' || out[end - 2] == '6') && out[end - 1] >= 'a' && out[end - 1] <= 'z') {
            out[end - 1] = generation;
        }
        i = end + 1;
    }
    return out;
}

std::string check_references(const std::string& restore_text, const std::vector<std::string>& sets) {
    static const std::set<std::string> builtin_chains = {"INPUT", "OUTPUT", "FORWARD"};
    static const std::set<std::string> builtin_targets = {"ACCEPT", "DROP", "REJECT", "LOG", "RETURN"};
    std::set<std::string> declared;
    std::vector<std::pair<int, std::vector<std::string>>> commands;
    int n = 0;
    for (const std::string& line : core::split_lines(restore_text)) {
        ++n;
        if (starts_with(line, ":")) {
            declared.insert(line.substr(1, line.find(' ') - 1));
        } else if (starts_with(line, "-")) {
            commands.emplace_back(n, core::split_words(line));
        }
    }
    for (const auto& [line, w] : commands) {
        const std::string where = "line " + std::to_string(line) + ": ";
        if (w.size() < 2) {
            return where + "incomplete command";
        }
        if (builtin_chains.count(w[1]) == 0 && declared.count(w[1]) == 0) {
            return where + "chain " + w[1] + " is not declared";
        }
        for (size_t i = 2; i + 1 < w.size(); ++i) {
            if ((w[i] == "-j" || w[i] == "-g") && builtin_targets.count(w[i + 1]) == 0 &&
                declared.count(w[i + 1]) == 0) {
                return where + "jump to undeclared chain " + w[i + 1];
            }
            if (w[i] == "--match-set" && std::find(sets.begin(), sets.end(), w[i + 1]) == sets.end()) {
                return where + "set " + w[i + 1] + " is not created by the ipset input";
            }
        }
    }
    return std::string();
}

bool load_bundle(const Bundle& bundle, const Tools& tools, std::string* error, std::vector<std::string>* notes) {
    switch (bundle.backend) {
        case Backend::iptables:
            return load_iptables(bundle, tools, error, notes);
        case Backend::nft:
            return load_nft(bundle, tools, error);
        case Backend::none:
            return true;
    }
    return false;
}

bool flush_backend(Backend backend, const Tools& tools, std::string* error) {
    if (backend == Backend::nft) {
        if (tools.nft.empty()) {
            return true;
        }
        core::ProgramResult list = run_program(tools, {tools.nft, "list", "table", "inet", kNftTable});
        if (!list.ok()) {
            return true;  // no table
        }
        core::ProgramResult r = run_program(tools, {tools.nft, "delete", "table", "inet", kNftTable});
        if (!r.ok()) {
            *error = tool_failure("nft delete table inet ringfence", r);
            return false;
        }
        return true;
    }
    if (backend != Backend::iptables || !tools.has_iptables()) {
        return true;
    }
    bool ok = true;
    for (auto [save_tool, restore_tool] : {std::make_pair(&tools.iptables_save, &tools.iptables_restore),
                                           std::make_pair(&tools.ip6tables_save, &tools.ip6tables_restore)}) {
        std::string save_error;
        const std::string save = read_save(tools, *save_tool, &save_error);
        if (!save_error.empty()) {
            *error = save_error;
            ok = false;
            continue;
        }
        SavedTable live = parse_save(save);
        if (live.own_chains.empty() && live.hooks.empty()) {
            continue;
        }
        SavedTable nothing;
        std::string text = restore_from_save(nothing, live.hooks);
        core::ProgramResult r = run_program(tools, {*restore_tool, "-w", std::to_string(kWaitSeconds), "--noflush"}, text);
        if (!r.ok()) {
            *error = tool_failure(*restore_tool, r);
            ok = false;
        }
    }
    if (ok && !tools.ipset.empty()) {
        std::vector<std::string> notes;
        destroy_sets(tools, live_sets(tools), &notes);
        if (!notes.empty()) {
            *error = notes.front();
            ok = false;
        }
    }
    return ok;
}

std::string capture_live(Backend backend, const Tools& tools) {
    std::string out;
    if (backend == Backend::nft) {
        if (tools.nft.empty()) {
            return "# nft program missing\n";
        }
        core::ProgramResult r = run_program(tools, {tools.nft, "list", "table", "inet", kNftTable});
        return r.ok() ? r.out : std::string("# no table inet ringfence\n");
    }
    if (backend != Backend::iptables) {
        return out;
    }
    return capture_iptables(tools, nullptr);
}

namespace {

std::string capture_iptables(const Tools& tools, LiveTables* read) {
    std::string out;
    std::set<char> generations;  // of the sets live rules use; others are leftovers of a killed apply
    for (auto [label, tool] : {std::make_pair("IPv4", &tools.iptables_save), std::make_pair("IPv6", &tools.ip6tables_save)}) {
        out += std::string("# ") + label + "\n";
        std::string error;
        if (tool->empty()) {
            out += "# program missing\n";
            if (read != nullptr) {
                read->error = *tool + ": program missing";
            }
            continue;
        }
        SavedTable t = parse_save(read_save(tools, *tool, &error));
        if (!error.empty()) {
            out += "# " + error + "\n";
            if (read != nullptr) {
                read->error = error;
            }
        }
        if (read != nullptr) {
            (tool == &tools.iptables_save ? read->v4 : read->v6) = t;
        }
        generations.insert(t.generations.begin(), t.generations.end());
        for (const std::string& c : t.own_chains) {
            out += ":" + c + "\n";
        }
        for (const std::string& h : t.hooks_at) {
            out += h + "\n";
        }
        for (const std::string& r : t.own_rules) {
            out += retarget_sets(r, kRenderedGeneration) + "\n";
        }
    }
    out += "# ipset\n";
    for (const std::string& name : live_sets(tools)) {
        if (read != nullptr) {
            read->sets.push_back(name);
        }
        if (generations.count(generation_of(name)) != 0) {
            out += "set " + retarget_sets(name, kRenderedGeneration) + "\n";
        }
    }
    return out;
}

}  // namespace

namespace {

// "add NAME ENTRY" with the name at generation 'a' and a host entry without
// its /32 or /128.
std::string member_line(const std::string& name, std::string entry) {
    for (const char* host : {"/32", "/128"}) {
        const size_t n = std::strlen(host);
        if (entry.size() > n && entry.compare(entry.size() - n, n, host) == 0 &&
            (std::strcmp(host, "/32") != 0 || entry.find(':') == std::string::npos)) {
            entry.resize(entry.size() - n);
        }
    }
    return "add " + retarget_sets(name, kRenderedGeneration) + " " + entry;
}

std::string sorted_text(std::vector<std::string> lines) {
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const std::string& l : lines) {
        out += l + "\n";
    }
    return out;
}

}  // namespace

std::string set_members_live(const Tools& tools) {
    std::vector<std::string> lines;
    if (tools.ipset.empty() || !tools.has_iptables()) {
        return std::string();
    }
    std::set<char> generations;
    for (const std::string* tool : {&tools.iptables_save, &tools.ip6tables_save}) {
        std::string error;
        SavedTable t = parse_save(read_save(tools, *tool, &error));
        generations.insert(t.generations.begin(), t.generations.end());
    }
    for (const std::string& name : live_sets(tools)) {
        if (generations.count(generation_of(name)) == 0) {
            continue;
        }
        core::ProgramResult r = run_program(tools, {tools.ipset, "save", name});
        for (const std::string& line : core::split_lines(r.out)) {
            std::vector<std::string> w = core::split_words(line);
            if (w.size() == 3 && w[0] == "add") {
                lines.push_back(member_line(w[1], w[2]));
            }
        }
    }
    return sorted_text(std::move(lines));
}

std::string set_members_expected(const std::string& ipset_text) {
    std::vector<std::string> lines;
    for (const std::string& line : core::split_lines(ipset_text)) {
        std::vector<std::string> w = core::split_words(line);
        if (w.size() == 3 && w[0] == "add") {
            lines.push_back(member_line(w[1], w[2]));
        }
    }
    return sorted_text(std::move(lines));
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trimmed(const std::string& text, size_t begin, size_t end) {
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) {
        ++begin;
    }
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) {
        --end;
    }
    return text.substr(begin, end - begin);
}

// Calls `each(begin, end)` for every line of `text` (without its newline).
template <typename F>
void for_each_line(const std::string& text, F each) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string::npos ? text.size() : nl;
        each(pos, end);
        pos = end + 1;
    }
}

// ipset restore input without its "add" lines and hash sizes: the sets
// and the settings `ipset swap` needs alike (a hash size follows the
// number of entries, render.cc).
std::string ipset_declarations(const std::string& ipset_text) {
    std::string out;
    for_each_line(ipset_text, [&](size_t b, size_t e) {
        if (ipset_text.compare(b, 4, "add ") == 0) {
            return;
        }
        std::string line = ipset_text.substr(b, e - b);
        size_t at = line.find(" hashsize ");
        if (at != std::string::npos) {
            size_t end = line.find(' ', at + 10);
            line.erase(at, (end == std::string::npos ? line.size() : end) - at);
        }
        out += line + '\n';
    });
    return out;
}

// The `nft -f` script that replaces the members of every named set of a
// rendered table (render_nft.h) and touches nothing else: one transaction.
std::string nft_set_script(const std::string& nft_text) {
    const std::string table = std::string(kNftFamily) + " " + kNftTable;
    std::string out, elements;
    std::string set;
    bool in_elements = false;
    auto finish = [&]() {
        if (set.empty()) {
            return;
        }
        out += "flush set " + table + " " + set + "\n";
        if (!elements.empty()) {
            out += "add element " + table + " " + set + " {\n" + elements + "\n}\n";
        }
        set.clear();
        elements.clear();
    };
    for_each_line(nft_text, [&](size_t b, size_t e) {
        std::string line = trimmed(nft_text, b, e);
        if (in_elements) {
            if (line == "}") {
                in_elements = false;
                return;
            }
            if (!line.empty() && line.back() == ',') {
                line.pop_back();
            }
            elements += (elements.empty() ? "" : ",\n") + line;
        } else if (starts_with(line, "set ") && ends_with(line, " {")) {
            finish();
            set = line.substr(4, line.size() - 6);
        } else if (starts_with(line, "elements = {")) {
            in_elements = true;
        } else if (starts_with(line, "chain ")) {
            finish();
        }
    });
    finish();
    return out;
}

// A full reload is needed (nothing was changed): the live rules are not
// those of the active bundle, or cannot be read.
constexpr SetLoad kNeedsFull = SetLoad::needs_full;

SetLoad load_sets_iptables(const Bundle& next, const Bundle& active, const Tools& tools, std::string* live,
                           std::string* error, std::vector<std::string>* notes) {
    if (!tools.has_iptables() || tools.ipset.empty()) {
        return kNeedsFull;
    }
    const std::vector<std::string> names = ipset_names(next.ipset);
    LiveTables t;
    const std::string now = capture_iptables(tools, &t);
    if (!t.error.empty() || now != active.live) {
        return kNeedsFull;  // drift: the full load puts the rules back as well
    }
    std::set<char> in_use = t.v4.generations;
    in_use.insert(t.v6.generations.begin(), t.v6.generations.end());
    if (in_use.size() != 1 || names.empty()) {
        return kNeedsFull;  // no rule uses a set, or a killed apply left two generations
    }
    const char gen = *in_use.begin();
    for (const std::string& n : names) {
        if (std::find(t.sets.begin(), t.sets.end(), retarget_sets(n, gen)) == t.sets.end()) {
            return kNeedsFull;
        }
    }
    // The new members go into a generation no rule uses, and are swapped
    // with the live sets one set at a time (`ipset swap` is atomic): a rule
    // sees the old list or the new one, never a half filled set.
    const char spare = gen == 'a' ? 'b' : 'a';
    std::vector<std::string> stale;
    for (const std::string& n : t.sets) {
        if (generation_of(n) == spare) {
            stale.push_back(n);
        }
    }
    destroy_sets(tools, stale, nullptr);
    auto drop_spare = [&](std::vector<std::string>* out) {
        std::vector<std::string> spare_sets;
        for (const std::string& n : names) {
            spare_sets.push_back(retarget_sets(n, spare));
        }
        destroy_sets(tools, spare_sets, out);
    };
    core::ProgramResult r = run_program(tools, {tools.ipset, "restore"}, retarget_sets(next.ipset, spare));
    if (!r.ok()) {
        drop_spare(nullptr);
        *error = tool_failure("ipset restore", r);
        return SetLoad::failed;
    }
    for (size_t i = 0; i < names.size(); ++i) {
        r = run_program(tools, {tools.ipset, "swap", retarget_sets(names[i], spare), retarget_sets(names[i], gen)});
        if (r.ok()) {
            continue;
        }
        *error = tool_failure("ipset swap", r);
        for (size_t j = i; j-- > 0;) {
            core::ProgramResult back =
                run_program(tools, {tools.ipset, "swap", retarget_sets(names[j], spare), retarget_sets(names[j], gen)});
            if (!back.ok()) {
                *error += "; putting the old members back failed too (" + back.summary() + "): " +
                          retarget_sets(names[j], gen) + " holds the new list";
                return SetLoad::failed;
            }
        }
        drop_spare(nullptr);
        return SetLoad::failed;
    }
    drop_spare(notes);  // the old members
    *live = active.live;  // the same rules and set names
    return SetLoad::loaded;
}

SetLoad load_sets_nft(const Bundle& next, const Bundle& active, const Tools& tools, std::string* live,
                      std::string* error) {
    if (tools.nft.empty()) {
        return kNeedsFull;
    }
    core::ProgramResult r = run_program(tools, {tools.nft, "-f", "/dev/stdin"}, nft_set_script(next.nft));
    if (!r.ok()) {
        // Nothing changed (one transaction). The table or a set may be
        // gone (`nft flush ruleset`): the whole table, as a full apply.
        return kNeedsFull;
    }
    // Listing the table costs as much as loading it, so the rules are
    // compared after the load rather than before: when they are not as
    // applied, the whole table is replaced, as a full apply would.
    std::string now = capture_live(Backend::nft, tools);
    if (strip_set_elements(now) == strip_set_elements(active.live)) {
        *live = now;
        return SetLoad::loaded;
    }
    if (load_nft(next, tools, error)) {
        *live = capture_live(Backend::nft, tools);
        return SetLoad::loaded;
    }
    core::ProgramResult back = run_program(tools, {tools.nft, "-f", "/dev/stdin"}, nft_set_script(active.nft));
    if (!back.ok()) {
        *error += "; putting the old set members back failed too (" + back.summary() +
                  "): the sets hold the new lists";
    }
    return SetLoad::failed;
}

}  // namespace

std::string strip_set_elements(const std::string& text) {
    std::string out;
    out.reserve(text.size() < 65536 ? text.size() : 65536);
    bool skipping = false;
    for_each_line(text, [&](size_t b, size_t e) {
        if (!skipping) {
            size_t first = text.find_first_not_of(" \t", b);
            if (first < e && text.compare(first, 12, "elements = {") == 0) {
                skipping = true;
            }
        }
        if (skipping) {
            size_t last = text.find_last_not_of(" \t", e == 0 ? 0 : e - 1);
            if (last != std::string::npos && last >= b && last < e && text[last] == '}') {
                skipping = false;
            }
            return;
        }
        out.append(text, b, e - b);
        out += '\n';
    });
    return out;
}

bool same_rules(const Bundle& active, const Bundle& next) {
    if (active.backend != next.backend) {
        return false;
    }
    switch (next.backend) {
        case Backend::iptables:
            return active.v4 == next.v4 && active.v6 == next.v6 &&
                   ipset_declarations(active.ipset) == ipset_declarations(next.ipset);
        case Backend::nft:
            return strip_set_elements(active.nft) == strip_set_elements(next.nft);
        case Backend::none:
            return false;
    }
    return false;
}

SetLoad load_sets(const Bundle& next, const Bundle& active, const Tools& tools, std::string* live,
                  std::string* error, std::vector<std::string>* notes) {
    if (!same_rules(active, next)) {
        return SetLoad::needs_full;
    }
    if (next.backend == Backend::iptables) {
        return load_sets_iptables(next, active, tools, live, error, notes);
    }
    return load_sets_nft(next, active, tools, live, error);
}

std::string line_diff(const std::string& expected, const std::string& live) {
    // Multiset difference, in the order of each side: enough to name the
    // rule that was added or deleted by hand, and stable for big sets.
    std::vector<std::string> a = core::split_lines(expected), b = core::split_lines(live);
    std::map<std::string, int> count;
    for (const std::string& l : b) {
        ++count[l];
    }
    std::string out;
    std::map<std::string, int> unmatched_live = count;
    for (const std::string& l : a) {
        auto it = unmatched_live.find(l);
        if (it != unmatched_live.end() && it->second > 0) {
            --it->second;
        } else {
            out += "- " + l + "\n";
        }
    }
    std::map<std::string, int> expected_count;
    for (const std::string& l : a) {
        ++expected_count[l];
    }
    for (const std::string& l : b) {
        auto it = expected_count.find(l);
        if (it != expected_count.end() && it->second > 0) {
            --it->second;
        } else {
            out += "+ " + l + "\n";
        }
    }
    if (out.empty() && a != b) {
        out = "~ the same rules in another order\n";
    }
    return out;
}

bool StateDir::open_locked(int timeout_seconds, std::string* error) {
    // Parents as `mkdir -p` would make them (e.g. /var/lib/ringfence when
    // installed without the package); the state directory itself is 0700.
    for (size_t slash = path_.find('/', 1); slash != std::string::npos; slash = path_.find('/', slash + 1)) {
        if (mkdir(path_.substr(0, slash).c_str(), 0755) != 0 && errno != EEXIST) {
            break;
        }
    }
    if (mkdir(path_.c_str(), 0700) != 0 && errno != EEXIST) {
        *error = path_ + ": " + std::strerror(errno);
        return false;
    }
    struct stat st;
    if (lstat(path_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        *error = path_ + ": not a directory";
        return false;
    }
    if ((st.st_mode & 022) != 0 || (st.st_uid != 0 && st.st_uid != geteuid())) {
        *error = path_ + ": refusing a state directory that others can write (mode " +
                 std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                 std::to_string(st.st_mode & 7) + ")";
        return false;
    }
    const std::string lock = path_ + "/lock";
    lock_fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock_fd_ < 0) {
        *error = lock + ": " + std::strerror(errno);
        return false;
    }
    for (int waited = 0;; ++waited) {
        if (flock(lock_fd_, LOCK_EX | LOCK_NB) == 0) {
            // A write killed between link and rename left its temporary
            // name (core/atomic_file.h); ours to remove now that we hold the lock.
            core::UniqueFd dir(open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (dir) {
                core::remove_stale_temporaries(dir.get());
            }
            return true;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            *error = lock + ": " + std::strerror(errno);
            return false;
        }
        if (waited >= timeout_seconds * 10) {
            *error = "another ringfence-firewall holds " + lock + " (waited " + std::to_string(timeout_seconds) + " s)";
            return false;
        }
        timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
}

StateDir::~StateDir() {
    if (lock_fd_ >= 0) {
        close(lock_fd_);
    }
}

std::optional<Bundle> StateDir::read(const std::string& name, std::string* error) const {
    std::optional<std::string> text = read_whole(path_ + "/" + name + ".bundle");
    if (!text) {
        return std::nullopt;
    }
    std::optional<Bundle> b = deserialize(*text);
    if (!b && error != nullptr) {
        *error = path_ + "/" + name + ".bundle: damaged state file";
    }
    return b;
}

bool StateDir::write(const std::string& name, const Bundle& b, std::string* error) const {
    return write_file_atomically(path_ + "/" + name + ".bundle", serialize(b), error);
}

bool StateDir::copy(const std::string& from, const std::string& to, std::string* error) const {
    const std::string src = path_ + "/" + from + ".bundle";
    const std::string tmp = path_ + "/" + to + ".bundle.tmp";
    unlink(tmp.c_str());
    if (link(src.c_str(), tmp.c_str()) != 0) {
        *error = src + ": " + std::strerror(errno);
        return false;
    }
    if (rename(tmp.c_str(), (path_ + "/" + to + ".bundle").c_str()) != 0) {
        *error = path_ + "/" + to + ".bundle: " + std::strerror(errno);
        unlink(tmp.c_str());
        return false;
    }
    return true;
}

bool StateDir::exists(const std::string& name) const {
    struct stat st;
    return lstat((path_ + "/" + name + ".bundle").c_str(), &st) == 0;
}

std::optional<Backend> StateDir::backend_of(const std::string& name) const {
    FILE* f = std::fopen((path_ + "/" + name + ".bundle").c_str(), "re");
    if (f == nullptr) {
        return std::nullopt;
    }
    char line[128];
    std::optional<Backend> out;
    if (std::fgets(line, sizeof line, f) != nullptr && std::strcmp(line, "ringfence-firewall state 1\n") == 0 &&
        std::fgets(line, sizeof line, f) != nullptr && std::strncmp(line, "backend ", 8) == 0) {
        std::string name_text(line + 8);
        if (!name_text.empty() && name_text.back() == '\n') {
            name_text.pop_back();
        }
        out = parse_backend(name_text);
    }
    std::fclose(f);
    return out;
}

void StateDir::remove(const std::string& name) const { unlink((path_ + "/" + name + ".bundle").c_str()); }

std::optional<StateDir::Pending> StateDir::pending() const {
    std::optional<std::string> text = read_whole(path_ + "/pending");
    if (!text) {
        return std::nullopt;
    }
    std::vector<std::string> w = core::split_words(*text);
    if (w.size() != 4) {
        return std::nullopt;
    }
    Pending p;
    p.token = w[0];
    p.pid = std::atol(w[1].c_str());
    p.deadline = std::atol(w[2].c_str());
    p.seconds = std::atoi(w[3].c_str());
    return p;
}

bool StateDir::write_pending(const Pending& p, std::string* error) const {
    return write_file_atomically(path_ + "/pending",
                                 p.token + " " + std::to_string(p.pid) + " " + std::to_string(p.deadline) + " " +
                                     std::to_string(p.seconds) + "\n",
                                 error);
}

void StateDir::clear_pending() const { unlink((path_ + "/pending").c_str()); }

}  // namespace ringfence::firewall
