// SPDX-License-Identifier: BSD-3-Clause
// What every ringfence program says the same way: a refused command line is
// one line naming what was wrong plus a pointer to --help (never the whole
// usage), and --version names the package version.
#pragma once

#include <string>

#include "core/exit_status.h"

namespace ringfence::core {

// Prints "PROGRAM: MESSAGE" and "Try 'PROGRAM --help' for more information."
// to stderr; returns kExitUsage.
int usage_error(const char* program, const std::string& message);

// What getopt_long's '?' meant, for usage_error: `arg` is argv[optind - 1],
// `optopt` and `optstring` as given to and set by getopt_long (opterr = 0).
std::string option_error(const char* arg, int optopt, const char* optstring);

// Prints "PROGRAM (ringfence) VERSION" to stdout.
void print_version(const char* program);

// The package version, as in CMakeLists.txt's project().
const char* version();

}  // namespace ringfence::core
