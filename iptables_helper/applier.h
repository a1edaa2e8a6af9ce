// SPDX-License-Identifier: BSD-3-Clause
// Loads rendered policies into the kernel and keeps the state that confirm,
// rollback, status and boot need. Everything here runs the real tools
// (core/run_program.h, never a shell) and holds the state directory's lock.
//
// A Bundle is what one apply loads: the rendered text for one backend, plus
// the policy it came from. Bundles are stored as single files in the state
// directory (replaced in one step, core/atomic_file.h):
//   active.bundle    what was applied last, with the live snapshot taken
//                    right after (status compares against it)
//   previous.bundle  what rollback (and the confirm timer) loads; a bundle
//                    with backend "none" means "no ringfence rules"
//   good.bundle      the last confirmed apply: boot's fallback
//   pending          the confirm timer: token, pid, deadline
//
// iptables backend, in order: the new sets under a free generation (no live
// rule points at it), `iptables-restore --test` of both families, then the
// IPv4 commit, then the IPv6 commit (if that fails the IPv4 table is put back
// from the iptables-save taken before), then the old generation's sets go.
// Each commit is one kernel transaction; the caller blocks the catchable
// signals around it. nft backend: one `nft -f` (one transaction).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/run_program.h"
#include "iptables_helper/firewall_conf.h"

namespace ringfence::firewall {

enum class Backend { none, iptables, nft };
const char* backend_name(Backend b);
std::optional<Backend> parse_backend(const std::string& name);

struct Tools {
    std::string iptables, ip6tables, iptables_restore, ip6tables_restore, iptables_save, ip6tables_save;
    std::string ipset, nft;
    std::string iptables_version;  // "iptables v1.8.9 (nf_tables)"
    std::string ipset_version, nft_version;
    bool iptables_is_nft() const { return iptables_version.find("nf_tables") != std::string::npos; }
    bool has_iptables() const;  // all six iptables programs
    // Runs one of the programs above (argv, standard input, timeout in
    // seconds). Empty: core::run_program. Tests put a netfilter of their own
    // here.
    std::function<core::ProgramResult(const std::vector<std::string>&, const std::string&, int)> run;
};

Tools detect_tools();

// `auto` (requested empty or "auto"): nft when `nft` exists and iptables is
// missing or the nf_tables variant, else iptables. Empty optional + *why
// when the requested backend's tools are missing.
std::optional<Backend> choose_backend(const std::string& requested, const Tools& tools, std::string* why);

// One line for humans: "iptables-nft (iptables v1.8.9 (nf_tables)), ipset v7.17".
std::string describe_backend(Backend b, const Tools& tools);

struct Bundle {
    Backend backend = Backend::none;
    std::string source;       // path of the policy file
    std::string policy;       // its text
    std::string v4, v6, ipset, nft;  // rendered (hooks included, set generation 'a')
    std::string live;         // snapshot of the live rules right after loading
    int rules = 0, sets = 0;
    long entries = 0;
};

Bundle make_bundle(const Policy& policy, Backend backend, const std::string& policy_text);

// Serialised form (single file).
std::string serialize(const Bundle& b);
std::optional<Bundle> deserialize(const std::string& text);

// Replaces `-vNa` generation letters of ringfence set names in rendered text.
std::string retarget_sets(const std::string& text, char generation);

// Chain and set references of iptables-restore input, checked by ourselves
// (iptables-nft-restore --test accepts a jump to an undeclared chain).
// Returns "" or the first problem.
std::string check_references(const std::string& restore_text, const std::vector<std::string>& sets);

// Loads a bundle. On failure the running ruleset is as it was, and *error
// says why. *notes collects warnings (e.g. an old set still in use).
bool load_bundle(const Bundle& bundle, const Tools& tools, std::string* error, std::vector<std::string>* notes);

// Set-only reload: when a policy differs from the active one only in the
// members of its sets (a feed or set file changed), loading the members
// alone is enough, and far cheaper than reloading the rules.
//
// Does `next` have the rules of `active` (same backend, rendered rules, set
// names and settings), whatever the members of their sets?
bool same_rules(const Bundle& active, const Bundle& next);

// nft text (a rendered script or a listing) without the members of its
// named sets: the `elements = { ... }` blocks.
std::string strip_set_elements(const std::string& text);

enum class SetLoad {
    loaded,      // the new members are live; *live is the snapshot
    needs_full,  // nothing changed: the rules differ from `active`, or the
                 // live rules are not what `active` recorded (load_bundle)
    failed,      // the old members are live (unless *error says otherwise)
};

// Loads the members of `next`'s sets, `active` being the live bundle.
// iptables: the live rules must be those `active` recorded (checked first);
// the sets are restored under the spare generation, then `ipset swap`ped
// with the live ones one by one (a failed swap swaps the earlier ones
// back), then the spare sets (the old members) go. nft: one `nft -f` that
// flushes and fills each set (one transaction); the rules are compared
// afterwards, and replaced with the whole table when they were not as
// applied (on failure the old members go back).
SetLoad load_sets(const Bundle& next, const Bundle& active, const Tools& tools, std::string* live,
                  std::string* error, std::vector<std::string>* notes);

// Removes ringfence's hooks, chains and sets (backend iptables) or table
// (backend nft). A backend whose tools are missing is skipped.
bool flush_backend(Backend backend, const Tools& tools, std::string* error);

// The live rules ringfence owns, normalised for comparison. For the
// iptables backend the sets appear by name only: their members are compared
// with the bundle by set_members_* (status), which keeps a 100,000-entry
// set out of the snapshot taken at every apply.
std::string capture_live(Backend backend, const Tools& tools);

// "add NAME ENTRY" lines, sorted, names at generation 'a', host entries
// without /32 or /128 (as `ipset save` prints them): of the live sets that
// live rules use, and of a bundle's ipset input.
std::string set_members_live(const Tools& tools);
std::string set_members_expected(const std::string& ipset_text);

// Line diff: "- expected" / "+ live" lines, "" when equal.
std::string line_diff(const std::string& expected, const std::string& live);

// The confirm timer's record: which timer, and when it fires.
struct Pending {
    std::string token;
    long pid = 0;
    long deadline = 0;  // epoch seconds
    int seconds = 0;
};

// The state files the transaction (transaction.h) keeps: bundles by name
// ("active", "previous", "previous-old", "good") and the pending record.
class StateStore {
public:
    virtual ~StateStore() = default;
    virtual std::string path() const = 0;  // for messages
    virtual std::optional<Bundle> read(const std::string& name, std::string* error = nullptr) const = 0;
    virtual bool write(const std::string& name, const Bundle& b, std::string* error) const = 0;
    // `to` becomes the same content as `from`.
    virtual bool copy(const std::string& from, const std::string& to, std::string* error) const = 0;
    // The backend line of a bundle, without reading the rest.
    virtual std::optional<Backend> backend_of(const std::string& name) const = 0;
    virtual bool exists(const std::string& name) const = 0;
    virtual void remove(const std::string& name) const = 0;
    virtual std::optional<Pending> pending() const = 0;
    virtual bool write_pending(const Pending& p, std::string* error) const = 0;
    virtual void clear_pending() const = 0;
};

// The state directory: one file per bundle (NAME.bundle, replaced in one
// step, core/atomic_file.h) and `pending`, under a lock.
class StateDir : public StateStore {
public:
    using Pending = firewall::Pending;
    explicit StateDir(std::string path) : path_(std::move(path)) {}
    std::string path() const override { return path_; }
    // Creates the directory (0700) if needed and refuses one that others can
    // write; takes the lock, waiting up to timeout_seconds.
    bool open_locked(int timeout_seconds, std::string* error);
    ~StateDir() override;

    std::optional<Bundle> read(const std::string& name, std::string* error = nullptr) const override;
    bool write(const std::string& name, const Bundle& b, std::string* error) const override;
    // A hard link, renamed into place: bundles are never written in place,
    // so sharing one is safe.
    bool copy(const std::string& from, const std::string& to, std::string* error) const override;
    std::optional<Backend> backend_of(const std::string& name) const override;
    bool exists(const std::string& name) const override;
    void remove(const std::string& name) const override;
    std::optional<Pending> pending() const override;
    bool write_pending(const Pending& p, std::string* error) const override;
    void clear_pending() const override;

private:
    std::string path_;
    int lock_fd_ = -1;
};

}  // namespace ringfence::firewall
