// SPDX-License-Identifier: BSD-3-Clause
// What the evaluators may ask about users, groups, netgroups and this host.
// The system implementation (system_identity.cc) is the only code that calls
// NSS; tests and `ringfence explain` pass their own.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ringfence::core {

struct UserInfo {
    std::string name;  // canonical pw_name
    uid_t uid = 0;
    gid_t gid = 0;     // primary group
};

struct GroupInfo {
    std::string name;
    gid_t gid = 0;
    std::vector<std::string> members;  // gr_mem: the members listed by name
};

// found / not_found are answers; failed is not one: the name service could
// not say (an error, an entry too large to read, a list too long to hold).
// Callers must not read failed as "no such group" or "not a member".
enum class LookupStatus { found, not_found, failed };

class Identity {
public:
    virtual ~Identity() = default;
    // getpwnam(3): the user of that name.
    virtual LookupStatus lookup_user(const std::string& name, UserInfo* out) = 0;
    // getgrnam(3): the group of that name and its listed members.
    virtual LookupStatus lookup_group(const std::string& name, GroupInfo* out) = 0;
    // getgrouplist(3): every gid of the user, primary and supplementary,
    // complete or failed (never cut short).
    virtual LookupStatus group_ids(const UserInfo& user, std::vector<gid_t>* out) = 0;
    // innetgr(3): any of host/user/domain may be null (= wildcard).
    virtual bool in_netgroup(const std::string& netgroup, const char* host, const char* user,
                             const char* domain) = 0;
    // gethostname(); empty if unknown.
    virtual std::string host_name() = 0;
    // getdomainname() unless empty or "(none)"; empty = none.
    virtual std::string nis_domain() = 0;
};

class SystemIdentity final : public Identity {
public:
    LookupStatus lookup_user(const std::string& name, UserInfo* out) override;
    LookupStatus lookup_group(const std::string& name, GroupInfo* out) override;
    LookupStatus group_ids(const UserInfo& user, std::vector<gid_t>* out) override;
    bool in_netgroup(const std::string& netgroup, const char* host, const char* user,
                     const char* domain) override;
    std::string host_name() override;
    std::string nis_domain() override;
};

}  // namespace ringfence::core
