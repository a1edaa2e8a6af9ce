// SPDX-License-Identifier: BSD-3-Clause
// The one fake identity (users, groups, netgroups, host name) and fake DNS of
// the tests: tables in memory, every call recorded, nothing asks NSS or a
// resolver. Used by the unit tests of every layer and by the fuzz targets,
// so it depends on core/ only (no test framework). A fake is cheap: make a
// new one per test or per fuzz input.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/identity.h"
#include "core/ip.h"
#include "core/name_service.h"

namespace fakes {

class FakeIdentity final : public ringfence::core::Identity {
public:
    struct Group {
        std::string name;
        gid_t gid;
        std::vector<std::string> members;  // gr_mem: supplementary members only
    };
    struct User {
        std::string name;
        uid_t uid;
        gid_t gid;  // primary group
    };
    // innetgr triple; an empty field is a wildcard, as "(,alice,)" in /etc/netgroup.
    struct Triple {
        std::string host, user, domain;
    };
    struct NetgroupCall {
        std::string netgroup;
        std::optional<std::string> host, user, domain;  // nullopt = NULL argument
    };

    void add_group(const std::string& name, gid_t gid, std::vector<std::string> members = {}) {
        groups_.push_back(Group{name, gid, std::move(members)});
    }
    void add_user(const std::string& name, uid_t uid, gid_t gid) { users_.push_back(User{name, uid, gid}); }
    void add_triple(const std::string& netgroup, Triple t) { netgroups_[netgroup].push_back(std::move(t)); }

    ringfence::core::LookupStatus lookup_user(const std::string& name, ringfence::core::UserInfo* out) override {
        ++lookup_calls;
        for (const User& u : users_) {
            if (u.name == name) {
                out->name = u.name;
                out->uid = u.uid;
                out->gid = u.gid;
                return ringfence::core::LookupStatus::found;
            }
        }
        return ringfence::core::LookupStatus::not_found;
    }

    // As getgrnam(); the names in failing_groups give a name-service error.
    ringfence::core::LookupStatus lookup_group(const std::string& name, ringfence::core::GroupInfo* out) override {
        group_calls.push_back(name);
        if (failing_groups.count(name) != 0) {
            return ringfence::core::LookupStatus::failed;
        }
        for (const Group& g : groups_) {
            if (g.name == name) {
                out->name = g.name;
                out->gid = g.gid;
                out->members = g.members;
                return ringfence::core::LookupStatus::found;
            }
        }
        return ringfence::core::LookupStatus::not_found;
    }

    // Primary group plus every group listing the user, as getgrouplist();
    // fails for the users in failing_group_lists.
    ringfence::core::LookupStatus group_ids(const ringfence::core::UserInfo& user, std::vector<gid_t>* out) override {
        ++group_list_calls;
        if (failing_group_lists.count(user.name) != 0) {
            return ringfence::core::LookupStatus::failed;
        }
        out->assign(1, user.gid);
        for (const Group& g : groups_) {
            if (g.gid != user.gid && std::find(g.members.begin(), g.members.end(), user.name) != g.members.end()) {
                out->push_back(g.gid);
            }
        }
        return ringfence::core::LookupStatus::found;
    }

    // The user, for a request (test setup: the user must exist).
    ringfence::core::UserInfo user(const std::string& name) {
        ringfence::core::UserInfo u;
        if (lookup_user(name, &u) != ringfence::core::LookupStatus::found) {
            std::fprintf(stderr, "FakeIdentity: no user %s\n", name.c_str());
            std::abort();
        }
        return u;
    }

    bool in_netgroup(const std::string& netgroup, const char* host, const char* user, const char* domain) override {
        NetgroupCall call{netgroup, {}, {}, {}};
        if (host != nullptr) {
            call.host = host;
        }
        if (user != nullptr) {
            call.user = user;
        }
        if (domain != nullptr) {
            call.domain = domain;
        }
        netgroup_calls.push_back(call);
        auto it = netgroups_.find(netgroup);
        if (it == netgroups_.end()) {
            return false;
        }
        for (const Triple& t : it->second) {
            if (field_ok(t.host, host) && field_ok(t.user, user) && field_ok(t.domain, domain)) {
                return true;
            }
        }
        return false;
    }

    std::string host_name() override {
        ++host_name_calls;
        return this_host;
    }
    std::string nis_domain() override {
        ++domain_calls;
        return nis_domain_name;
    }

    std::string this_host = "vmhost.example.com";  // gethostname()
    std::string nis_domain_name;                   // getdomainname(); empty = none
    int lookup_calls = 0;
    int group_list_calls = 0;
    std::vector<std::string> group_calls;     // names asked of lookup_group, in order
    std::set<std::string> failing_groups;      // lookup_group fails for these
    std::set<std::string> failing_group_lists; // group_ids fails for these users
    int host_name_calls = 0;
    int domain_calls = 0;
    std::vector<NetgroupCall> netgroup_calls;

private:
    static bool field_ok(const std::string& entry, const char* asked) {
        return entry.empty() || asked == nullptr || entry == asked;
    }
    std::vector<Group> groups_;
    std::vector<User> users_;
    std::map<std::string, std::vector<Triple>> netgroups_;
};

class FakeNameService final : public ringfence::core::NameService {
public:
    void add(const std::string& name, const std::vector<std::string>& addresses) {
        auto& v = table_[name];
        for (const std::string& a : addresses) {
            auto ip = ringfence::core::IpAddress::parse(a);
            if (!ip) {
                std::fprintf(stderr, "FakeNameService: bad address %s\n", a.c_str());
                std::abort();
            }
            v.push_back(*ip);
        }
    }
    std::vector<ringfence::core::IpAddress> resolve(const std::string& name) override {
        queried.push_back(name);
        auto it = table_.find(name);
        return it == table_.end() ? std::vector<ringfence::core::IpAddress>{} : it->second;
    }
    int calls() const { return static_cast<int>(queried.size()); }
    int calls_for(const std::string& name) const {
        int n = 0;
        for (const std::string& q : queried) {
            n += q == name;
        }
        return n;
    }
    std::vector<std::string> queried;

private:
    std::map<std::string, std::vector<ringfence::core::IpAddress>> table_;
};

}  // namespace fakes
