// SPDX-License-Identifier: BSD-3-Clause
// The system's users, groups and netgroups (NSS). The only place in the
// project that asks NSS about accounts.
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "core/identity.h"

namespace ringfence::core {

namespace {

// Entries larger than this are treated as lookup failures. Far above the
// 256 KiB at which stock pam_access gives up on a group.
constexpr size_t kMaxNssBuffer = 64u << 20;
// A group list longer than this cannot be held: the lookup fails (it is
// never cut short). Far above the kernel's NGROUPS_MAX of 65,536.
constexpr int kMaxGroups = 1 << 22;

// Calls fn(buf, len, &found) with a growing buffer until it stops saying
// ERANGE. Returns the status: an entry, none, or no answer.
template <typename Fn>
LookupStatus with_nss_buffer(std::vector<char>* buf, Fn fn) {
    size_t size = 16384;
    for (;;) {
        buf->resize(size);
        errno = 0;
        bool found = false;
        int rc = fn(buf->data(), buf->size(), &found);
        // Some NSS shims return -1 and set errno instead of returning it.
        if (rc != 0 && rc != ERANGE && errno == ERANGE) {
            rc = ERANGE;
        }
        if (rc == EINTR) {
            continue;
        }
        if (rc != ERANGE) {
            if (rc == 0) {
                return found ? LookupStatus::found : LookupStatus::not_found;
            }
            // getpwnam_r(3): these mean "not found" for some services.
            return rc == ENOENT || rc == ESRCH ? LookupStatus::not_found : LookupStatus::failed;
        }
        if (size >= kMaxNssBuffer) {
            return LookupStatus::failed;
        }
        size *= 4;
    }
}

}  // namespace

LookupStatus SystemIdentity::lookup_user(const std::string& name, UserInfo* out) {
    std::vector<char> buf;
    struct passwd pw;
    LookupStatus st = with_nss_buffer(&buf, [&](char* b, size_t n, bool* found) {
        struct passwd* p = nullptr;
        int rc = getpwnam_r(name.c_str(), &pw, b, n, &p);
        *found = p != nullptr;
        return rc;
    });
    if (st == LookupStatus::found) {
        out->name = pw.pw_name;
        out->uid = pw.pw_uid;
        out->gid = pw.pw_gid;
    }
    return st;
}

LookupStatus SystemIdentity::lookup_group(const std::string& name, GroupInfo* out) {
    std::vector<char> buf;
    struct group gr;
    LookupStatus st = with_nss_buffer(&buf, [&](char* b, size_t n, bool* found) {
        struct group* g = nullptr;
        int rc = getgrnam_r(name.c_str(), &gr, b, n, &g);
        *found = g != nullptr;
        return rc;
    });
    if (st == LookupStatus::found) {
        out->name = gr.gr_name;
        out->gid = gr.gr_gid;
        out->members.clear();
        for (char** m = gr.gr_mem; m != nullptr && *m != nullptr; ++m) {
            out->members.emplace_back(*m);
        }
    }
    return st;
}

LookupStatus SystemIdentity::group_ids(const UserInfo& user, std::vector<gid_t>* out) {
    int capacity = 256;
    for (;;) {
        out->resize(static_cast<size_t>(capacity));
        int n = capacity;
        if (getgrouplist(user.name.c_str(), user.gid, out->data(), &n) >= 0) {
            out->resize(static_cast<size_t>(n));
            return LookupStatus::found;
        }
        // -1: the list did not fit, and n says how long it is (glibc); some
        // services leave n alone, so grow anyway.
        int next = n > capacity ? n : capacity * 2;
        if (next > kMaxGroups) {
            out->clear();
            return LookupStatus::failed;
        }
        capacity = next;
    }
}

bool SystemIdentity::in_netgroup(const std::string& netgroup, const char* host, const char* user,
                                 const char* domain) {
    return innetgr(netgroup.c_str(), host, user, domain) == 1;
}

std::string SystemIdentity::host_name() {
    char buf[HOST_NAME_MAX + 1] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0) {
        return "";
    }
    return buf;
}

std::string SystemIdentity::nis_domain() {
    char buf[256] = {0};
    if (getdomainname(buf, sizeof buf - 1) != 0) {
        return "";
    }
    std::string d = buf;
    if (d == "(none)") {
        return "";
    }
    return d;
}

}  // namespace ringfence::core
