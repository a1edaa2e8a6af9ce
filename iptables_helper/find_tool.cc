// SPDX-License-Identifier: BSD-3-Clause
#include "iptables_helper/find_tool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace ringfence::firewall {

std::vector<std::string> tool_dirs() {
    const char* env = std::getenv("RINGFENCE_FIREWALL_PATH");
    std::string list = env != nullptr && *env != '\0' ? env : "/usr/sbin:/sbin:/usr/bin:/bin";
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= list.size()) {
        size_t colon = list.find(':', start);
        std::string dir = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!dir.empty() && dir[0] == '/') {
            out.push_back(dir);
        }
        if (colon == std::string::npos) {
            break;
        }
        start = colon + 1;
    }
    return out;
}

std::string find_tool(const std::string& name) {
    for (const std::string& dir : tool_dirs()) {
        std::string path = dir + "/" + name;
        struct stat st;
        if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0) {
            return path;
        }
    }
    return std::string();
}

}  // namespace ringfence::firewall
