// SPDX-License-Identifier: BSD-3-Clause
// ringfence-tcpdmatch: predicts how the hosts_access rules answer one
// request, like tcpdmatch(8), naming the deciding rule.
//
//   ringfence-tcpdmatch [-d] [-i inet_conf] daemon[@host] [user@]host
//     client `host`: an address (its name counts as unknown, as tcpdmatch),
//     `unknown` or `paranoid` (the name placeholders), or a host name (each
//     of its addresses is checked, with the double-reverse lookup).
//   ringfence-tcpdmatch [-d] --addr ADDR [--name NAME] [--user USER]
//                       [--port PORT] daemon[@host]
//     the exact request: no DNS, ident or netgroup lookup at all.
// Exit status: 0 (whatever the verdict, as tcpdmatch), 2 usage or lookup error.
#include <getopt.h>
#include <sys/stat.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/exit_status.h"
#include "core/paths.h"
#include "core/program.h"
#include "core/identity.h"
#include "core/name_service.h"
#include "tcpd_shim/hosts_access.h"
#include "tcpd_shim/hosts_explain.h"
#include "tcpd_shim/system_reverse.h"

namespace {

namespace tcpd = ringfence::tcpd;
using ringfence::core::IpAddress;
using ringfence::core::escape_for_log;

bool is_placeholder(const std::string& s) {
    return s == tcpd::kUnknown || s == tcpd::kParanoid;
}

void report(const tcpd::Decision& d, const tcpd::Request& req) {
    const tcpd::Endpoint& c = req.client;
    if (c.name && !c.name->empty() && *c.name != tcpd::kUnknown) {
        std::printf("client:   hostname %s\n", escape_for_log(*c.name, 200).c_str());
    }
    if (c.address) {
        std::printf("client:   address  %s\n", c.address->to_string().c_str());
    }
    if (req.user && !req.user->empty() && *req.user != tcpd::kUnknown) {
        std::printf("client:   username %s\n", escape_for_log(*req.user, 200).c_str());
    }
    if (req.server.name && !req.server.name->empty()) {
        std::printf("server:   hostname %s\n", escape_for_log(*req.server.name, 200).c_str());
    }
    if (req.server.address) {
        std::printf("server:   address  %s\n", req.server.address->to_string().c_str());
    }
    if (req.server_port) {
        std::printf("server:   port     %u\n", static_cast<unsigned>(*req.server_port));
    }
    std::printf("server:   process  %s\n", escape_for_log(req.daemon, 200).c_str());
    if (d.rule != nullptr) {
        std::printf("matched:  %s\n", d.rule->location().c_str());
        if (d.reason == tcpd::Decision::Reason::broken_rule) {
            std::printf("error:    %s\n", escape_for_log(d.rule->error, 300).c_str());
        }
    }
    if (const auto* opts = d.options()) {
        for (const tcpd::Option& o : *opts) {
            std::string v = o.value.empty() ? "" : " " + o.value;
            std::printf("option:   %s%s\n", tcpd::option_name(o.kind), escape_for_log(v, 300).c_str());
        }
    }
    if (d.reason != tcpd::Decision::Reason::broken_rule) {  // the error line says why
        std::printf("reason:   %s\n", escape_for_log(tcpd::decision_reason(d, req), 300).c_str());
    }
    std::printf("access:   %s\n", d.verdict == tcpd::Verdict::allow ? "granted" : "denied");
}

const char kProgram[] = "ringfence-tcpdmatch";
const char kOptString[] = "di:h";
const char kUsage[] =
    "usage: ringfence-tcpdmatch [-d] [-i inet_conf] daemon[@host] [user@]host\n"
    "       ringfence-tcpdmatch [-d] --addr ADDR [--name NAME] [--user USER] [--port PORT] daemon[@host]\n"
    "Predicts how /etc/hosts.allow and /etc/hosts.deny answer one request and names the\n"
    "deciding rule. Options may come before or after the operands.\n"
    "  -d             use hosts.allow and hosts.deny in the current directory\n"
    "  -i inet_conf   accepted for compatibility; inetd.conf is not consulted\n"
    "  host           an address (its name counts as unknown, as tcpdmatch), unknown,\n"
    "                 paranoid, or a host name (each of its addresses is checked)\n"
    "  --addr ADDR    the exact request: no DNS, ident or netgroup lookup at all, with\n"
    "  --name NAME    the client's verified host name, --user USER its ident user and\n"
    "  --port PORT    the server port\n"
    "  -h, --help     this text\n"
    "  --version      the version\n"
    "Exit status: 0 (whatever the verdict, as tcpdmatch), 2 usage or lookup error.\n";

int usage_error(const std::string& message) { return ringfence::core::usage_error(kProgram, message); }

}  // namespace

int main(int argc, char** argv) {
    bool here = false;
    std::optional<std::string> addr, name, user;
    std::optional<uint16_t> port;
    static const struct option long_opts[] = {
        {"addr", required_argument, nullptr, 'A'}, {"name", required_argument, nullptr, 'N'},
        {"user", required_argument, nullptr, 'U'}, {"port", required_argument, nullptr, 'P'},
        {"help", no_argument, nullptr, 'h'},       {"version", no_argument, nullptr, 'V'},
        {nullptr, 0, nullptr, 0}};
    // Options anywhere, as glibc's tcpdmatch (GNU getopt permutes).
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, kOptString, long_opts, nullptr)) != -1) {
        switch (opt) {
            case 'd':
                here = true;
                break;
            case 'i':
                break;  // tcpdmatch reads inetd.conf for warnings only; ringfence does not
            case 'A':
                addr = optarg;
                break;
            case 'N':
                name = optarg;
                break;
            case 'U':
                user = optarg;
                break;
            case 'P': {
                char* end = nullptr;
                long v = std::strtol(optarg, &end, 10);
                if (*optarg == '\0' || *end != '\0' || v < 0 || v > 65535) {
                    return usage_error("--port '" + escape_for_log(optarg) + "' is not a port number (0 to 65535)");
                }
                port = static_cast<uint16_t>(v);
                break;
            }
            case 'h':
                std::fputs(kUsage, stdout);
                return ringfence::core::kExitOk;
            case 'V':
                ringfence::core::print_version(kProgram);
                return ringfence::core::kExitOk;
            default:
                return usage_error(ringfence::core::option_error(argv[optind - 1], optopt, kOptString));
        }
    }
    const bool exact = addr.has_value();
    if ((name || user || port) && !exact) {
        return usage_error("--name, --user and --port go with --addr");
    }
    int operands = argc - optind;
    if (operands != (exact ? 1 : 2)) {
        if (exact) {
            return usage_error(operands == 0 ? "missing daemon[@host]"
                                             : "with --addr, give only daemon[@host] (the client is --addr)");
        }
        return usage_error(operands == 0   ? "missing daemon[@host] and [user@]host"
                           : operands == 1 ? "missing the client: [user@]host after '" +
                                                 escape_for_log(argv[optind]) + "'"
                                           : "too many arguments: expected daemon[@host] [user@]host");
    }

    tcpd::DaemonAndHost operand = tcpd::split_daemon_host(argv[optind]);
    std::string daemon(operand.daemon);
    std::optional<std::string> server_host;
    if (operand.host) {
        server_host = std::string(*operand.host);
    }
    if (daemon.empty() || (server_host && server_host->empty())) {
        return usage_error("'" + escape_for_log(argv[optind]) + "' is not daemon[@host]: a part is empty");
    }

    const char* allow_path = here ? "hosts.allow" : ringfence::core::kHostsAllow;
    const char* deny_path = here ? "hosts.deny" : ringfence::core::kHostsDeny;
    auto show = [&](const ringfence::core::Diagnostics& diags) {
        struct stat st;
        if (lstat(allow_path, &st) != 0 && errno == ENOENT && lstat(deny_path, &st) != 0 && errno == ENOENT) {
            // Same decision as libwrap (granted), but said.
            std::printf("note: neither %s nor %s exists: every client is granted\n", allow_path, deny_path);
        }
        for (const auto& d : diags) {
            if (d.severity == ringfence::core::Severity::error) {
                std::fprintf(stderr, "%s\n", d.one_line().c_str());
            }
        }
    };
    // The whole policy, for several requests (a host name's addresses), or
    // for its diagnostics alone before a usage error.
    auto load = [&]() {
        ringfence::core::Diagnostics diags;
        auto policy = tcpd::Policy::load(allow_path, deny_path, &diags);
        show(diags);
        return policy;
    };
    // One request: compiled and decided in one pass (the same diagnostics).
    auto decide_once = [&](const tcpd::Request& r, const tcpd::Lookups& l) {
        ringfence::core::Diagnostics diags;
        tcpd::Decision d;
        auto policy = tcpd::Policy::load_and_decide(allow_path, deny_path, &diags, r, l, &d);
        show(diags);
        report(d, r);
        return ringfence::core::kExitOk;
    };

    ringfence::core::SystemNameService forward;
    tcpd::SystemReverseNameService reverse;
    ringfence::core::SystemIdentity identity;

    tcpd::Request req;
    req.daemon = daemon;
    req.server_port = port;

    if (exact) {
        auto a = IpAddress::parse(*addr);
        if (!a) {
            load();
            std::fprintf(stderr, "ringfence-tcpdmatch: --addr '%s' is not an IPv4 or IPv6 address\n",
                         escape_for_log(*addr).c_str());
            return ringfence::core::kExitUsage;
        }
        req.client.address = *a;
        req.client.name = name.value_or("");  // given: never looked up
        req.user = user;
        if (server_host) {
            if (auto s = IpAddress::parse(*server_host)) {
                req.server.address = *s;
                req.server.name = "";
            } else {
                req.server.name = *server_host;
            }
        }
        return decide_once(req, tcpd::Lookups{});  // no lookups of any kind
    }

    tcpd::Lookups lookups{&reverse, &forward, &identity};
    if (server_host) {
        if (auto s = IpAddress::parse(*server_host)) {
            req.server.address = *s;
            req.server.name = "";
        } else if (is_placeholder(*server_host)) {
            req.server.name = *server_host;
        } else {
            std::vector<IpAddress> as = forward.resolve(*server_host);
            if (as.size() != 1) {
                load();
                std::fprintf(stderr, "ringfence-tcpdmatch: server '%s' must resolve to exactly one address (%zu)\n",
                             escape_for_log(*server_host).c_str(), as.size());
                return ringfence::core::kExitUsage;
            }
            req.server.address = as.front();
            req.server.name = *server_host;
        }
    }

    std::string client = argv[optind + 1];
    if (size_t at = client.rfind('@'); at != std::string::npos) {
        req.user = client.substr(0, at);
        client = client.substr(at + 1);
    }
    if (client.empty()) {
        load();
        return usage_error("'" + escape_for_log(argv[optind + 1]) + "' is not [user@]host: the host is empty");
    }
    if (auto a = IpAddress::parse(client)) {
        // As tcpdmatch: an address alone means "the name lookup failed".
        req.client.address = *a;
        req.client.name = "";
        return decide_once(req, lookups);
    }
    if (is_placeholder(client)) {
        req.client.name = client;
        return decide_once(req, lookups);
    }
    auto policy = load();
    std::vector<IpAddress> addrs = forward.resolve(client);
    if (addrs.empty()) {
        std::fprintf(stderr, "ringfence-tcpdmatch: host name %s->address lookup failed\n",
                     escape_for_log(client).c_str());
        return ringfence::core::kExitUsage;
    }
    bool first = true;
    for (const IpAddress& a : addrs) {
        if (!first) {
            std::printf("\n");
        }
        first = false;
        tcpd::Request r = req;
        r.client.address = a;
        r.client.name = tcpd::verified_host_name(a, reverse, forward);
        report(policy->evaluate(r, lookups), r);
    }
    return ringfence::core::kExitOk;
}
