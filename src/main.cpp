// Entry point: everything lives in the core library so tests and benchmarks can link it.
#include <coder_dns_doctor/cli/app.hpp>

int main(int argc, char** argv) {
  return coder_dns_doctor::cli::run(argc, argv);
}
