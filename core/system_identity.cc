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
constexpr int kMaxGroups = 65536;

// Calls fn(buf, len) with a growing buffer until it stops saying ERANGE.
template <typename Fn>
bool with_nss_buffer(std::vector<char>* buf, Fn fn) {
    size_t size = 16384;
    for (;;) {
        buf->resize(size);
        errno = 0;
        int rc = fn(buf->data(), buf->size());
        // Some NSS shims return -1 and set errno instead of returning it.
        if (rc != ERANGE && !(rc != 0 && errno == ERANGE)) {
            return rc == 0;
        }
        if (size >= kMaxNssBuffer) {
            return false;
        }
        size *= 4;
    }
}

}  // namespace

std::optional<UserInfo> SystemIdentity::lookup_user(const std::string& name) {
    std::vector<char> buf;
    struct passwd pw;
    struct passwd* found = nullptr;
    bool ok = with_nss_buffer(&buf, [&](char* b, size_t n) {
        int rc = getpwnam_r(name.c_str(), &pw, b, n, &found);
        return rc == EINTR ? ERANGE : rc;
    });
    if (!ok || found == nullptr) {
        return std::nullopt;
    }
    UserInfo u;
    u.name = pw.pw_name;
    u.uid = pw.pw_uid;
    u.gid = pw.pw_gid;

    int ngroups = 64;
    std::vector<gid_t> gids;
    for (;;) {
        gids.resize(static_cast<size_t>(ngroups));
        int n = ngroups;
        if (getgrouplist(u.name.c_str(), u.gid, gids.data(), &n) >= 0) {
            gids.resize(static_cast<size_t>(n));
            break;
        }
        if (n <= ngroups) {
            n = ngroups * 2;
        }
        if (n > kMaxGroups) {
            gids.assign(1, u.gid);
            break;
        }
        ngroups = n;
    }
    u.gids = gids;

    for (gid_t g : u.gids) {
        struct group gr;
        struct group* gfound = nullptr;
        std::vector<char> gbuf;
        bool gok = with_nss_buffer(&gbuf, [&](char* b, size_t n) { return getgrgid_r(g, &gr, b, n, &gfound); });
        if (gok && gfound != nullptr) {
            u.groups.emplace_back(gr.gr_name);
        }
    }
    return u;
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
