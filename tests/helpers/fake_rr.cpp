// A stand-in for rr, for the harness's own tests of its --rr plumbing on machines where
// real rr cannot record: `fake_rr record [--chaos] --output-trace-dir DIR CMD ARGS...`
// makes DIR with a marker file and execs CMD unchanged. With FAKE_RR_FAIL set it fails the
// way rr does without performance counters.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (std::getenv("FAKE_RR_FAIL")) {
        std::fprintf(stderr, "[FATAL ./src/PerfCounters.cc:1:start_counter()] fake rr has no counters here\n");
        return 1;
    }
    int i = 1;
    if (i < argc && std::strcmp(argv[i], "record") == 0) ++i;
    if (i < argc && std::strcmp(argv[i], "--chaos") == 0) ++i;
    if (i + 1 >= argc || std::strcmp(argv[i], "--output-trace-dir") != 0) return 2;
    std::string dir = argv[i + 1];
    i += 2;
    if (mkdir(dir.c_str(), 0755) != 0) return 3;
    if (FILE* f = std::fopen((dir + "/fake-trace").c_str(), "w")) std::fclose(f);
    if (i >= argc) return 2;
    execvp(argv[i], argv + i);
    return 127;
}
