// SPDX-License-Identifier: BSD-3-Clause
// pam_ringfence.so: the PAM adapter. Gathers the request from PAM items and
// NSS, evaluates the cached compiled policy, maps the decision to a PAM
// return code and logs. It never parses anything itself and never lets an
// exception cross the C boundary.
#include <pthread.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/identity.h"
#include "core/name_service.h"
#include "pam_module/access_conf.h"
#include "pam_module/access_explain.h"
#include "pam_module/module_options.h"

namespace ringfence::pam {

namespace {

using access::Decision;
using access::Policy;
using access::Verdict;
using core::escape_for_log;

using ModuleConfig = access::ModuleOptions;

// The compiled policy, kept for the life of the process (the module is
// linked -z nodelete so this survives pam_end) and rebuilt when any file it
// was read from changes. Plain pointer + pthread mutex: no static object
// with a constructor or destructor in the module.
struct Cached {
    std::string key;
    access::LoadedPolicy loaded;
};

pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;
Cached* g_cache = nullptr;

std::string cache_key(const ModuleConfig& c) {
    return c.accessfile + '\n' + (c.accessfile_given ? "1" : "0") + '\n' + c.parse.fieldsep + '\n' + c.parse.listsep +
           '\n' + (c.parse.nodefgroup ? "1" : "0") + (c.parse.atgroup ? "1" : "0");
}

bool still_fresh(const Cached& c) {
    for (const auto& [path, stamp] : c.loaded.source.stamps) {
        if (core::stamp_of(path) != stamp) {
            return false;
        }
    }
    return true;
}

struct Loaded {
    std::shared_ptr<const Policy> policy;  // null or invalid: refuse
    core::Diagnostics diags;
    bool main_missing = false;
    // Read for this call, and `decision` made while compiling (the policy's
    // one pass over its text); meaningful only if the policy is valid.
    bool decided = false;
    Decision decision;
};

// With a request, a policy read now is also evaluated in the same pass: a
// process that decides once (sshd's child) builds each rule once.
Loaded cached_policy(const ModuleConfig& cfg, const access::Request* request, access::Environment* env) {
    std::string key = cache_key(cfg);
    pthread_mutex_lock(&g_cache_lock);
    struct Unlock {
        ~Unlock() { pthread_mutex_unlock(&g_cache_lock); }
    } unlock;
    Loaded out;
    if (g_cache == nullptr || g_cache->key != key || !still_fresh(*g_cache)) {
        auto fresh = std::make_unique<Cached>();
        fresh->key = key;
        if (request != nullptr) {
            fresh->loaded = access::load_policy_and_decide(cfg, access::kDropinDir, *request, *env, &out.decision);
            out.decided = true;
        } else {
            fresh->loaded = access::load_policy(cfg);
        }
        delete g_cache;
        g_cache = fresh.release();
    }
    out.policy = g_cache->loaded.policy;
    out.diags = g_cache->loaded.diags;
    out.main_missing = g_cache->loaded.main_missing;
    return out;
}

const char* item_string(pam_handle_t* pamh, int item) {
    const void* v = nullptr;
    if (pam_get_item(pamh, item, &v) != PAM_SUCCESS) {
        return nullptr;
    }
    return static_cast<const char*>(v);
}

void log_policy_errors(pam_handle_t* pamh, const core::Diagnostics& diags) {
    int shown = 0;
    int errors = 0;
    for (const core::Diagnostic& d : diags) {
        if (d.severity != core::Severity::error) {
            continue;
        }
        ++errors;
        if (shown < 3) {
            std::string text = d.one_line();
            if (!d.hint.empty()) {
                text += " (" + d.hint + ")";
            }
            pam_syslog(pamh, LOG_ERR, "%s", escape_for_log(text, 500).c_str());
            ++shown;
        }
    }
    if (errors > shown) {
        pam_syslog(pamh, LOG_ERR, "... and %d more errors in the policy", errors - shown);
    }
    pam_syslog(pamh, LOG_ERR, "policy is invalid: refusing every login until it is fixed");
}

// "access denied for user 'U' from 'O' (FILE:LINE: why)": admins grep the
// part up to FILE:LINE, so it is always the same; the why (access_explain.h)
// comes from evaluating again with a trace, done here only, after a denial.
// If the why cannot be built, the line ends at FILE:LINE as before.
void log_denial(pam_handle_t* pamh, const Policy& policy, const access::Request& req, access::Environment& env,
                const Decision& d, const std::string& user_name) {
    std::string head = "access denied for user '" + escape_for_log(user_name) + "' from '" +
                       escape_for_log(d.origin) + "' (" + escape_for_log(d.rule->location(), 400);
    // The whole line stays under 900 bytes whatever the names and paths.
    constexpr size_t kMaxLine = 880;
    std::string why;
    try {
        if (head.size() + 40 < kMaxLine) {
            why = access::denial_reason(policy, req, env, d, kMaxLine - head.size() - 3);
        }
    } catch (...) {
        why.clear();
    }
    if (!why.empty()) {
        head += ": " + why;
    }
    pam_syslog(pamh, LOG_ERR, "%s)", head.c_str());
}

int check_access(pam_handle_t* pamh, int argc, const char** argv) {
    ModuleConfig cfg = access::parse_module_options(argc, argv);
    if (!cfg.bad_option.empty()) {
        pam_syslog(pamh, LOG_ERR, "unrecognized option [%s]: refusing access (fix the PAM configuration)",
                   escape_for_log(cfg.bad_option).c_str());
        return PAM_PERM_DENIED;
    }

    const char* user_name = nullptr;
    if (pam_get_user(pamh, &user_name, nullptr) != PAM_SUCCESS || user_name == nullptr || *user_name == '\0') {
        pam_syslog(pamh, LOG_NOTICE, "cannot determine user name");
        return PAM_USER_UNKNOWN;
    }

    access::Request req;
    const void* rhost_item = nullptr;
    if (pam_get_item(pamh, PAM_RHOST, &rhost_item) != PAM_SUCCESS) {
        pam_syslog(pamh, LOG_ERR, "cannot read PAM_RHOST");
        return PAM_ABORT;
    }
    const char* rhost = static_cast<const char*>(rhost_item);
    req.rhost = rhost != nullptr ? rhost : "";
    if (req.rhost.empty()) {
        const char* tty = item_string(pamh, PAM_TTY);
        if (tty == nullptr) {
            // As pam_access: fall back to the controlling tty of stdin and
            // record it for later modules.
            // ttyname_r: the caller may be a multi-threaded daemon.
            char tty_buf[256];
            if (ttyname_r(STDIN_FILENO, tty_buf, sizeof tty_buf) == 0 &&
                pam_set_item(pamh, PAM_TTY, tty_buf) != PAM_SUCCESS) {
                return PAM_ABORT;
            }
            tty = item_string(pamh, PAM_TTY);
        }
        if (tty != nullptr) {
            req.tty = std::string(tty);
        }
    }
    const char* service = item_string(pamh, PAM_SERVICE);
    req.service = service != nullptr ? service : "";
    if (req.rhost.empty() && !req.tty && req.service.empty()) {
        pam_syslog(pamh, LOG_ERR, "cannot find the origin: no rhost, tty or service");
        return PAM_ABORT;
    }

    core::SystemIdentity identity;
    core::UserInfo user;
    switch (identity.lookup_user(user_name, &user)) {
        case core::LookupStatus::found:
            break;
        case core::LookupStatus::not_found:
            if (cfg.debug) {
                pam_syslog(pamh, LOG_DEBUG, "user '%s' is unknown", escape_for_log(user_name).c_str());
            }
            return PAM_USER_UNKNOWN;
        case core::LookupStatus::failed:
            // Not "unknown": a stack with user_unknown=ignore would let
            // the login through on the next module's word.
            pam_syslog(pamh, LOG_ERR, "cannot look up user '%s' (name service error): refusing access",
                       escape_for_log(user_name).c_str());
            return PAM_PERM_DENIED;
    }
    req.user = &user;

    core::SystemClock clock;
    std::optional<core::LocalTime> now = core::local_time(clock.now());
    if (now) {
        req.when = *now;
    }
    // nodns (Linux-PAM 1.7.1) stops the resolution of tokens; this module
    // never resolves tokens, so only the rhost's own name and this host's
    // name are ever looked up, with or without it.
    core::SystemNameService dns;
    access::Environment env{identity, dns};

    // A policy read for this call decides it in the same pass (most often
    // the only call: sshd decides in a fresh process); a cached one is
    // evaluated. The checks below come first either way.
    Loaded loaded = cached_policy(cfg, now ? &req : nullptr, &env);
    if (cfg.accessfile_given && loaded.main_missing && loaded.diags.empty()) {
        pam_syslog(pamh, LOG_ERR, "failed to open accessfile=[%s]", escape_for_log(cfg.accessfile, 400).c_str());
        return PAM_ABORT;
    }
    if (!loaded.policy || !loaded.policy->valid()) {
        log_policy_errors(pamh, loaded.diags);
        return PAM_PERM_DENIED;
    }
    if (loaded.main_missing && !cfg.accessfile_given) {
        // As pam_access: not an error, but the admin should know that only
        // the drop-ins (if any) apply.
        pam_syslog(pamh, LOG_WARNING, "warning: cannot open %s: no such file", cfg.accessfile.c_str());
    }
    if (!now) {
        pam_syslog(pamh, LOG_ERR, "cannot read the local time: refusing access");
        return PAM_PERM_DENIED;
    }
    Decision d = loaded.decided ? loaded.decision : loaded.policy->evaluate(req, env);

    if (d.verdict == Verdict::deny && !d.unresolved_group.empty()) {
        // Logged even with quiet_log: the refusal is not the policy's word.
        pam_syslog(pamh, LOG_ERR,
                   "access denied for user '%s' from '%s' (%s): cannot resolve whether the user is in group '%s'",
                   escape_for_log(user.name).c_str(), escape_for_log(d.origin).c_str(),
                   escape_for_log(d.rule->location(), 400).c_str(), escape_for_log(d.unresolved_group).c_str());
        return PAM_PERM_DENIED;
    }
    if (d.verdict == Verdict::deny) {
        if (!cfg.quiet_log) {
            log_denial(pamh, *loaded.policy, req, env, d, user.name);
        }
        return PAM_PERM_DENIED;
    }
    if (cfg.debug) {
        pam_syslog(pamh, LOG_DEBUG, "access granted for user '%s' from '%s': %s", escape_for_log(user.name).c_str(),
                   escape_for_log(d.origin).c_str(), escape_for_log(d.explanation(), 400).c_str());
    }
    return PAM_SUCCESS;
}

int guarded(pam_handle_t* pamh, int argc, const char** argv) noexcept {
    try {
        return check_access(pamh, argc, argv);
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_CRIT, "internal error: %s: refusing access", e.what());
    } catch (...) {
        pam_syslog(pamh, LOG_CRIT, "internal error: refusing access");
    }
    return PAM_SERVICE_ERR;
}

}  // namespace
}  // namespace ringfence::pam

// Built with -fvisibility=hidden; these six are the module's whole ABI (the
// version script says the same, and a test checks it).
#define RINGFENCE_EXPORT __attribute__((visibility("default")))

extern "C" {

RINGFENCE_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return ringfence::pam::guarded(pamh, argc, argv);
}

RINGFENCE_EXPORT int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) { return PAM_IGNORE; }

RINGFENCE_EXPORT int pam_sm_acct_mgmt(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return ringfence::pam::guarded(pamh, argc, argv);
}

RINGFENCE_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return ringfence::pam::guarded(pamh, argc, argv);
}

RINGFENCE_EXPORT int pam_sm_close_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return ringfence::pam::guarded(pamh, argc, argv);
}

RINGFENCE_EXPORT int pam_sm_chauthtok(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return ringfence::pam::guarded(pamh, argc, argv);
}

}  // extern "C"
