// SPDX-License-Identifier: BSD-3-Clause
// The hosts_options(5) language: the fields after a rule's second ':',
// parsed and checked into Options (executing them is the adapters' job).
// Internal to tcpd_shim/; the pattern compiler calls it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd::detail {

// Where option problems go. Offsets are in the rule's logical line.
class OptionReporter {
public:
    virtual ~OptionReporter() = default;
    virtual void error(size_t offset, std::string message, std::string hint) = 0;
    virtual void warning(size_t offset, std::string message, std::string hint) = 0;
    // The physical line and the column of an offset, for Option::line and
    // Option::column.
    virtual int line_of(size_t offset) const = 0;
    virtual int column_of(size_t offset) const = 0;
};

// Compiles `text` (the options field, starting at `offset` of the logical
// line) and appends the options to *out. Returns false after reporting the
// first bad option: libwrap stops there and denies.
bool compile_options(std::string_view text, size_t offset, OptionReporter& report, std::vector<Option>* out);

}  // namespace ringfence::tcpd::detail
