// SPDX-License-Identifier: BSD-3-Clause
#include "cli/audit_report.h"

#include <cstdio>

namespace ringfence::cli::audit {

namespace {

int rank(State s) {
    switch (s) {
        case State::ok:
            return 0;
        case State::unknown:
            return 1;
        case State::warning:
            return 2;
        case State::critical:
            return 3;
    }
    return 0;
}

std::string plural(size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Nagios reserves '|' for perfdata: a message must not hold one.
std::string no_pipe(std::string s) {
    for (char& c : s) {
        if (c == '|') {
            c = '/';
        }
    }
    return s;
}

std::string item_line(const Item& i) {
    return std::string(state_name(i.state)) + " " + i.layer + " " + i.check + ": " + i.message;
}

// Prometheus label values: backslash, double quote and newline escaped.
std::string label(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

const char* state_name(State s) {
    switch (s) {
        case State::ok:
            return "OK";
        case State::warning:
            return "WARNING";
        case State::critical:
            return "CRITICAL";
        case State::unknown:
            return "UNKNOWN";
    }
    return "UNKNOWN";
}

void Report::add(std::string layer, std::string check, State state, std::string message) {
    items.push_back(Item{std::move(layer), std::move(check), state, std::move(message)});
}

State Report::worst() const {
    State w = State::ok;
    for (const Item& i : items) {
        if (rank(i.state) > rank(w)) {
            w = i.state;
        }
    }
    return w;
}

size_t Report::count(State s) const {
    size_t n = 0;
    for (const Item& i : items) {
        n += i.state == s;
    }
    return n;
}

std::string format_nagios(const Report& r) {
    State w = r.worst();
    std::string summary;
    size_t crit = r.count(State::critical);
    size_t warn = r.count(State::warning);
    size_t unknown = r.count(State::unknown);
    if (crit > 0) {
        summary += plural(crit, "critical", "critical");
    }
    if (warn > 0) {
        summary += (summary.empty() ? "" : ", ") + plural(warn, "warning", "warnings");
    }
    if (unknown > 0) {
        summary += (summary.empty() ? "" : ", ") + plural(unknown, "unknown", "unknown");
    }
    summary += (summary.empty() ? "all " + plural(r.items.size(), "check", "checks") + " OK"
                                : " of " + plural(r.items.size(), "check", "checks"));
    // The first problem of the worst state, so that a pager shows what to fix.
    for (const Item& i : r.items) {
        if (i.state == w && w != State::ok) {
            summary += ": " + i.layer + " " + i.check + ": " + i.message;
            break;
        }
    }
    std::string out = std::string("RINGFENCE ") + state_name(w) + " - " + no_pipe(summary);
    out += " | checks=" + std::to_string(r.items.size()) + ";;;0 ok=" + std::to_string(r.count(State::ok)) +
           ";;;0 warning=" + std::to_string(warn) + ";;;0 critical=" + std::to_string(crit) +
           ";;;0 unknown=" + std::to_string(unknown) + ";;;0\n";
    for (State s : {State::critical, State::warning, State::unknown, State::ok}) {
        for (const Item& i : r.items) {
            if (i.state == s) {
                out += no_pipe(item_line(i)) + "\n";
            }
        }
    }
    return out;
}

std::string format_text(const Report& r) {
    std::string out;
    for (const Item& i : r.items) {
        out += item_line(i) + "\n";
    }
    out += std::string("audit: ") + state_name(r.worst()) + " (" + plural(r.items.size(), "check", "checks") +
           ": " + std::to_string(r.count(State::ok)) + " ok, " + std::to_string(r.count(State::warning)) +
           " warning, " + std::to_string(r.count(State::critical)) + " critical, " +
           std::to_string(r.count(State::unknown)) + " unknown)\n";
    return out;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string format_json(const Report& r) {
    std::string out = "{\"state\":" + json_string(state_name(r.worst())) + ",\"items\":[";
    for (size_t k = 0; k < r.items.size(); ++k) {
        const Item& i = r.items[k];
        out += k == 0 ? "" : ",";
        out += "{\"layer\":" + json_string(i.layer) + ",\"check\":" + json_string(i.check) +
               ",\"state\":" + json_string(state_name(i.state)) + ",\"message\":" + json_string(i.message) + "}";
    }
    return out + "]}\n";
}

std::string format_prometheus(const Report& r, int64_t now_seconds) {
    std::string out;
    out += "# HELP ringfence_audit_state Worst state of ringfence audit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n";
    out += "# TYPE ringfence_audit_state gauge\n";
    out += "ringfence_audit_state " + std::to_string(static_cast<int>(r.worst())) + "\n";
    out += "# HELP ringfence_audit_checks Number of audit checks in each state.\n";
    out += "# TYPE ringfence_audit_checks gauge\n";
    for (State s : {State::ok, State::warning, State::critical, State::unknown}) {
        std::string name = state_name(s);
        out += "ringfence_audit_checks{state=\"" + name + "\"} " + std::to_string(r.count(s)) + "\n";
    }
    out += "# HELP ringfence_audit_check_state State of one audit check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n";
    out += "# TYPE ringfence_audit_check_state gauge\n";
    for (const Item& i : r.items) {
        out += "ringfence_audit_check_state{layer=\"" + label(i.layer) + "\",check=\"" + label(i.check) + "\"} " +
               std::to_string(static_cast<int>(i.state)) + "\n";
    }
    out += "# HELP ringfence_audit_timestamp_seconds When the audit ran (Unix time).\n";
    out += "# TYPE ringfence_audit_timestamp_seconds gauge\n";
    out += "ringfence_audit_timestamp_seconds " + std::to_string(now_seconds) + "\n";
    return out;
}

}  // namespace ringfence::cli::audit
