// SPDX-License-Identifier: BSD-3-Clause
// The firewall's transactions (transaction.h): the order of the kernel
// loads and the state-file updates, and what each failure leaves.
#include "iptables_helper/transaction.h"

#include <time.h>

#include <ctime>

#include "core/exit_status.h"

namespace ringfence::firewall {

namespace {

void fail(Outcome* o, int status, const std::string& problem) {
    o->status = status;
    o->problems.push_back(problem);
}

}  // namespace

std::string summary_of(const Bundle& b) {
    auto count = [](const std::string& text) {
        int n = 0;
        size_t pos = 0;
        while ((pos = text.find("\n-A ", pos)) != std::string::npos) {
            ++n;
            ++pos;
        }
        return n;
    };
    std::string sets = std::to_string(b.sets) + (b.sets == 1 ? " set" : " sets") + " (" + std::to_string(b.entries) +
                       (b.entries == 1 ? " entry)" : " entries)");
    if (b.backend == Backend::iptables) {
        return "IPv4 " + std::to_string(count(b.v4)) + " rules, IPv6 " + std::to_string(count(b.v6)) + " rules, " + sets;
    }
    return std::to_string(b.rules) + " policy rules, " + sets;
}

std::string clock_time(long epoch) {
    time_t t = epoch;
    tm local;
    localtime_r(&t, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
    return buf;
}

void Transaction::stop_timer() {
    if (std::optional<Pending> p = state_.pending()) {
        timer_.stop(*p);
    }
    state_.clear_pending();
}

Outcome Transaction::commit(Bundle bundle, int confirm_seconds, const std::string& done) {
    return commit_with(std::move(bundle), confirm_seconds, done, nullptr);
}

Outcome Transaction::reload(Bundle bundle, const std::string& done) {
    if (state_.pending()) {
        return commit(std::move(bundle), 0, done);
    }
    std::optional<Bundle> active = state_.read("active");
    if (!active || !same_rules(*active, bundle)) {
        return commit(std::move(bundle), 0, done);
    }
    return commit_with(std::move(bundle), 0, done, &*active);
}

Outcome Transaction::commit_with(Bundle bundle, int confirm_seconds, const std::string& done, const Bundle* active) {
    Outcome o;
    std::string error;
    std::vector<std::string> notes;
    const std::optional<Backend> active_backend = state_.backend_of("active");
    // previous := good; the old previous is kept aside until the load worked.
    const bool had_previous = state_.exists("previous");
    if (had_previous && !state_.copy("previous", "previous-old", &error)) {
        fail(&o, core::kExitFailed, "state directory " + state_.path() + ": " + error + ". Nothing changed.");
        return o;
    }
    auto put_back_previous = [&]() {
        std::string ignored;
        if (had_previous) {
            state_.copy("previous-old", "previous", &ignored);
            state_.remove("previous-old");
        } else {
            state_.remove("previous");
        }
    };
    stop_timer();
    bool previous_ok = state_.exists("good") ? state_.copy("good", "previous", &error)
                                             : state_.write("previous", Bundle(), &error);
    if (!previous_ok) {
        put_back_previous();
        fail(&o, core::kExitFailed, "state directory " + state_.path() + ": " + error + ". Nothing changed.");
        return o;
    }
    std::string pending_message;
    if (confirm_seconds > 0) {
        Pending p;
        p.token = timer_.new_token();
        p.seconds = confirm_seconds;
        p.deadline = timer_.now() + confirm_seconds;
        p.pid = timer_.start(p.token, confirm_seconds);
        if (p.pid == 0 || !state_.write_pending(p, &error)) {
            if (p.pid != 0) {
                timer_.stop(p);
            }
            put_back_previous();
            fail(&o, core::kExitFailed,
                 (p.pid == 0 ? std::string("the revert timer did not start") : error) +
                     ": without it there is no safety net. Nothing changed.");
            return o;
        }
        pending_message = "confirm within " + std::to_string(confirm_seconds) +
                          " s (`ringfence-firewall confirm`), or the previous ruleset comes back at " +
                          clock_time(p.deadline) + " (revert timer pid " + std::to_string(p.pid) + ")";
    }
    SetLoad how = SetLoad::needs_full;
    std::string live;
    if (active != nullptr) {
        how = load_sets(bundle, *active, tools_, &live, &error, &notes);
    }
    const bool loaded = how == SetLoad::needs_full ? load_bundle(bundle, tools_, &error, &notes) : how == SetLoad::loaded;
    if (!loaded) {
        stop_timer();
        put_back_previous();
        fail(&o, core::kExitFailed, error + ". The running ruleset is unchanged.");
        o.log.emplace_back(LogLevel::error,
                           "apply of " + bundle.source + " failed: " + error + "; running ruleset unchanged");
        return o;
    }
    if (active_backend && *active_backend != Backend::none && *active_backend != bundle.backend) {
        std::string flush_error;
        if (!flush_backend(*active_backend, tools_, &flush_error)) {
            notes.push_back(std::string("the rules of the previous backend (") + backend_name(*active_backend) +
                            ") were not all removed: " + flush_error);
        }
    }
    state_.remove("previous-old");
    bundle.live = how == SetLoad::loaded ? std::move(live) : capture_live(bundle.backend, tools_);
    o.sets_only = how == SetLoad::loaded;
    bool ok = state_.write("active", bundle, &error);
    if (ok && confirm_seconds == 0) {
        ok = state_.copy("active", "good", &error);
    }
    for (const std::string& n : notes) {
        o.problems.push_back("warning: " + n);
    }
    if (!ok) {
        fail(&o, core::kExitFailed, "state directory " + state_.path() + ": " + error);
        return o;
    }
    o.said.push_back(done);
    if (!pending_message.empty()) {
        o.said.push_back(pending_message);
    }
    return o;
}

Outcome Transaction::confirm() {
    Outcome o;
    if (!state_.pending()) {
        fail(&o, core::kExitInvalid, "nothing to confirm (no `apply --confirm` is pending)");
        return o;
    }
    std::string error;
    if (!state_.copy("active", "good", &error)) {
        fail(&o, core::kExitFailed, error);
        return o;
    }
    stop_timer();
    o.said.push_back("confirmed: the applied ruleset stays");
    o.log.emplace_back(LogLevel::notice, "confirmed the applied ruleset");
    return o;
}

Outcome Transaction::rollback(const std::string& why) {
    Outcome o;
    std::string error;
    std::optional<Bundle> prev = state_.read("previous", &error);
    if (!prev) {
        fail(&o, core::kExitInvalid,
             error.empty() ? "nothing to roll back to (no previous ruleset in " + state_.path() + ")" : error);
        return o;
    }
    const std::optional<Backend> active_backend = state_.backend_of("active");
    std::vector<std::string> notes;
    if (!load_bundle(*prev, tools_, &error, &notes)) {
        fail(&o, core::kExitFailed, "rollback failed: " + error + ". The running ruleset is unchanged.");
        o.log.emplace_back(LogLevel::error, "rollback failed: " + error);
        return o;
    }
    if (active_backend && *active_backend != Backend::none && *active_backend != prev->backend) {
        if (!flush_backend(*active_backend, tools_, &error)) {
            notes.push_back(error);
        }
    }
    prev->live = capture_live(prev->backend, tools_);
    bool ok = state_.write("active", *prev, &error) && state_.copy("active", "good", &error);
    state_.remove("previous");
    stop_timer();
    for (const std::string& n : notes) {
        o.problems.push_back("warning: " + n);
    }
    std::string what = prev->backend == Backend::none ? "no ringfence rules (as before the first apply)"
                                                      : "the ruleset from " + prev->source;
    o.said.push_back("rolled back (" + why + "): " + what);
    o.log.emplace_back(LogLevel::warning, "rolled back (" + why + "): " + what);
    if (!ok) {
        fail(&o, core::kExitFailed, "state directory: " + error);
    }
    return o;
}

Outcome Transaction::revert(const std::string& token, long seconds) {
    std::optional<Pending> p = state_.pending();
    if (!p || p->token != token) {
        return Outcome();  // confirmed, or replaced by a newer apply
    }
    state_.clear_pending();
    return rollback("not confirmed within " + std::to_string(seconds) + " s");
}

Outcome Transaction::flush() {
    Outcome o;
    stop_timer();
    bool ok = true;
    for (Backend b : {Backend::iptables, Backend::nft}) {
        std::string error;
        if (!flush_backend(b, tools_, &error)) {
            fail(&o, core::kExitFailed, error);
            ok = false;
        }
    }
    for (const char* name : {"active", "previous", "previous-old", "good"}) {
        state_.remove(name);
    }
    if (ok) {
        o.said.push_back("removed ringfence's rules and sets; other rules are untouched");
        o.log.emplace_back(LogLevel::warning, "flushed: ringfence's rules and sets removed");
    }
    return o;
}

Outcome Transaction::boot(const std::optional<Bundle>& bundle, std::string failure, const std::string& source,
                          const std::string& done) {
    Outcome o;
    if (state_.pending()) {
        // The host went down while an `apply --confirm` waited: that policy
        // was never confirmed (it may be the lockout the timer was for).
        state_.clear_pending();
        failure = "an `apply --confirm` was still unconfirmed when the host went down";
    }
    if (failure.empty() && bundle) {
        Outcome c = commit(*bundle, 0, done);
        if (c.ok()) {
            c.log.emplace_back(LogLevel::notice, "boot: applied " + source + ": " + summary_of(*bundle));
            return c;
        }
        o = c;
        failure = "applying " + source + " failed";
    } else if (failure.empty()) {
        failure = "no policy to apply";
    }
    std::string error;
    std::optional<Bundle> good = state_.read("good", &error);
    if (!good || good->backend == Backend::none) {
        const std::string none = error.empty() ? "there is no last good ruleset" : error;
        fail(&o, core::kExitInvalid, "boot: " + failure + ", and " + none + ": the ruleset is left as it is");
        o.log.emplace_back(LogLevel::error, "boot: " + failure + ", and " + none + ": nothing applied");
        return o;
    }
    std::vector<std::string> notes;
    if (!load_bundle(*good, tools_, &error, &notes)) {
        fail(&o, core::kExitFailed, "boot: " + failure + ", and the last good ruleset failed too: " + error);
        o.log.emplace_back(LogLevel::error, "boot: " + failure + ", and the last good ruleset failed too: " + error);
        return o;
    }
    good->live = capture_live(good->backend, tools_);
    state_.write("active", *good, &error);
    fail(&o, core::kExitInvalid,
         "boot: " + failure + "; applied the last good ruleset (from " + good->source + ") instead");
    o.log.emplace_back(LogLevel::error,
                       "boot: " + failure + "; applied the last good ruleset (from " + good->source + ") instead");
    return o;
}

}  // namespace ringfence::firewall
