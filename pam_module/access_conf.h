// SPDX-License-Identifier: BSD-3-Clause
// The access.conf language: pam_access's file format plus an optional fourth
// field for the time of day. Text is compiled once into an immutable Policy;
// a Request is then evaluated as a pure function of the policy, the request
// and the lookups passed in (identity, DNS).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/config_file.h"
#include "core/diagnostic.h"
#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"
#include "pam_module/time_spec.h"

namespace ringfence::access {

struct ParseOptions {
    std::string fieldsep = ":";     // every character separates fields
    std::string listsep = ", \t";   // every character separates list items
    bool nodefgroup = false;        // bare names are user names only
    bool atgroup = false;           // "@name" is the UNIX group name, not a netgroup
};

// One list item, compiled. Which kinds can appear depends on the field.
struct Token {
    enum class Kind {
        all,            // ALL
        local,          // LOCAL (origins)
        name,           // users: user name, or group name unless nodefgroup;
                        // origins: tty, service, display or host name (exact, case-insensitive)
        group,          // (group), or @group with atgroup
        netgroup,       // @netgroup
        host_netgroup,  // @@netgroup (users: this host and this user)
        user_at_host,   // user@host (users field)
        domain,         // .example.com (origins)
        v4_prefix,      // 192.168. (origins)
        network,        // address, addr/len, addr/mask (origins)
    };
    // Not value-initialised (the members have their own initialisers): the
    // compiler makes one per list item, and zero-filling the whole object
    // first showed in profiles.
    Token() {}

    Kind kind = Kind::name;
    std::string text;                          // as written
    int column = 0;                            // 1-based column of `text` in the rule's line
    std::string value;                         // name without decoration
    std::optional<core::CidrRange> network;    // Kind::network
    std::shared_ptr<const Token> user_part;    // Kind::user_at_host
    std::shared_ptr<const Token> host_part;    // Kind::user_at_host
};

// "A EXCEPT B EXCEPT C" = A and not (B and not C); each part is an OR.
struct TokenList {
    std::vector<std::vector<Token>> parts;
    std::string text;
};

struct Rule {
    bool allow = false;
    TokenList users;
    TokenList origins;
    std::optional<TimeSpec> times;  // absent: every time
    int times_column = 0;                 // 1-based column of the time field, 0 if absent
    std::string file;
    int line = 0;
    std::string source;                   // the line as written
    std::string location() const;         // "file:line"
};

struct Request {
    const core::UserInfo* user = nullptr;  // must exist: unknown users never reach evaluation
    std::string rhost;                     // PAM_RHOST ("" = none)
    std::optional<std::string> tty;        // PAM_TTY after the ttyname(0) fallback; nullopt = none
    std::string service;                   // PAM_SERVICE
    core::LocalTime when;
};

// "Tue 21:00": a request's time as explain() and lint show it.
std::string format_local_time(const core::LocalTime& t);

struct Environment {
    core::Identity& identity;
    core::NameService& dns;
};

enum class Verdict { allow, deny, no_match };

// The evaluator's three values: unknown is a group membership that the name
// service could not resolve (a rule that depends on one refuses).
enum class Match { no, yes, unknown };

// One thing the evaluator looked at, with why it did or did not match; only
// recorded for explain(). Tokens after the first that matches in a list are
// not looked at and have no step.
struct Step {
    enum class Field { time, users, origins };
    Field field = Field::users;
    int part = 0;                  // 0: before the first EXCEPT; n: after the n-th
    const Token* token = nullptr;  // null for the time field
    Match result = Match::no;
    std::string why;               // e.g. "alice is in group vmadmins (listed member)"
};

// Every step of one rule, in evaluation order, and the rule's result.
struct RuleTrace {
    const Rule* rule = nullptr;
    std::vector<Step> steps;
    Match result = Match::no;
    Match users = Match::no;  // the users field's result; no when it was not tried
};

// How much a trace looks at. as_evaluated: exactly what the evaluation
// does. users_past_time: also the users field of a rule whose time field
// did not match (the rule still does not match), so that a denial can say
// that an earlier rule named the user; costs lookups the decision did not
// need, so only used after a denial.
enum class TraceDepth { as_evaluated, users_past_time };

struct Decision {
    Verdict verdict = Verdict::no_match;
    const Rule* rule = nullptr;   // the deciding rule, null on no_match
    std::string origin;           // what the origins field was compared with
    bool remote = false;          // origin came from PAM_RHOST
    // Set on a refusal because `rule` may or may not apply: the name service
    // could not say whether the user is in this group (fail closed).
    std::string unresolved_group;
    std::string explanation() const;
};

// Where the origin comes from, exactly as pam_access: PAM_RHOST if set and
// non-empty; else PAM_TTY with a leading "/xxx/" removed; else the service.
struct Origin {
    std::string text;
    bool remote = false;
};
Origin origin_of(const Request& r);

// The policy keeps the text of its files and, per rule, where it is; the
// Rule objects (about thirty times the size of their text) are built only
// for whoever asks for rules() or a trace. A fresh process that decides once
// (an sshd child) compiles and decides in one pass, building one rule at a
// time: compile_and_decide().
class Policy {
public:
    // Compiles the files in order (access.conf, then access.d/*.conf). Any
    // error is added to *diags and makes the policy invalid: valid() false.
    // Every line is compiled here, whatever is built later, so an invalid
    // file is refused before any evaluation.
    static std::shared_ptr<const Policy> compile(const std::vector<core::ConfigText>& files,
                                                 const ParseOptions& options, core::Diagnostics* diags);
    static std::shared_ptr<const Policy> compile_buffers(std::vector<core::ConfigBuffer>&& files,
                                                 const ParseOptions& options, core::Diagnostics* diags);

    bool valid() const { return valid_; }
    // Every rule, built on the first call (thread-safe); the references stay
    // valid for the policy's life.
    const std::vector<Rule>& rules() const;
    size_t rule_count() const { return refs_.size(); }
    size_t file_count() const { return sources_.size(); }

    const ParseOptions& options() const { return options_; }

    // First matching rule decides; no match = Verdict::no_match (pam_access
    // then allows). Must not be called on an invalid policy.
    Decision evaluate(const Request& request, Environment& env) const;
    // The same evaluation, recording every rule considered into *trace
    // (see explain() in access_explain.h). Same decision; the trace always
    // tries the users field before the origins, so it may make group
    // lookups that evaluate() skips.
    Decision evaluate(const Request& request, Environment& env, std::vector<RuleTrace>* trace,
                      TraceDepth depth = TraceDepth::as_evaluated) const;
    // compile_buffers() and, in the same pass over the text, the decision
    // evaluate() would make, without building rules(): each rule is built
    // once, evaluated, and dropped. For a process that decides once (an sshd
    // child). *decision means nothing unless the policy is valid();
    // evaluation stops at the first invalid line, so an invalid policy makes
    // no lookups past it. Its rule is a copy owned by the returned policy:
    // compare rules by file and line, not by address.
    //
    // checked: every file is known to compile with no error (a checked
    // stamp, core/checked_stamp.h). Then a rule whose origins rule the
    // request out without a lookup is not compiled past them, and nothing
    // is compiled after the deciding rule: the same decision, for less.
    static std::shared_ptr<const Policy> compile_and_decide(std::vector<core::ConfigBuffer>&& files,
                                                            const ParseOptions& options, core::Diagnostics* diags,
                                                            const Request& request, Environment& env,
                                                            Decision* decision, bool checked = false);
    // Whether file i (in the order given) compiled whole with no error
    // (never true when decided on stamps), and its text: for its stamp.
    bool file_clean(size_t i) const { return i < clean_.size() && clean_[i]; }
    const std::string& file_text(size_t i) const { return sources_.at(i).text; }

    Policy() = default;
    Policy(const Policy&) = delete;
    Policy& operator=(const Policy&) = delete;

private:
    struct Source {
        std::string path;
        std::string text;
    };
    // Where a valid rule's line is: 16 bytes a rule.
    struct RuleRef {
        uint32_t source;
        uint32_t line;
        uint32_t offset;
        uint32_t length;
    };
    static std::shared_ptr<const Policy> compile_impl(std::vector<core::ConfigBuffer>&& files,
                                                      const ParseOptions& options, core::Diagnostics* diags,
                                                      const Request* request, Environment* env, Decision* decision,
                                                      bool checked);
    struct Scratch;  // the compiler's working space, reused from rule to rule
    // Builds one rule into *out, which may hold another: its storage is
    // reused. whole: also file, source and the lists' text (for explain,
    // lint and the log); evaluation needs none of them.
    // origins_only: see LineCompiler::compile().
    bool build(const RuleRef& ref, core::Diagnostics* diags, Rule* out, Scratch* scratch, bool whole,
               bool origins_only = false) const;

    std::vector<Source> sources_;
    std::vector<RuleRef> refs_;
    // Per byte: 1 = in fieldsep=, 2 = in listsep= (asked for every byte).
    std::array<uint8_t, 256> separators_{};
    bool valid_ = false;
    ParseOptions options_;
    mutable std::once_flag built_;
    mutable std::vector<Rule> rules_;
    std::unique_ptr<Rule> once_rule_;  // compile_and_decide()'s deciding rule
    std::vector<bool> clean_;          // per file: compiled whole with no error
};

// The files a policy is made of: the main file, then (when use_dropins) the
// sorted *.conf files in dropin_dir. Missing files are skipped, as pam_access
// does; unreadable or untrusted ones are errors.
struct PolicySource {
    std::vector<core::ConfigText> files;     // read_policy_files()
    std::vector<core::ConfigBuffer> buffers; // read_policy_buffers()
    std::vector<std::pair<std::string, core::FileStamp>> stamps;  // every path looked at, for reload
    core::Diagnostics diags;
    bool ok = true;  // false: a file could not be read safely
};
PolicySource read_policy_files(const std::string& main_file, bool use_dropins, const std::string& dropin_dir);
// The same files, read the same way, each kept as one buffer (in buffers,
// not files): what Policy::compile keeps anyway, without a string per line.
PolicySource read_policy_buffers(const std::string& main_file, bool use_dropins, const std::string& dropin_dir);

}  // namespace ringfence::access
