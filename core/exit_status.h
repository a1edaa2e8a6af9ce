// SPDX-License-Identifier: BSD-3-Clause
// The exit statuses every ringfence program uses for the same meanings, so
// that a script or a configuration-management run reads them one way.
// Programs that become another program (ringfence-tcpd, ringfence-wrap) exit
// with that program's status once it runs; `ringfence audit` speaks the
// Nagios plugin convention instead (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
#pragma once

namespace ringfence::core {

// Done; the policy is clean; the host is as the policy says.
constexpr int kExitOk = 0;
// A policy has errors (nothing was applied or changed), or the host differs
// from the policy (drift), or there was nothing to act on.
constexpr int kExitInvalid = 1;
// An explain that answered "no": the request is denied (a policy with errors
// denies every request, so it answers the same).
constexpr int kExitDenied = 1;
// The command line was refused (see core/program.h).
constexpr int kExitUsage = 2;
// An operation on the system failed (the message says what state is left),
// or a question could not be answered here (a user that does not exist, a
// name service that does not answer).
constexpr int kExitFailed = 3;
// Refused for safety, or must be done by hand: nothing was changed.
constexpr int kExitRefused = 4;
// A checker found warnings and no errors: the policy would run as written,
// but probably not as meant.
constexpr int kExitWarnings = 5;

}  // namespace ringfence::core
