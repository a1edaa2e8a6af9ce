// SPDX-License-Identifier: BSD-3-Clause
// Without libFuzzer: run the fuzz target over every file named on the command
// line (or in the directories named), so the corpus is an ordinary test.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int replay_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    return 0;
}

int main(int argc, char** argv) {
    int files = 0;
    int failed = 0;
    for (int i = 1; i < argc; ++i) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            std::fprintf(stderr, "cannot stat %s\n", argv[i]);
            ++failed;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR* d = opendir(argv[i]);
            while (struct dirent* e = d ? readdir(d) : nullptr) {
                if (e->d_name[0] == '.') {
                    continue;
                }
                failed += replay_file(std::string(argv[i]) + "/" + e->d_name);
                ++files;
            }
            if (d) {
                closedir(d);
            }
        } else {
            failed += replay_file(argv[i]);
            ++files;
        }
    }
    std::printf("%d passed, %d failed\n", files - failed, failed);
    return failed == 0 && files > 0 ? 0 : 1;
}
