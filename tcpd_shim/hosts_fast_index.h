// SPDX-License-Identifier: BSD-3-Clause
// Builds the fast index of a compiled policy (hosts_fast_index.cc), which
// Policy::evaluate() walks. Internal to tcpd_shim/.
#pragma once

#include <memory>
#include <vector>

#include "tcpd_shim/hosts_access.h"

namespace ringfence::tcpd::detail {

std::shared_ptr<const FastIndex> build_fast_index(const std::vector<Rule>& rules);

}  // namespace ringfence::tcpd::detail
