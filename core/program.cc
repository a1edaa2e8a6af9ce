// SPDX-License-Identifier: BSD-3-Clause
// Usage errors and --version for every program (see program.h).
#include "core/program.h"

#include <cstdio>
#include <cstring>

#include "core/diagnostic.h"

namespace ringfence::core {

int usage_error(const char* program, const std::string& message) {
    std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program, message.c_str(), program);
    return kExitUsage;
}

std::string option_error(const char* arg, int optopt, const char* optstring) {
    std::string a = arg != nullptr ? escape_for_log(arg, 60) : "";
    if (a.compare(0, 2, "--") == 0) {
        a = a.substr(0, a.find('='));
        return optopt != 0 ? "option '" + a + "' needs a value" : "unrecognized option '" + a + "'";
    }
    const char* known = optopt > 0 ? std::strchr(optstring, optopt) : nullptr;
    std::string opt = "-" + std::string(1, static_cast<char>(optopt));
    if (known != nullptr && known[1] == ':') {
        return "option '" + opt + "' needs a value";
    }
    return "invalid option '" + (optopt > 0 && optopt < 127 ? opt : a) + "'";
}

void print_version(const char* program) { std::printf("%s (ringfence) %s\n", program, version()); }

const char* version() { return RINGFENCE_VERSION; }

}  // namespace ringfence::core
