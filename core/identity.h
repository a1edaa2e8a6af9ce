// What the evaluators may ask about users, groups, netgroups and this host.
// The system implementation (system_identity.cc) is the only code that calls
// NSS; tests and `ringfence explain` pass their own.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ringfence::core {

struct UserInfo {
    std::string name;                 // canonical pw_name
    uid_t uid = 0;
    gid_t gid = 0;                    // primary group
    std::vector<gid_t> gids;          // primary + supplementary
    std::vector<std::string> groups;  // names of gids (those that resolve)
};

class Identity {
public:
    virtual ~Identity() = default;
    // The user and all of its groups, resolved once. nullopt: no such user.
    virtual std::optional<UserInfo> lookup_user(const std::string& name) = 0;
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
    std::optional<UserInfo> lookup_user(const std::string& name) override;
    bool in_netgroup(const std::string& netgroup, const char* host, const char* user,
                     const char* domain) override;
    std::string host_name() override;
    std::string nis_domain() override;
};

}  // namespace ringfence::core
