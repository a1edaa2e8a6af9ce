// SPDX-License-Identifier: BSD-3-Clause
// Per-decision cost of libwrap's hosts_access() versus ringfence's
// Policy::evaluate() on the same generated hosts.allow / hosts.deny, in one
// process. Worst case: the deciding rule is the last line of hosts.deny, so
// libwrap reads both files to the end on every call (it re-reads them per
// call: that is its real cost) and our engine walks every compiled rule.
// Numeric patterns only and the client name given (RQ_CLIENT_NAME), so
// neither side ever asks DNS.
//
// usage: decision_bench DIR [SECONDS_PER_CELL] [LINES...]
// Prints one line per size: lines libwrap_ns ours_ns ours_stale_ns ratio
#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include <tcpd.h>
extern int dry_run;
}

#include "core/diagnostic.h"
#include "tcpd_shim/hosts_access.h"

namespace tcpd = ringfence::tcpd;
using ringfence::core::IpAddress;

namespace {

constexpr const char* kDaemon = "bench";
constexpr const char* kClient = "192.0.2.55";
constexpr const char* kClientName = "client.example.org";

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A rule that never matches the benchmark's request (numeric only). Most name
// the benchmark's daemon, so the client list is compared too.
std::string filler(int i) {
    int a = (i / 250) % 250 + 1, b = i % 250 + 1;
    switch (i % 6) {
        case 0: return std::string(kDaemon) + ": 10." + std::to_string(a) + "." + std::to_string(b) + ".7\n";
        case 1: return std::string(kDaemon) + ": 10." + std::to_string(a) + "." + std::to_string(b) + ".\n";
        case 2: return std::string(kDaemon) + ", sshd: 172.16." + std::to_string(b) + ".0/255.255.255.0 10." +
                       std::to_string(a) + ".0.0/255.255.0.0\n";
        case 3: return std::string(kDaemon) + ": [2001:db8:" + std::to_string(i % 65536) + "::]/48\n";
        case 4: return "svc" + std::to_string(i) + ": ALL\n";
        default: return "ALL EXCEPT " + std::string(kDaemon) + ": 192.0.2.\n";
    }
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
    f.close();
    chmod(path.c_str(), 0644);
}

// `lines` lines in all: half in each file; the last line of hosts.deny
// denies the request.
void generate(const std::string& allow, const std::string& deny, int lines) {
    std::string a, d;
    int n_allow = lines / 2, n_deny = lines - n_allow - 1;
    for (int i = 0; i < n_allow; ++i) a += filler(i);
    for (int i = 0; i < n_deny; ++i) d += filler(n_allow + i);
    d += std::string(kDaemon) + ": " + kClient + "\n";
    write_file(allow, a);
    write_file(deny, d);
}

bool libwrap_once() {
    struct request_info ri;
    request_init(&ri, RQ_DAEMON, kDaemon, RQ_CLIENT_ADDR, kClient, RQ_CLIENT_NAME, kClientName, RQ_USER, "",
                 0);
    dry_run = 1;
    return hosts_access(&ri) != 0;
}

// Runs f repeatedly for about `seconds`; ns per call.
template <typename F>
double measure(F f, double seconds) {
    for (int i = 0; i < 3; ++i) f();  // warm up (page cache, allocator)
    long iters = 0, batch = 1;
    double start = now_s(), elapsed = 0;
    while (elapsed < seconds) {
        for (long i = 0; i < batch; ++i) f();
        iters += batch;
        elapsed = now_s() - start;
        if (batch < 1 << 20) batch *= 2;
    }
    return elapsed * 1e9 / static_cast<double>(iters);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: decision_bench DIR [SECONDS_PER_CELL] [LINES...]\n");
        return 2;
    }
    std::string dir = argv[1];
    double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
    std::vector<int> sizes;
    for (int i = 3; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
    if (sizes.empty()) sizes = {10, 1000, 10000};

    for (int lines : sizes) {
        std::string allow = dir + "/hosts.allow." + std::to_string(lines);
        std::string deny = dir + "/hosts.deny." + std::to_string(lines);
        generate(allow, deny, lines);

        ringfence::core::Diagnostics diags;
        auto policy = tcpd::Policy::load(allow, deny, &diags);
        if (!policy || !policy->valid()) {
            std::fprintf(stderr, "decision_bench: generated policy rejected (%d lines)\n", lines);
            return 1;
        }
        tcpd::Request req;
        req.daemon = kDaemon;
        req.client.address = IpAddress::parse(kClient);
        req.client.name = std::string(kClientName);
        req.user = std::string();
        tcpd::Lookups none;

        hosts_allow_table = const_cast<char*>(allow.c_str());
        hosts_deny_table = const_cast<char*>(deny.c_str());
        bool theirs = libwrap_once();
        tcpd::Decision ours = policy->evaluate(req, none);
        // Both must refuse, by the very last rule.
        if (theirs || ours.verdict != tcpd::Verdict::deny || ours.rule == nullptr ||
            ours.rule != &policy->rules().back()) {
            std::fprintf(stderr, "decision_bench: unexpected decision at %d lines: libwrap %s, ours %s\n", lines,
                         theirs ? "allow" : "deny", ours.explanation().c_str());
            return 1;
        }

        volatile bool sink = false;
        double lw = measure([&] { sink = libwrap_once(); }, seconds);
        double rf = measure([&] { sink = policy->evaluate(req, none).verdict == tcpd::Verdict::deny; }, seconds);
        // Ours plus the staleness check (stat of both files) the shim makes at
        // most once a second: the upper bound of its per-connection cost.
        double rfs = measure(
            [&] {
                sink = !tcpd::policy_is_stale(*policy) &&
                       policy->evaluate(req, none).verdict == tcpd::Verdict::deny;
            },
            seconds);
        (void)sink;
        std::printf("%d %.0f %.0f %.0f %.1f\n", lines, lw, rf, rfs, lw / rf);
        std::fflush(stdout);
    }
    return 0;
}
