// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for cli/pam_flow: the account stack a service runs, followed
// through include, substack and @include, and the findings for
// pam_ringfence: not reached (and where it is instead), a line before it
// that ends the stack or jumps over it, a control that ignores its refusal.
// The files are RHEL 9's sshd, system-auth and password-auth as authselect
// writes them (minimal profile), edited per case.
#include <map>
#include <string>

#include "cli/pam_flow.h"
#include "unit_test.h"

namespace pam = ringfence::cli::pam;
using ringfence::core::Diagnostics;

namespace {

const char* kSshd =
    "#%PAM-1.0\n"
    "auth       substack     password-auth\n"
    "auth       include      postlogin\n"
    "account    required     pam_sepermit.so\n"
    "account    required     pam_nologin.so\n"
    "account    include      password-auth\n"
    "password   include      password-auth\n"
    "session    include      password-auth\n";

const char* kSystemAuth =
    "auth        required      pam_env.so\n"
    "auth        sufficient    pam_unix.so nullok\n"
    "auth        required      pam_deny.so\n"
    "\n"
    "account     required      pam_ringfence.so atgroup\n"
    "account     required      pam_unix.so\n"
    "\n"
    "session     required      pam_unix.so\n";

const char* kPasswordAuth =
    "auth        required      pam_env.so\n"
    "auth        sufficient    pam_unix.so nullok\n"
    "auth        required      pam_deny.so\n"
    "\n"
    "account     required      pam_unix.so\n"
    "\n"
    "session     required      pam_unix.so\n";

struct Files {
    std::map<std::string, std::string> files;
    pam::ReadPamFile reader() const {
        return [this](const std::string& path, std::string*) -> std::optional<std::string> {
            auto it = files.find(path);
            if (it == files.end()) {
                return std::nullopt;
            }
            return it->second;
        };
    }
};

std::string lint(const Files& f, const std::string& service, const std::vector<std::string>& elsewhere = {}) {
    pam::AccountFlow flow = pam::account_flow(service, f.reader());
    Diagnostics d = flow.diags;
    Diagnostics more = pam::lint_account_flow(flow, elsewhere);
    d.insert(d.end(), more.begin(), more.end());
    std::string out;
    for (const auto& x : d) {
        out += x.one_line() + "\n";
    }
    return out;
}

void follows_includes(void**) {
    Files f;
    f.files["/etc/pam.d/sshd"] = kSshd;
    f.files["/etc/pam.d/password-auth"] = std::string(kSystemAuth);
    pam::AccountFlow flow = pam::account_flow("sshd", f.reader());
    CHECK(flow.installed && flow.complete, "");
    CHECK_INT(flow.lines.size(), 4, "sepermit, nologin, ringfence, unix");
    CHECK_STR(flow.lines[2].file, "/etc/pam.d/password-auth", "");
    CHECK_INT(flow.lines[2].line.number, 5, "");
    CHECK_STR(flow.lines[2].via.at(0), "/etc/pam.d/sshd:6 (include password-auth)", "");
    CHECK_STR(lint(f, "sshd"), "", "clean");
    CHECK(pam::files_with_ringfence(flow) == std::vector<std::string>{"/etc/pam.d/password-auth"}, "");

    pam::AccountFlow none = pam::account_flow("vmware-authd", f.reader());
    CHECK(!none.installed && lint(f, "vmware-authd").empty(), "a service that is not installed is not checked");
}

// The RHEL trap: the line went into system-auth, sshd reads password-auth.
void system_auth_not_read_by_sshd(void**) {
    Files f;
    f.files["/etc/pam.d/sshd"] = kSshd;
    f.files["/etc/pam.d/system-auth"] = kSystemAuth;
    f.files["/etc/pam.d/password-auth"] = kPasswordAuth;
    f.files["/etc/pam.d/login"] = "account include system-auth\n";
    pam::AccountFlow login = pam::account_flow("login", f.reader());
    std::vector<std::string> elsewhere = pam::files_with_ringfence(login);
    CHECK_STR(lint(f, "login"), "", "login reaches it");
    CHECK_STR(lint(f, "sshd", elsewhere),
              "/etc/pam.d/sshd: warning: sshd does not run pam_ringfence in its account stack: it is in "
              "/etc/pam.d/system-auth, which sshd does not read\n",
              "sshd");
}

void sufficient_before(void**) {
    Files f;
    f.files["/etc/pam.d/sshd"] = kSshd;
    f.files["/etc/pam.d/password-auth"] =
        "account     sufficient    pam_localuser.so\n"
        "account     [success=1 default=ignore] pam_succeed_if.so uid < 1000\n"
        "account     required      pam_ringfence.so\n"
        "account     [success=done default=ignore] pam_permit.so\n";
    CHECK_STR(lint(f, "sshd"),
              "/etc/pam.d/password-auth:1:1: warning: 'sufficient': when pam_localuser.so succeeds, the account "
              "stack ends before pam_ringfence runs (pam_ringfence is at /etc/pam.d/password-auth:3)\n"
              "/etc/pam.d/password-auth:2:1: warning: 'success=1' jumps over pam_ringfence when "
              "pam_succeed_if.so returns success (pam_ringfence is at /etc/pam.d/password-auth:3)\n",
              "two ways around it; a done after it is fine");
    // A jump that lands before it is fine.
    f.files["/etc/pam.d/password-auth"] =
        "account     [success=1 default=ignore] pam_succeed_if.so uid < 1000\n"
        "account     required      pam_unix.so\n"
        "account     required      pam_ringfence.so\n";
    CHECK_STR(lint(f, "sshd"), "", "success=1 skips pam_unix only");
}

void substack_scopes_done(void**) {
    Files f;
    f.files["/etc/pam.d/sshd"] = "account substack inner\naccount required pam_ringfence.so\n";
    f.files["/etc/pam.d/inner"] = "account sufficient pam_localuser.so\naccount required pam_unix.so\n";
    CHECK_STR(lint(f, "sshd"), "", "a sufficient in a substack ends the substack only");
    f.files["/etc/pam.d/sshd"] = "account include inner\naccount required pam_ringfence.so\n";
    CHECK(lint(f, "sshd").find("inner:1:1: warning: 'sufficient'") != std::string::npos, lint(f, "sshd"));
    f.files["/etc/pam.d/sshd"] = "account sufficient pam_localuser.so\naccount substack inner2\n";
    f.files["/etc/pam.d/inner2"] = "account required pam_ringfence.so\n";
    CHECK(lint(f, "sshd").find("sshd:1:1: warning: 'sufficient'") != std::string::npos,
          "a sufficient before the substack skips it: " + lint(f, "sshd"));
}

void refusal_ignored(void**) {
    Files f;
    for (const char* control : {"optional", "sufficient", "[success=ok perm_denied=ignore default=bad]"}) {
        f.files["/etc/pam.d/login"] = std::string("account ") + control + " pam_ringfence.so\naccount required pam_unix.so\n";
        std::string out = lint(f, "login");
        CHECK(out.find("a refusal by pam_ringfence (perm_denied) is ignored, so it does not stop the login") !=
                  std::string::npos,
              std::string(control) + ": " + out);
    }
    for (const char* control : {"required", "requisite", "[success=ok default=bad]", "[default=die]"}) {
        f.files["/etc/pam.d/login"] = std::string("account ") + control + " pam_ringfence.so\n";
        CHECK_STR(lint(f, "login"), "", control);
    }
    f.files["/etc/pam.d/login"] = "-account required pam_ringfence.so\n";
    CHECK(lint(f, "login").find("'-account'") != std::string::npos, lint(f, "login"));
}

void debian_at_include_and_missing(void**) {
    Files f;
    f.files["/etc/pam.d/sshd"] = "@include common-account\naccount include gone\n";
    f.files["/etc/pam.d/common-account"] = "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\n"
                                           "account requisite pam_deny.so\naccount required pam_permit.so\n"
                                           "account required pam_ringfence.so\n";
    std::string out = lint(f, "sshd");
    CHECK(out.find("sshd:2:1: warning: '/etc/pam.d/gone' does not exist: Linux-PAM skips this line") !=
              std::string::npos,
          out);
    CHECK(out.find("common-account:1:1: warning: 'new_authtok_reqd=done'") != std::string::npos, out);
    f.files["/etc/pam.d/sshd"] = "account include loop\n";
    f.files["/etc/pam.d/loop"] = "account include loop\n";
    out = lint(f, "sshd");
    CHECK(out.find("nest deeper than 16 levels") != std::string::npos, out);
    // Two includes per level: the walk stops at the first limit, said once.
    f.files["/etc/pam.d/loop"] = "account include loop\naccount include loop\n";
    out = lint(f, "sshd");
    size_t first = out.find("nest deeper than 16 levels");
    CHECK(first != std::string::npos && out.find("nest deeper", first + 1) == std::string::npos, out);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(follows_includes),      cmocka_unit_test(system_auth_not_read_by_sshd),
        cmocka_unit_test(sufficient_before),     cmocka_unit_test(substack_scopes_done),
        cmocka_unit_test(refusal_ignored),       cmocka_unit_test(debian_at_include_and_missing),
    };
    unit::apply_filters();
    return cmocka_run_group_tests_name("pam_flow", tests, nullptr, nullptr);
}
